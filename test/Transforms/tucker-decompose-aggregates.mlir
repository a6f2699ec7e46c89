// RUN: tucker-opt %s --tucker-decompose-aggregates -split-input-file | FileCheck %s

// Tests that: linalg.softmax becomes its structured ops (max reduction,
// exp of the difference, sum reduction, division) over the same dimension,
// with dynamic sizes carried by the inits.
// CHECK-LABEL: func @softmax
// CHECK-SAME: (%[[S:[a-z0-9]+]]: tensor<?x4x8xf32>)
// CHECK-NOT: linalg.softmax
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[S]] : tensor<?x4x8xf32>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: arith.maxnumf
// CHECK: %[[EXP:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[MAX]] : tensor<?x4x8xf32>, tensor<?x4xf32>)
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[EXP]] : tensor<?x4x8xf32>)
// CHECK: arith.addf
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[EXP]], %[[SUM]] : tensor<?x4x8xf32>, tensor<?x4xf32>)
// CHECK: arith.divf
// CHECK: return %[[Y]]
func.func @softmax(%s: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %s, %c0 : tensor<?x4x8xf32>
  %e = tensor.empty(%b) : tensor<?x4x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<?x4x8xf32>) outs(%e : tensor<?x4x8xf32>)
      -> tensor<?x4x8xf32>
  return %p : tensor<?x4x8xf32>
}

// -----

// Tests that: structured ops are left as they are.
// CHECK-LABEL: func @structured
// CHECK-NEXT: linalg.exp
// CHECK-NEXT: return
func.func @structured(%a: tensor<4xf32>, %e: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.exp ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Tests that: a softmax on bf16 is computed in f32 and rounded once.
// CHECK-LABEL: func @softmax_bf16
// CHECK-SAME: (%[[S:[a-z0-9]+]]: tensor<4x8xbf16>)
// CHECK: %[[X:.*]] = arith.extf %[[S]] : tensor<4x8xbf16> to tensor<4x8xf32>
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4xf32>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: arith.divf
// CHECK: %[[Y:.*]] = arith.truncf %[[P]] : tensor<4x8xf32> to tensor<4x8xbf16>
// CHECK: return %[[Y]]
func.func @softmax_bf16(%s: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %e = tensor.empty() : tensor<4x8xbf16>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x8xbf16>) outs(%e : tensor<4x8xbf16>)
      -> tensor<4x8xbf16>
  return %p : tensor<4x8xbf16>
}
