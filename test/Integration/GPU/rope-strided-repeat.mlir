// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false, "rope": {"theta": 10000.0, "width": 32, "repeat": 2, "stride": 64, "style": "half"}}

// Tests that: a strided rope: the first 32 dims of each 64-dim block rotated.
func.func @flash(%q: tensor<1x2x200x128xbf16>, %k: tensor<1x2x200x128xbf16>, %v: tensor<1x2x200x128xbf16>) -> tensor<1x2x200x128xbf16> {
  %o = tucker.flash %q, %k, %v {rope = #tucker.rope<theta = 10000.0, width = 32, repeat = 2, stride = 64, style = half>} : tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16> -> tensor<1x2x200x128xbf16>
  return %o : tensor<1x2x200x128xbf16>
}
