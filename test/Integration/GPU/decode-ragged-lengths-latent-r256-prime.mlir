// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false, "value_column": 0, "lengths": [4099, 4096, 4097, 2, 1031]}

// Tests that: ragged decode of a shared 256-wide latent with prime and near-tile lengths (4099, 4096, 4097, 2, 1031).
func.func @flash(%q: tensor<5x16x1x256xbf16>, %k: tensor<5x1x4099x256xbf16>, %len: tensor<5xi32>) -> tensor<5x16x1x256xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [5, 1, 4099, 256] [1, 1, 1, 1] : tensor<5x1x4099x256xbf16> to tensor<5x1x4099x256xbf16>
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<5xi32>) : tensor<5x16x1x256xbf16>, tensor<5x1x4099x256xbf16>, tensor<5x1x4099x256xbf16> -> tensor<5x16x1x256xbf16>
  return %o : tensor<5x16x1x256xbf16>
}
