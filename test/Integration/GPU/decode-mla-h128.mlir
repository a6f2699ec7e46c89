// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false, "value_column": 0}

// Tests that: absorbed MLA decode with 128 heads (576/512, v = k[..., :512]): the split-O kernel with key-sequence splits, two 64-head M tiles.
func.func @flash(%q: tensor<2x128x1x576xbf16>, %k: tensor<2x1x3000x576xbf16>) -> tensor<2x128x1x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [2, 1, 3000, 512] [1, 1, 1, 1] : tensor<2x1x3000x576xbf16> to tensor<2x1x3000x512xbf16>
  %o = tucker.flash %q, %k, %v : tensor<2x128x1x576xbf16>, tensor<2x1x3000x576xbf16>, tensor<2x1x3000x512xbf16> -> tensor<2x128x1x512xbf16>
  return %o : tensor<2x128x1x512xbf16>
}
