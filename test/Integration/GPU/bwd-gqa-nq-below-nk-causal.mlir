// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: Nq < Nk causal (GQA 8/2): the 300 queries aligned with the last of 500 keys, so every query sees the first 201 keys and the rest form a triangle.
func.func @flash_backward(%q: tensor<2x8x300x128xbf16>, %k: tensor<2x2x500x128xbf16>, %v: tensor<2x2x500x128xbf16>, %o: tensor<2x8x300x128xbf16>, %lse: tensor<2x8x300xf32>, %do: tensor<2x8x300x128xbf16>) -> (tensor<2x8x300x128xbf16>, tensor<2x2x500x128xbf16>, tensor<2x2x500x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal} : tensor<2x8x300x128xbf16>, tensor<2x2x500x128xbf16>, tensor<2x2x500x128xbf16>, tensor<2x8x300x128xbf16>, tensor<2x8x300xf32>, tensor<2x8x300x128xbf16> -> tensor<2x8x300x128xbf16>, tensor<2x2x500x128xbf16>, tensor<2x2x500x128xbf16>
  return %dq, %dk, %dv : tensor<2x8x300x128xbf16>, tensor<2x2x500x128xbf16>, tensor<2x2x500x128xbf16>
}
