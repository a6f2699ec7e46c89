// RUN: tucker-opt %s -split-input-file -verify-diagnostics

// Each case names the rule it pins; valid boundary cases sit beside the
// invalid ones so the rules are neither too loose nor too strict.

// Tests that: num_heads must be positive.
func.func @f0(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{attribute 'num_heads' must be positive, got 0}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 0 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The activation must be [B, N, d].
func.func @f1(%x: tensor<8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'x' must have rank 3 ([B, N, d]), got [8, 64]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The model width must be static: weights are sized by it.
func.func @f2(%x: tensor<1x8x?xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'x' must have a static model dimension ([B, N, d]), got [1, 8, ?]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x?xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: Query columns must split evenly into heads.
func.func @f3(%x: tensor<1x8x64xf32>, %wq: tensor<64x30xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wq' has 30 columns, which is not a positive multiple of num_heads (4)}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x30xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: Query rows must equal the model width.
func.func @f4(%x: tensor<1x8x64xf32>, %wq: tensor<32x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wq' must have shape [64, ?] ([d, num_heads*width]), got [32, 64]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<32x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: Weights must be static.
func.func @f5(%x: tensor<1x8x64xf32>, %wq: tensor<64x?xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wq' must have a static shape ([d, num_heads*width]), got [64, ?]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x?xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: Keys have the query head width.
func.func @f6(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wk' must have shape [64, 64] ([d, num_kv_heads*head_dim]), got [64, 32]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: Value columns must split evenly into heads.
func.func @f7(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x62xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wv' has 62 columns, which is not a positive multiple of num_kv_heads (4)}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x62xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The output projection reads all heads' values.
func.func @f8(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x32xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wo' must have shape [32, 64] ([num_heads*value_dim, d]), got [64, 64]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The result is [B, N, d] of x.
func.func @f9(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x9x64xf32> {
  // expected-error @+1 {{operand 'result' must have shape [1, 8, 64] ([B, N, d] of 'x'), got [1, 9, 64]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x9x64xf32>
  return %y : tensor<1x9x64xf32>
}

// -----

// Tests that: A bias has its projection's width.
func.func @f10(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %bq: tensor<32xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'bq' must have shape [64] ([num_heads*head_dim]), got [32]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The key bias has the key width.
func.func @f11(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %bk: tensor<63xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'bk' must have shape [64] ([num_kv_heads*head_dim]), got [63]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bk(%bk) {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<63xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The value bias has the value width.
func.func @f12(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %bv: tensor<65xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'bv' must have shape [64] ([num_kv_heads*value_dim]), got [65]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bv(%bv) {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<65xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: The output bias has the model width.
func.func @f13(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %bo: tensor<16xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'bo' must have shape [64] ([d]), got [16]}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bo(%bo) {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<16xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: Element types must agree.
func.func @f14(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %bo: tensor<64xf16>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{'bo' has element type 'f16' but 'x' has 'f32'; all operands and the result must agree}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bo(%bo) {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf16>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: An explicit scale must be positive.
func.func @f15(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{attribute 'scale' must be finite and positive, got -1}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, scale = -1.0 : f64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: RoPE must fit in a head.
func.func @f16(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{rope rotates dims [0, 32) but the head (head_dim) has only 16 dims}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, rope = #tucker.rope<theta = 10000.0, width = 32, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: RoPE blocks repeated past the head are rejected.
func.func @f17(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{rope rotates dims [8, 24) but the head (head_dim) has only 16 dims}}
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, rope = #tucker.rope<theta = 10000.0, width = 8, offset = 8, repeat = 2, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: GQA heads must group evenly.
func.func @f18(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{num_heads (4) must be a multiple of num_kv_heads (3)}}
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, num_kv_heads = 3 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: GQA needs at least one key head.
func.func @f19(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{attribute 'num_kv_heads' must be positive, got 0}}
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, num_kv_heads = 0 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: GQA keys have num_kv_heads blocks of head_dim.
func.func @f20(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wk' must have shape [64, 32] ([d, num_kv_heads*head_dim]), got [64, 64]}}
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}
// -----

// Tests that: a valid GQA (the boundary of the cases above) verifies.
func.func @gqa_valid(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>, %wv: tensor<64x32xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, num_kv_heads = 2 : i64, rope = #tucker.rope<theta = 10000.0, width = 8, offset = 8, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: f64 is not an accepted element type.
func.func @f64_rejected(%q: tensor<1x1x4x8xf64>) -> tensor<1x1x4x8xf64> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %o = tucker.flash %q, %q, %q : tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64> -> tensor<1x1x4x8xf64>
  return %o : tensor<1x1x4x8xf64>
}

// -----

// Tests that: MLA needs q_lora_rank exactly when wq_a is given.
func.func @mla_missing_q_lora_rank(%x: tensor<1x8x64xf32>, %wq_a: tensor<64x32xf32>, %q_norm: tensor<32xf32>, %wq_b: tensor<32x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{attribute 'q_lora_rank' must be present exactly when 'wq_a' is given}}
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x32xf32>, tensor<32xf32>, tensor<32x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: wq_b has q_lora_rank rows and num_heads*(nope+rope) columns.
func.func @mla_bad_wq_b(%x: tensor<1x8x64xf32>, %wq_a: tensor<64x32xf32>, %q_norm: tensor<32xf32>, %wq_b: tensor<32x40xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wq_b' must have shape [32, 48] ([q_lora_rank, num_heads*(qk_nope_head_dim+qk_rope_head_dim)]), got [32, 40]}}
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 32 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x32xf32>, tensor<32xf32>, tensor<32x40xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: without wq_a, wq_b reads x directly.
func.func @mla_bad_wq_b_direct(%x: tensor<1x8x64xf32>, %wq_b: tensor<32x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wq_b' must have shape [64, 48] ([d, num_heads*(qk_nope_head_dim+qk_rope_head_dim)]), got [32, 48]}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<32x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: q_lora_rank without wq_a is rejected.
func.func @mla_stray_q_lora_rank(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{attribute 'q_lora_rank' must be present exactly when 'wq_a' is given}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 32 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: wkv_a holds the latent and the shared rope key.
func.func @mla_bad_wkv_a(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x16xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wkv_a' must have shape [64, 20] ([d, kv_lora_rank+qk_rope_head_dim]), got [64, 16]}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x16xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: the latent norm weight has kv_lora_rank entries.
func.func @mla_bad_kv_norm(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<20xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'kv_norm' must have shape [16] ([kv_lora_rank]), got [20]}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<20xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: wkv_b packs [k_nope | v] per head.
func.func @mla_bad_wkv_b(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x32xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wkv_b' must have shape [16, 64] ([kv_lora_rank, num_heads*(qk_nope_head_dim+v_head_dim)]), got [16, 32]}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: the MLA output projection reads num_heads*v_head_dim rows.
func.func @mla_bad_wo(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'wo' must have shape [32, 64] ([num_heads*v_head_dim, d]), got [64, 64]}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: MLA RoPE may not touch the no-position dims.
func.func @mla_rope_on_nope(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{rope may only rotate the decoupled dims [8, 12) of each head, but starts at dim 6}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 6, style = interleaved>}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: MLA RoPE must end inside the head.
func.func @mla_rope_past_head(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{rope rotates dims [8, 16) but the head (qk_nope_head_dim + qk_rope_head_dim) has only 12 dims}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 8, offset = 8, style = interleaved>}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: the norm epsilon must be positive.
func.func @mla_bad_epsilon(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{attribute 'norm_epsilon' must be finite and positive, got 0}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64, norm_epsilon = 0.0 : f64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: heads need some query/key width.
func.func @mla_empty_head(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x0xf32>, %wkv_a: tensor<64x16xf32>, %kv_norm: tensor<16xf32>, %wkv_b: tensor<16x32xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{qk_nope_head_dim (0) and qk_rope_head_dim (0) must be non-negative with a positive sum}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 0 : i64, qk_rope_head_dim = 0 : i64, v_head_dim = 8 : i64}
      : (tensor<1x8x64xf32>, tensor<64x0xf32>, tensor<64x16xf32>, tensor<16xf32>, tensor<16x32xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: factor shapes must match the ranks attribute.
func.func @tucker_rank_mismatch(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x32xf32>, %u3: tensor<64x32xf32>, %v1: tensor<4x4xf32>, %v2: tensor<64x64xf32>, %v3: tensor<64x32xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'u2' must have shape [64, 64] ([d, r2] per ranks), got [64, 32]}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%v1, %v2, %v3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: both head factors have one row per head.
func.func @tucker_head_mismatch(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>, %v1: tensor<3x4xf32>, %v2: tensor<64x64xf32>, %v3: tensor<64x32xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'u1_out' must have shape [4, 4] ([num_heads, r1_out] per ranks), got [3, 4]}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%v1, %v2, %v3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<3x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a selector must agree with the ranks it stands for.
func.func @tucker_selector_ranks(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>, %v1: tensor<4x4xf32>, %v2: tensor<64x64xf32>, %v3: tensor<64x32xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{a selector of 4 heads over 4 key blocks (head_dim 16, value_dim 16) needs ranks [4, 64, 64], [4, 64, 64], got [4, 64, 32], [4, 64, 32]}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%v1, %v2, %v3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, selector = #tucker.selector<head_dim = 16, groups = [0, 1, 2, 3]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: without cores a selector is required.
func.func @tucker_no_core(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>, %v1: tensor<4x4xf32>, %v2: tensor<64x64xf32>, %v3: tensor<64x32xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{without dense cores a 'selector' attribute is required}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%v1, %v2, %v3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a dense core and a selector are exclusive.
func.func @tucker_core_and_selector(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>, %cv: tensor<2x8x8xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{dense cores and a 'selector' are exclusive: give one or the other}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64, selector = #tucker.selector<head_dim = 4, groups = [0, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: the two cores come together.
func.func @tucker_one_core(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{'core' and 'core_out' must both be given or both be absent (with a selector)}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a core has shape [r1, r2, r3].
func.func @tucker_core_shape(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x4xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>, %cv: tensor<2x8x8xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'core' must have shape [2, 8, 8] ([r1, r2, r3] per ranks), got [2, 8, 4]}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x4xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: dense cores have no natural head width, so scale is explicit.
func.func @tucker_dense_needs_scale(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>, %cv: tensor<2x8x8xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{requires an explicit 'scale' with dense cores}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: latent RoPE fits the key rank r3.
func.func @tucker_rope_r3(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>, %cv: tensor<2x8x8xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{rope rotates dims [4, 12) but the latent key (r3) has only 8 dims}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64, rope = #tucker.rope<theta = 10000.0, width = 8, offset = 4, style = half>}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a latent norm fits its latent.
func.func @tucker_norm_width(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x6xf32>, %cv: tensor<2x8x6xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{value_norm normalizes 8 dims but the latent has only 6}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 6]>, scale = 0.5 : f64,
       query_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 8>,
       key_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 8>,
       value_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 8>}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x6xf32>, tensor<2x8x6xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: the query bias lives on the latent query (r2).
func.func @tucker_query_bias(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>, %cv: tensor<2x8x8xf32>, %bq: tensor<64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'query_bias' must have shape [8] ([r2]), got [64]}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv) query_bias(%bq)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: the output bias has the model width.
func.func @tucker_out_bias(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x8xf32>, %u3: tensor<64x8xf32>, %c: tensor<2x8x8xf32>, %v1: tensor<4x2xf32>, %v2: tensor<64x8xf32>, %v3: tensor<64x8xf32>, %cv: tensor<2x8x8xf32>, %bo: tensor<8xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{operand 'out_bias' must have shape [64] ([d]), got [8]}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv) out_bias(%bo)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<2x8x8xf32>, tensor<8xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a rank-1 dense Tucker layer (the smallest) verifies.
func.func @tucker_rank_one(%x: tensor<1x8x64xf32>, %u1: tensor<4x1xf32>, %u2: tensor<64x1xf32>, %u3: tensor<64x1xf32>, %c: tensor<1x1x1xf32>, %v1: tensor<4x1xf32>, %v2: tensor<64x1xf32>, %v3: tensor<64x1xf32>, %cv: tensor<1x1x1xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[1, 1, 1], [1, 1, 1]>, scale = 1.0 : f64}
      : (tensor<1x8x64xf32>, tensor<4x1xf32>, tensor<64x1xf32>, tensor<64x1xf32>, tensor<1x1x1xf32>, tensor<4x1xf32>, tensor<64x1xf32>, tensor<64x1xf32>, tensor<1x1x1xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: flash operands are [B, H, N, D].
func.func @flash_rank(%q: tensor<8x16x64xf16>) -> tensor<8x16x64xf16> {
  // expected-error @+1 {{'q' must have rank 4 ([B, H, N, D]), got [8, 16, 64]}}
  %o = tucker.flash %q, %q, %q : tensor<8x16x64xf16>, tensor<8x16x64xf16>, tensor<8x16x64xf16> -> tensor<8x16x64xf16>
  return %o : tensor<8x16x64xf16>
}

// -----

// Tests that: query heads group evenly over key/value heads.
func.func @flash_heads(%q: tensor<1x6x16x64xf16>, %k: tensor<1x4x16x64xf16>) -> tensor<1x6x16x64xf16> {
  // expected-error @+1 {{the query head count (6) must be a positive multiple of the key/value head count (4)}}
  %o = tucker.flash %q, %k, %k : tensor<1x6x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16> -> tensor<1x6x16x64xf16>
  return %o : tensor<1x6x16x64xf16>
}

// -----

// Tests that: queries and keys share their width.
func.func @flash_qk_width(%q: tensor<1x4x16x64xf16>, %k: tensor<1x1x16x32xf16>) -> tensor<1x4x16x32xf16> {
  // expected-error @+1 {{operand 'k' must have shape [1, ?, ?, 64] ([B, Hkv, Nk, Dqk] with B and Dqk of 'q'), got [1, 1, 16, 32]}}
  %o = tucker.flash %q, %k, %k : tensor<1x4x16x64xf16>, tensor<1x1x16x32xf16>, tensor<1x1x16x32xf16> -> tensor<1x4x16x32xf16>
  return %o : tensor<1x4x16x32xf16>
}

// -----

// Tests that: keys and values have the same length.
func.func @flash_kv_len(%q: tensor<1x4x16x64xf16>, %k: tensor<1x1x16x64xf16>, %v: tensor<1x1x17x64xf16>) -> tensor<1x4x16x64xf16> {
  // expected-error @+1 {{operand 'v' must have shape [1, 1, 16, ?] ([B, Hkv, Nk, Dv] with B, Hkv, Nk of 'k'), got [1, 1, 17, 64]}}
  %o = tucker.flash %q, %k, %v : tensor<1x4x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x17x64xf16> -> tensor<1x4x16x64xf16>
  return %o : tensor<1x4x16x64xf16>
}

// -----

// Tests that: the result has the value width.
func.func @flash_result(%q: tensor<1x4x16x64xf16>, %k: tensor<1x1x16x64xf16>, %v: tensor<1x1x16x32xf16>) -> tensor<1x4x16x64xf16> {
  // expected-error @+1 {{operand 'result' must have shape [1, 4, 16, 32] ([B, Hq, Nq, Dv] of 'q' and 'v'), got [1, 4, 16, 64]}}
  %o = tucker.flash %q, %k, %v : tensor<1x4x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x32xf16> -> tensor<1x4x16x64xf16>
  return %o : tensor<1x4x16x64xf16>
}

// -----

// Tests that: head counts and widths are static, lengths may be dynamic.
func.func @flash_dynamic_heads(%q: tensor<1x?x16x64xf16>) -> tensor<1x?x16x64xf16> {
  // expected-error @+1 {{'q' must have static head count and width ([B, H, N, D]), got [1, ?, 16, 64]}}
  %o = tucker.flash %q, %q, %q : tensor<1x?x16x64xf16>, tensor<1x?x16x64xf16>, tensor<1x?x16x64xf16> -> tensor<1x?x16x64xf16>
  return %o : tensor<1x?x16x64xf16>
}

// -----

// Tests that: flash element types agree.
func.func @flash_types(%q: tensor<1x1x16x64xf16>, %k: tensor<1x1x16x64xbf16>) -> tensor<1x1x16x64xf16> {
  // expected-error @+1 {{'k' has element type 'bf16' but 'q' has 'f16'; all operands and the result must agree}}
  %o = tucker.flash %q, %k, %k : tensor<1x1x16x64xf16>, tensor<1x1x16x64xbf16>, tensor<1x1x16x64xbf16> -> tensor<1x1x16x64xf16>
  return %o : tensor<1x1x16x64xf16>
}

// -----

// Tests that: fused RoPE fits the query/key width.
func.func @flash_rope(%q: tensor<1x1x16x64xf16>) -> tensor<1x1x16x64xf16> {
  // expected-error @+1 {{rope rotates dims [0, 128) but the query/key head (Dqk) has only 64 dims}}
  %o = tucker.flash %q, %q, %q {rope = #tucker.rope<theta = 10000.0, width = 64, repeat = 2, style = half>} : tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16> -> tensor<1x1x16x64xf16>
  return %o : tensor<1x1x16x64xf16>
}

// -----

// Tests that: an explicit flash scale is positive.
func.func @flash_scale(%q: tensor<1x1x16x64xf16>) -> tensor<1x1x16x64xf16> {
  // expected-error @+1 {{attribute 'scale' must be finite and positive, got 0}}
  %o = tucker.flash %q, %q, %q {scale = 0.0 : f64} : tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16> -> tensor<1x1x16x64xf16>
  return %o : tensor<1x1x16x64xf16>
}

// -----

// Tests that: a flash's lse is [B, Hq, Nq] of q.
func.func @flash_lse_shape(%q: tensor<1x4x16x64xf16>, %k: tensor<1x1x16x64xf16>) -> tensor<1x4x16xf32> {
  // expected-error @+1 {{operand 'lse' must have shape [1, 4, 16] ([B, Hq, Nq] of 'q', one log-sum-exp per query row), got [1, 1, 16]}}
  %o, %lse = tucker.flash %q, %k, %k : tensor<1x4x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16> -> tensor<1x4x16x64xf16>, tensor<1x1x16xf32>
  return %lse : tensor<1x1x16xf32>
}

// -----

// Tests that: a flash's lse is f32, whatever the element type.
func.func @flash_lse_type(%q: tensor<1x4x16x64xf16>) -> tensor<1x4x16xf16> {
  // expected-error @+1 {{result #1 must be ranked tensor of 32-bit float values, but got 'tensor<1x4x16xf16>'}}
  %o, %lse = tucker.flash %q, %q, %q : tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16> -> tensor<1x4x16x64xf16>, tensor<1x4x16xf16>
  return %lse : tensor<1x4x16xf16>
}

// -----

// Tests that: a flash backward's operands are those of a flash (here, q and k disagree on Dqk).
func.func @flash_backward_qk_width(%q: tensor<1x4x16x64xf16>, %k: tensor<1x1x16x32xf16>, %o: tensor<1x4x16x32xf16>, %lse: tensor<1x4x16xf32>) {
  // expected-error @+1 {{operand 'k' must have shape [1, ?, ?, 64] ([B, Hkv, Nk, Dqk] with B and Dqk of 'q'), got [1, 1, 16, 32]}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %k, %o, %lse, %o : tensor<1x4x16x64xf16>, tensor<1x1x16x32xf16>, tensor<1x1x16x32xf16>, tensor<1x4x16x32xf16>, tensor<1x4x16xf32>, tensor<1x4x16x32xf16> -> tensor<1x4x16x64xf16>, tensor<1x1x16x32xf16>, tensor<1x1x16x32xf16>
  return
}

// -----

// Tests that: a flash backward's out is [B, Hq, Nq, Dv].
func.func @flash_backward_out(%q: tensor<1x4x16x64xf16>, %k: tensor<1x1x16x64xf16>, %v: tensor<1x1x16x32xf16>, %o: tensor<1x4x16x64xf16>, %lse: tensor<1x4x16xf32>) {
  // expected-error @+1 {{operand 'out' must have shape [1, 4, 16, 32] ([B, Hq, Nq, Dv] of 'q' and 'v'), got [1, 4, 16, 64]}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %o : tensor<1x4x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x32xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16xf32>, tensor<1x4x16x64xf16> -> tensor<1x4x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x32xf16>
  return
}

// -----

// Tests that: a flash backward's out_grad has the shape of out.
func.func @flash_backward_out_grad(%q: tensor<1x4x16x64xf16>, %o: tensor<1x4x16x64xf16>, %do: tensor<1x4x8x64xf16>, %lse: tensor<1x4x16xf32>) {
  // expected-error @+1 {{operand 'out_grad' must have shape [1, 4, 16, 64] ([B, Hq, Nq, Dv] of 'out'), got [1, 4, 8, 64]}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %q, %o, %lse, %do : tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16xf32>, tensor<1x4x8x64xf16> -> tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>
  return
}

// -----

// Tests that: a flash backward's lse is that of the flash.
func.func @flash_backward_lse(%q: tensor<1x4x16x64xf16>, %lse: tensor<1x4x15xf32>) {
  // expected-error @+1 {{operand 'lse' must have shape [1, 4, 16] ([B, Hq, Nq] of 'q', one log-sum-exp per query row), got [1, 4, 15]}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %q, %q, %lse, %q : tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x15xf32>, tensor<1x4x16x64xf16> -> tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>
  return
}

// -----

// Tests that: each gradient has the type of its operand.
func.func @flash_backward_grad_type(%q: tensor<1x4x16x64xf16>, %lse: tensor<1x4x16xf32>) {
  // expected-error @+1 {{result 'k_grad' must have the type of 'k' ('tensor<1x4x16x64xf16>'), got 'tensor<1x4x?x64xf16>'}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %q, %q, %lse, %q : tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16xf32>, tensor<1x4x16x64xf16> -> tensor<1x4x16x64xf16>, tensor<1x4x?x64xf16>, tensor<1x4x16x64xf16>
  return
}

// -----

// Tests that: a flash backward's element types agree.
func.func @flash_backward_types(%q: tensor<1x4x16x64xf16>, %do: tensor<1x4x16x64xbf16>, %lse: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'out_grad' has element type 'bf16' but 'q' has 'f16'; all operands and the result must agree}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %q, %q, %lse, %do : tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16xf32>, tensor<1x4x16x64xbf16> -> tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>
  return
}

// -----

// Tests that: a flash backward's lengths are a flash's, and its rope fits Dqk.
func.func @flash_backward_lengths(%q: tensor<2x1x1x64xf16>, %k: tensor<2x1x16x64xf16>, %lse: tensor<2x1x1xf32>, %len: tensor<3xi32>) {
  // expected-error @+1 {{operand 'lengths' must have shape [2] ([B] of 'q', one key count per sequence), got [3]}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %k, %q, %lse, %q lengths(%len : tensor<3xi32>) : tensor<2x1x1x64xf16>, tensor<2x1x16x64xf16>, tensor<2x1x16x64xf16>, tensor<2x1x1x64xf16>, tensor<2x1x1xf32>, tensor<2x1x1x64xf16> -> tensor<2x1x1x64xf16>, tensor<2x1x16x64xf16>, tensor<2x1x16x64xf16>
  return
}

// -----

func.func @flash_backward_rope(%q: tensor<1x1x16x64xf16>, %lse: tensor<1x1x16xf32>) {
  // expected-error @+1 {{rope rotates dims [0, 128) but the query/key head (Dqk) has only 64 dims}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %q, %q, %lse, %q {rope = #tucker.rope<theta = 10000.0, width = 64, repeat = 2, style = half>} : tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16xf32>, tensor<1x1x16x64xf16> -> tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>, tensor<1x1x16x64xf16>
  return
}

// -----

// Tests that: flash lengths are i32.
func.func @flash_lengths_type(%q: tensor<2x1x1x64xf16>, %k: tensor<2x1x16x64xf16>, %len: tensor<2xi64>) -> tensor<2x1x1x64xf16> {
  // expected-error @+1 {{operand 'lengths' must have element type i32 (valid keys per sequence), got 'i64'}}
  %o = tucker.flash %q, %k, %k lengths(%len : tensor<2xi64>) : tensor<2x1x1x64xf16>, tensor<2x1x16x64xf16>, tensor<2x1x16x64xf16> -> tensor<2x1x1x64xf16>
  return %o : tensor<2x1x1x64xf16>
}

// -----

// Tests that: float lengths are refused with the same message.
func.func @flash_lengths_float(%q: tensor<2x1x1x64xf16>, %k: tensor<2x1x16x64xf16>, %len: tensor<2xf32>) -> tensor<2x1x1x64xf16> {
  // expected-error @+1 {{operand 'lengths' must have element type i32 (valid keys per sequence), got 'f32'}}
  %o = tucker.flash %q, %k, %k lengths(%len : tensor<2xf32>) : tensor<2x1x1x64xf16>, tensor<2x1x16x64xf16>, tensor<2x1x16x64xf16> -> tensor<2x1x1x64xf16>
  return %o : tensor<2x1x1x64xf16>
}

// -----

// Tests that: flash lengths are one count per batch entry.
func.func @flash_lengths_batch(%q: tensor<2x1x1x64xf16>, %k: tensor<2x1x16x64xf16>, %len: tensor<3xi32>) -> tensor<2x1x1x64xf16> {
  // expected-error @+1 {{operand 'lengths' must have shape [2] ([B] of 'q', one key count per sequence), got [3]}}
  %o = tucker.flash %q, %k, %k lengths(%len : tensor<3xi32>) : tensor<2x1x1x64xf16>, tensor<2x1x16x64xf16>, tensor<2x1x16x64xf16> -> tensor<2x1x1x64xf16>
  return %o : tensor<2x1x1x64xf16>
}

// -----

// Tests that: flash lengths are rank 1, also when the batch is dynamic.
func.func @flash_lengths_rank(%q: tensor<?x1x1x64xf16>, %k: tensor<?x1x16x64xf16>, %len: tensor<2x1xi32>) -> tensor<?x1x1x64xf16> {
  // expected-error @+1 {{operand 'lengths' must have shape [?] ([B] of 'q', one key count per sequence), got [2, 1]}}
  %o = tucker.flash %q, %k, %k lengths(%len : tensor<2x1xi32>) : tensor<?x1x1x64xf16>, tensor<?x1x16x64xf16>, tensor<?x1x16x64xf16> -> tensor<?x1x1x64xf16>
  return %o : tensor<?x1x1x64xf16>
}

// -----

// Tests that: flash lengths of a static size fit a dynamic batch (valid).
func.func @flash_lengths_dynamic_batch(%q: tensor<?x1x1x64xf16>, %k: tensor<?x1x16x64xf16>, %len: tensor<5xi32>) -> tensor<?x1x1x64xf16> {
  %o = tucker.flash %q, %k, %k lengths(%len : tensor<5xi32>) : tensor<?x1x1x64xf16>, tensor<?x1x16x64xf16>, tensor<?x1x16x64xf16> -> tensor<?x1x1x64xf16>
  return %o : tensor<?x1x1x64xf16>
}

// -----

// Tests that: rope acts on [B, H, N, D].
func.func @rope_rank(%x: tensor<4x16x64xf32>) -> tensor<4x16x64xf32> {
  // expected-error @+1 {{operand 'x' must have rank 4 ([B, H, N, D]), got 3}}
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>} : tensor<4x16x64xf32> -> tensor<4x16x64xf32>
  return %y : tensor<4x16x64xf32>
}

// -----

// Tests that: rope preserves the type.
func.func @rope_result(%x: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf16> {
  // expected-error @+1 {{result type 'tensor<1x4x16x64xf16>' must equal the type of 'x' 'tensor<1x4x16x64xf32>'}}
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>} : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf16>
  return %y : tensor<1x4x16x64xf16>
}

// -----

// Tests that: positions are [N] or [B, N].
func.func @rope_positions(%x: tensor<1x4x16x64xf32>, %p: tensor<15xi32>) -> tensor<1x4x16x64xf32> {
  // expected-error @+1 {{operand 'positions' must have shape [N] or [B, N] of 'x', got 'tensor<15xi32>'}}
  %y = tucker.rope %x positions(%p : tensor<15xi32>) {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>} : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  return %y : tensor<1x4x16x64xf32>
}

// -----

// Tests that: positions are integers.
func.func @rope_float_positions(%x: tensor<1x4x16x64xf32>, %p: tensor<16xf32>) -> tensor<1x4x16x64xf32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer or index values}}
  %y = tucker.rope %x positions(%p : tensor<16xf32>) {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>} : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  return %y : tensor<1x4x16x64xf32>
}

// -----

// Tests that: the rotated range fits the last dim.
func.func @rope_fits(%x: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  // expected-error @+1 {{rope rotates dims [32, 96) but the last dim of 'x' has only 64 dims}}
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 64, offset = 32, style = half>} : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  return %y : tensor<1x4x16x64xf32>
}

// -----

// Tests that: rope pairs need an even width.
// expected-error @+1 {{rope width must be positive and even, got 7}}
func.func @rope_odd() attributes {r = #tucker.rope<theta = 10000.0, width = 7, style = half>} { return }

// -----

// Tests that: strided rope blocks may not overlap.
// expected-error @+1 {{rope stride (4) must be at least the width (8) so that blocks do not overlap}}
func.func @rope_stride() attributes {r = #tucker.rope<theta = 10000.0, width = 8, repeat = 2, stride = 4, style = half>} { return }

// -----

// Tests that: a strided rope ends at its last block, not at repeat*stride.
func.func @rope_stride_fits(%x: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 16, repeat = 2, stride = 48, style = half>} : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  return %y : tensor<1x4x16x64xf32>
}

// -----

// Tests that: a strided rope past the vector is rejected.
func.func @rope_stride_past(%x: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  // expected-error @+1 {{rope rotates dims [0, 66) but the last dim of 'x' has only 64 dims}}
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 16, repeat = 2, stride = 50, style = half>} : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  return %y : tensor<1x4x16x64xf32>
}

// -----

// Tests that: the RoPE base is positive.
// expected-error @+1 {{rope theta must be finite and positive, got 0}}
func.func @rope_theta() attributes {r = #tucker.rope<theta = 0.0, width = 8, style = half>} { return }

// -----

// Tests that: the rotated range starts inside the vector.
// expected-error @+1 {{rope offset must be non-negative, got -2}}
func.func @rope_offset() attributes {r = #tucker.rope<theta = 1.0e4, width = 8, offset = -2, style = half>} { return }

// -----

// Tests that: a block repeats at least once.
// expected-error @+1 {{rope repeat must be positive, got 0}}
func.func @rope_repeat() attributes {r = #tucker.rope<theta = 1.0e4, width = 8, repeat = 0, style = half>} { return }

// -----

// Tests that: the pairing style is half or interleaved.
// expected-error @+2 {{expected ::mlir::tucker::RopeStyle to be one of: half, interleaved}}
// expected-error @+1 {{failed to parse Tucker_RopeAttr parameter 'style'}}
func.func @rope_style() attributes {r = #tucker.rope<theta = 1.0e4, width = 8, style = pairs>} { return }

// -----

// Tests that: ranks are triples.
// expected-error @+1 {{pre ranks must be a triple [head, query, key], got 2 entries}}
func.func @ranks_pair() attributes {r = #tucker.ranks<[4, 64], [4, 64, 32]>} { return }

// -----

// Tests that: ranks are positive.
// expected-error @+1 {{post ranks must be positive, got 0}}
func.func @ranks_zero() attributes {r = #tucker.ranks<[4, 64, 32], [4, 0, 32]>} { return }

// -----

// Tests that: every key block of a selector is read.
// expected-error @+1 {{selector key block 1 is read by no head}}
func.func @selector_gap() attributes {s = #tucker.selector<head_dim = 16, groups = [0, 2]>} { return }

// -----

// Tests that: selector groups are non-negative.
// expected-error @+1 {{selector group of head 1 must be non-negative, got -1}}
func.func @selector_negative() attributes {s = #tucker.selector<head_dim = 16, groups = [0, -1]>} { return }

// -----

// Tests that: selector widths are positive.
// expected-error @+1 {{selector value_dim must be positive, got 0}}
func.func @selector_value_dim() attributes {s = #tucker.selector<head_dim = 16, groups = [0], value_dim = 0>} { return }

// -----

// Tests that: the head width of a selector is positive.
// expected-error @+1 {{selector head_dim must be positive, got 0}}
func.func @selector_head_dim() attributes {s = #tucker.selector<head_dim = 0, groups = [0]>} { return }

// -----

// Tests that: a norm's epsilon is positive.
// expected-error @+1 {{rms_norm epsilon must be finite and positive, got -1}}
func.func @norm_eps() attributes {n = #tucker.rms_norm<epsilon = -1.0, width = 8>} { return }

// -----

// Tests that: a norm covers at least one dim.
// expected-error @+1 {{rms_norm width must be positive, got 0}}
func.func @norm_width() attributes {n = #tucker.rms_norm<epsilon = 1.0e-6, width = 0>} { return }

// -----

// Tests that: four consumer warpgroups do not exist.
// expected-error @+1 {{consumers = 4 must be 2 or 3 (consumer warpgroups)}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = false, consumers = 4, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: decode runs two consumer warpgroups.
// expected-error @+1 {{a decode schedule runs 2 consumer warpgroups, got 3}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = true, consumers = 3, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: heads per tile are a power of two.
// expected-error @+1 {{heads_per_tile = 3 must be a power of two up to the query tile's 128 rows}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 3, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: keys per tile are a multiple of 16 in [32, 256].
// expected-error @+1 {{keys_per_tile = 40 must be 0 (the largest that fits) or a multiple of 16 in [32, 256]}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 40, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: the decode kernel's key tiles are its own.
// expected-error @+1 {{a decode schedule reads 64-key tiles; keys_per_tile must be 0, got 64}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = true, consumers = 2, heads_per_tile = 1, keys_per_tile = 64, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: splits belong to decode.
// expected-error @+1 {{kv_splits = 4 splits the keys of a decode schedule only}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 4, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: the split count is bounded.
// expected-error @+1 {{kv_splits = 70000 must be in [0, 65535] (0: planned at launch)}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = true, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 70000, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: the SM count is positive.
// expected-error @+1 {{sm_count = 0 must be in [1, 4096]}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 0, ping_pong = true, rope_kernel = true, dependent_launch = false>} { return }

// -----

// Tests that: only decode kernels wait for the previous grid, so only they launch dependent.
// expected-error @+1 {{dependent_launch needs a decode schedule (its kernels wait for the previous grid themselves)}}
func.func @schedule_attr() attributes {s = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = true>} { return }

// -----

// Tests that: the backward schedule's tiles are multiples of 16 up to 256.
// expected-error @+1 {{keys_per_tile = 100 must be a multiple of 16 in [16, 256]}}
func.func @backward_schedule_attr() attributes {s = #tucker.flash_backward_schedule<keys_per_tile = 100, queries_per_tile = 64, head_splits = 1, ordered_dq = false>} { return }

// -----

// Tests that: a backward schedule of 16-row query steps and 256-key tiles is a valid attribute (what the kernels run is --tucker-gpu-configure's to check).
func.func @backward_schedule_attr() attributes {s = #tucker.flash_backward_schedule<keys_per_tile = 256, queries_per_tile = 16, head_splits = 1, ordered_dq = false>} { return }

// -----

// Tests that: a backward schedule's query step is positive.
// expected-error @+1 {{queries_per_tile = 0 must be a multiple of 16 in [16, 256]}}
func.func @backward_schedule_attr() attributes {s = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 0, head_splits = 1, ordered_dq = false>} { return }

// -----

// Tests that: the heads packed in a tile divide the group (Hq / Hkv = 4).
func.func @schedule_op(%q: tensor<1x8x64x64xbf16>, %k: tensor<1x2x64x64xbf16>, %v: tensor<1x2x64x64xbf16>) -> tensor<1x8x64x64xbf16> {
  // expected-error @+1 {{schedule: heads_per_tile = 8 must divide Hq / Hkv = 4 and fit the query tile's 128 rows}}
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 8, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} : tensor<1x8x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x8x64x64xbf16>
  return %o : tensor<1x8x64x64xbf16>
}

// -----

// Tests that: decode takes one query tile: a static Nq of at most 64.
func.func @schedule_op(%q: tensor<1x8x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x8x128x64xbf16> {
  // expected-error @+1 {{schedule: decode needs a static Nq of at most 64 (one query tile), got 128}}
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = true, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} : tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x8x128x64xbf16>
  return %o : tensor<1x8x128x64xbf16>
}

// -----

// Tests that: three consumer warpgroups hold Dv <= 64 in their registers.
func.func @schedule_op(%q: tensor<1x8x128x128xbf16>, %k: tensor<1x2x128x128xbf16>, %v: tensor<1x2x128x128xbf16>) -> tensor<1x8x128x128xbf16> {
  // expected-error @+1 {{schedule: consumers = 3 needs Dv <= 64 (a consumer thread has 160 registers), got Dv = 128}}
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = false, consumers = 3, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>} : tensor<1x8x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16> -> tensor<1x8x128x128xbf16>
  return %o : tensor<1x8x128x128xbf16>
}

// -----

// Tests that: the dialect's discardable attributes are where the GPU
// pipeline puts them: tucker.persistent on a memref.alloc,
// tucker.workspace_bytes on a function, tucker.launch on a kernel.
module attributes {gpu.container_module} {
  func.func @discardable() attributes {tucker.workspace_bytes = 1024 : i64} {
    %a = memref.alloc() {tucker.persistent} : memref<4xi32>
    memref.dealloc %a : memref<4xi32>
    return
  }
  gpu.module @kernels {
    gpu.func @k() kernel attributes {tucker.launch = {threads = 384 : i64}} {
      gpu.return
    }
  }
}

// -----

// Tests that: tucker.persistent marks an allocation only.
func.func @persistent_elsewhere() {
  // expected-error @+1 {{'arith.constant' op 'tucker.persistent' is a unit attribute of memref.alloc (a workspace region the host function keeps between calls)}}
  %c = arith.constant {tucker.persistent} 0 : index
  return
}

// -----

// Tests that: a workspace size is a non-negative integer.
// expected-error @+1 {{'func.func' op 'tucker.workspace_bytes' is the non-negative integer size in bytes of a function's device workspace, got -8 : i64}}
func.func @negative_workspace() attributes {tucker.workspace_bytes = -8 : i64} { return }

// -----

// Tests that: the launch geometry belongs to a generated kernel.
// expected-error @+1 {{'func.func' op 'tucker.launch' is the launch geometry (a dictionary) of a generated kernel in a gpu.module}}
func.func @launch_elsewhere() attributes {tucker.launch = {threads = 384 : i64}} { return }

// -----

// Tests that: an unknown attribute in the dialect's namespace is named.
// expected-error @+1 {{'func.func' op 'tucker.persistant' is not an attribute of the tucker dialect (it has tucker.persistent, tucker.workspace_bytes and tucker.launch)}}
func.func @misspelled() attributes {tucker.persistant} { return }

// -----

// Tests that: a backward schedule has at least one head split.
// expected-error @+1 {{head_splits = 0 must be in [1, 1024]}}
func.func @backward_schedule_attr() attributes {s = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 0, ordered_dq = false>} { return }
