// RUN: %raise_check %raise_tests/tucker-raise-tosa.mlir | FileCheck %s

// Tests that the TOSA forms of tucker-raise-tosa.mlir, raised, compute what the
// unraised IR (through --tosa-to-linalg-pipeline) computes.

// CHECK: @tosa_flash raised to tucker.flash
// CHECK-NEXT: @tosa_flash rel_err = {{.*}} PASS
// CHECK: @tosa_flash_causal raised to tucker.flash
// CHECK-NEXT: @tosa_flash_causal rel_err = {{.*}} PASS
// CHECK: @tosa_mha raised to tucker.mha
// CHECK-NEXT: @tosa_mha rel_err = {{.*}} PASS
// CHECK: @tosa_rope raised to tucker.mha
// CHECK-NEXT: @tosa_rope rel_err = {{.*}} PASS
