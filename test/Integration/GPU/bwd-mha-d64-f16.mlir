// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: the backward of a non-causal MHA flash with heads of 64 in f16.
func.func @flash_backward(%q: tensor<2x4x256x64xf16>, %k: tensor<2x4x256x64xf16>, %v: tensor<2x4x256x64xf16>, %o: tensor<2x4x256x64xf16>, %lse: tensor<2x4x256xf32>, %do: tensor<2x4x256x64xf16>) -> (tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do : tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>, tensor<2x4x256xf32>, tensor<2x4x256x64xf16> -> tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>
  return %dq, %dk, %dv : tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>, tensor<2x4x256x64xf16>
}
