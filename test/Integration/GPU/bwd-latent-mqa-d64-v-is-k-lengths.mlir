// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "v_from_k": 0, "lengths": [700, 129, 1]}

// Tests that: the backward of latent MQA with v = k (12 query heads on one latent of 64, the
// Tucker layers' attention) gives dq, dk and dv within bf16 tolerance with ragged lengths; keys
// past each length get dk = dv = 0.
func.func @flash_backward(%q: tensor<3x12x256x64xbf16>, %kv: tensor<3x1x700x64xbf16>, %o: tensor<3x12x256x64xbf16>, %lse: tensor<3x12x256xf32>, %do: tensor<3x12x256x64xbf16>, %len: tensor<3xi32>) -> (tensor<3x12x256x64xbf16>, tensor<3x1x700x64xbf16>, tensor<3x1x700x64xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %kv, %kv, %o, %lse, %do lengths(%len : tensor<3xi32>) {causal} : tensor<3x12x256x64xbf16>, tensor<3x1x700x64xbf16>, tensor<3x1x700x64xbf16>, tensor<3x12x256x64xbf16>, tensor<3x12x256xf32>, tensor<3x12x256x64xbf16> -> tensor<3x12x256x64xbf16>, tensor<3x1x700x64xbf16>, tensor<3x1x700x64xbf16>
  return %dq, %dk, %dv : tensor<3x12x256x64xbf16>, tensor<3x1x700x64xbf16>, tensor<3x1x700x64xbf16>
}
