// RUN: %raise_check %raise_tests/tucker-raise-layer-negative.mlir | FileCheck %s

// Tests that the layer near misses of tucker-raise-layer-negative.mlir, raised
// to tucker.flash only (with pre-rotated or cross-attention q, k, v), compute
// what the unraised IR computes.

// CHECK: @layer_cross raised to tucker.flash
// CHECK-NEXT: @layer_cross rel_err = {{.*}} PASS
// CHECK: @layer_gqa_biases raised to tucker.flash
// CHECK-NEXT: @layer_gqa_biases rel_err = {{.*}} PASS
// CHECK: @layer_rope_swapped raised to tucker.flash
// CHECK-NEXT: @layer_rope_swapped rel_err = {{.*}} PASS
// CHECK: @layer_rope_table raised to tucker.flash
// CHECK-NEXT: @layer_rope_table rel_err = {{.*}} PASS
