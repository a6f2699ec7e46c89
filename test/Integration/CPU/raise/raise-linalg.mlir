// RUN: %raise_check %raise_tests/tucker-raise-linalg.mlir | FileCheck %s

// Tests that every function of tucker-raise-linalg.mlir (torch-mlir / IREE style
// attention layers and cores) is raised to the expected tucker op and computes,
// lowered by --tucker-cpu-pipeline and run, what the unraised IR computes on
// the same random inputs (relative error ≤ 1e-4).

// CHECK: @mha_torch raised to tucker.mha
// CHECK-NEXT: @mha_torch rel_err = {{.*}} PASS
// CHECK: @mha_generic raised to tucker.mha
// CHECK-NEXT: @mha_generic rel_err = {{.*}} PASS
// CHECK: @mha_bmm_unsafe raised to tucker.mha
// CHECK-NEXT: @mha_bmm_unsafe rel_err = {{.*}} PASS
// CHECK: @mha_matmul_transpose_b raised to tucker.mha
// CHECK-NEXT: @mha_matmul_transpose_b rel_err = {{.*}} PASS
// CHECK: @mha_bias_init raised to tucker.mha
// CHECK-NEXT: @mha_bias_init rel_err = {{.*}} PASS
// CHECK: @mha_causal_select raised to tucker.mha
// CHECK-NEXT: @mha_causal_select rel_err = {{.*}} PASS
// CHECK: @mha_causal_iota raised to tucker.mha
// CHECK-NEXT: @mha_causal_iota rel_err = {{.*}} PASS
// CHECK: @mha_causal_const raised to tucker.mha
// CHECK-NEXT: @mha_causal_const rel_err = {{.*}} PASS
// CHECK: @gqa_rope raised to tucker.gqa
// CHECK-NEXT: @gqa_rope rel_err = {{.*}} PASS
// CHECK: @gqa_tiled raised to tucker.gqa
// CHECK-NEXT: @gqa_tiled rel_err = {{.*}} PASS
// CHECK: @mqa_out_bias raised to tucker.gqa
// CHECK-NEXT: @mqa_out_bias rel_err = {{.*}} PASS
// CHECK: @flash_heads_folded raised to tucker.flash
// CHECK-NEXT: @flash_heads_folded rel_err = {{.*}} PASS
// CHECK: @flash_bhnd raised to tucker.flash
// CHECK-NEXT: @flash_bhnd rel_err = {{.*}} PASS
// CHECK: @flash_gqa_causal raised to tucker.flash
// CHECK-NEXT: @flash_gqa_causal rel_err = {{.*}} PASS
// CHECK: @flash_more_keys raised to tucker.flash
// CHECK-NEXT: @flash_more_keys rel_err = {{.*}} PASS
// CHECK: @flash_unscaled_unsafe raised to tucker.flash
// CHECK-NEXT: @flash_unscaled_unsafe rel_err = {{.*}} PASS
