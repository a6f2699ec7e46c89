// RUN: %raise_check %raise_tests/tucker-raise-tf.mlir | FileCheck %s
// RUN: %raise_check %raise_tests/tucker-raise-tf-negative.mlir | FileCheck %s --check-prefix=NEAR

// Tests that the TensorFlow / Keras BERT layers of tucker-raise-tf.mlir (kernels
// [d, H, dh] collapsed or read whole, [B, N, H, dh] activations, zero masks),
// raised to tucker.mha, and the near misses of tucker-raise-tf-negative.mlir,
// raised to tucker.flash only, compute what the unraised IR computes on the
// same random inputs (relative error ≤ 1e-4).

// CHECK: @bert_collapsed raised to tucker.mha
// CHECK-NEXT: @bert_collapsed rel_err = {{.*}} PASS
// CHECK: @bert_einsum raised to tucker.mha
// CHECK-NEXT: @bert_einsum rel_err = {{.*}} PASS
// CHECK: @bert_keras raised to tucker.mha
// CHECK-NEXT: @bert_keras rel_err = {{.*}} PASS

// NEAR: @tf_query_heads_reshaped raised to tucker.flash
// NEAR-NEXT: @tf_query_heads_reshaped rel_err = {{.*}} PASS
// NEAR: @tf_heads_merged_by_reshape raised to tucker.flash
// NEAR-NEXT: @tf_heads_merged_by_reshape rel_err = {{.*}} PASS
// NEAR: @tf_bias_per_token raised to tucker.flash
// NEAR-NEXT: @tf_bias_per_token rel_err = {{.*}} PASS
