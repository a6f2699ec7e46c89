// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin kv-splits=64' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json --repeat 3 | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "lengths": [5000, 3, 0]}

// Tests that: many splits merged in the kernel: kv-splits=64 over 79 key tiles gives 40 splits of 2 tiles (80 partials per row, 10 groups of the merge), GQA 16/4 with 3 queries per sequence and Dv = 96 (column pairs past 96 neither loaded nor stored); ragged lengths leave most splits of the short sequences without a tile. Repeated calls reuse the counters the previous call set back to 0.
func.func @flash(%q: tensor<3x16x3x96xbf16>, %k: tensor<3x4x5000x96xbf16>, %v: tensor<3x4x5000x96xbf16>, %len: tensor<3xi32>) -> tensor<3x16x3x96xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<3xi32>) {causal} : tensor<3x16x3x96xbf16>, tensor<3x4x5000x96xbf16>, tensor<3x4x5000x96xbf16> -> tensor<3x16x3x96xbf16>
  return %o : tensor<3x16x3x96xbf16>
}
