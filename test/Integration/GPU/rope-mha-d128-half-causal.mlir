// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "rope": {"theta": 10000.0, "width": 128, "style": "half"}}

// Tests that: rope (HF rotate_half over the whole head) applied by the rotate kernel ahead of the flash kernel, causal.
func.func @flash(%q: tensor<2x4x300x128xbf16>, %k: tensor<2x4x300x128xbf16>, %v: tensor<2x4x300x128xbf16>) -> tensor<2x4x300x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal, rope = #tucker.rope<theta = 10000.0, width = 128, style = half>} : tensor<2x4x300x128xbf16>, tensor<2x4x300x128xbf16>, tensor<2x4x300x128xbf16> -> tensor<2x4x300x128xbf16>
  return %o : tensor<2x4x300x128xbf16>
}
