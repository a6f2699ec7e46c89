// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: an odd width: 96 = 64 + a zero-filled half chunk.
func.func @flash(%q: tensor<1x4x300x96xbf16>, %k: tensor<1x4x300x96xbf16>, %v: tensor<1x4x300x96xbf16>) -> tensor<1x4x300x96xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x4x300x96xbf16>, tensor<1x4x300x96xbf16>, tensor<1x4x300x96xbf16> -> tensor<1x4x300x96xbf16>
  return %o : tensor<1x4x300x96xbf16>
}
