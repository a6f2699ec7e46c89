// RUN: tucker-opt %s --inline --symbol-dce --tucker-raise | FileCheck %s

// Tests that a model of three layers (an MHA with biases, a GQA with RoPE, the
// MHA again; torch-mlir style, inlined into one function, the output of one
// feeding the next and weights shared) raises to three tucker ops chained in
// order. It also runs raised and unraised in
// test/Integration/CPU/raise/raise-model.mlir.

// CHECK-LABEL: func.func @model(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>, %[[W:[a-z0-9]+]]: tensor<16x16xf32>, %[[B:[a-z0-9]+]]: tensor<16xf32>, %[[WK:[a-z0-9]+]]: tensor<16x8xf32>
// CHECK: %[[Y1:.+]] = tucker.mha %[[X]], {{.*}} bq(%[[B]]) bk(%[[B]]) bv(%[[B]]) bo(%[[B]]) {causal, num_heads = 2 : i64
// CHECK: %[[Y2:.+]] = tucker.gqa %[[Y1]], %[[W]], %[[WK]], %[[WK]], %[[W]] {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, rope = #tucker.rope<theta = 1.000000e+04, width = 4, style = half>
// CHECK: %[[Y3:.+]] = tucker.mha %[[Y2]], {{.*}} {causal, num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y3]]

