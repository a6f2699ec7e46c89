// RUN: tucker-opt %s -split-input-file --tucker-raise --verify-roundtrip | FileCheck %s

// --tucker-raise on attention as torch-mlir and IREE lower it to linalg /
// tensor / arith / math. The same functions run raised and unraised in
// test/Integration/CPU/raise/raise-linalg.mlir.

// Tests that a torch-mlir style layer (nn.Linear weights [out, in] transposed by
// linalg.transpose, projections as 2-D linalg.matmul on the collapsed tokens with
// bias adds, heads split by expand_shape + transpose, q·kᵀ as batch_matmul on
// collapsed heads, scale after q·kᵀ, max/sub/exp/sum/div softmax, output
// projection with bias) becomes one tucker.mha with its four biases; the [out, in]
// weights are transposed to [in, out].

// CHECK-LABEL: func.func @mha_torch(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A5:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A6:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A7:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A8:[a-z0-9]+]]: tensor<
// CHECK: %[[WQ:.+]] = linalg.transpose ins(%[[A1]] : tensor<16x16xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[WK:.+]] = linalg.transpose ins(%[[A2]]
// CHECK: %[[WV:.+]] = linalg.transpose ins(%[[A3]]
// CHECK: %[[WO:.+]] = linalg.transpose ins(%[[A4]]
// CHECK: %[[Y:.+]] = tucker.mha %[[X]], %[[WQ]], %[[WK]], %[[WV]], %[[WO]] bq(%[[A5]]) bk(%[[A6]]) bv(%[[A7]]) bo(%[[A8]]) {num_heads = 2 : i64, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y]]
func.func @mha_torch(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>, %bq: tensor<16xf32>, %bk: tensor<16xf32>, %bv: tensor<16xf32>, %bo: tensor<16xf32>) -> tensor<2x8x16xf32> {
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
  %e53 = tensor.empty() : tensor<2x2x8xf32>
  %f54 = linalg.fill ins(%c52 : f32) outs(%e53 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max55 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%scaled51 : tensor<2x2x8x8xf32>) outs(%f54 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e56 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp57 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled51, %max55 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e56 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c58 = arith.constant 0.0 : f32
  %e59 = tensor.empty() : tensor<2x2x8xf32>
  %f60 = linalg.fill ins(%c58 : f32) outs(%e59 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum61 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp57 : tensor<2x2x8x8xf32>) outs(%f60 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e62 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs63 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp57, %sum61 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e62 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m64 = tensor.collapse_shape %probs63 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m65 = tensor.collapse_shape %t39 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c66 = arith.constant 0.0 : f32
  %e67 = tensor.empty() : tensor<4x8x8xf32>
  %f68 = linalg.fill ins(%c66 : f32) outs(%e67 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm69 = linalg.batch_matmul ins(%m64, %m65 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f68 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x70 = tensor.expand_shape %bmm69 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e71 = tensor.empty() : tensor<2x8x2x8xf32>
  %t72 = linalg.transpose ins(%x70 : tensor<2x2x8x8xf32>) outs(%e71 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m73 = tensor.collapse_shape %t72 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %e74 = tensor.empty() : tensor<16x16xf32>
  %t75 = linalg.transpose ins(%wo : tensor<16x16xf32>) outs(%e74 : tensor<16x16xf32>) permutation = [1, 0]
  %m76 = tensor.collapse_shape %m73 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c77 = arith.constant 0.0 : f32
  %e78 = tensor.empty() : tensor<16x16xf32>
  %f79 = linalg.fill ins(%c77 : f32) outs(%e78 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm80 = linalg.matmul ins(%m76, %t75 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f79 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x81 = tensor.expand_shape %mm80 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e82 = tensor.empty() : tensor<2x8x16xf32>
  %bias83 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x81, %bo : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e82 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %bias83 : tensor<2x8x16xf32>
}

// -----

// Tests that IREE-style generics read the same: projections as 3-D generic
// contractions of [in, out] weights, the head split as one generic reading
// [B, N, H·dh] at (b, n, h·dh + k), q·kᵀ and P·V as 4-D generic contractions, the
// scale folded into q (divided by √dh), linalg.softmax, and the heads merged by a
// permuting generic.

// CHECK-LABEL: func.func @mha_generic(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: %[[Y:.+]] = tucker.mha %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] {num_heads = 2 : i64, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y]]
func.func @mha_generic(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %c1 = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<2x8x16xf32>
  %f3 = linalg.fill ins(%c1 : f32) outs(%e2 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f3 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x16xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wk : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f7 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %c9 = arith.constant 0.0 : f32
  %e10 = tensor.empty() : tensor<2x8x16xf32>
  %f11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wv : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f11 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e13 = tensor.empty() : tensor<2x2x8x8xf32>
  %heads14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 * 8 + d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj4 : tensor<2x8x16xf32>) outs(%e13 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    linalg.yield %a0 : f32
  } -> tensor<2x2x8x8xf32>
  %e15 = tensor.empty() : tensor<2x2x8x8xf32>
  %heads16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 * 8 + d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj8 : tensor<2x8x16xf32>) outs(%e15 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    linalg.yield %a0 : f32
  } -> tensor<2x2x8x8xf32>
  %e17 = tensor.empty() : tensor<2x2x8x8xf32>
  %heads18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 * 8 + d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj12 : tensor<2x8x16xf32>) outs(%e17 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    linalg.yield %a0 : f32
  } -> tensor<2x2x8x8xf32>
  %c19 = arith.constant 2.828427125e+00 : f32
  %e20 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%heads14 : tensor<2x2x8x8xf32>) outs(%e20 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.divf %a0, %c19 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c22 = arith.constant 0.0 : f32
  %e23 = tensor.empty() : tensor<2x2x8x8xf32>
  %f24 = linalg.fill ins(%c22 : f32) outs(%e23 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %qk25 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%scaled21, %heads16 : tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) outs(%f24 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %e26 = tensor.empty() : tensor<2x2x8x8xf32>
  %sm27 = linalg.softmax dimension(3) ins(%qk25 : tensor<2x2x8x8xf32>) outs(%e26 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %c28 = arith.constant 0.0 : f32
  %e29 = tensor.empty() : tensor<2x2x8x8xf32>
  %f30 = linalg.fill ins(%c28 : f32) outs(%e29 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %pv31 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%sm27, %heads18 : tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) outs(%f30 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %e32 = tensor.empty() : tensor<2x8x2x8xf32>
  %merge33 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pv31 : tensor<2x2x8x8xf32>) outs(%e32 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    linalg.yield %a0 : f32
  } -> tensor<2x8x2x8xf32>
  %m34 = tensor.collapse_shape %merge33 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %c35 = arith.constant 0.0 : f32
  %e36 = tensor.empty() : tensor<2x8x16xf32>
  %f37 = linalg.fill ins(%c35 : f32) outs(%e36 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj38 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%m34, %wo : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f37 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %proj38 : tensor<2x8x16xf32>
}

// -----

// Tests that projections as batch_matmul against a linalg.broadcast of the
// weight, and the softmax without the max subtraction (exp / Σ exp: the same
// function, raised as tucker's safe softmax) still make a tucker.mha.

// CHECK-LABEL: func.func @mha_bmm_unsafe(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: tucker.mha %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] {num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
func.func @mha_bmm_unsafe(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %e1 = tensor.empty() : tensor<2x16x16xf32>
  %bc2 = linalg.broadcast ins(%wq : tensor<16x16xf32>) outs(%e1 : tensor<2x16x16xf32>) dimensions = [0]
  %c3 = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<2x8x16xf32>
  %f5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %bmm6 = linalg.batch_matmul ins(%x, %bc2 : tensor<2x8x16xf32>, tensor<2x16x16xf32>) outs(%f5 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %e7 = tensor.empty() : tensor<2x16x16xf32>
  %bc8 = linalg.broadcast ins(%wk : tensor<16x16xf32>) outs(%e7 : tensor<2x16x16xf32>) dimensions = [0]
  %c9 = arith.constant 0.0 : f32
  %e10 = tensor.empty() : tensor<2x8x16xf32>
  %f11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %bmm12 = linalg.batch_matmul ins(%x, %bc8 : tensor<2x8x16xf32>, tensor<2x16x16xf32>) outs(%f11 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %e13 = tensor.empty() : tensor<2x16x16xf32>
  %bc14 = linalg.broadcast ins(%wv : tensor<16x16xf32>) outs(%e13 : tensor<2x16x16xf32>) dimensions = [0]
  %c15 = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<2x8x16xf32>
  %f17 = linalg.fill ins(%c15 : f32) outs(%e16 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %bmm18 = linalg.batch_matmul ins(%x, %bc14 : tensor<2x8x16xf32>, tensor<2x16x16xf32>) outs(%f17 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %x19 = tensor.expand_shape %bmm6 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e20 = tensor.empty() : tensor<2x2x8x8xf32>
  %t21 = linalg.transpose ins(%x19 : tensor<2x8x2x8xf32>) outs(%e20 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x22 = tensor.expand_shape %bmm12 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e23 = tensor.empty() : tensor<2x2x8x8xf32>
  %t24 = linalg.transpose ins(%x22 : tensor<2x8x2x8xf32>) outs(%e23 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x25 = tensor.expand_shape %bmm18 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e26 = tensor.empty() : tensor<2x2x8x8xf32>
  %t27 = linalg.transpose ins(%x25 : tensor<2x8x2x8xf32>) outs(%e26 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %c28 = arith.constant 0.0 : f32
  %e29 = tensor.empty() : tensor<2x2x8x8xf32>
  %f30 = linalg.fill ins(%c28 : f32) outs(%e29 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %qk31 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%t21, %t24 : tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) outs(%f30 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c32 = arith.constant 3.535533906e-01 : f32
  %e33 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled34 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%qk31 : tensor<2x2x8x8xf32>) outs(%e33 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c32 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %e35 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled34 : tensor<2x2x8x8xf32>) outs(%e35 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %ex = math.exp %a0 : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c37 = arith.constant 0.0 : f32
  %e38 = tensor.empty() : tensor<2x2x8xf32>
  %f39 = linalg.fill ins(%c37 : f32) outs(%e38 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum40 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp36 : tensor<2x2x8x8xf32>) outs(%f39 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e41 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs42 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp36, %sum40 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e41 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %c43 = arith.constant 0.0 : f32
  %e44 = tensor.empty() : tensor<2x2x8x8xf32>
  %f45 = linalg.fill ins(%c43 : f32) outs(%e44 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %pv46 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%probs42, %t27 : tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) outs(%f45 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %e47 = tensor.empty() : tensor<2x8x2x8xf32>
  %t48 = linalg.transpose ins(%pv46 : tensor<2x2x8x8xf32>) outs(%e47 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m49 = tensor.collapse_shape %t48 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %e50 = tensor.empty() : tensor<2x16x16xf32>
  %bc51 = linalg.broadcast ins(%wo : tensor<16x16xf32>) outs(%e50 : tensor<2x16x16xf32>) dimensions = [0]
  %c52 = arith.constant 0.0 : f32
  %e53 = tensor.empty() : tensor<2x8x16xf32>
  %f54 = linalg.fill ins(%c52 : f32) outs(%e53 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %bmm55 = linalg.batch_matmul ins(%m49, %bc51 : tensor<2x8x16xf32>, tensor<2x16x16xf32>) outs(%f54 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %bmm55 : tensor<2x8x16xf32>
}

// -----

// Tests that a projection as linalg.matmul with transposing indexing maps
// (x·Wᵀ on an [out, in] weight, LLVM's spelling of matmul_transpose_b) reads as
// the transposed weight.

// CHECK-LABEL: func.func @mha_matmul_transpose_b(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: %[[WQ:.+]] = linalg.transpose ins(%[[A1]] : tensor<16x16xf32>) {{.*}} permutation = [1, 0]
// CHECK: tucker.mha %[[X]], %[[WQ]], %[[A2]], %[[A3]], %[[A4]] {num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
func.func @mha_matmul_transpose_b(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %m1 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c2 = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<16x16xf32>
  %f4 = linalg.fill ins(%c2 : f32) outs(%e3 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm5 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%m1, %wq : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f4 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x6 = tensor.expand_shape %mm5 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %m7 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c8 = arith.constant 0.0 : f32
  %e9 = tensor.empty() : tensor<16x16xf32>
  %f10 = linalg.fill ins(%c8 : f32) outs(%e9 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm11 = linalg.matmul ins(%m7, %wk : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f10 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x12 = tensor.expand_shape %mm11 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %m13 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c14 = arith.constant 0.0 : f32
  %e15 = tensor.empty() : tensor<16x16xf32>
  %f16 = linalg.fill ins(%c14 : f32) outs(%e15 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm17 = linalg.matmul ins(%m13, %wv : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f16 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x18 = tensor.expand_shape %mm17 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %x19 = tensor.expand_shape %x6 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e20 = tensor.empty() : tensor<2x2x8x8xf32>
  %t21 = linalg.transpose ins(%x19 : tensor<2x8x2x8xf32>) outs(%e20 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x22 = tensor.expand_shape %x12 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e23 = tensor.empty() : tensor<2x2x8x8xf32>
  %t24 = linalg.transpose ins(%x22 : tensor<2x8x2x8xf32>) outs(%e23 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x25 = tensor.expand_shape %x18 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e26 = tensor.empty() : tensor<2x2x8x8xf32>
  %t27 = linalg.transpose ins(%x25 : tensor<2x8x2x8xf32>) outs(%e26 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e28 = tensor.empty() : tensor<2x2x8x8xf32>
  %t29 = linalg.transpose ins(%t24 : tensor<2x2x8x8xf32>) outs(%e28 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m30 = tensor.collapse_shape %t21 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m31 = tensor.collapse_shape %t29 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c32 = arith.constant 0.0 : f32
  %e33 = tensor.empty() : tensor<4x8x8xf32>
  %f34 = linalg.fill ins(%c32 : f32) outs(%e33 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm35 = linalg.batch_matmul ins(%m30, %m31 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f34 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x36 = tensor.expand_shape %bmm35 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c37 = arith.constant 3.535533906e-01 : f32
  %e38 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled39 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x36 : tensor<2x2x8x8xf32>) outs(%e38 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c37 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c40 = arith.constant 0xFF800000 : f32
  %e41 = tensor.empty() : tensor<2x2x8xf32>
  %f42 = linalg.fill ins(%c40 : f32) outs(%e41 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max43 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%scaled39 : tensor<2x2x8x8xf32>) outs(%f42 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e44 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp45 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled39, %max43 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e44 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c46 = arith.constant 0.0 : f32
  %e47 = tensor.empty() : tensor<2x2x8xf32>
  %f48 = linalg.fill ins(%c46 : f32) outs(%e47 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum49 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp45 : tensor<2x2x8x8xf32>) outs(%f48 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e50 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs51 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp45, %sum49 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e50 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m52 = tensor.collapse_shape %probs51 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m53 = tensor.collapse_shape %t27 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c54 = arith.constant 0.0 : f32
  %e55 = tensor.empty() : tensor<4x8x8xf32>
  %f56 = linalg.fill ins(%c54 : f32) outs(%e55 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm57 = linalg.batch_matmul ins(%m52, %m53 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f56 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x58 = tensor.expand_shape %bmm57 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e59 = tensor.empty() : tensor<2x8x2x8xf32>
  %t60 = linalg.transpose ins(%x58 : tensor<2x2x8x8xf32>) outs(%e59 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m61 = tensor.collapse_shape %t60 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %m62 = tensor.collapse_shape %m61 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c63 = arith.constant 0.0 : f32
  %e64 = tensor.empty() : tensor<16x16xf32>
  %f65 = linalg.fill ins(%c63 : f32) outs(%e64 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm66 = linalg.matmul ins(%m62, %wo : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f65 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x67 = tensor.expand_shape %mm66 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  return %x67 : tensor<2x8x16xf32>
}

// -----

// Tests that biases broadcast into the init of the projection contractions
// (out = b; out += x·W) are the tucker.mha biases.

// CHECK-LABEL: func.func @mha_bias_init(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A5:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A6:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A7:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A8:[a-z0-9]+]]: tensor<
// CHECK: tucker.mha %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] bq(%[[A5]]) bk(%[[A6]]) bv(%[[A7]]) bo(%[[A8]]) {num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.broadcast
func.func @mha_bias_init(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>, %bq: tensor<16xf32>, %bk: tensor<16xf32>, %bv: tensor<16xf32>, %bo: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %e1 = tensor.empty() : tensor<2x8x16xf32>
  %binit2 = linalg.broadcast ins(%bq : tensor<16xf32>) outs(%e1 : tensor<2x8x16xf32>) dimensions = [0, 1]
  %proj3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%binit2 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e4 = tensor.empty() : tensor<2x8x16xf32>
  %binit5 = linalg.broadcast ins(%bk : tensor<16xf32>) outs(%e4 : tensor<2x8x16xf32>) dimensions = [0, 1]
  %proj6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wk : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%binit5 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e7 = tensor.empty() : tensor<2x8x16xf32>
  %binit8 = linalg.broadcast ins(%bv : tensor<16xf32>) outs(%e7 : tensor<2x8x16xf32>) dimensions = [0, 1]
  %proj9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wv : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%binit8 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %x10 = tensor.expand_shape %proj3 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e11 = tensor.empty() : tensor<2x2x8x8xf32>
  %t12 = linalg.transpose ins(%x10 : tensor<2x8x2x8xf32>) outs(%e11 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x13 = tensor.expand_shape %proj6 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e14 = tensor.empty() : tensor<2x2x8x8xf32>
  %t15 = linalg.transpose ins(%x13 : tensor<2x8x2x8xf32>) outs(%e14 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x16 = tensor.expand_shape %proj9 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e17 = tensor.empty() : tensor<2x2x8x8xf32>
  %t18 = linalg.transpose ins(%x16 : tensor<2x8x2x8xf32>) outs(%e17 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e19 = tensor.empty() : tensor<2x2x8x8xf32>
  %t20 = linalg.transpose ins(%t15 : tensor<2x2x8x8xf32>) outs(%e19 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m21 = tensor.collapse_shape %t12 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m22 = tensor.collapse_shape %t20 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c23 = arith.constant 0.0 : f32
  %e24 = tensor.empty() : tensor<4x8x8xf32>
  %f25 = linalg.fill ins(%c23 : f32) outs(%e24 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm26 = linalg.batch_matmul ins(%m21, %m22 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f25 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x27 = tensor.expand_shape %bmm26 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c28 = arith.constant 3.535533906e-01 : f32
  %e29 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x27 : tensor<2x2x8x8xf32>) outs(%e29 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c28 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c31 = arith.constant 0xFF800000 : f32
  %e32 = tensor.empty() : tensor<2x2x8xf32>
  %f33 = linalg.fill ins(%c31 : f32) outs(%e32 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max34 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%scaled30 : tensor<2x2x8x8xf32>) outs(%f33 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e35 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled30, %max34 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e35 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c37 = arith.constant 0.0 : f32
  %e38 = tensor.empty() : tensor<2x2x8xf32>
  %f39 = linalg.fill ins(%c37 : f32) outs(%e38 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum40 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp36 : tensor<2x2x8x8xf32>) outs(%f39 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e41 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs42 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp36, %sum40 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e41 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m43 = tensor.collapse_shape %probs42 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m44 = tensor.collapse_shape %t18 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c45 = arith.constant 0.0 : f32
  %e46 = tensor.empty() : tensor<4x8x8xf32>
  %f47 = linalg.fill ins(%c45 : f32) outs(%e46 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm48 = linalg.batch_matmul ins(%m43, %m44 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f47 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x49 = tensor.expand_shape %bmm48 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e50 = tensor.empty() : tensor<2x8x2x8xf32>
  %t51 = linalg.transpose ins(%x49 : tensor<2x2x8x8xf32>) outs(%e50 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m52 = tensor.collapse_shape %t51 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %e53 = tensor.empty() : tensor<2x8x16xf32>
  %binit54 = linalg.broadcast ins(%bo : tensor<16xf32>) outs(%e53 : tensor<2x8x16xf32>) dimensions = [0, 1]
  %proj55 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%m52, %wo : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%binit54 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %proj55 : tensor<2x8x16xf32>
}

// -----

// Tests that a causal mask selected into the scores (linalg.index / cmpi ugt /
// select -inf) and a softmax that multiplies by the reciprocal of the sum make a
// causal tucker.mha.

// CHECK-LABEL: func.func @mha_causal_select(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: tucker.mha %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] {causal, num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
func.func @mha_causal_select(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %m1 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c2 = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<16x16xf32>
  %f4 = linalg.fill ins(%c2 : f32) outs(%e3 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm5 = linalg.matmul ins(%m1, %wq : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f4 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x6 = tensor.expand_shape %mm5 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %m7 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c8 = arith.constant 0.0 : f32
  %e9 = tensor.empty() : tensor<16x16xf32>
  %f10 = linalg.fill ins(%c8 : f32) outs(%e9 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm11 = linalg.matmul ins(%m7, %wk : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f10 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x12 = tensor.expand_shape %mm11 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %m13 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c14 = arith.constant 0.0 : f32
  %e15 = tensor.empty() : tensor<16x16xf32>
  %f16 = linalg.fill ins(%c14 : f32) outs(%e15 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm17 = linalg.matmul ins(%m13, %wv : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f16 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x18 = tensor.expand_shape %mm17 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %x19 = tensor.expand_shape %x6 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e20 = tensor.empty() : tensor<2x2x8x8xf32>
  %t21 = linalg.transpose ins(%x19 : tensor<2x8x2x8xf32>) outs(%e20 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x22 = tensor.expand_shape %x12 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e23 = tensor.empty() : tensor<2x2x8x8xf32>
  %t24 = linalg.transpose ins(%x22 : tensor<2x8x2x8xf32>) outs(%e23 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x25 = tensor.expand_shape %x18 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e26 = tensor.empty() : tensor<2x2x8x8xf32>
  %t27 = linalg.transpose ins(%x25 : tensor<2x8x2x8xf32>) outs(%e26 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e28 = tensor.empty() : tensor<2x2x8x8xf32>
  %t29 = linalg.transpose ins(%t24 : tensor<2x2x8x8xf32>) outs(%e28 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m30 = tensor.collapse_shape %t21 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m31 = tensor.collapse_shape %t29 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c32 = arith.constant 0.0 : f32
  %e33 = tensor.empty() : tensor<4x8x8xf32>
  %f34 = linalg.fill ins(%c32 : f32) outs(%e33 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm35 = linalg.batch_matmul ins(%m30, %m31 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f34 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x36 = tensor.expand_shape %bmm35 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c37 = arith.constant 3.535533906e-01 : f32
  %e38 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled39 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x36 : tensor<2x2x8x8xf32>) outs(%e38 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c37 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c40 = arith.constant 0xFF800000 : f32
  %e41 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked42 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled39 : tensor<2x2x8x8xf32>) outs(%e41 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi ugt, %j, %i : index
    %r = arith.select %c, %c40, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %c43 = arith.constant 0xFF800000 : f32
  %e44 = tensor.empty() : tensor<2x2x8xf32>
  %f45 = linalg.fill ins(%c43 : f32) outs(%e44 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max46 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked42 : tensor<2x2x8x8xf32>) outs(%f45 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e47 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp48 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked42, %max46 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e47 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c49 = arith.constant 0.0 : f32
  %e50 = tensor.empty() : tensor<2x2x8xf32>
  %f51 = linalg.fill ins(%c49 : f32) outs(%e50 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum52 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp48 : tensor<2x2x8x8xf32>) outs(%f51 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %c53 = arith.constant 1.0 : f32
  %e54 = tensor.empty() : tensor<2x2x8xf32>
  %recip55 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sum52 : tensor<2x2x8xf32>) outs(%e54 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %r = arith.divf %c53, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8xf32>
  %e56 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs57 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp48, %recip55 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e56 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m58 = tensor.collapse_shape %probs57 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m59 = tensor.collapse_shape %t27 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c60 = arith.constant 0.0 : f32
  %e61 = tensor.empty() : tensor<4x8x8xf32>
  %f62 = linalg.fill ins(%c60 : f32) outs(%e61 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm63 = linalg.batch_matmul ins(%m58, %m59 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f62 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x64 = tensor.expand_shape %bmm63 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e65 = tensor.empty() : tensor<2x8x2x8xf32>
  %t66 = linalg.transpose ins(%x64 : tensor<2x2x8x8xf32>) outs(%e65 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m67 = tensor.collapse_shape %t66 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %m68 = tensor.collapse_shape %m67 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c69 = arith.constant 0.0 : f32
  %e70 = tensor.empty() : tensor<16x16xf32>
  %f71 = linalg.fill ins(%c69 : f32) outs(%e70 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm72 = linalg.matmul ins(%m68, %wo : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f71 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x73 = tensor.expand_shape %mm72 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  return %x73 : tensor<2x8x16xf32>
}

// -----

// Tests that an additive [N, N] mask tensor built by iota / cmpi sle / select
// (0 or -inf) makes a causal tucker.mha, with the biases.

// CHECK-LABEL: func.func @mha_causal_iota(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A5:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A6:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A7:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A8:[a-z0-9]+]]: tensor<
// CHECK: tucker.mha %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] bq(%[[A5]]) bk(%[[A6]]) bv(%[[A7]]) bo(%[[A8]]) {causal, num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
func.func @mha_causal_iota(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>, %bq: tensor<16xf32>, %bk: tensor<16xf32>, %bv: tensor<16xf32>, %bo: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %m1 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c2 = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<16x16xf32>
  %f4 = linalg.fill ins(%c2 : f32) outs(%e3 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm5 = linalg.matmul ins(%m1, %wq : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f4 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x6 = tensor.expand_shape %mm5 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e7 = tensor.empty() : tensor<2x8x16xf32>
  %bias8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x6, %bq : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e7 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %m9 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c10 = arith.constant 0.0 : f32
  %e11 = tensor.empty() : tensor<16x16xf32>
  %f12 = linalg.fill ins(%c10 : f32) outs(%e11 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm13 = linalg.matmul ins(%m9, %wk : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f12 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x14 = tensor.expand_shape %mm13 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e15 = tensor.empty() : tensor<2x8x16xf32>
  %bias16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x14, %bk : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e15 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %m17 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c18 = arith.constant 0.0 : f32
  %e19 = tensor.empty() : tensor<16x16xf32>
  %f20 = linalg.fill ins(%c18 : f32) outs(%e19 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm21 = linalg.matmul ins(%m17, %wv : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f20 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x22 = tensor.expand_shape %mm21 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e23 = tensor.empty() : tensor<2x8x16xf32>
  %bias24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x22, %bv : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e23 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %x25 = tensor.expand_shape %bias8 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e26 = tensor.empty() : tensor<2x2x8x8xf32>
  %t27 = linalg.transpose ins(%x25 : tensor<2x8x2x8xf32>) outs(%e26 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x28 = tensor.expand_shape %bias16 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e29 = tensor.empty() : tensor<2x2x8x8xf32>
  %t30 = linalg.transpose ins(%x28 : tensor<2x8x2x8xf32>) outs(%e29 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x31 = tensor.expand_shape %bias24 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e32 = tensor.empty() : tensor<2x2x8x8xf32>
  %t33 = linalg.transpose ins(%x31 : tensor<2x8x2x8xf32>) outs(%e32 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e34 = tensor.empty() : tensor<2x2x8x8xf32>
  %t35 = linalg.transpose ins(%t30 : tensor<2x2x8x8xf32>) outs(%e34 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m36 = tensor.collapse_shape %t27 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m37 = tensor.collapse_shape %t35 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c38 = arith.constant 0.0 : f32
  %e39 = tensor.empty() : tensor<4x8x8xf32>
  %f40 = linalg.fill ins(%c38 : f32) outs(%e39 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm41 = linalg.batch_matmul ins(%m36, %m37 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f40 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x42 = tensor.expand_shape %bmm41 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c43 = arith.constant 3.535533906e-01 : f32
  %e44 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled45 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x42 : tensor<2x2x8x8xf32>) outs(%e44 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c43 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c46 = arith.constant 0xFF800000 : f32
  %c47 = arith.constant 0.0 : f32
  %e48 = tensor.empty() : tensor<8x8xf32>
  %mask49 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%e48 : tensor<8x8xf32>) {
  ^bb0(%acc: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %i64 = arith.index_cast %i : index to i64
    %j64 = arith.index_cast %j : index to i64
    %c = arith.cmpi sle, %j64, %i64 : i64
    %r = arith.select %c, %c47, %c46 : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %e50 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked51 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled45, %mask49 : tensor<2x2x8x8xf32>, tensor<8x8xf32>) outs(%e50 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %c52 = arith.constant 0xFF800000 : f32
  %e53 = tensor.empty() : tensor<2x2x8xf32>
  %f54 = linalg.fill ins(%c52 : f32) outs(%e53 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max55 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked51 : tensor<2x2x8x8xf32>) outs(%f54 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e56 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp57 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked51, %max55 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e56 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c58 = arith.constant 0.0 : f32
  %e59 = tensor.empty() : tensor<2x2x8xf32>
  %f60 = linalg.fill ins(%c58 : f32) outs(%e59 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum61 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp57 : tensor<2x2x8x8xf32>) outs(%f60 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e62 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs63 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp57, %sum61 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e62 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m64 = tensor.collapse_shape %probs63 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m65 = tensor.collapse_shape %t33 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c66 = arith.constant 0.0 : f32
  %e67 = tensor.empty() : tensor<4x8x8xf32>
  %f68 = linalg.fill ins(%c66 : f32) outs(%e67 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm69 = linalg.batch_matmul ins(%m64, %m65 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f68 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x70 = tensor.expand_shape %bmm69 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e71 = tensor.empty() : tensor<2x8x2x8xf32>
  %t72 = linalg.transpose ins(%x70 : tensor<2x2x8x8xf32>) outs(%e71 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m73 = tensor.collapse_shape %t72 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %m74 = tensor.collapse_shape %m73 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c75 = arith.constant 0.0 : f32
  %e76 = tensor.empty() : tensor<16x16xf32>
  %f77 = linalg.fill ins(%c75 : f32) outs(%e76 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm78 = linalg.matmul ins(%m74, %wo : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f77 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x79 = tensor.expand_shape %mm78 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e80 = tensor.empty() : tensor<2x8x16xf32>
  %bias81 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x79, %bo : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e80 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %bias81 : tensor<2x8x16xf32>
}

// -----

// Tests that an additive constant mask (0 on and below the diagonal, -inf
// above), checked entry by entry, makes a causal tucker.mha.

// CHECK-LABEL: func.func @mha_causal_const(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: tucker.mha %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] {causal, num_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
// CHECK-NOT: arith.constant dense
func.func @mha_causal_const(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %c1 = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<2x8x16xf32>
  %f3 = linalg.fill ins(%c1 : f32) outs(%e2 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f3 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x16xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wk : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f7 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %c9 = arith.constant 0.0 : f32
  %e10 = tensor.empty() : tensor<2x8x16xf32>
  %f11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wv : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f11 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %x13 = tensor.expand_shape %proj4 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e14 = tensor.empty() : tensor<2x2x8x8xf32>
  %t15 = linalg.transpose ins(%x13 : tensor<2x8x2x8xf32>) outs(%e14 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x16 = tensor.expand_shape %proj8 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e17 = tensor.empty() : tensor<2x2x8x8xf32>
  %t18 = linalg.transpose ins(%x16 : tensor<2x8x2x8xf32>) outs(%e17 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %x19 = tensor.expand_shape %proj12 [[0], [1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<2x8x16xf32> into tensor<2x8x2x8xf32>
  %e20 = tensor.empty() : tensor<2x2x8x8xf32>
  %t21 = linalg.transpose ins(%x19 : tensor<2x8x2x8xf32>) outs(%e20 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e22 = tensor.empty() : tensor<2x2x8x8xf32>
  %t23 = linalg.transpose ins(%t18 : tensor<2x2x8x8xf32>) outs(%e22 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m24 = tensor.collapse_shape %t15 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m25 = tensor.collapse_shape %t23 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c26 = arith.constant 0.0 : f32
  %e27 = tensor.empty() : tensor<4x8x8xf32>
  %f28 = linalg.fill ins(%c26 : f32) outs(%e27 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm29 = linalg.batch_matmul ins(%m24, %m25 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f28 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x30 = tensor.expand_shape %bmm29 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c31 = arith.constant 3.535533906e-01 : f32
  %e32 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled33 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x30 : tensor<2x2x8x8xf32>) outs(%e32 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c31 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %cmask34 = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %e35 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled33, %cmask34 : tensor<2x2x8x8xf32>, tensor<8x8xf32>) outs(%e35 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %e37 = tensor.empty() : tensor<2x2x8x8xf32>
  %sm38 = linalg.softmax dimension(3) ins(%masked36 : tensor<2x2x8x8xf32>) outs(%e37 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %m39 = tensor.collapse_shape %sm38 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m40 = tensor.collapse_shape %t21 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c41 = arith.constant 0.0 : f32
  %e42 = tensor.empty() : tensor<4x8x8xf32>
  %f43 = linalg.fill ins(%c41 : f32) outs(%e42 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm44 = linalg.batch_matmul ins(%m39, %m40 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f43 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x45 = tensor.expand_shape %bmm44 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e46 = tensor.empty() : tensor<2x8x2x8xf32>
  %t47 = linalg.transpose ins(%x45 : tensor<2x2x8x8xf32>) outs(%e46 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m48 = tensor.collapse_shape %t47 [[0], [1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<2x8x16xf32>
  %c49 = arith.constant 0.0 : f32
  %e50 = tensor.empty() : tensor<2x8x16xf32>
  %f51 = linalg.fill ins(%c49 : f32) outs(%e50 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %proj52 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%m48, %wo : tensor<2x8x16xf32>, tensor<16x16xf32>) outs(%f51 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %proj52 : tensor<2x8x16xf32>
}

// -----

// Tests that HF Llama-style attention becomes tucker.gqa with RoPE: k and v heads
// repeated by expand_shape + linalg.broadcast + collapse_shape (repeat_kv), q and
// k rotated as q·cos + rotate_half(q)·sin (slices, negf, tensor.concat) with
// constant [N, dh] tables (θ read back and checked entry by entry), causal.

// CHECK-LABEL: func.func @gqa_rope(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: tucker.gqa %[[X]], %[[A1]], %[[A2]], %[[A3]], %[[A4]] {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, rope = #tucker.rope<theta = 1.000000e+04, width = 4, style = half>, scale = 5.000000e-01 : f64}
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
// CHECK-NOT: tensor.concat
func.func @gqa_rope(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x8xf32>, %wv: tensor<16x8xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
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

// -----

// Tests that k and v heads tiled (query head h reads kv head h mod Hkv, as
// torch's repeat makes) still make tucker.gqa: the heads are summed, so the query
// and output weights are permuted into groups of consecutive heads.

// CHECK-LABEL: func.func @gqa_tiled(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK: %[[PQ:.+]] = linalg.generic {{.*}} ins(%[[A1]] : tensor<16x16xf32>)
// CHECK: %[[WQ:.+]] = tensor.collapse_shape %[[PQ]] {{\[}}[0], [1, 2, 3]]
// CHECK: %[[PO:.+]] = linalg.generic {{.*}} ins(%[[A4]] : tensor<16x16xf32>)
// CHECK: %[[WO:.+]] = tensor.collapse_shape %[[PO]] {{\[}}[0, 1, 2], [3]]
// CHECK: tucker.gqa %[[X]], %[[WQ]], %[[A2]], %[[A3]], %[[WO]] {num_heads = 4 : i64, num_kv_heads = 2 : i64
// CHECK-NOT: linalg.softmax
// CHECK-NOT: math.exp
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
func.func @gqa_tiled(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x8xf32>, %wv: tensor<16x8xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
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
  %e28 = tensor.empty() : tensor<2x2x2x8x4xf32>
  %tile29 = linalg.broadcast ins(%t24 : tensor<2x2x8x4xf32>) outs(%e28 : tensor<2x2x2x8x4xf32>) dimensions = [1]
  %m30 = tensor.collapse_shape %tile29 [[0], [1, 2], [3], [4]] : tensor<2x2x2x8x4xf32> into tensor<2x4x8x4xf32>
  %e31 = tensor.empty() : tensor<2x2x2x8x4xf32>
  %tile32 = linalg.broadcast ins(%t27 : tensor<2x2x8x4xf32>) outs(%e31 : tensor<2x2x2x8x4xf32>) dimensions = [1]
  %m33 = tensor.collapse_shape %tile32 [[0], [1, 2], [3], [4]] : tensor<2x2x2x8x4xf32> into tensor<2x4x8x4xf32>
  %e34 = tensor.empty() : tensor<2x4x4x8xf32>
  %t35 = linalg.transpose ins(%m30 : tensor<2x4x8x4xf32>) outs(%e34 : tensor<2x4x4x8xf32>) permutation = [0, 1, 3, 2]
  %m36 = tensor.collapse_shape %t21 [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %m37 = tensor.collapse_shape %t35 [[0, 1], [2], [3]] : tensor<2x4x4x8xf32> into tensor<8x4x8xf32>
  %c38 = arith.constant 0.0 : f32
  %e39 = tensor.empty() : tensor<8x8x8xf32>
  %f40 = linalg.fill ins(%c38 : f32) outs(%e39 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %bmm41 = linalg.batch_matmul ins(%m36, %m37 : tensor<8x8x4xf32>, tensor<8x4x8xf32>) outs(%f40 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %x42 = tensor.expand_shape %bmm41 [[0, 1], [2], [3]] output_shape [2, 4, 8, 8] : tensor<8x8x8xf32> into tensor<2x4x8x8xf32>
  %c43 = arith.constant 5.000000000e-01 : f32
  %e44 = tensor.empty() : tensor<2x4x8x8xf32>
  %scaled45 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x42 : tensor<2x4x8x8xf32>) outs(%e44 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c43 : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8x8xf32>
  %e46 = tensor.empty() : tensor<2x4x8x8xf32>
  %sm47 = linalg.softmax dimension(3) ins(%scaled45 : tensor<2x4x8x8xf32>) outs(%e46 : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %m48 = tensor.collapse_shape %sm47 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
  %m49 = tensor.collapse_shape %m33 [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %c50 = arith.constant 0.0 : f32
  %e51 = tensor.empty() : tensor<8x8x4xf32>
  %f52 = linalg.fill ins(%c50 : f32) outs(%e51 : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %bmm53 = linalg.batch_matmul ins(%m48, %m49 : tensor<8x8x8xf32>, tensor<8x8x4xf32>) outs(%f52 : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %x54 = tensor.expand_shape %bmm53 [[0, 1], [2], [3]] output_shape [2, 4, 8, 4] : tensor<8x8x4xf32> into tensor<2x4x8x4xf32>
  %e55 = tensor.empty() : tensor<2x8x4x4xf32>
  %t56 = linalg.transpose ins(%x54 : tensor<2x4x8x4xf32>) outs(%e55 : tensor<2x8x4x4xf32>) permutation = [0, 2, 1, 3]
  %m57 = tensor.collapse_shape %t56 [[0], [1], [2, 3]] : tensor<2x8x4x4xf32> into tensor<2x8x16xf32>
  %m58 = tensor.collapse_shape %m57 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c59 = arith.constant 0.0 : f32
  %e60 = tensor.empty() : tensor<16x16xf32>
  %f61 = linalg.fill ins(%c59 : f32) outs(%e60 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm62 = linalg.matmul ins(%m58, %wo : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f61 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x63 = tensor.expand_shape %mm62 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  return %x63 : tensor<2x8x16xf32>
}

// -----

// Tests that one key/value head broadcast to all query heads (MQA) becomes
// tucker.gqa with num_kv_heads = 1, and that its output bias is added after the op
// (tucker.gqa has no bias operands).

// CHECK-LABEL: func.func @mqa_out_bias(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[A1:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A2:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A3:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A4:[a-z0-9]+]]: tensor<
// CHECK-SAME: %[[A5:[a-z0-9]+]]: tensor<
// CHECK: %[[Y:.+]] = tucker.gqa %[[X]], {{.*}} {num_heads = 4 : i64, num_kv_heads = 1 : i64
// CHECK: %[[B:.+]] = linalg.generic {{.*}} ins(%[[Y]], %[[A5]] : tensor<2x8x16xf32>, tensor<16xf32>)
// CHECK: return %[[B]]
func.func @mqa_out_bias(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<4x16xf32>, %wv: tensor<4x16xf32>, %wo: tensor<16x16xf32>, %bo: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %e1 = tensor.empty() : tensor<16x16xf32>
  %t2 = linalg.transpose ins(%wq : tensor<16x16xf32>) outs(%e1 : tensor<16x16xf32>) permutation = [1, 0]
  %m3 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c4 = arith.constant 0.0 : f32
  %e5 = tensor.empty() : tensor<16x16xf32>
  %f6 = linalg.fill ins(%c4 : f32) outs(%e5 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm7 = linalg.matmul ins(%m3, %t2 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f6 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x8 = tensor.expand_shape %mm7 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e9 = tensor.empty() : tensor<16x4xf32>
  %t10 = linalg.transpose ins(%wk : tensor<4x16xf32>) outs(%e9 : tensor<16x4xf32>) permutation = [1, 0]
  %m11 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c12 = arith.constant 0.0 : f32
  %e13 = tensor.empty() : tensor<16x4xf32>
  %f14 = linalg.fill ins(%c12 : f32) outs(%e13 : tensor<16x4xf32>) -> tensor<16x4xf32>
  %mm15 = linalg.matmul ins(%m11, %t10 : tensor<16x16xf32>, tensor<16x4xf32>) outs(%f14 : tensor<16x4xf32>) -> tensor<16x4xf32>
  %x16 = tensor.expand_shape %mm15 [[0, 1], [2]] output_shape [2, 8, 4] : tensor<16x4xf32> into tensor<2x8x4xf32>
  %e17 = tensor.empty() : tensor<16x4xf32>
  %t18 = linalg.transpose ins(%wv : tensor<4x16xf32>) outs(%e17 : tensor<16x4xf32>) permutation = [1, 0]
  %m19 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c20 = arith.constant 0.0 : f32
  %e21 = tensor.empty() : tensor<16x4xf32>
  %f22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<16x4xf32>) -> tensor<16x4xf32>
  %mm23 = linalg.matmul ins(%m19, %t18 : tensor<16x16xf32>, tensor<16x4xf32>) outs(%f22 : tensor<16x4xf32>) -> tensor<16x4xf32>
  %x24 = tensor.expand_shape %mm23 [[0, 1], [2]] output_shape [2, 8, 4] : tensor<16x4xf32> into tensor<2x8x4xf32>
  %x25 = tensor.expand_shape %x8 [[0], [1], [2, 3]] output_shape [2, 8, 4, 4] : tensor<2x8x16xf32> into tensor<2x8x4x4xf32>
  %e26 = tensor.empty() : tensor<2x4x8x4xf32>
  %t27 = linalg.transpose ins(%x25 : tensor<2x8x4x4xf32>) outs(%e26 : tensor<2x4x8x4xf32>) permutation = [0, 2, 1, 3]
  %x28 = tensor.expand_shape %x16 [[0], [1], [2, 3]] output_shape [2, 8, 1, 4] : tensor<2x8x4xf32> into tensor<2x8x1x4xf32>
  %e29 = tensor.empty() : tensor<2x1x8x4xf32>
  %t30 = linalg.transpose ins(%x28 : tensor<2x8x1x4xf32>) outs(%e29 : tensor<2x1x8x4xf32>) permutation = [0, 2, 1, 3]
  %x31 = tensor.expand_shape %x24 [[0], [1], [2, 3]] output_shape [2, 8, 1, 4] : tensor<2x8x4xf32> into tensor<2x8x1x4xf32>
  %e32 = tensor.empty() : tensor<2x1x8x4xf32>
  %t33 = linalg.transpose ins(%x31 : tensor<2x8x1x4xf32>) outs(%e32 : tensor<2x1x8x4xf32>) permutation = [0, 2, 1, 3]
  %e34 = tensor.empty() : tensor<2x1x4x8x4xf32>
  %rep35 = linalg.broadcast ins(%t30 : tensor<2x1x8x4xf32>) outs(%e34 : tensor<2x1x4x8x4xf32>) dimensions = [2]
  %m36 = tensor.collapse_shape %rep35 [[0], [1, 2], [3], [4]] : tensor<2x1x4x8x4xf32> into tensor<2x4x8x4xf32>
  %e37 = tensor.empty() : tensor<2x1x4x8x4xf32>
  %rep38 = linalg.broadcast ins(%t33 : tensor<2x1x8x4xf32>) outs(%e37 : tensor<2x1x4x8x4xf32>) dimensions = [2]
  %m39 = tensor.collapse_shape %rep38 [[0], [1, 2], [3], [4]] : tensor<2x1x4x8x4xf32> into tensor<2x4x8x4xf32>
  %e40 = tensor.empty() : tensor<2x4x4x8xf32>
  %t41 = linalg.transpose ins(%m36 : tensor<2x4x8x4xf32>) outs(%e40 : tensor<2x4x4x8xf32>) permutation = [0, 1, 3, 2]
  %m42 = tensor.collapse_shape %t27 [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %m43 = tensor.collapse_shape %t41 [[0, 1], [2], [3]] : tensor<2x4x4x8xf32> into tensor<8x4x8xf32>
  %c44 = arith.constant 0.0 : f32
  %e45 = tensor.empty() : tensor<8x8x8xf32>
  %f46 = linalg.fill ins(%c44 : f32) outs(%e45 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %bmm47 = linalg.batch_matmul ins(%m42, %m43 : tensor<8x8x4xf32>, tensor<8x4x8xf32>) outs(%f46 : tensor<8x8x8xf32>) -> tensor<8x8x8xf32>
  %x48 = tensor.expand_shape %bmm47 [[0, 1], [2], [3]] output_shape [2, 4, 8, 8] : tensor<8x8x8xf32> into tensor<2x4x8x8xf32>
  %c49 = arith.constant 5.000000000e-01 : f32
  %e50 = tensor.empty() : tensor<2x4x8x8xf32>
  %scaled51 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x48 : tensor<2x4x8x8xf32>) outs(%e50 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c49 : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8x8xf32>
  %e52 = tensor.empty() : tensor<2x4x8x8xf32>
  %sm53 = linalg.softmax dimension(3) ins(%scaled51 : tensor<2x4x8x8xf32>) outs(%e52 : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %m54 = tensor.collapse_shape %sm53 [[0, 1], [2], [3]] : tensor<2x4x8x8xf32> into tensor<8x8x8xf32>
  %m55 = tensor.collapse_shape %m39 [[0, 1], [2], [3]] : tensor<2x4x8x4xf32> into tensor<8x8x4xf32>
  %c56 = arith.constant 0.0 : f32
  %e57 = tensor.empty() : tensor<8x8x4xf32>
  %f58 = linalg.fill ins(%c56 : f32) outs(%e57 : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %bmm59 = linalg.batch_matmul ins(%m54, %m55 : tensor<8x8x8xf32>, tensor<8x8x4xf32>) outs(%f58 : tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %x60 = tensor.expand_shape %bmm59 [[0, 1], [2], [3]] output_shape [2, 4, 8, 4] : tensor<8x8x4xf32> into tensor<2x4x8x4xf32>
  %e61 = tensor.empty() : tensor<2x8x4x4xf32>
  %t62 = linalg.transpose ins(%x60 : tensor<2x4x8x4xf32>) outs(%e61 : tensor<2x8x4x4xf32>) permutation = [0, 2, 1, 3]
  %m63 = tensor.collapse_shape %t62 [[0], [1], [2, 3]] : tensor<2x8x4x4xf32> into tensor<2x8x16xf32>
  %e64 = tensor.empty() : tensor<16x16xf32>
  %t65 = linalg.transpose ins(%wo : tensor<16x16xf32>) outs(%e64 : tensor<16x16xf32>) permutation = [1, 0]
  %m66 = tensor.collapse_shape %m63 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c67 = arith.constant 0.0 : f32
  %e68 = tensor.empty() : tensor<16x16xf32>
  %f69 = linalg.fill ins(%c67 : f32) outs(%e68 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm70 = linalg.matmul ins(%m66, %t65 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f69 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %x71 = tensor.expand_shape %mm70 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e72 = tensor.empty() : tensor<2x8x16xf32>
  %bias73 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x71, %bo : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e72 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %bias73 : tensor<2x8x16xf32>
}

// -----

// Tests that the attention core over [B·H, N, D] tensors (no projections in view)
// becomes tucker.flash on a batch of one: the operands are expanded to
// [1, B·H, N, D] and the result collapsed back.

// CHECK-LABEL: func.func @flash_heads_folded(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x8x8xf32>, %[[K:[a-z0-9]+]]: tensor<4x8x8xf32>, %[[V:[a-z0-9]+]]: tensor<4x8x8xf32>
// CHECK: %[[Q4:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1], [2], [3]] output_shape [1, 4, 8, 8]
// CHECK: %[[K4:.+]] = tensor.expand_shape %[[K]]
// CHECK: %[[V4:.+]] = tensor.expand_shape %[[V]]
// CHECK: %[[O:.+]] = tucker.flash %[[Q4]], %[[K4]], %[[V4]] {scale = 0.35355{{[0-9]+}} : f64} : tensor<1x4x8x8xf32>
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2], [3]] : tensor<1x4x8x8xf32> into tensor<4x8x8xf32>
// CHECK: return %[[R]]
func.func @flash_heads_folded(%q: tensor<4x8x8xf32>, %k: tensor<4x8x8xf32>, %v: tensor<4x8x8xf32>) -> tensor<4x8x8xf32> {
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) permutation = [0, 2, 1]
  %c3 = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<4x8x8xf32>
  %f5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm6 = linalg.batch_matmul ins(%q, %t2 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f5 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %c7 = arith.constant 3.535533906e-01 : f32
  %e8 = tensor.empty() : tensor<4x8x8xf32>
  %scaled9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bmm6 : tensor<4x8x8xf32>) outs(%e8 : tensor<4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c7 : f32
    linalg.yield %s : f32
  } -> tensor<4x8x8xf32>
  %e10 = tensor.empty() : tensor<4x8x8xf32>
  %sm11 = linalg.softmax dimension(2) ins(%scaled9 : tensor<4x8x8xf32>) outs(%e10 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %c12 = arith.constant 0.0 : f32
  %e13 = tensor.empty() : tensor<4x8x8xf32>
  %f14 = linalg.fill ins(%c12 : f32) outs(%e13 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm15 = linalg.batch_matmul ins(%sm11, %v : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f14 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  return %bmm15 : tensor<4x8x8xf32>
}

// -----

// Tests that the core over [B, H, N, D] tensors with q·kᵀ and P·V as batch_matmul
// on collapsed heads becomes tucker.flash on the tensors themselves.

// CHECK-LABEL: func.func @flash_bhnd(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x2x8x8xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x8x8xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x8x8xf32>
// CHECK-NEXT: %[[O:.+]] = tucker.flash %[[Q]], %[[K]], %[[V]] {scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NEXT: return %[[O]]
func.func @flash_bhnd(%q: tensor<2x2x8x8xf32>, %k: tensor<2x2x8x8xf32>, %v: tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<2x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<2x2x8x8xf32>) outs(%e1 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<4x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f7 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<2x2x8x8xf32>) outs(%e11 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %e13 = tensor.empty() : tensor<2x2x8x8xf32>
  %sm14 = linalg.softmax dimension(3) ins(%scaled12 : tensor<2x2x8x8xf32>) outs(%e13 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %m15 = tensor.collapse_shape %sm14 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m16 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c17 = arith.constant 0.0 : f32
  %e18 = tensor.empty() : tensor<4x8x8xf32>
  %f19 = linalg.fill ins(%c17 : f32) outs(%e18 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm20 = linalg.batch_matmul ins(%m15, %m16 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f19 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x21 = tensor.expand_shape %bmm20 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  return %x21 : tensor<2x2x8x8xf32>
}

// -----

// Tests that k and v broadcast from 2 to 4 heads (GQA), 4-D generic contractions
// and a causal select make a causal GQA tucker.flash.

// CHECK-LABEL: func.func @flash_gqa_causal(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x4x8x8xf32>, %[[K:[a-z0-9]+]]: tensor<2x2x8x8xf32>, %[[V:[a-z0-9]+]]: tensor<2x2x8x8xf32>
// CHECK-NEXT: %[[O:.+]] = tucker.flash %[[Q]], %[[K]], %[[V]] {causal, scale = 0.35355{{[0-9]+}} : f64} : tensor<2x4x8x8xf32>, tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32> -> tensor<2x4x8x8xf32>
// CHECK-NEXT: return %[[O]]
func.func @flash_gqa_causal(%q: tensor<2x4x8x8xf32>, %k: tensor<2x2x8x8xf32>, %v: tensor<2x2x8x8xf32>) -> tensor<2x4x8x8xf32> {
  %e1 = tensor.empty() : tensor<2x2x2x8x8xf32>
  %rep2 = linalg.broadcast ins(%k : tensor<2x2x8x8xf32>) outs(%e1 : tensor<2x2x2x8x8xf32>) dimensions = [2]
  %m3 = tensor.collapse_shape %rep2 [[0], [1, 2], [3], [4]] : tensor<2x2x2x8x8xf32> into tensor<2x4x8x8xf32>
  %e4 = tensor.empty() : tensor<2x2x2x8x8xf32>
  %rep5 = linalg.broadcast ins(%v : tensor<2x2x8x8xf32>) outs(%e4 : tensor<2x2x2x8x8xf32>) dimensions = [2]
  %m6 = tensor.collapse_shape %rep5 [[0], [1, 2], [3], [4]] : tensor<2x2x2x8x8xf32> into tensor<2x4x8x8xf32>
  %c7 = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<2x4x8x8xf32>
  %f9 = linalg.fill ins(%c7 : f32) outs(%e8 : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %qk10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %m3 : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) outs(%f9 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8x8xf32>
  %c11 = arith.constant 3.535533906e-01 : f32
  %e12 = tensor.empty() : tensor<2x4x8x8xf32>
  %scaled13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%qk10 : tensor<2x4x8x8xf32>) outs(%e12 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c11 : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8x8xf32>
  %c14 = arith.constant 0xFF800000 : f32
  %e15 = tensor.empty() : tensor<2x4x8x8xf32>
  %masked16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled13 : tensor<2x4x8x8xf32>) outs(%e15 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi ugt, %j, %i : index
    %r = arith.select %c, %c14, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x8xf32>
  %c17 = arith.constant 0xFF800000 : f32
  %e18 = tensor.empty() : tensor<2x4x8xf32>
  %f19 = linalg.fill ins(%c17 : f32) outs(%e18 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %max20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked16 : tensor<2x4x8x8xf32>) outs(%f19 : tensor<2x4x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8xf32>
  %e21 = tensor.empty() : tensor<2x4x8x8xf32>
  %exp22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked16, %max20 : tensor<2x4x8x8xf32>, tensor<2x4x8xf32>) outs(%e21 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x8x8xf32>
  %c23 = arith.constant 0.0 : f32
  %e24 = tensor.empty() : tensor<2x4x8xf32>
  %f25 = linalg.fill ins(%c23 : f32) outs(%e24 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %sum26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp22 : tensor<2x4x8x8xf32>) outs(%f25 : tensor<2x4x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8xf32>
  %e27 = tensor.empty() : tensor<2x4x8x8xf32>
  %probs28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp22, %sum26 : tensor<2x4x8x8xf32>, tensor<2x4x8xf32>) outs(%e27 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8x8xf32>
  %c29 = arith.constant 0.0 : f32
  %e30 = tensor.empty() : tensor<2x4x8x8xf32>
  %f31 = linalg.fill ins(%c29 : f32) outs(%e30 : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %pv32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%probs28, %m6 : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) outs(%f31 : tensor<2x4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x4x8x8xf32>
  return %pv32 : tensor<2x4x8x8xf32>
}

// -----

// Tests that with more keys than queries (4 queries, 8 keys) a mask that drops
// key n of query m iff n > m + 4 is tucker's bottom-right aligned causal.

// CHECK-LABEL: func.func @flash_more_keys(
// CHECK: tucker.flash {{.*}} {causal, scale = 0.35355{{[0-9]+}} : f64} : tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x4x8xf32>
func.func @flash_more_keys(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x4x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x4x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x4x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 4, 8] : tensor<2x4x8xf32> into tensor<1x2x4x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x4x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x4x8xf32>) outs(%e11 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x8xf32>
  %c13 = arith.constant 0xFF800000 : f32
  %e14 = tensor.empty() : tensor<1x2x4x8xf32>
  %masked15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12 : tensor<1x2x4x8xf32>) outs(%e14 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %o = arith.constant 4 : index
    %io = arith.addi %i, %o : index
    %c = arith.cmpi ugt, %j, %io : index
    %r = arith.select %c, %c13, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %c16 = arith.constant 0xFF800000 : f32
  %e17 = tensor.empty() : tensor<1x2x4xf32>
  %f18 = linalg.fill ins(%c16 : f32) outs(%e17 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %max19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked15 : tensor<1x2x4x8xf32>) outs(%f18 : tensor<1x2x4xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4xf32>
  %e20 = tensor.empty() : tensor<1x2x4x8xf32>
  %exp21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked15, %max19 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%e20 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<1x2x4x8xf32>
  %c22 = arith.constant 0.0 : f32
  %e23 = tensor.empty() : tensor<1x2x4xf32>
  %f24 = linalg.fill ins(%c22 : f32) outs(%e23 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %sum25 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp21 : tensor<1x2x4x8xf32>) outs(%f24 : tensor<1x2x4xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4xf32>
  %c26 = arith.constant 1.0 : f32
  %e27 = tensor.empty() : tensor<1x2x4xf32>
  %recip28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%sum25 : tensor<1x2x4xf32>) outs(%e27 : tensor<1x2x4xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %r = arith.divf %c26, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4xf32>
  %e29 = tensor.empty() : tensor<1x2x4x8xf32>
  %probs30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp21, %recip28 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%e29 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %m31 = tensor.collapse_shape %probs30 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %m32 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c33 = arith.constant 0.0 : f32
  %e34 = tensor.empty() : tensor<2x4x8xf32>
  %f35 = linalg.fill ins(%c33 : f32) outs(%e34 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %bmm36 = linalg.batch_matmul ins(%m31, %m32 : tensor<2x4x8xf32>, tensor<2x8x8xf32>) outs(%f35 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %x37 = tensor.expand_shape %bmm36 [[0, 1], [2], [3]] output_shape [1, 2, 4, 8] : tensor<2x4x8xf32> into tensor<1x2x4x8xf32>
  return %x37 : tensor<1x2x4x8xf32>
}

// -----

// Tests that scores that are not scaled at all give an explicit scale of 1 (not
// tucker's default 1/√D).

// CHECK-LABEL: func.func @flash_unscaled_unsafe(
// CHECK: tucker.flash {{.*}} {scale = 1.000000e+00 : f64}
func.func @flash_unscaled_unsafe(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %e10 = tensor.empty() : tensor<1x2x8x8xf32>
  %exp11 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e10 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %ex = math.exp %a0 : f32
    linalg.yield %ex : f32
  } -> tensor<1x2x8x8xf32>
  %c12 = arith.constant 0.0 : f32
  %e13 = tensor.empty() : tensor<1x2x8xf32>
  %f14 = linalg.fill ins(%c12 : f32) outs(%e13 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp11 : tensor<1x2x8x8xf32>) outs(%f14 : tensor<1x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8xf32>
  %e16 = tensor.empty() : tensor<1x2x8x8xf32>
  %probs17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp11, %sum15 : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e16 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %m18 = tensor.collapse_shape %probs17 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m19 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c20 = arith.constant 0.0 : f32
  %e21 = tensor.empty() : tensor<2x8x8xf32>
  %f22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm23 = linalg.batch_matmul ins(%m18, %m19 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f22 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x24 = tensor.expand_shape %bmm23 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x24 : tensor<1x2x8x8xf32>
}
