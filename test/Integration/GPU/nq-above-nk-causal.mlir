// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: Nq > Nk causal: the first 200 rows see no key and are 0.
func.func @flash(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x4x100x64xbf16>, %v: tensor<1x4x100x64xbf16>) -> tensor<1x4x300x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x4x300x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16> -> tensor<1x4x300x64xbf16>
  return %o : tensor<1x4x300x64xbf16>
}
