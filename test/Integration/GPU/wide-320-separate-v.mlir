// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: an odd wide width with its own v: Dqk = Dv = 320 (192 + 128 columns per warpgroup), odd tile count.
func.func @flash(%q: tensor<1x2x200x320xbf16>, %k: tensor<1x2x200x320xbf16>, %v: tensor<1x2x200x320xbf16>) -> tensor<1x2x200x320xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x200x320xbf16>, tensor<1x2x200x320xbf16>, tensor<1x2x200x320xbf16> -> tensor<1x2x200x320xbf16>
  return %o : tensor<1x2x200x320xbf16>
}
