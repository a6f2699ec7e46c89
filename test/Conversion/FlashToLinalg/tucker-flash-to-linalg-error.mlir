// RUN: tucker-opt %s --tucker-flash-to-linalg="query-tile=0" -verify-diagnostics
// RUN: tucker-opt %s --tucker-flash-to-linalg="key-tile=-16" -verify-diagnostics
// RUN: tucker-opt %s --tucker-flash-to-linalg="query-tile=1 key-tile=1" | FileCheck %s

// Tests that a tile size that is not positive is a pass error on the root
// op (whether or not the module holds a tucker op), not a crash; tiles of 1,
// the smallest valid ones, lower.

// CHECK-LABEL: func.func @flash
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C1]]
// CHECK:   scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C1]]
// CHECK-NOT: tucker.flash

// expected-error-re@+1 {{--tucker-flash-to-linalg needs positive tile sizes, got query-tile={{-?[0-9]+}} key-tile={{-?[0-9]+}}}}
module {
  func.func @flash(%q: tensor<1x2x8x4xf32>, %k: tensor<1x1x8x4xf32>,
                   %v: tensor<1x1x8x4xf32>) -> tensor<1x2x8x4xf32> {
    %o = tucker.flash %q, %k, %v
        : tensor<1x2x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>
          -> tensor<1x2x8x4xf32>
    return %o : tensor<1x2x8x4xf32>
  }
}
