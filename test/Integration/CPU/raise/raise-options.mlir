// RUN: %raise_check %raise_tests/tucker-raise-options.mlir --raise-options finite-mask-fill=true | FileCheck %s

// Tests that with finite-mask-fill=true the finfo.min-filled causal mask of
// tucker-raise-options.mlir is raised and computes what the unraised IR
// computes.

// CHECK: @finfo_min_causal raised to tucker.flash
// CHECK-NEXT: @finfo_min_causal rel_err = {{.*}} PASS
