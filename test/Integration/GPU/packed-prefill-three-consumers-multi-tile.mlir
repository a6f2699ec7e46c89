// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin consumer-warpgroups=3 heads-per-tile=4' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: three consumer warpgroups with 4 heads of 48 positions in the
// 192-row M tile, each head's 300 positions over 7 tiles (the last partial),
// causal: the rows of one tile sit at different positions of four heads.
func.func @flash(%q: tensor<2x12x300x64xbf16>, %k: tensor<2x1x300x64xbf16>, %v: tensor<2x1x300x64xbf16>) -> tensor<2x12x300x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x12x300x64xbf16>, tensor<2x1x300x64xbf16>, tensor<2x1x300x64xbf16> -> tensor<2x12x300x64xbf16>
  return %o : tensor<2x12x300x64xbf16>
}
