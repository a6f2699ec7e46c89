// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: Nq = 5 against 300 keys (bottom-right causal), 8 heads packed.
func.func @flash(%q: tensor<2x16x5x128xbf16>, %k: tensor<2x2x300x128xbf16>, %v: tensor<2x2x300x128xbf16>) -> tensor<2x16x5x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x16x5x128xbf16>, tensor<2x2x300x128xbf16>, tensor<2x2x300x128xbf16> -> tensor<2x16x5x128xbf16>
  return %o : tensor<2x16x5x128xbf16>
}
