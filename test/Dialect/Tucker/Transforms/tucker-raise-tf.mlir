// RUN: tucker-opt %s -split-input-file --tucker-raise --verify-roundtrip | FileCheck %s

// --tucker-raise on TensorFlow / Keras attention layers (BERT) as they are
// lowered to linalg: Keras EinsumDense kernels [d, H, dh] and [H, dh, d] (dense
// constants here) with biases [H, dh], activations in TF's [B, N, H, dh] head
// layout, a mask that adds zero, the max-subtract softmax. The same functions
// run raised and unraised in test/Integration/CPU/raise/raise-tf.mlir.

// Tests that a BERT layer on collapsed tokens, whose [d, H, dh] kernels, [H, dh]
// biases and [H, dh, d] output kernel are collapsed to matrices and vectors for
// 2-D linalg.matmul (heads split by expand_shape to [B, N, H, dh] + transpose,
// q·kᵀ and P·V as batch_matmul, a zero constant mask [B, 1, N, N] added to the
// scaled scores), becomes one tucker.mha with its four biases; the kernels and
// biases are handed to it collapsed.

// CHECK-LABEL: func.func @bert_collapsed(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK: %[[WQ:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WK:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WV:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WO:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8x16xf32>
// CHECK: %[[BQ:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BK:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BV:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BO:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16xf32>
// CHECK: %[[Q:.+]] = tensor.collapse_shape %[[WQ]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[K:.+]] = tensor.collapse_shape %[[WK]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[V:.+]] = tensor.collapse_shape %[[WV]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[O:.+]] = tensor.collapse_shape %[[WO]] {{\[}}[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
// CHECK: %[[BQ2:.+]] = tensor.collapse_shape %[[BQ]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[BK2:.+]] = tensor.collapse_shape %[[BK]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[BV2:.+]] = tensor.collapse_shape %[[BV]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[Y:.+]] = tucker.mha %[[X]], %[[Q]], %[[K]], %[[V]], %[[O]] bq(%[[BQ2]]) bk(%[[BK2]]) bv(%[[BV2]]) bo(%[[BO]]) {num_heads = 2 : i64, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK-NOT: math.exp
// CHECK: return %[[Y]]
func.func @bert_collapsed(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %wq1 = arith.constant dense<[[[0.03, -0.03, 0.16, 0.03, -0.13, 0.09, 0.33, 0.24], [-0.18, -0.32, -0.16, 0.01, -0.58, -0.05, -0.31, -0.18]], [[-0.14, -0.08, 0.10, 0.26, -0.03, 0.34, -0.17, 0.09], [0.23, 0.02, -0.19, -0.23, -0.11, 0.06, -0.25, -0.05]], [[-0.04, 0.14, 0.05, 0.09, -0.16, -0.03, 0.20, 0.37], [-0.31, 0.38, 0.34, 0.20, 0.07, -0.08, 0.36, 0.49]], [[0.45, 0.33, 0.09, -0.30, -0.00, 0.16, -0.32, 0.10], [0.11, 0.17, -0.30, -0.17, -0.11, -0.29, 0.43, -0.12]], [[0.08, -0.06, 0.40, 0.33, 0.16, -0.55, 0.01, 0.17], [0.25, -0.15, 0.46, -0.33, -0.17, 0.23, 0.01, 0.50]], [[0.05, -0.16, -0.09, -0.27, -0.32, 0.16, 0.15, 0.32], [-0.19, 0.42, -0.07, 0.39, -0.11, -0.18, 0.06, 0.26]], [[0.04, -0.15, -0.34, -0.35, 0.13, 0.25, -0.04, -0.27], [0.22, -0.32, -0.18, 0.16, -0.56, 0.10, -0.15, 0.03]], [[-0.02, 0.05, 0.17, -0.19, 0.36, 0.18, 0.21, 0.29], [0.20, 0.21, 0.02, -0.36, -0.03, -0.19, -0.36, 0.06]], [[-0.14, -0.26, -0.26, 0.07, 0.09, 0.33, -0.00, 0.26], [0.35, 0.29, -0.59, 0.31, 0.08, 0.11, 0.09, 0.10]], [[0.08, -0.09, -0.48, -0.03, -0.20, 0.27, -0.07, 0.02], [-0.21, -0.13, -0.00, -0.37, 0.08, -0.03, -0.30, -0.60]], [[0.13, -0.07, -0.13, -0.06, 0.45, -0.01, 0.02, -0.37], [0.41, 0.23, 0.27, 0.01, 0.23, 0.09, 0.15, -0.04]], [[-0.37, 0.26, -0.48, -0.06, -0.05, -0.26, 0.15, -0.05], [-0.11, 0.13, -0.12, 0.35, 0.09, -0.12, -0.49, -0.33]], [[0.27, -0.01, -0.07, 0.41, -0.32, -0.15, -0.12, 0.15], [-0.17, -0.15, -0.40, 0.18, 0.20, -0.12, 0.04, -0.32]], [[-0.12, 0.34, 0.03, 0.58, -0.20, 0.15, -0.05, 0.14], [-0.00, -0.14, -0.22, 0.77, -0.02, -0.50, -0.16, 0.17]], [[-0.13, 0.34, 0.25, -0.04, -0.12, -0.25, -0.17, -0.37], [0.30, 0.40, -0.31, -0.30, -0.44, -0.24, -0.78, -0.29]], [[0.32, -0.09, 0.21, -0.12, 0.44, 0.05, -0.10, 0.64], [-0.08, -0.31, 0.05, -0.01, 0.27, -0.23, 0.20, 0.21]]]> : tensor<16x2x8xf32>
  %wk2 = arith.constant dense<[[[-0.17, 0.04, -0.21, 0.59, -0.18, -0.11, -0.27, -0.09], [-0.00, 0.19, -0.15, -0.05, -0.35, -0.21, 0.69, 0.26]], [[-0.20, -0.33, -0.24, -0.01, 0.01, -0.19, -0.32, 0.36], [0.11, -0.09, -0.06, -0.13, -0.73, 0.03, -0.27, -0.25]], [[-0.16, 0.18, -0.29, -0.36, 0.16, 0.19, -0.24, 0.14], [-0.07, 0.08, -0.32, 0.21, 0.30, 0.16, 0.14, -0.94]], [[0.07, -0.01, -0.04, -0.16, 0.01, 0.10, -0.07, -0.12], [0.31, -0.28, 0.26, 0.04, -0.20, -0.07, -0.23, 0.17]], [[0.09, -0.14, -0.28, 0.08, 0.24, -0.03, 0.10, -0.09], [0.02, -0.07, 0.07, -0.38, 0.16, -0.06, 0.09, -0.09]], [[0.08, -0.27, 0.30, -0.43, -0.26, 0.06, 0.37, 0.07], [-0.06, -0.36, -0.05, -0.00, 0.42, 0.16, -0.38, 0.51]], [[-0.10, -0.22, 0.37, -0.01, -0.09, 0.05, 0.21, 0.25], [-0.34, 0.50, 0.24, -0.09, -0.20, -0.24, 0.03, -0.16]], [[-0.19, 0.20, 0.09, -0.10, 0.18, 0.34, -0.27, -0.15], [0.24, 0.18, 0.06, 0.29, -0.27, -0.37, -0.22, 0.03]], [[-0.20, -0.12, -0.24, -0.16, -0.25, 0.09, 0.20, -0.12], [-0.05, -0.15, 0.13, 0.02, 0.40, -0.27, 0.09, 0.11]], [[-0.09, 0.15, -0.36, 0.53, -0.34, 0.23, -0.28, 0.29], [-0.10, 0.04, 0.01, 0.28, -0.08, -0.74, -0.19, 0.05]], [[-0.11, 0.19, 0.25, -0.04, -0.37, 0.35, 0.27, -0.07], [0.53, -0.09, -0.28, -0.04, 0.27, -0.23, 0.49, -0.22]], [[0.24, 0.14, -0.04, 0.27, -0.37, 0.34, -0.02, -0.14], [0.19, 0.26, 0.19, 0.50, 0.27, 0.32, -0.13, 0.03]], [[0.14, -0.00, 0.08, 0.11, 0.21, -0.03, -0.09, -0.21], [-0.22, 0.29, -0.02, 0.20, -0.32, -0.48, -0.26, 0.29]], [[0.27, 0.08, -0.20, -0.03, -0.07, -0.09, -0.63, -0.21], [-0.05, 0.38, 0.04, 0.35, -0.10, -0.06, -0.97, 0.12]], [[0.14, 0.44, -0.12, 0.02, -0.18, -0.29, -0.18, -0.09], [0.34, 0.00, -0.20, 0.04, 0.05, -0.17, 0.29, -0.47]], [[-0.05, 0.17, -0.33, 0.09, 0.32, 0.11, -0.42, -0.18], [0.31, 0.07, -0.00, 0.11, 0.18, -0.18, -0.07, 0.04]]]> : tensor<16x2x8xf32>
  %wv3 = arith.constant dense<[[[-0.14, -0.03, 0.32, -0.24, 0.48, 0.47, -0.43, -0.04], [0.09, -0.19, -0.19, -0.06, 0.18, -0.13, 0.46, 0.07]], [[-0.03, 0.36, 0.16, 0.09, -0.08, 0.45, 0.20, -0.05], [-0.39, 0.09, -0.29, -0.43, -0.07, 0.07, 0.32, 0.07]], [[0.20, -0.31, -0.01, 0.03, 0.22, 0.03, 0.20, -0.13], [0.09, 0.10, -0.31, 0.04, -0.08, -0.48, 0.24, -0.09]], [[-0.21, -0.09, 0.03, 0.38, -0.04, 0.12, 0.34, 0.13], [0.27, -0.12, 0.19, -0.01, 0.27, -0.25, -0.19, 0.32]], [[-0.05, -0.09, 0.02, -0.17, 0.33, -0.31, -0.04, 0.09], [-0.03, -0.20, -0.22, 0.11, -0.26, 0.16, -0.38, -0.14]], [[0.01, -0.31, 0.16, -0.00, -0.26, -0.38, -0.39, 0.01], [-0.29, -0.34, -0.06, 0.57, 0.07, 0.19, 0.05, 0.20]], [[-0.34, -0.11, 0.07, -0.00, -0.05, -0.17, -0.06, -0.19], [-0.61, -0.30, 0.12, 0.39, 0.45, 0.02, 0.22, 0.23]], [[-0.17, -0.42, 0.01, -0.44, -0.08, 0.15, -0.36, 0.01], [0.31, 0.09, 0.13, 0.23, 0.43, 0.04, 0.31, -0.02]], [[-0.14, 0.08, -0.15, -0.14, -0.15, -0.57, 0.03, -0.32], [-0.03, 0.36, -0.13, -0.14, 0.34, 0.14, 0.24, -0.09]], [[0.19, -0.17, -0.17, 0.15, -0.15, 0.19, 0.60, -0.42], [-0.19, 0.28, -0.04, 0.29, -0.25, 0.08, -0.04, 0.04]], [[0.08, -0.31, -0.27, 0.35, 0.07, 0.03, -0.01, 0.09], [-0.29, -0.25, 0.33, 0.04, 0.21, -0.15, 0.34, 0.09]], [[0.12, 0.14, -0.20, -0.47, -0.27, 0.41, 0.33, -0.09], [-0.08, 0.26, -0.04, -0.32, 0.32, 0.12, -0.63, -0.08]], [[0.04, 0.12, 0.04, -0.16, -0.03, 0.07, -0.07, -0.09], [0.31, -0.24, -0.09, -0.51, 0.14, 0.21, 0.14, 0.23]], [[0.11, 0.09, 0.12, -0.07, 0.30, -0.09, -0.37, 0.21], [0.46, -0.24, -0.03, -0.17, -0.10, 0.01, -0.31, -0.07]], [[-0.37, -0.14, -0.30, -0.26, -0.43, 0.30, 0.13, -0.48], [-0.15, -0.17, -0.17, -0.36, 0.19, -0.10, 0.12, 0.13]], [[0.34, -0.45, 0.43, 0.32, 0.14, 0.60, 0.05, 0.21], [-0.18, 0.28, 0.04, -0.11, 0.53, -0.08, 0.00, -0.05]]]> : tensor<16x2x8xf32>
  %wo4 = arith.constant dense<[[[-0.19, 0.13, 0.18, 0.09, -0.59, 0.25, -0.09, -0.30, 0.15, 0.14, -0.26, 0.62, -0.30, -0.43, -0.29, 0.36], [-0.04, -0.09, -0.02, -0.15, -0.17, -0.16, 0.18, 0.26, -0.26, 0.06, 0.20, -0.27, -0.13, -0.26, -0.32, 0.03], [-0.18, 0.16, -0.01, 0.10, -0.07, -0.16, -0.02, -0.00, -0.18, 0.11, 0.19, 0.04, 0.43, -0.16, 0.13, -0.10], [0.06, -0.21, 0.28, 0.04, 0.30, -0.32, -0.12, -0.22, -0.13, -0.17, -0.03, -0.00, -0.01, -0.14, 0.05, 0.22], [-0.23, 0.00, -0.02, 0.12, -0.02, -0.00, -0.25, 0.01, -0.23, 0.13, -0.03, 0.01, -0.22, 0.20, 0.17, 0.22], [0.56, -0.01, 0.30, -0.03, 0.10, 0.09, 0.07, 0.16, -0.08, 0.01, 0.13, 0.44, -0.21, -0.45, -0.12, 0.02], [0.04, 0.02, 0.30, 0.24, -0.01, -0.12, -0.09, -0.09, -0.06, -0.39, -0.12, -0.11, -0.05, -0.06, 0.17, -0.13], [-0.11, 0.14, -0.06, 0.05, 0.17, 0.11, 0.06, -0.05, 0.17, 0.04, -0.13, -0.04, -0.30, -0.24, -0.47, -0.17]], [[0.33, -0.14, 0.20, -0.00, -0.18, 0.33, 0.15, -0.44, 0.26, -0.27, -0.04, 0.17, -0.07, 0.28, 0.19, -0.39], [-0.12, 0.07, -0.14, -0.05, 0.20, 0.08, -0.23, 0.04, -0.15, -0.30, -0.28, 0.07, -0.01, 0.00, -0.29, -0.05], [-0.26, -0.23, -0.04, -0.35, 0.17, 0.62, 0.11, -0.26, -0.07, -0.39, -0.09, 0.13, 0.15, -0.26, 0.07, 0.29], [0.44, -0.18, -0.22, 0.01, -0.73, -0.13, -0.07, -0.11, -0.40, -0.06, -0.19, 0.19, -0.23, -0.07, -0.06, 0.14], [-0.64, -0.09, 0.19, -0.09, -0.38, 0.08, 0.08, -0.07, -0.29, -0.19, -0.08, -0.22, -0.48, -0.19, -0.02, -0.13], [-0.02, 0.02, 0.22, 0.55, 0.18, -0.35, -0.66, -0.02, 0.02, -0.29, 0.07, -0.19, 0.10, -0.08, 0.10, -0.44], [-0.11, -0.04, -0.36, 0.47, -0.14, 0.35, -0.17, -0.06, 0.30, 0.08, 0.05, 0.07, -0.34, -0.10, -0.24, 0.05], [-0.14, -0.01, -0.02, -0.01, -0.01, -0.16, -0.26, -0.17, 0.27, 0.09, 0.15, 0.34, -0.29, 0.13, -0.27, -0.08]]]> : tensor<2x8x16xf32>
  %bq5 = arith.constant dense<[[0.05, 0.16, -0.08, -0.01, 0.12, -0.15, 0.04, -0.03], [-0.09, 0.01, 0.06, -0.09, 0.04, 0.02, -0.12, 0.16]]> : tensor<2x8xf32>
  %bk6 = arith.constant dense<[[0.11, -0.09, -0.06, 0.08, -0.05, -0.18, 0.10, 0.00], [0.19, 0.04, 0.02, 0.29, -0.02, -0.10, 0.02, 0.11]]> : tensor<2x8xf32>
  %bv7 = arith.constant dense<[[-0.12, -0.09, 0.04, -0.32, -0.11, 0.08, -0.06, -0.16], [0.19, -0.14, -0.05, -0.04, 0.01, -0.04, -0.01, 0.01]]> : tensor<2x8xf32>
  %bo8 = arith.constant dense<[-0.01, 0.01, -0.24, 0.04, -0.14, -0.22, 0.14, -0.13, 0.02, -0.08, -0.07, 0.05, -0.10, 0.04, 0.04, 0.12]> : tensor<16xf32>
  %m9 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %m10 = tensor.collapse_shape %wq1 [[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
  %m11 = tensor.collapse_shape %bq5 [[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
  %c12 = arith.constant 0.0 : f32
  %e13 = tensor.empty() : tensor<16x16xf32>
  %f14 = linalg.fill ins(%c12 : f32) outs(%e13 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %matmul15 = linalg.matmul ins(%m9, %m10 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f14 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %e16 = tensor.empty() : tensor<16x16xf32>
  %bias17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%matmul15, %m11 : tensor<16x16xf32>, tensor<16xf32>) outs(%e16 : tensor<16x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %x18 = tensor.expand_shape %bias17 [[0, 1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<16x16xf32> into tensor<2x8x2x8xf32>
  %e19 = tensor.empty() : tensor<2x2x8x8xf32>
  %t20 = linalg.transpose ins(%x18 : tensor<2x8x2x8xf32>) outs(%e19 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %m21 = tensor.collapse_shape %wk2 [[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
  %m22 = tensor.collapse_shape %bk6 [[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
  %c23 = arith.constant 0.0 : f32
  %e24 = tensor.empty() : tensor<16x16xf32>
  %f25 = linalg.fill ins(%c23 : f32) outs(%e24 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %matmul26 = linalg.matmul ins(%m9, %m21 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f25 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %e27 = tensor.empty() : tensor<16x16xf32>
  %bias28 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%matmul26, %m22 : tensor<16x16xf32>, tensor<16xf32>) outs(%e27 : tensor<16x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %x29 = tensor.expand_shape %bias28 [[0, 1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<16x16xf32> into tensor<2x8x2x8xf32>
  %e30 = tensor.empty() : tensor<2x2x8x8xf32>
  %t31 = linalg.transpose ins(%x29 : tensor<2x8x2x8xf32>) outs(%e30 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %m32 = tensor.collapse_shape %wv3 [[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
  %m33 = tensor.collapse_shape %bv7 [[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
  %c34 = arith.constant 0.0 : f32
  %e35 = tensor.empty() : tensor<16x16xf32>
  %f36 = linalg.fill ins(%c34 : f32) outs(%e35 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %matmul37 = linalg.matmul ins(%m9, %m32 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f36 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %e38 = tensor.empty() : tensor<16x16xf32>
  %bias39 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%matmul37, %m33 : tensor<16x16xf32>, tensor<16xf32>) outs(%e38 : tensor<16x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %x40 = tensor.expand_shape %bias39 [[0, 1], [2, 3]] output_shape [2, 8, 2, 8] : tensor<16x16xf32> into tensor<2x8x2x8xf32>
  %e41 = tensor.empty() : tensor<2x2x8x8xf32>
  %t42 = linalg.transpose ins(%x40 : tensor<2x8x2x8xf32>) outs(%e41 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %e43 = tensor.empty() : tensor<2x2x8x8xf32>
  %t44 = linalg.transpose ins(%t31 : tensor<2x2x8x8xf32>) outs(%e43 : tensor<2x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m45 = tensor.collapse_shape %t20 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m46 = tensor.collapse_shape %t44 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c47 = arith.constant 0.0 : f32
  %e48 = tensor.empty() : tensor<4x8x8xf32>
  %f49 = linalg.fill ins(%c47 : f32) outs(%e48 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %matmul50 = linalg.batch_matmul ins(%m45, %m46 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f49 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x51 = tensor.expand_shape %matmul50 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %c52 = arith.constant 3.535533906e-01 : f32
  %e53 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled54 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x51 : tensor<2x2x8x8xf32>) outs(%e53 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c52 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %zmask55 = arith.constant dense<0.0> : tensor<2x1x8x8xf32>
  %m56 = tensor.collapse_shape %zmask55 [[0, 1], [2], [3]] : tensor<2x1x8x8xf32> into tensor<2x8x8xf32>
  %e57 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked58 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled54, %m56 : tensor<2x2x8x8xf32>, tensor<2x8x8xf32>) outs(%e57 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c59 = arith.constant 0xFF800000 : f32
  %e60 = tensor.empty() : tensor<2x2x8xf32>
  %f61 = linalg.fill ins(%c59 : f32) outs(%e60 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max62 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked58 : tensor<2x2x8x8xf32>) outs(%f61 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e63 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp64 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked58, %max62 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e63 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c65 = arith.constant 0.0 : f32
  %e66 = tensor.empty() : tensor<2x2x8xf32>
  %f67 = linalg.fill ins(%c65 : f32) outs(%e66 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum68 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp64 : tensor<2x2x8x8xf32>) outs(%f67 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e69 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs70 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp64, %sum68 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e69 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %m71 = tensor.collapse_shape %probs70 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %m72 = tensor.collapse_shape %t42 [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %c73 = arith.constant 0.0 : f32
  %e74 = tensor.empty() : tensor<4x8x8xf32>
  %f75 = linalg.fill ins(%c73 : f32) outs(%e74 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %matmul76 = linalg.batch_matmul ins(%m71, %m72 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f75 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x77 = tensor.expand_shape %matmul76 [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e78 = tensor.empty() : tensor<2x8x2x8xf32>
  %t79 = linalg.transpose ins(%x77 : tensor<2x2x8x8xf32>) outs(%e78 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %m80 = tensor.collapse_shape %t79 [[0, 1], [2, 3]] : tensor<2x8x2x8xf32> into tensor<16x16xf32>
  %m81 = tensor.collapse_shape %wo4 [[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
  %c82 = arith.constant 0.0 : f32
  %e83 = tensor.empty() : tensor<16x16xf32>
  %f84 = linalg.fill ins(%c82 : f32) outs(%e83 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %matmul85 = linalg.matmul ins(%m80, %m81 : tensor<16x16xf32>, tensor<16x16xf32>) outs(%f84 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %e86 = tensor.empty() : tensor<16x16xf32>
  %bias87 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%matmul85, %bo8 : tensor<16x16xf32>, tensor<16xf32>) outs(%e86 : tensor<16x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %x88 = tensor.expand_shape %bias87 [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  return %x88 : tensor<2x8x16xf32>
}

// -----

// Tests that EinsumDense projections `bnd,dhk->bnhk` reading the [d, H, dh]
// kernels whole (4-D generic contractions, [H, dh] biases added per head),
// transposed to [B, H, N, dh], q·kᵀ and P·V as generics, the scale divided
// after q·kᵀ, BERT's adder (1 - mask)·-10000 of an all-ones mask, and the
// output einsum `bnhk,hke->bne` against a [H, dh, d] kernel make one tucker.mha.

// CHECK-LABEL: func.func @bert_einsum(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK: %[[WQ:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WK:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WV:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WO:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8x16xf32>
// CHECK: %[[BQ:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BK:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BV:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BO:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16xf32>
// CHECK: %[[Q:.+]] = tensor.collapse_shape %[[WQ]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[K:.+]] = tensor.collapse_shape %[[WK]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[V:.+]] = tensor.collapse_shape %[[WV]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[O:.+]] = tensor.collapse_shape %[[WO]] {{\[}}[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
// CHECK: %[[BQ2:.+]] = tensor.collapse_shape %[[BQ]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[BK2:.+]] = tensor.collapse_shape %[[BK]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[BV2:.+]] = tensor.collapse_shape %[[BV]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[Y:.+]] = tucker.mha %[[X]], %[[Q]], %[[K]], %[[V]], %[[O]] bq(%[[BQ2]]) bk(%[[BK2]]) bv(%[[BV2]]) bo(%[[BO]]) {num_heads = 2 : i64, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK-NOT: math.exp
// CHECK: return %[[Y]]
func.func @bert_einsum(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %wq1 = arith.constant dense<[[[0.09, 0.21, 0.08, -0.33, 0.23, 0.11, -0.13, 0.15], [0.09, 0.07, 0.01, 0.14, -0.18, -0.04, -0.12, 0.15]], [[0.01, -0.07, -0.20, -0.06, 0.00, -0.07, 0.32, 0.25], [-0.68, -0.47, -0.04, -0.11, 0.05, 0.05, 0.53, -0.28]], [[-0.09, 0.51, 0.16, 0.17, -0.13, -0.41, 0.04, 0.03], [-0.31, -0.17, -0.02, -0.24, -0.02, 0.02, 0.01, -0.13]], [[0.15, 0.22, 0.08, -0.20, 0.18, -0.13, 0.22, -0.27], [0.23, -0.01, -0.31, -0.08, 0.01, 0.07, -0.25, -0.28]], [[0.05, -0.12, 0.06, 0.19, -0.41, 0.06, 0.31, -0.07], [-0.20, 0.19, 0.06, 0.22, -0.09, -0.37, -0.03, -0.11]], [[0.19, 0.05, -0.41, -0.30, 0.22, 0.17, -0.16, -0.00], [0.11, 0.12, 0.22, 0.06, -0.02, -0.06, 0.26, -0.56]], [[-0.03, 0.01, -0.36, 0.08, -0.16, 0.22, -0.03, 0.17], [0.30, 0.10, -0.22, -0.38, 0.44, -0.03, -0.17, 0.04]], [[-0.05, 0.21, 0.01, 0.00, -0.18, 0.12, -0.26, 0.17], [0.38, -0.38, -0.62, 0.15, 0.64, -0.25, -0.31, 0.15]], [[-0.21, -0.13, -0.09, 0.13, -0.10, 0.07, -0.04, -0.21], [-0.08, -0.24, 0.00, -0.28, -0.27, 0.36, -0.01, -0.01]], [[0.13, -0.11, -0.06, 0.11, 0.07, -0.29, 0.21, -0.15], [-0.26, -0.23, -0.10, 0.41, -0.29, 0.04, -0.53, -0.00]], [[0.22, -0.06, -0.16, 0.06, 0.18, 0.17, 0.49, 0.05], [-0.15, -0.03, -0.02, 0.03, -0.01, 0.04, -0.42, 0.21]], [[-0.14, -0.29, 0.16, 0.33, 0.12, 0.04, -0.23, 0.72], [0.22, -0.28, -0.19, 0.02, -0.39, 0.04, -0.11, 0.31]], [[0.24, -0.68, 0.01, -0.40, 0.28, 0.04, 0.14, -0.27], [0.46, 0.51, -0.27, 0.09, -0.17, -0.01, -0.32, 0.47]], [[-0.24, -0.07, 0.13, -0.16, -0.06, -0.14, -0.03, -0.29], [-0.11, -0.05, -0.08, 0.01, -0.07, 0.19, -0.08, -0.03]], [[-0.17, -0.13, -0.32, 0.13, -0.29, -0.19, 0.09, 0.10], [-0.10, -0.50, 0.11, 0.06, -0.35, 0.19, -0.18, -0.28]], [[0.02, -0.04, 0.05, -0.40, 0.45, -0.15, -0.38, 0.15], [-0.09, 0.08, -0.08, -0.01, 0.06, -0.19, 0.17, -0.12]]]> : tensor<16x2x8xf32>
  %wk2 = arith.constant dense<[[[-0.22, 0.02, 0.11, -0.06, -0.22, 0.15, -0.44, -0.26], [0.01, -0.34, 0.01, -0.01, 0.22, -0.23, -0.16, 0.08]], [[-0.61, 0.78, -0.17, -0.18, 0.22, -0.01, -0.44, 0.16], [0.21, -0.11, -0.07, 0.12, -0.23, 0.11, 0.05, -0.17]], [[-0.35, -0.06, -0.22, 0.25, 0.04, 0.20, 0.03, 0.07], [-0.20, 0.17, 0.45, -0.08, -0.15, -0.04, -0.12, -0.18]], [[0.03, -0.07, 0.36, 0.00, 0.08, 0.24, -0.08, 0.36], [-0.16, -0.20, -0.09, -0.03, -0.35, -0.01, -0.42, 0.35]], [[-0.02, -0.16, -0.23, -0.10, -0.06, -0.26, -0.23, -0.05], [-0.13, 0.23, 0.28, 0.00, 0.12, -0.33, 0.16, -0.01]], [[0.12, 0.40, -0.57, 0.07, -0.27, 0.15, -0.33, -0.12], [0.05, 0.15, 0.02, -0.20, -0.14, 0.22, -0.00, -0.42]], [[0.21, 0.10, 0.22, -0.08, 0.21, -0.27, 0.14, -0.12], [0.17, 0.25, -0.18, -0.01, 0.01, 0.30, 0.18, -0.30]], [[0.11, 0.19, 0.53, -0.42, -0.13, 0.33, -0.34, -0.30], [0.13, 0.25, -0.17, 0.14, 0.03, 0.38, -0.00, 0.25]], [[-0.23, -0.05, -0.02, 0.28, 0.14, -0.19, 0.17, 0.19], [-0.03, -0.06, -0.05, -0.42, 0.05, 0.06, -0.22, 0.19]], [[-0.34, -0.14, -0.12, 0.50, -0.40, 0.14, 0.24, 0.09], [0.30, -0.25, -0.57, 0.19, -0.30, -0.08, -0.29, 0.26]], [[0.22, -0.18, 0.23, 0.03, -0.03, 0.01, -0.05, 0.15], [0.08, -0.09, 0.25, -0.15, 0.07, 0.11, 0.37, -0.13]], [[0.44, 0.04, -0.05, -0.17, 0.15, 0.01, -0.28, -0.28], [-0.14, -0.17, 0.27, 0.34, 0.22, 0.09, -0.11, 0.01]], [[0.22, 0.53, 0.23, -0.07, 0.01, -0.12, -0.20, -0.05], [0.05, 0.46, 0.01, 0.34, 0.44, 0.02, 0.40, 0.18]], [[-0.10, 0.07, 0.01, -0.06, -0.05, 0.04, 0.11, -0.22], [-0.00, -0.38, 0.07, 0.16, 0.04, 0.07, 0.15, -0.17]], [[-0.06, 0.13, 0.25, 0.10, 0.64, -0.02, 0.25, 0.32], [-0.03, -0.21, -0.30, 0.04, 0.28, 0.07, 0.04, -0.09]], [[0.14, -0.53, 0.06, 0.01, -0.34, 0.54, -0.35, -0.27], [-0.30, 0.28, -0.22, 0.17, 0.15, 0.06, -0.33, -0.15]]]> : tensor<16x2x8xf32>
  %wv3 = arith.constant dense<[[[0.42, -0.32, -0.21, -0.04, 0.20, 0.06, 0.19, -0.27], [0.24, 0.14, -0.40, 0.38, 0.57, -0.19, 0.01, 0.35]], [[-0.37, -0.50, -0.32, -0.14, -0.14, 0.15, 0.07, -0.31], [0.14, 0.47, 0.30, 0.25, 0.01, 0.25, -0.24, 0.19]], [[-0.02, 0.28, 0.12, -0.27, 0.03, 0.30, -0.28, -0.14], [-0.19, -0.37, 0.24, 0.33, 0.20, 0.06, -0.01, 0.06]], [[-0.18, 0.22, 0.26, 0.23, -0.13, 0.02, -0.04, 0.45], [0.04, -0.47, 0.10, 0.47, 0.17, 0.22, 0.01, -0.49]], [[-0.45, -0.31, -0.03, 0.08, 0.17, -0.09, 0.24, -0.07], [-0.18, 0.21, -0.23, -0.68, -0.26, 0.02, -0.77, -0.09]], [[-0.08, -0.36, -0.37, -0.12, -0.14, 0.31, 0.09, -0.40], [-0.21, 0.18, 0.47, 0.10, 0.08, 0.47, -0.01, -0.08]], [[-0.35, -0.13, 0.54, -0.36, 0.00, -0.35, 0.03, 0.22], [-0.06, 0.18, 0.18, 0.11, 0.43, 0.19, -0.08, -0.17]], [[-0.21, 0.12, -0.08, 0.68, 0.46, -0.05, -0.08, 0.42], [-0.47, -0.11, 0.24, -0.23, -0.12, -0.09, 0.17, 0.03]], [[0.10, 0.15, 0.01, 0.28, -0.18, -0.36, -0.44, -0.41], [-0.14, 0.26, 0.04, -0.15, -0.27, -0.13, -0.10, -0.14]], [[-0.36, -0.12, 0.25, -0.54, -0.06, -0.53, 0.05, -0.19], [-0.52, 0.03, 0.45, 0.03, 0.29, -0.02, -0.54, 0.12]], [[-0.10, -0.37, 0.20, 0.07, -0.13, 0.22, -0.22, 0.16], [-0.24, 0.13, -0.28, 0.37, 0.06, 0.36, -0.21, -0.12]], [[0.21, -0.69, -0.27, 0.26, 0.12, 0.24, -0.08, 0.14], [-0.18, -0.34, -0.42, -0.14, -0.14, -0.16, -0.89, -0.50]], [[-0.13, 0.07, -0.14, -0.22, -0.58, 0.51, -0.28, 0.42], [0.39, 0.07, -0.14, 0.03, -0.29, 0.07, 0.00, 0.13]], [[0.24, 0.43, -0.10, 0.26, -0.20, -0.22, -0.15, -0.25], [0.25, 0.23, 0.32, -0.01, 0.07, -0.14, -0.29, 0.11]], [[0.07, -0.28, 0.15, -0.44, -0.04, -0.16, -0.13, -0.27], [0.24, 0.14, 0.30, 0.03, -0.32, -0.09, -0.30, 0.11]], [[0.30, 0.08, -0.15, -0.10, 0.05, -0.37, 0.03, 0.05], [-0.14, -0.11, 0.04, -0.21, -0.21, 0.19, 0.05, 0.41]]]> : tensor<16x2x8xf32>
  %wo4 = arith.constant dense<[[[-0.25, -0.45, 0.23, 0.23, -0.19, -0.37, -0.02, -0.44, -0.09, -0.55, -0.07, -0.54, -0.07, 0.37, -0.08, 0.18], [-0.17, -0.23, -0.38, 0.25, -0.02, 0.40, -0.30, -0.07, 0.01, 0.34, 0.44, -0.17, -0.30, -0.45, 0.32, -0.03], [-0.17, -0.03, -0.65, -0.44, 0.22, 0.09, 0.02, -0.26, 0.13, 0.43, -0.32, -0.01, -0.12, 0.08, -0.01, -0.05], [-0.23, -0.02, -0.17, -0.05, -0.03, 0.15, -0.16, -0.09, 0.25, -0.07, -0.08, 0.20, 0.05, 0.01, 0.04, -0.32], [0.10, 0.32, 0.13, -0.40, 0.06, -0.24, -0.07, 0.02, -0.31, 0.32, -0.03, 0.19, 0.15, 0.33, 0.29, -0.38], [0.00, -0.54, -0.12, 0.17, 0.22, 0.31, -0.10, 0.07, 0.02, 0.31, 0.39, -0.10, 0.94, -0.01, -0.10, 0.14], [0.18, 0.13, -0.17, 0.36, 0.01, 0.38, 0.34, -0.32, -0.25, -0.26, 0.06, 0.01, 0.06, -0.21, 0.10, 0.35], [-0.34, -0.05, 0.06, -0.04, -0.05, 0.44, 0.32, 0.21, -0.19, 0.56, 0.09, -0.15, -0.09, -0.13, 0.53, 0.05]], [[0.01, -0.54, 0.18, -0.27, -0.29, 0.15, -0.22, 0.21, 0.28, -0.45, -0.04, -0.40, -0.02, 0.22, -0.34, 0.45], [-0.08, -0.30, -0.03, 0.19, -0.35, -0.00, -0.35, 0.30, 0.03, -0.11, 0.25, -0.33, -0.10, 0.46, -0.04, 0.33], [0.04, -0.18, -0.07, 0.01, -0.11, -0.21, -0.20, -0.38, 0.02, 0.09, 0.18, -0.46, 0.20, -0.01, -0.36, 0.02], [0.20, 0.13, 0.18, 0.23, 0.22, -0.01, -0.53, -0.20, 0.08, -0.12, 0.17, 0.19, 0.01, 0.46, -0.25, 0.23], [-0.12, -0.20, 0.14, -0.16, 0.21, -0.30, 0.00, -0.22, -0.06, -0.10, -0.29, 0.16, -0.32, -0.25, 0.22, 0.24], [0.16, 0.08, 0.57, -0.31, -0.19, -0.25, 0.22, 0.07, 0.27, 0.24, -0.06, -0.21, -0.25, 0.55, 0.24, 0.14], [-0.09, -0.05, -0.09, -0.08, -0.60, -0.02, -0.10, 0.07, 0.05, 0.21, -0.01, 0.20, -0.64, -0.28, 0.43, -0.31], [-0.07, 0.17, -0.22, 0.18, -0.36, -0.48, -0.34, -0.42, -0.01, -0.08, 0.08, -0.26, 0.63, -0.03, -0.01, 0.11]]]> : tensor<2x8x16xf32>
  %bq5 = arith.constant dense<[[-0.03, -0.06, 0.01, 0.09, 0.07, 0.09, -0.06, -0.08], [0.20, -0.03, 0.05, 0.07, 0.14, -0.14, -0.05, -0.04]]> : tensor<2x8xf32>
  %bk6 = arith.constant dense<[[-0.03, -0.24, -0.01, -0.29, 0.03, 0.05, 0.06, -0.12], [0.09, -0.09, -0.12, -0.10, -0.09, 0.02, 0.08, -0.21]]> : tensor<2x8xf32>
  %bv7 = arith.constant dense<[[-0.05, 0.09, 0.02, 0.05, -0.15, 0.09, -0.16, 0.02], [0.14, 0.19, 0.05, 0.09, -0.06, -0.05, 0.12, 0.00]]> : tensor<2x8xf32>
  %bo8 = arith.constant dense<[-0.01, -0.14, 0.02, 0.06, -0.08, -0.05, 0.16, 0.02, -0.03, -0.11, -0.06, -0.02, 0.14, -0.06, 0.18, -0.09]> : tensor<16xf32>
  %c9 = arith.constant 0.0 : f32
  %e10 = tensor.empty() : tensor<2x8x2x8xf32>
  %f11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %proj12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq1 : tensor<2x8x16xf32>, tensor<16x2x8xf32>) outs(%f11 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e13 = tensor.empty() : tensor<2x8x2x8xf32>
  %bias14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj12, %bq5 : tensor<2x8x2x8xf32>, tensor<2x8xf32>) outs(%e13 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e15 = tensor.empty() : tensor<2x2x8x8xf32>
  %t16 = linalg.transpose ins(%bias14 : tensor<2x8x2x8xf32>) outs(%e15 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %c17 = arith.constant 0.0 : f32
  %e18 = tensor.empty() : tensor<2x8x2x8xf32>
  %f19 = linalg.fill ins(%c17 : f32) outs(%e18 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %proj20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wk2 : tensor<2x8x16xf32>, tensor<16x2x8xf32>) outs(%f19 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e21 = tensor.empty() : tensor<2x8x2x8xf32>
  %bias22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj20, %bk6 : tensor<2x8x2x8xf32>, tensor<2x8xf32>) outs(%e21 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e23 = tensor.empty() : tensor<2x2x8x8xf32>
  %t24 = linalg.transpose ins(%bias22 : tensor<2x8x2x8xf32>) outs(%e23 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %c25 = arith.constant 0.0 : f32
  %e26 = tensor.empty() : tensor<2x8x2x8xf32>
  %f27 = linalg.fill ins(%c25 : f32) outs(%e26 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %proj28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wv3 : tensor<2x8x16xf32>, tensor<16x2x8xf32>) outs(%f27 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e29 = tensor.empty() : tensor<2x8x2x8xf32>
  %bias30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj28, %bv7 : tensor<2x8x2x8xf32>, tensor<2x8xf32>) outs(%e29 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e31 = tensor.empty() : tensor<2x2x8x8xf32>
  %t32 = linalg.transpose ins(%bias30 : tensor<2x8x2x8xf32>) outs(%e31 : tensor<2x2x8x8xf32>) permutation = [0, 2, 1, 3]
  %c33 = arith.constant 0.0 : f32
  %e34 = tensor.empty() : tensor<2x2x8x8xf32>
  %f35 = linalg.fill ins(%c33 : f32) outs(%e34 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %qk36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%t16, %t24 : tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) outs(%f35 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c37 = arith.constant 2.828427125e+00 : f32
  %e38 = tensor.empty() : tensor<2x2x8x8xf32>
  %scaled39 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%qk36 : tensor<2x2x8x8xf32>) outs(%e38 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.divf %a0, %c37 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %mask40 = arith.constant dense<1.0> : tensor<2x8xf32>
  %c41 = arith.constant 1.0 : f32
  %c42 = arith.constant -1.000000e+04 : f32
  %e43 = tensor.empty() : tensor<2x8xf32>
  %adder44 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mask40 : tensor<2x8xf32>) outs(%e43 : tensor<2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %d = arith.subf %c41, %a0 : f32
    %r = arith.mulf %d, %c42 : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %e45 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked46 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled39, %adder44 : tensor<2x2x8x8xf32>, tensor<2x8xf32>) outs(%e45 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c47 = arith.constant 0xFF800000 : f32
  %e48 = tensor.empty() : tensor<2x2x8xf32>
  %f49 = linalg.fill ins(%c47 : f32) outs(%e48 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max50 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked46 : tensor<2x2x8x8xf32>) outs(%f49 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e51 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp52 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked46, %max50 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e51 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c53 = arith.constant 0.0 : f32
  %e54 = tensor.empty() : tensor<2x2x8xf32>
  %f55 = linalg.fill ins(%c53 : f32) outs(%e54 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum56 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp52 : tensor<2x2x8x8xf32>) outs(%f55 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e57 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs58 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp52, %sum56 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e57 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %c59 = arith.constant 0.0 : f32
  %e60 = tensor.empty() : tensor<2x2x8x8xf32>
  %f61 = linalg.fill ins(%c59 : f32) outs(%e60 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %pv62 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%probs58, %t32 : tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) outs(%f61 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %e63 = tensor.empty() : tensor<2x8x2x8xf32>
  %t64 = linalg.transpose ins(%pv62 : tensor<2x2x8x8xf32>) outs(%e63 : tensor<2x8x2x8xf32>) permutation = [0, 2, 1, 3]
  %c65 = arith.constant 0.0 : f32
  %e66 = tensor.empty() : tensor<2x8x16xf32>
  %f67 = linalg.fill ins(%c65 : f32) outs(%e66 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %out68 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%t64, %wo4 : tensor<2x8x2x8xf32>, tensor<2x8x16xf32>) outs(%f67 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e69 = tensor.empty() : tensor<2x8x16xf32>
  %bias70 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%out68, %bo8 : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e69 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %bias70 : tensor<2x8x16xf32>
}

// -----

// Tests that keras.layers.MultiHeadAttention as lowered, every product an
// einsum over [B, N, H, dh] and no transposes (scores `aecd,abcd->acbe`,
// context `acbe,aecd->abcd`, the query scaled before q·kᵀ, a zero mask
// [B, 1, 1, N] broadcast over heads and queries), makes one tucker.mha.

// CHECK-LABEL: func.func @bert_keras(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK: %[[WQ:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WK:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WV:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16x2x8xf32>
// CHECK: %[[WO:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8x16xf32>
// CHECK: %[[BQ:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BK:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BV:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: %[[BO:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<16xf32>
// CHECK: %[[Q:.+]] = tensor.collapse_shape %[[WQ]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[K:.+]] = tensor.collapse_shape %[[WK]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[V:.+]] = tensor.collapse_shape %[[WV]] {{\[}}[0], [1, 2]] : tensor<16x2x8xf32> into tensor<16x16xf32>
// CHECK: %[[O:.+]] = tensor.collapse_shape %[[WO]] {{\[}}[0, 1], [2]] : tensor<2x8x16xf32> into tensor<16x16xf32>
// CHECK: %[[BQ2:.+]] = tensor.collapse_shape %[[BQ]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[BK2:.+]] = tensor.collapse_shape %[[BK]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[BV2:.+]] = tensor.collapse_shape %[[BV]] {{\[}}[0, 1]] : tensor<2x8xf32> into tensor<16xf32>
// CHECK: %[[Y:.+]] = tucker.mha %[[X]], %[[Q]], %[[K]], %[[V]], %[[O]] bq(%[[BQ2]]) bk(%[[BK2]]) bv(%[[BV2]]) bo(%[[BO]]) {num_heads = 2 : i64, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK-NOT: math.exp
// CHECK: return %[[Y]]
func.func @bert_keras(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %wq1 = arith.constant dense<[[[0.05, -0.13, -0.10, -0.61, 0.45, 0.29, -0.08, 0.19], [0.07, -0.14, 0.24, -0.08, -0.08, -0.20, 0.11, -0.02]], [[0.14, -0.15, 0.03, -0.22, 0.21, 0.05, 0.08, 0.10], [-0.25, 0.20, 0.51, -0.41, -0.43, -0.38, 0.21, 0.03]], [[0.27, 0.18, 0.05, 0.07, -0.04, 0.22, -0.28, -0.11], [0.06, 0.45, -0.19, -0.27, -0.14, 0.24, -0.06, 0.33]], [[-0.47, 0.28, 0.26, -0.35, 0.04, 0.30, 0.02, 0.25], [0.59, 0.07, -0.07, -0.19, 0.16, -0.05, -0.04, -0.03]], [[0.16, -0.27, -0.38, -0.61, 0.30, 0.02, 0.38, -0.00], [-0.19, 0.12, -0.02, -0.31, -0.22, 0.44, 0.09, 0.10]], [[-0.07, -0.17, 0.22, -0.03, -0.19, -0.03, -0.23, 0.05], [0.28, -0.21, 0.36, -0.17, 0.04, -0.21, -0.06, 0.01]], [[-0.11, -0.18, -0.17, -0.21, -0.39, -0.07, 0.10, 0.23], [0.16, 0.61, 0.08, -0.11, 0.47, -0.26, 0.24, -0.24]], [[0.09, -0.49, 0.22, -0.04, -0.24, 0.42, 0.19, 0.01], [-0.19, -0.01, -0.04, 0.18, 0.20, -0.17, -0.14, -0.13]], [[-0.34, -0.15, -0.02, 0.17, 0.33, -0.20, 0.14, -0.11], [0.52, -0.01, 0.13, -0.23, -0.20, 0.05, -0.10, 0.09]], [[-0.39, 0.17, -0.22, 0.43, -0.07, 0.27, -0.35, 0.11], [-0.22, -0.12, 0.01, -0.08, 0.07, 0.19, 0.16, -0.02]], [[-0.34, -0.20, -0.05, -0.53, 0.19, -0.06, -0.06, 0.24], [0.17, 0.06, -0.25, 0.08, 0.09, -0.22, 0.26, 0.13]], [[-0.49, 0.03, -0.32, 0.28, 0.20, -0.28, -0.22, 0.03], [-0.06, 0.38, 0.19, -0.07, 0.14, -0.51, 0.08, 0.22]], [[-0.04, -0.18, 0.14, 0.49, 0.05, -0.28, 0.36, -0.47], [0.13, -0.15, 0.23, -0.21, 0.33, 0.08, -0.43, -0.49]], [[-0.08, 0.32, 0.03, 0.02, -0.06, 0.18, 0.09, 0.07], [-0.25, 0.30, 0.34, -0.33, 0.58, 0.18, -0.12, -0.48]], [[0.16, 0.14, -0.15, -0.45, 0.28, -0.15, -0.12, 0.71], [0.53, 0.24, -0.11, 0.16, -0.57, 0.03, -0.19, -0.32]], [[-0.40, 0.13, 0.02, 0.04, 0.21, -0.21, -0.31, -0.44], [-0.08, 0.19, -0.04, 0.16, -0.30, -0.12, -0.19, -0.31]]]> : tensor<16x2x8xf32>
  %wk2 = arith.constant dense<[[[0.46, 0.21, -0.19, -0.19, -0.01, -0.36, 0.11, -0.32], [-0.09, -0.26, -0.12, -0.33, -0.39, -0.24, -0.17, -0.07]], [[0.02, 0.38, 0.20, -0.06, 0.18, -0.17, 0.36, 0.14], [-0.34, 0.19, 0.20, -0.67, -0.19, -0.12, -0.48, -0.27]], [[-0.24, 0.13, 0.08, 0.66, -0.10, 0.29, 0.02, 0.07], [-0.29, -0.48, -0.19, 0.19, 0.40, 0.15, 0.12, -0.21]], [[0.38, 0.34, -0.13, -0.01, -0.25, 0.37, 0.10, -0.02], [0.10, 0.11, -0.10, -0.31, -0.32, -0.43, 0.12, 0.55]], [[-0.42, 0.03, 0.10, -0.25, 0.05, -0.27, 0.30, -0.15], [0.03, 0.17, -0.11, -0.45, -0.13, 0.19, -0.02, 0.06]], [[-0.27, 0.04, 0.18, 0.01, 0.48, -0.05, -0.26, -0.40], [0.29, -0.01, 0.25, 0.11, 0.41, 0.32, -0.09, 0.07]], [[0.27, -0.31, 0.36, 0.30, 0.25, -0.05, 0.08, -0.28], [0.01, -0.15, 0.02, -0.12, 0.07, 0.29, -0.33, 0.23]], [[-0.50, -0.54, -0.03, 0.00, 0.11, -0.41, -0.01, 0.03], [0.31, -0.03, 0.13, -0.24, -0.05, -0.11, 0.18, -0.25]], [[-0.21, 0.14, 0.45, 0.10, 0.08, -0.09, 0.27, 0.13], [0.43, 0.08, -0.24, -0.14, -0.25, -0.31, 0.32, 0.20]], [[-0.31, 0.45, 0.06, -0.24, 0.10, -0.02, -0.19, -0.49], [0.01, 0.07, -0.64, 0.14, 0.15, -0.12, 0.03, -0.07]], [[-0.21, -0.09, 0.34, -0.36, 0.06, 0.05, -0.18, -0.11], [-0.35, -0.21, 0.00, 0.08, -0.22, 0.76, -0.14, 0.03]], [[-0.06, -0.10, 0.33, -0.12, 0.33, 0.29, -0.26, 0.26], [-0.16, 0.68, -0.10, -0.24, -0.48, -0.32, -0.15, -0.25]], [[-0.31, -0.17, -0.05, 0.36, -0.43, -0.14, -0.24, -0.38], [-0.32, -0.23, 0.18, -0.05, -0.13, 0.15, 0.07, -0.06]], [[0.10, -0.21, 0.16, 0.12, -0.10, -0.30, 0.38, 0.02], [0.76, -0.16, 0.21, -0.11, 0.06, 0.21, -0.20, -0.03]], [[0.04, 0.03, 0.15, 0.26, 0.21, 0.07, -0.09, -0.28], [-0.18, -0.13, 0.17, -0.09, -0.31, 0.16, -0.20, -0.19]], [[-0.06, 0.12, -0.60, -0.28, 0.04, -0.09, -0.22, -0.14], [0.35, -0.11, 0.18, 0.20, -0.11, 0.11, -0.11, -0.15]]]> : tensor<16x2x8xf32>
  %wv3 = arith.constant dense<[[[-0.28, 0.22, -0.10, -0.14, -0.28, 0.45, 0.19, -0.03], [-0.17, -0.38, 0.07, 0.07, -0.35, 0.29, 0.19, -0.24]], [[-0.14, -0.11, 0.04, -0.04, -0.41, 0.37, 0.08, 0.32], [0.31, -0.05, 0.09, 0.18, 0.19, -0.04, -0.15, 0.01]], [[-0.20, -0.14, -0.51, 0.02, -0.26, -0.14, -0.01, 0.08], [0.47, 0.05, -0.35, 0.03, -0.15, 0.10, -0.17, -0.18]], [[-0.13, -0.16, -0.46, -0.17, -0.00, 0.30, -0.07, -0.09], [0.14, 0.13, 0.40, 0.15, -0.00, 0.33, 0.38, -0.12]], [[0.04, -0.42, -0.09, -0.22, -0.05, -0.12, -0.04, -0.03], [0.12, 0.06, -0.14, -0.32, 0.31, 0.35, -0.11, 0.14]], [[-0.38, -0.39, -0.07, 0.37, -0.26, -0.21, 0.40, -0.47], [0.16, 0.12, -0.05, 0.05, 0.66, -0.28, -0.08, -0.06]], [[-0.17, -0.34, 0.40, 0.06, -0.44, -0.18, 0.10, 0.10], [-0.36, -0.02, 0.07, 0.10, 0.10, -0.46, 0.46, 0.05]], [[0.45, 0.72, -0.04, -0.31, 0.22, -0.05, -0.11, -0.26], [0.42, -0.11, -0.35, -0.11, -0.29, 0.04, -0.10, -0.26]], [[0.15, -0.16, 0.18, 0.32, -0.09, -0.16, 0.05, 0.22], [-0.00, 0.03, -0.01, 0.08, 0.16, -0.18, -0.12, 0.01]], [[-0.17, 0.03, 0.13, -0.01, -0.15, -0.19, 0.44, 0.22], [-0.28, -0.21, 0.47, 0.38, 0.03, 0.29, -0.37, 0.00]], [[0.19, -0.46, -0.20, 0.20, 0.28, -0.15, 0.07, 0.40], [-0.10, -0.33, -0.02, -0.10, 0.33, 0.04, -0.20, 0.60]], [[-0.13, 0.12, 0.17, 0.20, 0.04, 0.15, -0.02, -0.35], [-0.05, -0.05, -0.04, 0.03, -0.16, 0.33, 0.39, -0.55]], [[0.00, -0.18, -0.65, 0.10, -0.15, -0.09, -0.16, 0.27], [0.31, 0.07, 0.17, -0.03, 0.04, -0.19, 0.01, -0.18]], [[0.09, 0.21, 0.08, 0.30, 0.67, -0.53, 0.00, -0.14], [-0.11, -0.34, 0.01, -0.06, -0.16, -0.06, -0.15, -0.59]], [[0.27, -0.08, -0.24, 0.08, -0.17, -0.54, 0.22, -0.42], [-0.05, 0.03, 0.34, 0.30, 0.04, -0.19, -0.10, 0.27]], [[0.45, 0.14, -0.16, 0.26, -0.09, -0.10, -0.07, 0.15], [0.07, 0.25, 0.32, 0.13, -0.58, -0.42, 0.04, -0.02]]]> : tensor<16x2x8xf32>
  %wo4 = arith.constant dense<[[[0.54, -0.01, -0.04, 0.24, 0.27, -0.06, 0.12, -0.28, -0.24, 0.31, -0.35, 0.23, 0.17, 0.19, 0.23, 0.14], [-0.54, -0.25, -0.15, 0.23, -0.28, -0.18, -0.09, 0.33, -0.36, -0.34, 0.16, -0.53, 0.08, -0.11, -0.39, -0.11], [-0.25, 0.04, 0.09, 0.37, -0.00, 0.03, -0.14, -0.01, 0.26, -0.48, 0.16, -0.13, 0.02, 0.08, 0.21, 0.06], [-0.10, 0.08, 0.00, -0.05, 0.05, 0.22, 0.03, 0.04, -0.32, -0.03, -0.46, 0.18, -0.23, 0.32, 0.75, -0.10], [0.33, 0.10, -0.14, -0.21, 0.14, 0.35, 0.09, -0.38, -0.26, -0.06, 0.34, 0.07, 0.08, 0.30, -0.05, -0.02], [-0.05, -0.44, 0.12, 0.10, 0.24, -0.30, -0.20, 0.23, 0.08, 0.34, -0.22, 0.05, -0.17, 0.08, -0.12, 0.13], [0.27, 0.17, -0.45, 0.24, 0.11, -0.26, -0.22, 0.00, 0.14, -0.11, -0.41, 0.07, 0.04, 0.61, -0.32, 0.63], [0.44, 0.08, 0.41, 0.02, 0.24, -0.18, 0.02, -0.25, -0.39, -0.07, -0.16, 0.14, 0.32, -0.04, 0.01, 0.05]], [[-0.42, 0.07, 0.00, -0.01, -0.28, -0.50, -0.06, 0.08, 0.34, 0.28, 0.36, 0.09, 0.29, -0.05, 0.16, 0.23], [0.67, 0.06, -0.32, 0.34, -0.20, -0.02, -0.07, -0.23, 0.33, 0.15, -0.15, 0.02, -0.11, 0.15, -0.09, -0.19], [-0.16, -0.11, 0.07, -0.23, -0.02, 0.11, 0.58, 0.21, -0.75, -0.13, -0.10, 0.08, 0.39, 0.19, -0.58, 0.08], [0.03, 0.10, 0.34, -0.27, 0.28, -0.41, 0.01, 0.10, 0.57, -0.18, -0.42, 0.17, -0.17, 0.39, -0.18, -0.22], [0.31, 0.02, 0.25, -0.36, 0.41, -0.15, 0.20, -0.25, -0.39, -0.06, 0.04, 0.39, 0.09, 0.18, 0.16, 0.78], [-0.20, 0.31, -0.04, 0.07, -0.14, 0.29, -0.31, -0.33, -0.05, -0.29, 0.18, 0.23, -0.19, 0.20, -0.17, -0.01], [0.00, 0.47, -0.00, -0.23, -0.23, 0.30, -0.42, -0.12, -0.10, -0.61, -0.12, 0.25, 0.06, -0.23, 0.17, 0.13], [0.51, -0.19, -0.10, 0.01, -0.03, 0.02, -0.03, -0.17, -0.40, -0.14, -0.35, -0.26, -0.14, 0.13, 0.21, -0.26]]]> : tensor<2x8x16xf32>
  %bq5 = arith.constant dense<[[0.03, 0.08, -0.01, -0.17, -0.22, 0.08, 0.09, 0.03], [-0.11, 0.14, 0.12, -0.01, -0.02, -0.20, 0.07, -0.16]]> : tensor<2x8xf32>
  %bk6 = arith.constant dense<[[0.07, 0.07, 0.01, 0.16, -0.03, 0.06, 0.08, 0.02], [-0.04, 0.12, 0.04, -0.02, -0.02, 0.01, 0.23, 0.01]]> : tensor<2x8xf32>
  %bv7 = arith.constant dense<[[-0.03, -0.11, -0.12, -0.19, 0.02, 0.00, -0.11, -0.15], [-0.04, -0.06, -0.14, 0.03, 0.01, -0.01, 0.07, -0.07]]> : tensor<2x8xf32>
  %bo8 = arith.constant dense<[0.13, -0.10, 0.05, 0.06, -0.03, 0.03, -0.13, -0.15, -0.02, -0.08, 0.06, -0.00, 0.06, 0.03, 0.02, 0.01]> : tensor<16xf32>
  %c9 = arith.constant 0.0 : f32
  %e10 = tensor.empty() : tensor<2x8x2x8xf32>
  %f11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %proj12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq1 : tensor<2x8x16xf32>, tensor<16x2x8xf32>) outs(%f11 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e13 = tensor.empty() : tensor<2x8x2x8xf32>
  %bias14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj12, %bq5 : tensor<2x8x2x8xf32>, tensor<2x8xf32>) outs(%e13 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %c15 = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<2x8x2x8xf32>
  %f17 = linalg.fill ins(%c15 : f32) outs(%e16 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %proj18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wk2 : tensor<2x8x16xf32>, tensor<16x2x8xf32>) outs(%f17 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e19 = tensor.empty() : tensor<2x8x2x8xf32>
  %bias20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj18, %bk6 : tensor<2x8x2x8xf32>, tensor<2x8xf32>) outs(%e19 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %c21 = arith.constant 0.0 : f32
  %e22 = tensor.empty() : tensor<2x8x2x8xf32>
  %f23 = linalg.fill ins(%c21 : f32) outs(%e22 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %proj24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wv3 : tensor<2x8x16xf32>, tensor<16x2x8xf32>) outs(%f23 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %e25 = tensor.empty() : tensor<2x8x2x8xf32>
  %bias26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%proj24, %bv7 : tensor<2x8x2x8xf32>, tensor<2x8xf32>) outs(%e25 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %c27 = arith.constant 3.535533906e-01 : f32
  %e28 = tensor.empty() : tensor<2x8x2x8xf32>
  %scaled29 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%bias14 : tensor<2x8x2x8xf32>) outs(%e28 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c27 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %c30 = arith.constant 0.0 : f32
  %e31 = tensor.empty() : tensor<2x2x8x8xf32>
  %f32 = linalg.fill ins(%c30 : f32) outs(%e31 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %scores33 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%bias20, %scaled29 : tensor<2x8x2x8xf32>, tensor<2x8x2x8xf32>) outs(%f32 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %zmask34 = arith.constant dense<0.0> : tensor<2x1x1x8xf32>
  %m35 = tensor.collapse_shape %zmask34 [[0, 1, 2], [3]] : tensor<2x1x1x8xf32> into tensor<2x8xf32>
  %e36 = tensor.empty() : tensor<2x2x8x8xf32>
  %masked37 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scores33, %m35 : tensor<2x2x8x8xf32>, tensor<2x8xf32>) outs(%e36 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8x8xf32>
  %c38 = arith.constant 0xFF800000 : f32
  %e39 = tensor.empty() : tensor<2x2x8xf32>
  %f40 = linalg.fill ins(%c38 : f32) outs(%e39 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %max41 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked37 : tensor<2x2x8x8xf32>) outs(%f40 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e42 = tensor.empty() : tensor<2x2x8x8xf32>
  %exp43 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked37, %max41 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e42 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<2x2x8x8xf32>
  %c44 = arith.constant 0.0 : f32
  %e45 = tensor.empty() : tensor<2x2x8xf32>
  %f46 = linalg.fill ins(%c44 : f32) outs(%e45 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sum47 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp43 : tensor<2x2x8x8xf32>) outs(%f46 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x2x8xf32>
  %e48 = tensor.empty() : tensor<2x2x8x8xf32>
  %probs49 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp43, %sum47 : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e48 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %c50 = arith.constant 0.0 : f32
  %e51 = tensor.empty() : tensor<2x8x2x8xf32>
  %f52 = linalg.fill ins(%c50 : f32) outs(%e51 : tensor<2x8x2x8xf32>) -> tensor<2x8x2x8xf32>
  %context53 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%probs49, %bias26 : tensor<2x2x8x8xf32>, tensor<2x8x2x8xf32>) outs(%f52 : tensor<2x8x2x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x2x8xf32>
  %c54 = arith.constant 0.0 : f32
  %e55 = tensor.empty() : tensor<2x8x16xf32>
  %f56 = linalg.fill ins(%c54 : f32) outs(%e55 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %out57 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%context53, %wo4 : tensor<2x8x2x8xf32>, tensor<2x8x16xf32>) outs(%f56 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %p = arith.mulf %a0, %a1 : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  %e58 = tensor.empty() : tensor<2x8x16xf32>
  %bias59 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%out57, %bo8 : tensor<2x8x16xf32>, tensor<16xf32>) outs(%e58 : tensor<2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %s = arith.addf %a0, %a1 : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16xf32>
  return %bias59 : tensor<2x8x16xf32>
}
