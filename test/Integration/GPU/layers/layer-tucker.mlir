// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "tucker", "heads": 8, "scale": 0.125, "causal": false, "query_bias": false, "out_bias": false}

// Tests that: a Tucker layer with dense cores, ranks [4, 64, 64] both sides
// (latent MQA of 8 heads, qk 64, v 64), not causal.
func.func @layer(%x: tensor<2x300x256xbf16>, %u1: tensor<8x4xbf16>, %u2: tensor<256x64xbf16>, %u3: tensor<256x64xbf16>, %core: tensor<4x64x64xbf16>, %v1: tensor<8x4xbf16>, %v2: tensor<256x64xbf16>, %v3: tensor<256x64xbf16>, %core_out: tensor<4x64x64xbf16>) -> tensor<2x300x256xbf16> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %core),
         post(%v1, %v2, %v3, core %core_out)
      {ranks = #tucker.ranks<[4, 64, 64], [4, 64, 64]>, scale = 0.125 : f64}
      : (tensor<2x300x256xbf16>, tensor<8x4xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>, tensor<4x64x64xbf16>, tensor<8x4xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>, tensor<4x64x64xbf16>) -> tensor<2x300x256xbf16>
  return %y : tensor<2x300x256xbf16>
}
