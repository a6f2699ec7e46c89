// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: the backward of a causal MHA flash (D 128, bf16, a tail tile of 1000 = 7·128 + 104 keys and 15·64 + 40 queries).
func.func @flash_backward(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x8x1000x128xbf16>, %v: tensor<2x8x1000x128xbf16>, %o: tensor<2x8x1000x128xbf16>, %lse: tensor<2x8x1000xf32>, %do: tensor<2x8x1000x128xbf16>) -> (tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal} : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x128xbf16> -> tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
  return %dq, %dk, %dv : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
}
