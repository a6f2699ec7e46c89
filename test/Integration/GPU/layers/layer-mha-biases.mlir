// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "mha", "heads": 4, "causal": false}

// Tests that: an nn.MultiheadAttention layer with all four biases (d 256, 4
// heads of 64, N 300: tail tiles) runs whole on the GPU.
func.func @layer(%x: tensor<2x300x256xbf16>, %wq: tensor<256x256xbf16>, %wk: tensor<256x256xbf16>, %wv: tensor<256x256xbf16>, %wo: tensor<256x256xbf16>, %bq: tensor<256xbf16>, %bk: tensor<256xbf16>, %bv: tensor<256xbf16>, %bo: tensor<256xbf16>) -> tensor<2x300x256xbf16> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo) {num_heads = 4 : i64}
      : (tensor<2x300x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>, tensor<256xbf16>, tensor<256xbf16>, tensor<256xbf16>, tensor<256xbf16>) -> tensor<2x300x256xbf16>
  return %y : tensor<2x300x256xbf16>
}
