// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin decode=off' -o %t2.so --signature=%t2.json
// RUN: %python %S/check_flash.py %s %t2.so %t2.json | FileCheck %s
// CASE: {"causal": true, "layout": "bnhd", "rope": {"theta": 10000.0, "width": 128, "style": "half"}}

// Tests that: [B, N, H, D] inputs with rope: the decode kernel (8 queries) rotates the strided tiles on the fly, and with decode=off the rotate kernel reads the strided q and k (head and row strides) before the 128-row kernel; output written [B, N, H, D].
func.func @flash(%qp: tensor<2x8x4x128xbf16>, %kp: tensor<2x700x4x128xbf16>, %vp: tensor<2x700x4x128xbf16>) -> tensor<2x8x4x128xbf16> {
  %eq = tensor.empty() : tensor<2x4x8x128xbf16>
  %ekv = tensor.empty() : tensor<2x4x700x128xbf16>
  %q = linalg.transpose ins(%qp : tensor<2x8x4x128xbf16>) outs(%eq : tensor<2x4x8x128xbf16>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%kp : tensor<2x700x4x128xbf16>) outs(%ekv : tensor<2x4x700x128xbf16>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%vp : tensor<2x700x4x128xbf16>) outs(%ekv : tensor<2x4x700x128xbf16>) permutation = [0, 2, 1, 3]
  %o = tucker.flash %q, %k, %v {causal, rope = #tucker.rope<theta = 10000.0, width = 128, style = half>} : tensor<2x4x8x128xbf16>, tensor<2x4x700x128xbf16>, tensor<2x4x700x128xbf16> -> tensor<2x4x8x128xbf16>
  %eo = tensor.empty() : tensor<2x8x4x128xbf16>
  %y = linalg.transpose ins(%o : tensor<2x4x8x128xbf16>) outs(%eo : tensor<2x8x4x128xbf16>) permutation = [0, 2, 1, 3]
  return %y : tensor<2x8x4x128xbf16>
}
