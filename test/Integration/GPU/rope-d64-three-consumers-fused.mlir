// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin consumer-warpgroups=3 rope-kernel=false' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false, "rope": {"theta": 10000.0, "width": 64, "style": "half"}}

// Tests that: rope on the fly with three consumer warpgroups (Q rotated by
// each of the three, every K tile by all 384 consumer threads), GQA 8/2,
// d = 64, N = 450.
func.func @flash(%q: tensor<1x8x450x64xbf16>, %k: tensor<1x2x450x64xbf16>, %v: tensor<1x2x450x64xbf16>) -> tensor<1x8x450x64xbf16> {
  %o = tucker.flash %q, %k, %v {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>} : tensor<1x8x450x64xbf16>, tensor<1x2x450x64xbf16>, tensor<1x2x450x64xbf16> -> tensor<1x8x450x64xbf16>
  return %o : tensor<1x8x450x64xbf16>
}
