// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS {{.*}} same bits every run: True
// CASE: {"causal": true, "lengths": [1000, 333, 0], "deterministic": true}

// Tests that: a deterministic backward (dQ added in key-tile order, the two warpgroups of a CTA
// adding to distinct columns at d = 128) over GQA 8/2, causal, ragged lengths and 8 key tiles
// is within bf16 tolerance and gives the same bits on every run.
func.func @flash_backward(%q: tensor<3x8x700x128xbf16>, %k: tensor<3x2x1000x128xbf16>, %v: tensor<3x2x1000x128xbf16>, %o: tensor<3x8x700x128xbf16>, %lse: tensor<3x8x700xf32>, %do: tensor<3x8x700x128xbf16>, %len: tensor<3xi32>) -> (tensor<3x8x700x128xbf16>, tensor<3x2x1000x128xbf16>, tensor<3x2x1000x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do lengths(%len : tensor<3xi32>) {causal, deterministic} : tensor<3x8x700x128xbf16>, tensor<3x2x1000x128xbf16>, tensor<3x2x1000x128xbf16>, tensor<3x8x700x128xbf16>, tensor<3x8x700xf32>, tensor<3x8x700x128xbf16> -> tensor<3x8x700x128xbf16>, tensor<3x2x1000x128xbf16>, tensor<3x2x1000x128xbf16>
  return %dq, %dk, %dv : tensor<3x8x700x128xbf16>, tensor<3x2x1000x128xbf16>, tensor<3x2x1000x128xbf16>
}
