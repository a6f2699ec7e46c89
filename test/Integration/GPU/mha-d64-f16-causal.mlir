// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: f16, d = 64, causal.
func.func @flash(%q: tensor<1x4x333x64xf16>, %k: tensor<1x4x333x64xf16>, %v: tensor<1x4x333x64xf16>) -> tensor<1x4x333x64xf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x4x333x64xf16>, tensor<1x4x333x64xf16>, tensor<1x4x333x64xf16> -> tensor<1x4x333x64xf16>
  return %o : tensor<1x4x333x64xf16>
}
