// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "value_column": 0}

// Tests that: absorbed MLA decode: one query against 777 keys, 16 heads packed into the 64-row tile.
func.func @flash(%q: tensor<2x16x1x576xbf16>, %k: tensor<2x1x777x576xbf16>) -> tensor<2x16x1x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [2, 1, 777, 512] [1, 1, 1, 1] : tensor<2x1x777x576xbf16> to tensor<2x1x777x512xbf16>
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x16x1x576xbf16>, tensor<2x1x777x576xbf16>, tensor<2x1x777x512xbf16> -> tensor<2x16x1x512xbf16>
  return %o : tensor<2x16x1x512xbf16>
}
