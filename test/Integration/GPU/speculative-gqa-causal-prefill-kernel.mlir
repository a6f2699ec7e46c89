// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin decode=off' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: the 128-row kernel (decode=off) on a decode shape: 16 heads on 4 kv heads, 5 queries, heads packed into the M tile.
func.func @flash(%q: tensor<2x16x5x128xbf16>, %k: tensor<2x4x700x128xbf16>, %v: tensor<2x4x700x128xbf16>) -> tensor<2x16x5x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x16x5x128xbf16>, tensor<2x4x700x128xbf16>, tensor<2x4x700x128xbf16> -> tensor<2x16x5x128xbf16>
  return %o : tensor<2x16x5x128xbf16>
}
