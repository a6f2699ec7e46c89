// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "v_from_k": 64}

// Tests that: the backward of a shared latent read in place (latent MQA: 8 query heads on one
// kv head, Dqk 128, v the columns 64..127 of k, which the kernel reads from its K tile instead
// of loading a V tile) gives dq, dk and dv within bf16 tolerance, causal with Nq < Nk.
func.func @flash_backward(%q: tensor<2x8x300x128xbf16>, %kv: tensor<2x1x520x128xbf16>, %o: tensor<2x8x300x64xbf16>, %lse: tensor<2x8x300xf32>, %do: tensor<2x8x300x64xbf16>) -> (tensor<2x8x300x128xbf16>, tensor<2x1x520x128xbf16>, tensor<2x1x520x64xbf16>) {
  %v = tensor.extract_slice %kv[0, 0, 0, 64] [2, 1, 520, 64] [1, 1, 1, 1] : tensor<2x1x520x128xbf16> to tensor<2x1x520x64xbf16>
  %dq, %dk, %dv = tucker.flash_backward %q, %kv, %v, %o, %lse, %do {causal} : tensor<2x8x300x128xbf16>, tensor<2x1x520x128xbf16>, tensor<2x1x520x64xbf16>, tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>, tensor<2x8x300x64xbf16> -> tensor<2x8x300x128xbf16>, tensor<2x1x520x128xbf16>, tensor<2x1x520x64xbf16>
  return %dq, %dk, %dv : tensor<2x8x300x128xbf16>, tensor<2x1x520x128xbf16>, tensor<2x1x520x64xbf16>
}
