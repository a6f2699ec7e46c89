// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "value_column": 0}

// Tests that: latent decode with a shared 256-wide latent (v = k): 16 heads in the M tile, V read out of the K tile, split-KV.
func.func @flash(%q: tensor<3x16x1x256xbf16>, %k: tensor<3x1x2500x256xbf16>) -> tensor<3x16x1x256xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [3, 1, 2500, 256] [1, 1, 1, 1] : tensor<3x1x2500x256xbf16> to tensor<3x1x2500x256xbf16>
  %o = tucker.flash %q, %k, %v {causal} : tensor<3x16x1x256xbf16>, tensor<3x1x2500x256xbf16>, tensor<3x1x2500x256xbf16> -> tensor<3x16x1x256xbf16>
  return %o : tensor<3x16x1x256xbf16>
}
