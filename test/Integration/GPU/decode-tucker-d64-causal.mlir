// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: a Tucker [32, 128, 64]-shaped decode: 32 query heads on one 64-wide key latent with its own 64-wide value latent, 2 queries.
func.func @flash(%q: tensor<2x32x2x64xbf16>, %k: tensor<2x1x1537x64xbf16>, %v: tensor<2x1x1537x64xbf16>) -> tensor<2x32x2x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x32x2x64xbf16>, tensor<2x1x1537x64xbf16>, tensor<2x1x1537x64xbf16> -> tensor<2x32x2x64xbf16>
  return %o : tensor<2x32x2x64xbf16>
}
