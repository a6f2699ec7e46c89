// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: Dqk = 160 != Dv = 96, GQA 2, causal.
func.func @flash(%q: tensor<1x4x257x160xbf16>, %k: tensor<1x2x257x160xbf16>, %v: tensor<1x2x257x96xbf16>) -> tensor<1x4x257x96xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x4x257x160xbf16>, tensor<1x2x257x160xbf16>, tensor<1x2x257x96xbf16> -> tensor<1x4x257x96xbf16>
  return %o : tensor<1x4x257x96xbf16>
}
