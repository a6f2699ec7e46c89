// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin heads-per-tile=4' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: prefill with 4 heads per M tile (forced): 32 positions per head.
func.func @flash(%q: tensor<1x16x512x128xbf16>, %k: tensor<1x1x512x128xbf16>, %v: tensor<1x1x512x128xbf16>) -> tensor<1x16x512x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x16x512x128xbf16>, tensor<1x1x512x128xbf16>, tensor<1x1x512x128xbf16> -> tensor<1x16x512x128xbf16>
  return %o : tensor<1x16x512x128xbf16>
}
