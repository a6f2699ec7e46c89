// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: causal MHA: diagonal tiles masked, tiles past it skipped.
func.func @flash(%q: tensor<2x4x777x128xbf16>, %k: tensor<2x4x777x128xbf16>, %v: tensor<2x4x777x128xbf16>) -> tensor<2x4x777x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x4x777x128xbf16>, tensor<2x4x777x128xbf16>, tensor<2x4x777x128xbf16> -> tensor<2x4x777x128xbf16>
  return %o : tensor<2x4x777x128xbf16>
}
