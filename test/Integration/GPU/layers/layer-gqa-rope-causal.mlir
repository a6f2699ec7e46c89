// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "gqa", "heads": 8, "kv_heads": 2, "theta": 10000.0, "causal": true}

// Tests that: an HF Llama GQA layer (8 query heads, 2 kv heads of 64,
// rotate-half RoPE), causal.
func.func @layer(%x: tensor<2x256x512xbf16>, %wq: tensor<512x512xbf16>, %wk: tensor<512x128xbf16>, %wv: tensor<512x128xbf16>, %wo: tensor<512x512xbf16>) -> tensor<2x256x512xbf16> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 8 : i64, num_kv_heads = 2 : i64, causal, rope = #tucker.rope<theta = 10000.0, width = 64, style = half>}
      : (tensor<2x256x512xbf16>, tensor<512x512xbf16>, tensor<512x128xbf16>, tensor<512x128xbf16>, tensor<512x512xbf16>) -> tensor<2x256x512xbf16>
  return %y : tensor<2x256x512xbf16>
}
