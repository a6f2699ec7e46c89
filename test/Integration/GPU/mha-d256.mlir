// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: d = 256 (48-key tiles).
func.func @flash(%q: tensor<1x2x500x256xbf16>, %k: tensor<1x2x500x256xbf16>, %v: tensor<1x2x500x256xbf16>) -> tensor<1x2x500x256xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x500x256xbf16>, tensor<1x2x500x256xbf16>, tensor<1x2x500x256xbf16> -> tensor<1x2x500x256xbf16>
  return %o : tensor<1x2x500x256xbf16>
}
