// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: a short GQA prefill at d = 64 takes three consumer warpgroups
// and packs 2 heads of 96 rows into the 192-row M tile (Nq = 90).
func.func @flash(%q: tensor<2x8x90x64xbf16>, %k: tensor<2x2x90x64xbf16>, %v: tensor<2x2x90x64xbf16>) -> tensor<2x8x90x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<2x8x90x64xbf16>, tensor<2x2x90x64xbf16>, tensor<2x2x90x64xbf16> -> tensor<2x8x90x64xbf16>
  return %o : tensor<2x8x90x64xbf16>
}
