// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "tucker", "heads": 8, "scale": 0.125, "causal": true, "query_bias": true, "out_bias": true}

// Tests that: a Tucker layer with a query bias and an output bias, head factors
// of full rank, causal.
func.func @layer(%x: tensor<2x200x256xbf16>, %u1: tensor<8x8xbf16>, %u2: tensor<256x128xbf16>, %u3: tensor<256x64xbf16>, %core: tensor<8x128x64xbf16>, %v1: tensor<8x8xbf16>, %v2: tensor<256x128xbf16>, %v3: tensor<256x64xbf16>, %core_out: tensor<8x128x64xbf16>, %bq: tensor<128xbf16>, %bo: tensor<256xbf16>) -> tensor<2x200x256xbf16> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %core),
         post(%v1, %v2, %v3, core %core_out) query_bias(%bq) out_bias(%bo)
      {ranks = #tucker.ranks<[8, 128, 64], [8, 128, 64]>, scale = 0.125 : f64, causal}
      : (tensor<2x200x256xbf16>, tensor<8x8xbf16>, tensor<256x128xbf16>, tensor<256x64xbf16>, tensor<8x128x64xbf16>, tensor<8x8xbf16>, tensor<256x128xbf16>, tensor<256x64xbf16>, tensor<8x128x64xbf16>, tensor<128xbf16>, tensor<256xbf16>) -> tensor<2x200x256xbf16>
  return %y : tensor<2x200x256xbf16>
}
