// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "lengths": [500, 0, 77]}

// Tests that: per-sequence key counts 500, 0 and 77 with causal alignment: the sequence without keys and the rows of the third that see none get dq = 0 (lse -inf), and keys past each length get dk = dv = 0.
func.func @flash_backward(%q: tensor<3x4x200x64xbf16>, %k: tensor<3x4x500x64xbf16>, %v: tensor<3x4x500x64xbf16>, %o: tensor<3x4x200x64xbf16>, %lse: tensor<3x4x200xf32>, %do: tensor<3x4x200x64xbf16>, %len: tensor<3xi32>) -> (tensor<3x4x200x64xbf16>, tensor<3x4x500x64xbf16>, tensor<3x4x500x64xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do lengths(%len : tensor<3xi32>) {causal} : tensor<3x4x200x64xbf16>, tensor<3x4x500x64xbf16>, tensor<3x4x500x64xbf16>, tensor<3x4x200x64xbf16>, tensor<3x4x200xf32>, tensor<3x4x200x64xbf16> -> tensor<3x4x200x64xbf16>, tensor<3x4x500x64xbf16>, tensor<3x4x500x64xbf16>
  return %dq, %dk, %dv : tensor<3x4x200x64xbf16>, tensor<3x4x500x64xbf16>, tensor<3x4x500x64xbf16>
}
