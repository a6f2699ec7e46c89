// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "value_column": 0}

// Tests that: absorbed MLA (Dqk = 576, Dv = 512, v = k[..., :512]): the split-O kernel, P exchanged through the rope chunk of K.
func.func @flash(%q: tensor<1x16x500x576xbf16>, %k: tensor<1x1x500x576xbf16>) -> tensor<1x16x500x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, 500, 512] [1, 1, 1, 1] : tensor<1x1x500x576xbf16> to tensor<1x1x500x512xbf16>
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x16x500x576xbf16>, tensor<1x1x500x576xbf16>, tensor<1x1x500x512xbf16> -> tensor<1x16x500x512xbf16>
  return %o : tensor<1x16x500x512xbf16>
}
