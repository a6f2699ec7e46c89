// RUN: tucker-opt %s --tucker-compress=ranks=2,2,2 -split-input-file -verify-diagnostics

// Tests that: weights that are not constants cannot be compressed; the error
// names the first such operand.
func.func @not_constant(%x: tensor<1x4x16xf32>, %w: tensor<16x16xf32>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{cannot compress 'tucker.mha': operand 'wq' is not a constant (compression needs constant weights)}}
  %y = tucker.mha %x, %w, %w, %w, %w {num_heads = 4 : i64}
      : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>,
         tensor<16x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that: a bias that compression folds must be constant too.
func.func @bias_not_constant(%x: tensor<1x4x16xf32>, %bv: tensor<16xf32>) -> tensor<1x4x16xf32> {
  %w = arith.constant dense<1.0> : tensor<16x16xf32>
  // expected-error @+1 {{cannot compress 'tucker.mha': operand 'bv' is not a constant (compression needs constant weights)}}
  %y = tucker.mha %x, %w, %w, %w, %w bv(%bv) {num_heads = 4 : i64}
      : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>,
         tensor<16x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that: a per-head rope between W^Q and W^K makes the pre-softmax
// tensor position dependent, so a rope layer is refused (before its weights
// are even read).
func.func @gqa_rope(%x: tensor<1x4x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x8xf32>,
                    %wv: tensor<16x8xf32>, %wo: tensor<16x16xf32>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{cannot compress 'tucker.gqa' with a rope: the rotation sits between the query and key projections, so the pre-softmax tensor is not a fixed bilinear form}}
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 4 : i64, num_kv_heads = 2 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 4, style = half>}
      : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16x8xf32>, tensor<16x8xf32>,
         tensor<16x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that: a tucker.attention rope rotates the latent key space that
// compression would replace.
func.func @attention_rope(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %eye = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %u = arith.constant dense<1.0> : tensor<16x16xf32>
  // expected-error @+1 {{cannot compress 'tucker.attention' with a rope: the rotation acts on the latent key space that compression replaces}}
  %y = tucker.attention %x, pre(%eye, %u, %u), post(%eye, %u, %u)
      {ranks = #tucker.ranks<[2, 16, 16], [2, 16, 16]>,
       selector = #tucker.selector<head_dim = 8, groups = [0, 1]>,
       rope = #tucker.rope<theta = 10000.0, width = 8, repeat = 2, style = half>}
      : (tensor<1x4x16xf32>, tensor<2x2xf32>, tensor<16x16xf32>, tensor<16x16xf32>,
         tensor<2x2xf32>, tensor<16x16xf32>, tensor<16x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that: the query latent of an MLA with wq_a is RMS-normalized and
// cannot be truncated to rank 2 < q_lora_rank.
func.func @mla_truncated_latent(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %wq_a = arith.constant dense<1.0> : tensor<16x8xf32>
  %q_norm = arith.constant dense<1.0> : tensor<8xf32>
  %wq_b = arith.constant dense<1.0> : tensor<8x8xf32>
  %wkv_a = arith.constant dense<1.0> : tensor<16x8xf32>
  %kv_norm = arith.constant dense<1.0> : tensor<6xf32>
  %wkv_b = arith.constant dense<1.0> : tensor<6x10xf32>
  %wo = arith.constant dense<1.0> : tensor<6x16xf32>
  // expected-error @+1 {{cannot compress the pre-softmax query mode to rank 2: it is a latent of width 8 under an RMS norm (over 8 dims), which a truncation would change; give a rank of at least 8 for it or use 'tolerance'}}
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 2 : i64, q_lora_rank = 8 : i64, kv_lora_rank = 6 : i64,
       qk_nope_head_dim = 2 : i64, qk_rope_head_dim = 2 : i64, v_head_dim = 3 : i64}
      : (tensor<1x4x16xf32>, tensor<16x8xf32>, tensor<8xf32>, tensor<8x8xf32>,
         tensor<16x8xf32>, tensor<6xf32>, tensor<6x10xf32>, tensor<6x16xf32>)
      -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that: the same holds for the key latent of a tucker.attention with a
// key_norm (the query mode, without norm, may be truncated).
func.func @attention_key_norm(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %u1 = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %u = arith.constant dense<1.0> : tensor<16x6xf32>
  %core = arith.constant dense<1.0> : tensor<2x6x6xf32>
  // expected-error @+1 {{cannot compress the pre-softmax key mode to rank 2: it is a latent of width 6 under an RMS norm (over 4 dims), which a truncation would change; give a rank of at least 6 for it or use 'tolerance'}}
  %y = tucker.attention %x, pre(%u1, %u, %u, core %core), post(%u1, %u, %u, core %core)
      {ranks = #tucker.ranks<[2, 6, 6], [2, 6, 6]>, scale = 0.5 : f64,
       key_norm = #tucker.rms_norm<epsilon = 1.0e-06, width = 4>}
      : (tensor<1x4x16xf32>, tensor<2x2xf32>, tensor<16x6xf32>, tensor<16x6xf32>,
         tensor<2x6x6xf32>, tensor<2x2xf32>, tensor<16x6xf32>, tensor<16x6xf32>,
         tensor<2x6x6xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// Tests that: an op with constant weights beside refused ones still
// compresses (the boundary: constants, no rope, no normalized latent).
func.func @valid(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %w = arith.constant dense<1.0> : tensor<16x16xf32>
  // expected-remark @+1 {{compressed 'tucker.mha' to ranks [2, 2, 2], [2, 2, 2]: relative error pre <1e-07, post <1e-07; params 1024 -> 160, KV values per token 32 -> 4}}
  %y = tucker.mha %x, %w, %w, %w, %w {num_heads = 4 : i64}
      : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>,
         tensor<16x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}
