// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "mha", "heads": 2, "causal": true}

// Tests that: a causal MHA layer without biases, heads of 128.
func.func @layer(%x: tensor<2x200x256xbf16>, %wq: tensor<256x256xbf16>, %wk: tensor<256x256xbf16>, %wv: tensor<256x256xbf16>, %wo: tensor<256x256xbf16>) -> tensor<2x200x256xbf16> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 2 : i64, causal}
      : (tensor<2x200x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>) -> tensor<2x200x256xbf16>
  return %y : tensor<2x200x256xbf16>
}
