// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "mla", "heads": 4, "q_lora_rank": null, "kv_lora_rank": 128, "nope": 32, "rope": 32, "v": 64, "theta": 10000.0, "interleave": false, "causal": false}

// Tests that: MLA without query LoRA (wq_b straight from x), rotate-half RoPE,
// not causal.
func.func @layer(%x: tensor<1x96x256xbf16>, %wq_b: tensor<256x256xbf16>, %wkv_a: tensor<256x160xbf16>, %kv_norm: tensor<128xbf16>, %wkv_b: tensor<128x384xbf16>, %wo: tensor<256x256xbf16>) -> tensor<1x96x256xbf16> {
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 128 : i64, qk_nope_head_dim = 32 : i64, qk_rope_head_dim = 32 : i64, v_head_dim = 64 : i64, rope = #tucker.rope<theta = 10000.0, width = 32, offset = 32, style = half>}
      : (tensor<1x96x256xbf16>, tensor<256x256xbf16>, tensor<256x160xbf16>, tensor<128xbf16>, tensor<128x384xbf16>, tensor<256x256xbf16>) -> tensor<1x96x256xbf16>
  return %y : tensor<1x96x256xbf16>
}
