// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "gqa", "heads": 4, "kv_heads": 1, "theta": 500000.0, "causal": false}

// Tests that: MQA (4 query heads, one kv head) with RoPE (θ 500000), not
// causal, N 130.
func.func @layer(%x: tensor<1x130x256xbf16>, %wq: tensor<256x256xbf16>, %wk: tensor<256x64xbf16>, %wv: tensor<256x64xbf16>, %wo: tensor<256x256xbf16>) -> tensor<1x130x256xbf16> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, num_kv_heads = 1 : i64, rope = #tucker.rope<theta = 500000.0, width = 64, style = half>}
      : (tensor<1x130x256xbf16>, tensor<256x256xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>, tensor<256x256xbf16>) -> tensor<1x130x256xbf16>
  return %y : tensor<1x130x256xbf16>
}
