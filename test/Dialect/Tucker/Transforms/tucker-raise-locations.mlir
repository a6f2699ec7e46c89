// RUN: tucker-opt %s --tucker-raise -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s

// Tests that the op --tucker-raise creates carries the fused locations of
// the ops it replaces: the root first, then every op the match read through or
// computed.

// CHECK-LABEL: func.func @named(
// CHECK: tucker.flash {{.*}} loc(fused["pv", "zero", "softmax", "scaled", "kt", "scores"])
func.func @named(%q: tensor<4x8x8xf32>, %k: tensor<4x8x8xf32>, %v: tensor<4x8x8xf32>) -> tensor<4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.353553385 : f32
  %e0 = tensor.empty() : tensor<4x8x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x8xf32>) outs(%e0 : tensor<4x8x8xf32>) permutation = [0, 2, 1] loc("kt")
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32> loc("zero")
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%z : tensor<4x8x8xf32>) -> tensor<4x8x8xf32> loc("scores")
  %ss = linalg.generic {indexing_maps = [affine_map<(a, b, c) -> (a, b, c)>, affine_map<(a, b, c) -> (a, b, c)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<4x8x8xf32> loc("scaled")
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32> loc("softmax")
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%z : tensor<4x8x8xf32>) -> tensor<4x8x8xf32> loc("pv")
  return %o : tensor<4x8x8xf32>
}
