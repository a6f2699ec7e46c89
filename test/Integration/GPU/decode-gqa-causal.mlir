// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: decode: Nq = 1 against 1000 keys, 4 query heads per kv head packed into the 64-row M tile of the split-KV kernel.
func.func @flash(%q: tensor<3x32x1x128xbf16>, %k: tensor<3x8x1000x128xbf16>, %v: tensor<3x8x1000x128xbf16>) -> tensor<3x32x1x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<3x32x1x128xbf16>, tensor<3x8x1000x128xbf16>, tensor<3x8x1000x128xbf16> -> tensor<3x32x1x128xbf16>
  return %o : tensor<3x32x1x128xbf16>
}
