// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: MHA decode (Nq = 1) over 4099 keys: 8 CTAs before splitting, so the key sequence is split across CTAs and merged by the combine kernel; a partial last tile.
func.func @flash(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x4099x128xbf16>, %v: tensor<2x4x4099x128xbf16>) -> tensor<2x4x1x128xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<2x4x1x128xbf16>, tensor<2x4x4099x128xbf16>, tensor<2x4x4099x128xbf16> -> tensor<2x4x1x128xbf16>
  return %o : tensor<2x4x1x128xbf16>
}
