// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "rope": {"theta": 10000.0, "width": 64, "offset": 128, "style": "half"}, "value_column": 0}

// Tests that: MLA-like latent: rope on the last 64 of 192 dims, v = k[..., :128] read from the K tile (unrotated).
func.func @flash(%q: tensor<1x8x600x192xbf16>, %k: tensor<1x1x600x192xbf16>) -> tensor<1x8x600x128xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, 600, 128] [1, 1, 1, 1] : tensor<1x1x600x192xbf16> to tensor<1x1x600x128xbf16>
  %o = tucker.flash %q, %k, %v {causal, rope = #tucker.rope<theta = 10000.0, width = 64, offset = 128, style = half>} : tensor<1x8x600x192xbf16>, tensor<1x1x600x192xbf16>, tensor<1x1x600x128xbf16> -> tensor<1x8x600x128xbf16>
  return %o : tensor<1x8x600x128xbf16>
}
