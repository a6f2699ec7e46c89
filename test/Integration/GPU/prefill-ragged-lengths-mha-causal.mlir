// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "lengths": [500, 300, 17]}

// Tests that: the 128-row prefill kernel honors lengths: 300 queries aligned with the last of 500, 300 and 17 valid keys.
func.func @flash(%q: tensor<3x4x300x128xbf16>, %k: tensor<3x4x500x128xbf16>, %v: tensor<3x4x500x128xbf16>, %len: tensor<3xi32>) -> tensor<3x4x300x128xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<3xi32>) {causal} : tensor<3x4x300x128xbf16>, tensor<3x4x500x128xbf16>, tensor<3x4x500x128xbf16> -> tensor<3x4x300x128xbf16>
  return %o : tensor<3x4x300x128xbf16>
}
