// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "lengths": [2048, 1, 0, 1237]}

// Tests that: ragged decode: per-sequence key counts 2048, 1, 0 (a row that sees nothing: 0) and 1237 over a 2048-key cache, GQA 32/8, split-KV.
func.func @flash(%q: tensor<4x32x1x128xbf16>, %k: tensor<4x8x2048x128xbf16>, %v: tensor<4x8x2048x128xbf16>, %len: tensor<4xi32>) -> tensor<4x32x1x128xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<4xi32>) {causal} : tensor<4x32x1x128xbf16>, tensor<4x8x2048x128xbf16>, tensor<4x8x2048x128xbf16> -> tensor<4x32x1x128xbf16>
  return %o : tensor<4x32x1x128xbf16>
}
