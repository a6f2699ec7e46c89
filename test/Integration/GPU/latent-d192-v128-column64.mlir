// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false, "value_column": 64}

// Tests that: v = k[..., 64:192]: a slice from the second chunk.
func.func @flash(%q: tensor<1x8x300x192xbf16>, %k: tensor<1x1x300x192xbf16>) -> tensor<1x8x300x128xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 64] [1, 1, 300, 128] [1, 1, 1, 1] : tensor<1x1x300x192xbf16> to tensor<1x1x300x128xbf16>
  %o = tucker.flash %q, %k, %v : tensor<1x8x300x192xbf16>, tensor<1x1x300x192xbf16>, tensor<1x1x300x128xbf16> -> tensor<1x8x300x128xbf16>
  return %o : tensor<1x8x300x128xbf16>
}
