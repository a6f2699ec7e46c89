// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "value_column": 0}

// Tests that: latent MQA r = 256 with v = k (shared latent, read from the K tile).
func.func @flash(%q: tensor<1x16x1024x256xbf16>, %k: tensor<1x1x1024x256xbf16>) -> tensor<1x16x1024x256xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, 1024, 256] [1, 1, 1, 1] : tensor<1x1x1024x256xbf16> to tensor<1x1x1024x256xbf16>
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x16x1024x256xbf16>, tensor<1x1x1024x256xbf16>, tensor<1x1x1024x256xbf16> -> tensor<1x16x1024x256xbf16>
  return %o : tensor<1x16x1024x256xbf16>
}
