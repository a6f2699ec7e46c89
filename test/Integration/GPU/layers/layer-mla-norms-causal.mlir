// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "mla", "heads": 4, "q_lora_rank": 96, "kv_lora_rank": 128, "nope": 64, "rope": 64, "v": 64, "theta": 10000.0, "interleave": true, "causal": true}

// Tests that: an HF DeepseekV3 MLA layer with query LoRA, both latent RMS norms
// and decoupled interleaved RoPE (latent MQA: qk 128 + 64, v 128), causal.
func.func @layer(%x: tensor<2x160x256xbf16>, %wq_a: tensor<256x96xbf16>, %q_norm: tensor<96xbf16>, %wq_b: tensor<96x512xbf16>, %wkv_a: tensor<256x192xbf16>, %kv_norm: tensor<128xbf16>, %wkv_b: tensor<128x512xbf16>, %wo: tensor<256x256xbf16>) -> tensor<2x160x256xbf16> {
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 96 : i64, kv_lora_rank = 128 : i64, qk_nope_head_dim = 64 : i64, qk_rope_head_dim = 64 : i64, v_head_dim = 64 : i64, causal, rope = #tucker.rope<theta = 10000.0, width = 64, offset = 64, style = interleaved>}
      : (tensor<2x160x256xbf16>, tensor<256x96xbf16>, tensor<96xbf16>, tensor<96x512xbf16>, tensor<256x192xbf16>, tensor<128xbf16>, tensor<128x512xbf16>, tensor<256x256xbf16>) -> tensor<2x160x256xbf16>
  return %y : tensor<2x160x256xbf16>
}
