// RUN: %raise_check %raise_tests/tucker-raise-model.mlir --before="--inline --symbol-dce" | FileCheck %s

// Tests that the three-layer model of tucker-raise-model.mlir (inlined into
// one function), raised to tucker.mha, tucker.gqa and tucker.mha, computes what
// the unraised model computes.

// CHECK: @model raised to tucker.mha, tucker.gqa
// CHECK-NEXT: @model rel_err = {{.*}} PASS