func.func private @l1(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>, %bq: tensor<16xf32>, %bk: tensor<16xf32>, %bv: tensor<16xf32>, %bo: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %e1 = tensor.empty() : tensor<16x16xf32>
  %t2 = linalg.transpose ins(%wq : tensor<16x16xf32>) outs(%e1 : tensor<16x16xf32>) permutation = [1, 0]
  %m3 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c4 = arith.constant 0.0 : f32
  %e5 = tensor.empty() : tensor<16x16xf32>
  %f6 = linalg.fill ins(%c4 : f32) outs(%e5 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm7 = linalg.matmul ins(%m3, %t2 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f6 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x8 = tensor.expand_shape %mm7 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e9 = tensor.empty() : tensor<2x8x16xf32>
  %bias10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x8, %bq : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e9 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e11 = tensor.empty() : tensor<16x16xf32>
  %t12 = linalg.transpose ins(%wk : tensor<16x16xf32>) outs(%e11 : tensor<16x16xf32>) permutation = [1, 0]
  %m13 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c14 = arith.constant 0.0 : f32
  %e15 = tensor.empty() : tensor<16x16xf32>
  %f16 = linalg.fill ins(%c14 : f32) outs(%e15 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm17 = linalg.matmul ins(%m13, %t12 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f16 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x18 = tensor.expand_shape %mm17 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e19 = tensor.empty() : tensor<2x8x16xf32>
  %bias20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x18, %bk : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e19 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e21 = tensor.empty() : tensor<16x16xf32>
  %t22 = linalg.transpose ins(%wv : tensor<16x16xf32>) outs(%e21 : tensor<16x16xf32>) permutation = [1, 0]
  %m23 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c24 = arith.constant 0.0 : f32
  %e25 = tensor.empty() : tensor<16x16xf32>
  %f26 = linalg.fill ins(%c24 : f32) outs(%e25 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm27 = linalg.matmul ins(%m23, %t22 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f26 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x28 = tensor.expand_shape %mm27 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e29 = tensor.empty() : tensor<2x8x16xf32>
  %bias30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x28, %bv : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e29 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %x31 = tensor.expand_shape %bias10 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e32 = tensor.empty() : tensor<2x2x8x8xf32>
  %t33 = linalg.transpose ins(%x31 : tensor<2x8x2x8xf32>) outs(%e32 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x34 = tensor.expand_shape %bias20 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e35 = tensor.empty() : tensor<2x2x8x8xf32>
  %t36 = linalg.transpose ins(%x34 : tensor<2x8x2x8xf32>) outs(%e35 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x37 = tensor.expand_shape %bias30 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e38 = tensor.empty() : tensor<2x2x8x8xf32>
  %t39 = linalg.transpose ins(%x37 : tensor<2x8x2x8xf32>) outs(%e38 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e40 = tensor.empty() : tensor<2x2x8x8xf32>
  %t41 = linalg.transpose ins(%t36 : tensor<2x2x8x8xf32>) outs(%e40 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m42 = tensor.collapse_shape %t33 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m43 = tensor.collapse_shape %t41 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c44 = arith.constant 0.0 : f32
  %e45 = tensor.empty() : tensor<4x8x8xf32>
  %f46 = linalg.fill ins(%c44 : f32) outs(%e45 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm47 = linalg.batch_matmul ins(%m42, %m43 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f46 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x48 = tensor.expand_shape %bmm47 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c49 = arith.constant 3.535533906e-01 : f32
  %e50 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled51 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x48 : tensor<2x2x8x8xf32>) outs(%e50 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c49 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c52 = arith.constant 0xFF800000 : f32
  %e53 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked54 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled51 : tensor<2x2x8x8xf32>) outs(%e53 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi ugt, %j, %i : index
    %r = arith.select %c, %c52, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %c55 = arith.constant 0xFF800000 : f32
  %e56 = tensor.empty() : tensor<2x2x8xf32>
  %f57 = linalg.fill ins(%c55 : f32) outs(%e56 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max58 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked54 : tensor<2x2x8x8xf32>) outs(%f57 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e59 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp60 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked54, %max58 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e59 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c61 = arith.constant 0.0 : f32
  %e62 = tensor.empty() : tensor<2x2x8xf32>
  %f63 = linalg.fill ins(%c61 : f32) outs(%e62 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum64 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp60 : tensor<2x2x8x8xf32>) outs(%f63 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e65 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs66 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp60, %sum64 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e65 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m67 = tensor.collapse_shape %probs66 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m68 = tensor.collapse_shape %t39 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c69 = arith.constant 0.0 : f32
  %e70 = tensor.empty() : tensor<4x8x8xf32>
  %f71 = linalg.fill ins(%c69 : f32) outs(%e70 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm72 = linalg.batch_matmul ins(%m67, %m68 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f71 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x73 = tensor.expand_shape %bmm72 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e74 = tensor.empty() : tensor<2x8x2x8xf32>
  %t75 = linalg.transpose ins(%x73 : tensor<2x2x8x8xf32>) outs(%e74 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m76 = tensor.collapse_shape %t75 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %e77 = tensor.empty() : tensor<16x16xf32>
  %t78 = linalg.transpose ins(%wo : tensor<16x16xf32>) outs(%e77 : tensor<16x16xf32>) permutation = [1, 0]
  %m79 = tensor.collapse_shape %m76 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c80 = arith.constant 0.0 : f32
  %e81 = tensor.empty() : tensor<16x16xf32>
  %f82 = linalg.fill ins(%c80 : f32) outs(%e81 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm83 = linalg.matmul ins(%m79, %t78 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f82 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x84 = tensor.expand_shape %mm83 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e85 = tensor.empty() : tensor<2x8x16xf32>
  %bias86 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x84, %bo : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e85 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %bias86 : tensor<2x8x16xf32>
}
func.func private @l2(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x8xf32>, %wv: tensor<16x8xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %m1 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c2 = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<16x16xf32>
  %f4 = linalg.fill ins(%c2 : f32) outs(%e3 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm5 = linalg.matmul ins(%m1, %wq : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f4 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x6 = tensor.expand_shape %mm5 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %m7 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c8 = arith.constant 0.0 : f32
  %e9 = tensor.empty() : tensor<16x8xf32>
  %f10 = linalg.fill ins(%c8 : f32) outs(%e9 : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm11 = linalg.matmul ins(%m7, %wk : tensor<16x16xf32>, tensor<16x8xf32>) outs(%f10 : tensor<16x8xf32>) -> tensor<16x8xf32>
  %x12 = tensor.expand_shape %mm11 [[0, 1], [2]] output_shape [2, 8, 8] : tensor<16x8xf32> into tensor<2x8x8xf32>
  %m13 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c14 = arith.constant 0.0 : f32
  %e15 = tensor.empty() : tensor<16x8xf32>
  %f16 = linalg.fill ins(%c14 : f32) outs(%e15 : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm17 = linalg.matmul ins(%m13, %wv : tensor<16x16xf32>, tensor<16x8xf32>) outs(%f16 : tensor<16x8xf32>) -> tensor<16x8xf32>
  %x18 = tensor.expand_shape %mm17 [[0, 1], [2]] output_shape [2, 8, 8] : tensor<16x8xf32> into tensor<2x8x8xf32>
  %x19 = tensor.expand_shape %x6 [[0], [1], [2, 3]] output_shape [2, 8, 4, 4] : tensor<2x8x16xf32> into tensor<2x8x4x4xf32>
  %e20 = tensor.empty() : tensor<2x4x8x4xf32>
  %t21 = linalg.transpose ins(%x19 : tensor<2x8x4x4xf32>) outs(%e20 : tensor<2x4x8x4xf32>) permutation = [0, 2, 1, 3]
  %x22 = tensor.expand_shape %x12 [[0], [1], [2, 3]] output_shape [2, 8, 2, 4] : tensor<2x8x8xf32> into tensor<2x8x2x4xf32>
  %e23 = tensor.empty() : tensor<2x2x8x4xf32>
  %t24 = linalg.transpose ins(%x22 : tensor<2x8x2x4xf32>) outs(%e23 : tensor<2x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %x25 = tensor.expand_shape %x18 [[0], [1], [2, 3]] output_shape [2, 8, 2, 4] : tensor<2x8x8xf32> into tensor<2x8x2x4xf32>
  %e26 = tensor.empty() : tensor<2x2x8x4xf32>
  %t27 = linalg.transpose ins(%x25 : tensor<2x8x2x4xf32>) outs(%e26 : tensor<2x2x8x4xf32>) permutation = [0, 2, 1, 3]
  %cos28 = arith.constant dense<[[1.000000000e+00, 1.000000000e+00, 1.000000000e+00, 1.000000000e+00], [5.403023059e-01, 9.999500004e-01, 5.403023059e-01, 9.999500004e-01], [-4.161468365e-01, 9.998000067e-01, -4.161468365e-01, 9.998000067e-01], [-9.899924966e-01, 9.995500337e-01, -9.899924966e-01, 9.995500337e-01], [-6.536436209e-01, 9.992001067e-01, -6.536436209e-01, 9.992001067e-01], [2.836621855e-01, 9.987502604e-01, 2.836621855e-01, 9.987502604e-01], [9.601702867e-01, 9.982005399e-01, 9.601702867e-01, 9.982005399e-01], [7.539022543e-01, 9.975510003e-01, 7.539022543e-01, 9.975510003e-01]]> : tensor<8x4xf32>
  %sin29 = arith.constant dense<[[0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00], [8.414709848e-01, 9.999833334e-03, 8.414709848e-01, 9.999833334e-03], [9.092974268e-01, 1.999866669e-02, 9.092974268e-01, 1.999866669e-02], [1.411200081e-01, 2.999550020e-02, 1.411200081e-01, 2.999550020e-02], [-7.568024953e-01, 3.998933419e-02, -7.568024953e-01, 3.998933419e-02], [-9.589242747e-01, 4.997916927e-02, -9.589242747e-01, 4.997916927e-02], [-2.794154982e-01, 5.996400648e-02, -2.794154982e-01, 5.996400648e-02], [6.569865987e-01, 6.994284734e-02, 6.569865987e-01, 6.994284734e-02]]> : tensor<8x4xf32>
  %x130 = tensor.extract_slice %t21[0, 0, 0, 0] [2, 4, 8, 2] [1, 1, 1, 1] : tensor<2x4x8x4xf32> to tensor<2x4x8x2xf32>
  %x231 = tensor.extract_slice %t21[0, 0, 0, 2] [2, 4, 8, 2] [1, 1, 1, 1] : tensor<2x4x8x4xf32> to tensor<2x4x8x2xf32>
  %e32 = tensor.empty() : tensor<2x4x8x2xf32>
  %neg33 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x231 : tensor<2x4x8x2xf32>) outs(%e32 : tensor<2x4x8x2xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %n = arith.negf %a0 : f32
    linalg.yield %n : f32
  } -> tensor<2x4x8x2xf32>
  %rot34 = tensor.concat dim(3) %neg33, %x130 : (tensor<2x4x8x2xf32>, tensor<2x4x8x2xf32>) -> tensor<2x4x8x4xf32>
  %e35 = tensor.empty() : tensor<2x4x8x4xf32>
  %roped36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t21, %cos28, %rot34, %sin29 : tensor<2x4x8x4xf32>, tensor<8x4xf32>, tensor<2x4x8x4xf32>, tensor<8x4xf32>) outs(%e35 : tensor<2x4x8x4xf32>) {
  ^bb0(%a0: f32, %a1: f32, %a2: f32, %a3: f32, %acc: f32):
    %u = arith.mulf %a0, %a1 : f32
    %w = arith.mulf %a2, %a3 : f32
    %r = arith.addf %u, %w : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x4xf32>
  %x137 = tensor.extract_slice %t24[0, 0, 0, 0] [2, 2, 8, 2] [1, 1, 1, 1] : tensor<2x2x8x4xf32> to tensor<2x2x8x2xf32>
  %x238 = tensor.extract_slice %t24[0, 0, 0, 2] [2, 2, 8, 2] [1, 1, 1, 1] : tensor<2x2x8x4xf32> to tensor<2x2x8x2xf32>
  %e39 = tensor.empty() : tensor<2x2x8x2xf32>
  %neg40 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x238 : tensor<2x2x8x2xf32>) outs(%e39 : tensor<2x2x8x2xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %n = arith.negf %a0 : f32
    linalg.yield %n : f32
  } -> tensor<2x2x8x2xf32>
  %rot41 = tensor.concat dim(3) %neg40, %x137 : (tensor<2x2x8x2xf32>, tensor<2x2x8x2xf32>) -> tensor<2x2x8x4xf32>
  %e42 = tensor.empty() : tensor<2x2x8x4xf32>
  %roped43 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t24, %cos28, %rot41, %sin29 : tensor<2x2x8x4xf32>, tensor<8x4xf32>, tensor<2x2x8x4xf32>, tensor<8x4xf32>) outs(%e42 : tensor<2x2x8x4xf32>) {
  ^bb0(%a0: f32, %a1: f32, %a2: f32, %a3: f32, %acc: f32):
    %u = arith.mulf %a0, %a1 : f32
    %w = arith.mulf %a2, %a3 : f32
    %r = arith.addf %u, %w : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x4xf32>
  %e44 = tensor.empty() : tensor<2x2x2x8x4xf32>
  %rep45 = linalg.broadcast ins(%roped43 : tensor<2x2x8x4xf32>) outs(%e44 : tensor<2x2x2x8x4xf32>) dimensions = [2]
  %m46 = tensor.collapse_shape %rep45 [[0], [1, 2], [3], [4]] : tensor<2x2x2x8x4xf32> into tensor<2x4x8x4xf32>
  %e47 = tensor.empty() : tensor<2x2x2x8x4xf32>
  %rep48 = linalg.broadcast ins(%t27 : tensor<2x2x8x4xf32>) outs(%e47 : tensor<2x2x2x8x4xf32>) dimensions = [2]
  %m49 = tensor.collapse_shape %rep48 [[0], [1, 2], [3], [4]] : tensor<2x2x2x8x4xf32> into tensor<2x4x8x4xf32>
  %e50 = tensor.empty() : tensor<2x4x4x8xf32>
  %t51 = linalg.transpose ins(%m46 : tensor<2x4x8x4xf32>) outs(%e50 : tensor<2x4x4x8xf32>) permutation = [0, 1, 3, 2]
  %m52 = tensor.collapse_shape %roped36 [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %m53 = tensor.collapse_shape %t51 [[0, 1], [2], [3]] : tensor<2x4x4x8xf32> into tensor<8x4x8xf32>
  %c54 = arith.constant 0.0 : f32
  %e55 = tensor.empty() : tensor<8x8x8xf32>
  %f56 = linalg.fill ins(%c54 : f32) outs(%e55 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %bmm57 = linalg.batch_matmul ins(%m52, %m53 : tensor<8x8x4xf32>, tensor<8x4x8xf32>) outs(%f56 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %x58 = tensor.expand_shape %bmm57 [[0, 1], [2], [3]] output_shape [2, 4, 8, 8] : tensor<8x8x8xf32> into tensor<2x4x8x8xf32>
  %c59 = arith.constant 5.000000000e-01 : f32
  %e60 = tensor.empty() : tensor<2x4x8x8xf32>
  %scaled61 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x58 : tensor<2x4x8x8xf32>) outs(%e60 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c59 : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8x8xf32>
  %c62 = arith.constant 0xFF800000 : f32
  %e63 = tensor.empty() : tensor<2x4x8x8xf32>
  %masked64 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled61 : tensor<2x4x8x8xf32>) outs(%e63 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi ugt, %j, %i : index
    %r = arith.select %c, %c62, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x8xf32>
  %c65 = arith.constant 0xFF800000 : f32
  %e66 = tensor.empty() : tensor<2x4x8xf32>
  %f67 = linalg.fill ins(%c65 : f32) outs(%e66 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %max68 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked64 : tensor<2x4x8x8xf32>) outs(%f67 : tensor<2x4x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8xf32>
  %e69 = tensor.empty() : tensor<2x4x8x8xf32>
  %exp70 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked64, %max68 : tensor<2x4x8x8xf32>, tensor<2x4x8xf32>) outs(%e69 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x8x8xf32>
  %c71 = arith.constant 0.0 : f32
  %e72 = tensor.empty() : tensor<2x4x8xf32>
  %f73 = linalg.fill ins(%c71 : f32) outs(%e72 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %sum74 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp70 : tensor<2x4x8x8xf32>) outs(%f73 : tensor<2x4x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8xf32>
  %e75 = tensor.empty() : tensor<2x4x8x8xf32>
  %probs76 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp70, %sum74 : tensor<2x4x8x8xf32>, tensor<2x4x8xf32>) outs(%e75 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x8xf32>
  %m77 = tensor.collapse_shape %probs76 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
  %m78 = tensor.collapse_shape %m49 [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %c79 = arith.constant 0.0 : f32
  %e80 = tensor.empty() : tensor<8x8x4xf32>
  %f81 = linalg.fill ins(%c79 : f32) outs(%e80 : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %bmm82 = linalg.batch_matmul ins(%m77, %m78 : tensor<8x8x8xf32>, tensor<8x8x4xf32>) outs(%f81 : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %x83 = tensor.expand_shape %bmm82 [[0, 1], [2], [3]] output_shape [2, 4, 8, 4] : tensor<8x8x4xf32> into tensor<2x4x8x4xf32>
  %e84 = tensor.empty() : tensor<2x8x4x4xf32>
  %t85 = linalg.transpose ins(%x83 : tensor<2x4x8x4xf32>) outs(%e84 : tensor<2x8x4x4xf32>) permutation = [0, 2, 1, 3]
  %m86 = tensor.collapse_shape %t85 [[0], [1], [2, 3]] : tensor<2x8x4x4xf32> into tensor<2x8x16xf32>
  %m87 = tensor.collapse_shape %m86 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c88 = arith.constant 0.0 : f32
  %e89 = tensor.empty() : tensor<16x16xf32>
  %f90 = linalg.fill ins(%c88 : f32) outs(%e89 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm91 = linalg.matmul ins(%m87, %wo : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f90 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x92 = tensor.expand_shape %mm91 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  return %x92 : tensor<2x8x16xf32>
}
func.func @model(%x: tensor<2x8x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>, %wk: tensor<16x8xf32>) -> tensor<2x8x16xf32> {
  %y1 = call @l1(%x, %w, %w, %w, %w, %b, %b, %b, %b) : (tensor<2x8x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %y2 = call @l2(%y1, %w, %wk, %wk, %w) : (tensor<2x8x16xf32>, tensor<16x16xf32>, tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x16xf32>) -> tensor<2x8x16xf32>
  %y3 = call @l1(%y2, %w, %w, %w, %w, %b, %b, %b, %b) : (tensor<2x8x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return %y3 : tensor<2x8x16xf32>
}
