// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin kv-splits=7' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: kv-splits=7 over 16 key tiles gives 6 splits of 3 tiles (the last one short), f16.
func.func @flash(%q: tensor<1x8x3x128xf16>, %k: tensor<1x2x1000x128xf16>, %v: tensor<1x2x1000x128xf16>) -> tensor<1x8x3x128xf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x8x3x128xf16>, tensor<1x2x1000x128xf16>, tensor<1x2x1000x128xf16> -> tensor<1x8x3x128xf16>
  return %o : tensor<1x8x3x128xf16>
}
