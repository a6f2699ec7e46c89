// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "layout": "bnhd"}

// Tests that: q, k, v given as [B, N, H, D] projections and transposed to heads around the flash (as --tucker-fold emits them) are read in place through strided tensor maps, and the output is written [B, N, H, D]; GQA 8/2, 300 positions.
func.func @flash(%qp: tensor<2x300x8x128xbf16>, %kp: tensor<2x300x2x128xbf16>, %vp: tensor<2x300x2x128xbf16>) -> tensor<2x300x8x128xbf16> {
  %eq = tensor.empty() : tensor<2x8x300x128xbf16>
  %ekv = tensor.empty() : tensor<2x2x300x128xbf16>
  %q = linalg.transpose ins(%qp : tensor<2x300x8x128xbf16>) outs(%eq : tensor<2x8x300x128xbf16>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%kp : tensor<2x300x2x128xbf16>) outs(%ekv : tensor<2x2x300x128xbf16>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%vp : tensor<2x300x2x128xbf16>) outs(%ekv : tensor<2x2x300x128xbf16>) permutation = [0, 2, 1, 3]
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x8x300x128xbf16>, tensor<2x2x300x128xbf16>, tensor<2x2x300x128xbf16> -> tensor<2x8x300x128xbf16>
  %eo = tensor.empty() : tensor<2x300x8x128xbf16>
  %y = linalg.transpose ins(%o : tensor<2x8x300x128xbf16>) outs(%eo : tensor<2x300x8x128xbf16>) permutation = [0, 2, 1, 3]
  return %y : tensor<2x300x8x128xbf16>
}
