// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin kv-splits=4' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: decode with more queries than keys (Nq = 6, Nk = 3, causal): the first rows see no key and come out 0; splits with no tile write empty partials.
func.func @flash(%q: tensor<2x8x6x128xbf16>, %k: tensor<2x2x3x128xbf16>, %v: tensor<2x2x3x128xbf16>) -> tensor<2x8x6x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x8x6x128xbf16>, tensor<2x2x3x128xbf16>, tensor<2x2x3x128xbf16> -> tensor<2x8x6x128xbf16>
  return %o : tensor<2x8x6x128xbf16>
}
