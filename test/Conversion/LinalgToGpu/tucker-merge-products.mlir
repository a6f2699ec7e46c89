// RUN: tucker-opt %s -split-input-file --tucker-merge-products | FileCheck %s

// Tests that: a Tucker layer's three projections of x (q̃ = x·U2 into a query
// core, k = x·U3 and v = x·Ũ3 into a flash), each an einsum with its cast to
// bf16, become one product over U2, U3, Ũ3 side by side (the casts merged
// too, so cuBLASLt still rounds once) and three column slices: x is read
// once. 2·ΣB = 2048 elements copied < 2·|x| = 6144 re-read.
// CHECK-LABEL: func.func @projections(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x48x32xbf16>, %[[U2:[^:]+]]: tensor<32x16xbf16>, %[[U3:[^:]+]]: tensor<32x8xbf16>, %[[V3:[^:]+]]: tensor<32x8xbf16>
// CHECK:         %[[W:.+]] = tensor.concat dim(1) %[[U2]], %[[U3]], %[[V3]] : (tensor<32x16xbf16>, tensor<32x8xbf16>, tensor<32x8xbf16>) -> tensor<32x32xbf16>
// CHECK:         %[[P:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[W]] : tensor<2x48x32xbf16>, tensor<32x32xbf16>) outs(%{{.+}} : tensor<2x48x32xf32>)
// CHECK:         %[[C:.+]] = linalg.generic {{.+}} ins(%[[P]] : tensor<2x48x32xf32>) outs(%{{.+}} : tensor<2x48x32xbf16>)
// CHECK:           arith.truncf
// CHECK:         %[[Q:.+]] = tensor.extract_slice %[[C]][0, 0, 0] [2, 48, 16] [1, 1, 1] : tensor<2x48x32xbf16> to tensor<2x48x16xbf16>
// CHECK:         %[[K:.+]] = tensor.extract_slice %[[C]][0, 0, 16] [2, 48, 8] [1, 1, 1] : tensor<2x48x32xbf16> to tensor<2x48x8xbf16>
// CHECK:         %[[V:.+]] = tensor.extract_slice %[[C]][0, 0, 24] [2, 48, 8] [1, 1, 1] : tensor<2x48x32xbf16> to tensor<2x48x8xbf16>
// CHECK-NOT:     ins(%[[X]]
// CHECK:         linalg.generic {{.+}} ins(%[[Q]], %{{.+}} : tensor<2x48x16xbf16>
// CHECK:         %[[KH:.+]] = tensor.expand_shape %[[K]]
// CHECK:         %[[VH:.+]] = tensor.expand_shape %[[V]]
// CHECK:         tucker.flash %{{.+}}, %[[KH]], %[[VH]]
#x = affine_map<(b, n, j, k) -> (b, n, k)>
#w = affine_map<(b, n, j, k) -> (k, j)>
#o = affine_map<(b, n, j, k) -> (b, n, j)>
#id = affine_map<(b, n, j) -> (b, n, j)>
#qx = affine_map<(b, h, n, s, r) -> (b, n, r)>
#qg = affine_map<(b, h, n, s, r) -> (h, r, s)>
#qo = affine_map<(b, h, n, s, r) -> (b, h, n, s)>
func.func @projections(%x: tensor<2x48x32xbf16>, %u2: tensor<32x16xbf16>, %u3: tensor<32x8xbf16>,
                       %v3: tensor<32x8xbf16>, %g: tensor<4x16x8xbf16>) -> tensor<2x4x48x8xbf16> {
  %zero = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<2x48x16xf32>
  %f16 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<2x48x16xf32>) -> tensor<2x48x16xf32>
  %e8 = tensor.empty() : tensor<2x48x8xf32>
  %f8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<2x48x8xf32>) -> tensor<2x48x8xf32>
  %p2 = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %u2 : tensor<2x48x32xbf16>, tensor<32x16xbf16>) outs(%f16 : tensor<2x48x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x48x16xf32>
  %c16 = tensor.empty() : tensor<2x48x16xbf16>
  %qt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p2 : tensor<2x48x16xf32>) outs(%c16 : tensor<2x48x16xbf16>) {
  ^bb0(%v: f32, %o: bf16):
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x48x16xbf16>
  %ke = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %u3 : tensor<2x48x32xbf16>, tensor<32x8xbf16>) outs(%f8 : tensor<2x48x8xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x48x8xf32>
  %c8 = tensor.empty() : tensor<2x48x8xbf16>
  %k = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ke : tensor<2x48x8xf32>) outs(%c8 : tensor<2x48x8xbf16>) {
  ^bb0(%v: f32, %o: bf16):
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x48x8xbf16>
  %ve = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %v3 : tensor<2x48x32xbf16>, tensor<32x8xbf16>) outs(%f8 : tensor<2x48x8xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x48x8xf32>
  %v = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ve : tensor<2x48x8xf32>) outs(%c8 : tensor<2x48x8xbf16>) {
  ^bb0(%v0: f32, %o: bf16):
    %t = arith.truncf %v0 : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x48x8xbf16>
  %eq = tensor.empty() : tensor<2x4x48x8xf32>
  %fq = linalg.fill ins(%zero : f32) outs(%eq : tensor<2x4x48x8xf32>) -> tensor<2x4x48x8xf32>
  %q32 = linalg.generic {indexing_maps = [#qx, #qg, #qo], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %g : tensor<2x48x16xbf16>, tensor<4x16x8xbf16>) outs(%fq : tensor<2x4x48x8xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x48x8xf32>
  %cq = tensor.empty() : tensor<2x4x48x8xbf16>
  %q = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q32 : tensor<2x4x48x8xf32>) outs(%cq : tensor<2x4x48x8xbf16>) {
  ^bb0(%v0: f32, %o: bf16):
    %t = arith.truncf %v0 : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x4x48x8xbf16>
  %kh = tensor.expand_shape %k [[0, 1], [2], [3]] output_shape [2, 1, 48, 8] : tensor<2x48x8xbf16> into tensor<2x1x48x8xbf16>
  %vh = tensor.expand_shape %v [[0, 1], [2], [3]] output_shape [2, 1, 48, 8] : tensor<2x48x8xbf16> into tensor<2x1x48x8xbf16>
  %o = tucker.flash %q, %kh, %vh {scale = 0.35355339059327373 : f64}
      : tensor<2x4x48x8xbf16>, tensor<2x1x48x8xbf16>, tensor<2x1x48x8xbf16> -> tensor<2x4x48x8xbf16>
  return %o : tensor<2x4x48x8xbf16>
}

// -----

// Tests that: products sharing x whose results get a bias add (an
// elementwise op, which would read a slice through a copy, and would take
// the bias out of cuBLASLt's epilogue) are left alone.
// CHECK-LABEL: func.func @bias_users(
// CHECK-NOT:     tensor.concat
// CHECK-COUNT-2: linalg.matmul
func.func @bias_users(%x: tensor<256x32xf32>, %w1: tensor<32x8xf32>, %w2: tensor<32x8xf32>,
                      %b: tensor<256x8xf32>) -> (tensor<256x8xf32>, tensor<256x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<256x8xf32>) -> tensor<256x8xf32>
  %p1 = linalg.matmul ins(%x, %w1 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %p2 = linalg.matmul ins(%x, %w2 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %y1 = linalg.add ins(%p1, %b : tensor<256x8xf32>, tensor<256x8xf32>) outs(%e : tensor<256x8xf32>) -> tensor<256x8xf32>
  %y2 = linalg.add ins(%p2, %b : tensor<256x8xf32>, tensor<256x8xf32>) outs(%e : tensor<256x8xf32>) -> tensor<256x8xf32>
  return %y1, %y2 : tensor<256x8xf32>, tensor<256x8xf32>
}

// -----

// Tests that: two products read by products are merged (matmul, no cast),
// but not when copying the B's costs more than reading A again (x 8×32,
// B's 32×64 each: 2·4096 elements copied against 256 saved).
// CHECK-LABEL: func.func @matmuls(
// CHECK:         %[[W:.+]] = tensor.concat dim(1)
// CHECK:         %[[P:.+]] = linalg.matmul ins(%{{.+}}, %[[W]] : tensor<256x32xf32>, tensor<32x16xf32>)
// CHECK:         tensor.extract_slice %[[P]][0, 0] [256, 8] [1, 1]
// CHECK:         tensor.extract_slice %[[P]][0, 8] [256, 8] [1, 1]
// CHECK-LABEL: func.func @not_worth_it(
// CHECK-NOT:     tensor.concat
func.func @matmuls(%x: tensor<256x32xf32>, %w1: tensor<32x8xf32>, %w2: tensor<32x8xf32>,
                   %g: tensor<8x4xf32>) -> (tensor<256x4xf32>, tensor<256x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<256x8xf32>) -> tensor<256x8xf32>
  %p1 = linalg.matmul ins(%x, %w1 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %p2 = linalg.matmul ins(%x, %w2 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %e4 = tensor.empty() : tensor<256x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  %y1 = linalg.matmul ins(%p1, %g : tensor<256x8xf32>, tensor<8x4xf32>) outs(%f4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  %y2 = linalg.matmul ins(%p2, %g : tensor<256x8xf32>, tensor<8x4xf32>) outs(%f4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  return %y1, %y2 : tensor<256x4xf32>, tensor<256x4xf32>
}
func.func @not_worth_it(%x: tensor<8x32xf32>, %w1: tensor<32x64xf32>, %w2: tensor<32x64xf32>,
                        %g: tensor<64x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x64xf32>) -> tensor<8x64xf32>
  %p1 = linalg.matmul ins(%x, %w1 : tensor<8x32xf32>, tensor<32x64xf32>) outs(%f : tensor<8x64xf32>) -> tensor<8x64xf32>
  %p2 = linalg.matmul ins(%x, %w2 : tensor<8x32xf32>, tensor<32x64xf32>) outs(%f : tensor<8x64xf32>) -> tensor<8x64xf32>
  %e4 = tensor.empty() : tensor<8x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %y1 = linalg.matmul ins(%p1, %g : tensor<8x64xf32>, tensor<64x4xf32>) outs(%f4 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %y2 = linalg.matmul ins(%p2, %g : tensor<8x64xf32>, tensor<64x4xf32>) outs(%f4 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %y1, %y2 : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// Tests that: a product whose B is made after the group's first product
// (the merged one would read it before it exists), and one reading another
// tensor, stay apart from the group; the rest still merge.
// CHECK-LABEL: func.func @apart(
// CHECK:         tensor.concat dim(1) %{{.+}}, %{{.+}} : (tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<32x16xf32>
// CHECK-COUNT-2: linalg.matmul ins(%{{[^,]+}}, %{{[^:]+}} : tensor<256x32xf32>, tensor<32x8xf32>)
// CHECK-NOT:     tensor.concat
func.func @apart(%x: tensor<256x32xf32>, %x2: tensor<256x32xf32>, %w1: tensor<32x8xf32>,
                 %w2: tensor<32x8xf32>, %g: tensor<8x4xf32>)
    -> (tensor<256x4xf32>, tensor<256x4xf32>, tensor<256x4xf32>, tensor<256x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<256x8xf32>) -> tensor<256x8xf32>
  %e4 = tensor.empty() : tensor<256x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  %p1 = linalg.matmul ins(%x, %w1 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %w3 = linalg.add ins(%w1, %w2 : tensor<32x8xf32>, tensor<32x8xf32>) outs(%w1 : tensor<32x8xf32>) -> tensor<32x8xf32>
  %p3 = linalg.matmul ins(%x, %w3 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %p4 = linalg.matmul ins(%x2, %w2 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %p2 = linalg.matmul ins(%x, %w2 : tensor<256x32xf32>, tensor<32x8xf32>) outs(%f : tensor<256x8xf32>) -> tensor<256x8xf32>
  %y1 = linalg.matmul ins(%p1, %g : tensor<256x8xf32>, tensor<8x4xf32>) outs(%f4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  %y2 = linalg.matmul ins(%p2, %g : tensor<256x8xf32>, tensor<8x4xf32>) outs(%f4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  %y3 = linalg.matmul ins(%p3, %g : tensor<256x8xf32>, tensor<8x4xf32>) outs(%f4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  %y4 = linalg.matmul ins(%p4, %g : tensor<256x8xf32>, tensor<8x4xf32>) outs(%f4 : tensor<256x4xf32>) -> tensor<256x4xf32>
  return %y1, %y2, %y3, %y4 : tensor<256x4xf32>, tensor<256x4xf32>, tensor<256x4xf32>, tensor<256x4xf32>
}

// -----

// Tests that: B's that are dense constants (embedded weights) are
// concatenated at compile time, row by row: [[1, 2], [3, 4]] and [[5], [6]]
// side by side are [[1, 2, 5], [3, 4, 6]]; no tensor.concat is left to copy
// them on every call, and the merge needs no copy budget (x is small here).
// CHECK-LABEL: func.func @constant_weights(
// CHECK-NOT:     tensor.concat
// CHECK:         %[[W:.+]] = arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 5.000000e+00], [3.000000e+00, 4.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK:         %[[P:.+]] = linalg.matmul ins(%{{.+}}, %[[W]] : tensor<4x2xf32>, tensor<2x3xf32>)
// CHECK:         tensor.extract_slice %[[P]][0, 0] [4, 2] [1, 1]
// CHECK:         tensor.extract_slice %[[P]][0, 2] [4, 1] [1, 1]
func.func @constant_weights(%x: tensor<4x2xf32>, %g2: tensor<2x4xf32>, %g1: tensor<1x4xf32>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w2 = arith.constant dense<[[5.0], [6.0]]> : tensor<2x1xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %e1 = tensor.empty() : tensor<4x1xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %p1 = linalg.matmul ins(%x, %w1 : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %p2 = linalg.matmul ins(%x, %w2 : tensor<4x2xf32>, tensor<2x1xf32>) outs(%f1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %e4 = tensor.empty() : tensor<4x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  %y1 = linalg.matmul ins(%p1, %g2 : tensor<4x2xf32>, tensor<2x4xf32>) outs(%f4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  %y2 = linalg.matmul ins(%p2, %g1 : tensor<4x1xf32>, tensor<1x4xf32>) outs(%f4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y1, %y2 : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Tests that: with one constant B and one argument B, tensor.concat would copy
// both on every call, so the copy counts in full: 2·(4 + 2) = 12 elements
// against 8 saved reads of x (4×2) leaves the products apart.
// CHECK-LABEL: func.func @mixed_weights(
// CHECK-NOT:     tensor.concat
// CHECK-COUNT-2: linalg.matmul ins(%{{[^,]+}}, %{{[^:]+}} : tensor<4x2xf32>,
func.func @mixed_weights(%x: tensor<4x2xf32>, %w2: tensor<2x1xf32>, %g2: tensor<2x4xf32>,
                         %g1: tensor<1x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %e1 = tensor.empty() : tensor<4x1xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %p1 = linalg.matmul ins(%x, %w1 : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %p2 = linalg.matmul ins(%x, %w2 : tensor<4x2xf32>, tensor<2x1xf32>) outs(%f1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %e4 = tensor.empty() : tensor<4x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  %y1 = linalg.matmul ins(%p1, %g2 : tensor<4x2xf32>, tensor<2x4xf32>) outs(%f4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  %y2 = linalg.matmul ins(%p2, %g1 : tensor<4x1xf32>, tensor<1x4xf32>) outs(%f4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y1, %y2 : tensor<4x4xf32>, tensor<4x4xf32>
}
