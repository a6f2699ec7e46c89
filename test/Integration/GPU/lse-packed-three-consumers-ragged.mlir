// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "lengths": [300, 0, 90]}

// Tests that: the log-sum-exp of heads packed into a tile by three consumer warpgroups, with ragged lengths: -inf for every row of the sequence with no key and for the rows that see none (Nq > L), where the output is 0.
func.func @flash(%q: tensor<3x8x200x64xf16>, %k: tensor<3x2x300x64xf16>, %v: tensor<3x2x300x64xf16>, %len: tensor<3xi32>) -> (tensor<3x8x200x64xf16>, tensor<3x8x200xf32>) {
  %o, %lse = tucker.flash %q, %k, %v lengths(%len : tensor<3xi32>) {causal} : tensor<3x8x200x64xf16>, tensor<3x2x300x64xf16>, tensor<3x2x300x64xf16> -> tensor<3x8x200x64xf16>, tensor<3x8x200xf32>
  return %o, %lse : tensor<3x8x200x64xf16>, tensor<3x8x200xf32>
}
