// RUN: tucker-opt %s -split-input-file -verify-diagnostics

// Regression tests of issue 8: sizes derived from attributes that overflow
// int64 (signed overflow, undefined behaviour found with UBSan) are refused
// by the verifiers with a diagnostic.

// Tests that: a rope whose end offset + stride*(repeat-1) + width overflows
// is refused by the attribute verifier.
func.func @rope_end_overflows(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @below {{rope rotates dims up to offset + stride*(repeat-1) + width, which overflows a 64-bit size (offset 9223372036854775800, stride 4, repeat 2, width 4)}}
  %o = tucker.rope %q {rope = #tucker.rope<theta = 1.0e4, width = 4, offset = 9223372036854775800, repeat = 2, style = half>} : tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// Tests that: a rope whose stride*(repeat-1) overflows is refused.
func.func @rope_span_overflows(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @below {{overflows a 64-bit size (offset 0, stride 4, repeat 4611686018427387904, width 4)}}
  %o = tucker.flash %q, %k, %v {rope = #tucker.rope<theta = 1.0e4, width = 4, offset = 0, repeat = 4611686018427387904, stride = 4, style = half>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// Tests that: qk_nope_head_dim + qk_rope_head_dim overflowing is refused.
func.func @mla_qk_width_overflows(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>,
                                  %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>,
                                  %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>)
    -> tensor<1x8x64xf32> {
  // expected-error @below {{qk_nope_head_dim+qk_rope_head_dim = 9223372036854775807 + 4 overflows a 64-bit size}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64,
       qk_nope_head_dim = 9223372036854775807 : i64, qk_rope_head_dim = 4 : i64,
       v_head_dim = 8 : i64, norm_epsilon = 1.0e-5 : f64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>,
         tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: num_heads * (qk_nope_head_dim + qk_rope_head_dim) overflowing
// is refused.
func.func @mla_heads_overflow(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>,
                              %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>,
                              %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>)
    -> tensor<1x8x64xf32> {
  // expected-error @below {{num_heads*(qk_nope_head_dim+qk_rope_head_dim) = 4611686018427387904 * 12 overflows a 64-bit size}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4611686018427387904 : i64, kv_lora_rank = 16 : i64,
       qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64,
       v_head_dim = 8 : i64, norm_epsilon = 1.0e-5 : f64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>,
         tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: kv_lora_rank + qk_rope_head_dim overflowing is refused.
func.func @mla_kv_a_overflows(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>,
                              %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>,
                              %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>)
    -> tensor<1x8x64xf32> {
  // expected-error @below {{kv_lora_rank+qk_rope_head_dim = 9223372036854775807 + 4 overflows a 64-bit size}}
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 9223372036854775807 : i64,
       qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64,
       v_head_dim = 8 : i64, norm_epsilon = 1.0e-5 : f64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>,
         tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: num_heads * value_dim of a GQA output projection overflowing
// is refused (value_dim comes from wv, num_heads / num_kv_heads is large).
func.func @gqa_out_rows_overflow(%x: tensor<1x4x8xf32>, %wq: tensor<8x4611686018427387904xf32>,
                                 %wk: tensor<8x1xf32>, %wv: tensor<8x4xf32>,
                                 %wo: tensor<4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @below {{num_heads*value_dim = 4611686018427387904 * 4 overflows a 64-bit size}}
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 4611686018427387904 : i64, num_kv_heads = 1 : i64}
      : (tensor<1x4x8xf32>, tensor<8x4611686018427387904xf32>, tensor<8x1xf32>, tensor<8x4xf32>,
         tensor<4x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Tests that: a selector whose heads*head_dim overflows is refused.
func.func @selector_overflow(%x: tensor<1x4x8xf32>, %u1: tensor<2x2xf32>, %u2: tensor<8x4xf32>,
                             %u3: tensor<8x4xf32>) -> tensor<1x4x8xf32> {
  // expected-error @below {{selector heads*head_dim = 2 * 4611686018427387904 overflows a 64-bit size}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %u2, %u3)
      {ranks = #tucker.ranks<[2, 4, 4], [2, 4, 4]>,
       selector = #tucker.selector<head_dim = 4611686018427387904, groups = [0, 1]>}
      : (tensor<1x4x8xf32>, tensor<2x2xf32>, tensor<8x4xf32>, tensor<8x4xf32>,
         tensor<2x2xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Tests that: a selector group of INT64_MAX (whose max + 1 overflowed) is
// refused as an unread key block.
func.func @selector_group_max(%x: tensor<1x4x8xf32>, %u1: tensor<2x2xf32>, %u2: tensor<8x4xf32>,
                              %u3: tensor<8x4xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+3 {{selector key block 1 is read by no head}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %u2, %u3)
      {ranks = #tucker.ranks<[2, 4, 4], [2, 4, 4]>,
       selector = #tucker.selector<head_dim = 2, groups = [0, 9223372036854775807]>}
      : (tensor<1x4x8xf32>, tensor<2x2xf32>, tensor<8x4xf32>, tensor<8x4xf32>,
         tensor<2x2xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}
