// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS {{.*}} same bits every run: True
// CASE: {"causal": false, "deterministic": true}

// Tests that: a deterministic backward at d = 64, where both warpgroups of a CTA add to every
// dQ column (warpgroup 1 after warpgroup 0), over 16 key tiles and Nq > Nk, is within f16
// tolerance and gives the same bits on every run.
func.func @flash_backward(%q: tensor<2x4x2100x64xf16>, %k: tensor<2x4x2000x64xf16>, %v: tensor<2x4x2000x64xf16>, %o: tensor<2x4x2100x64xf16>, %lse: tensor<2x4x2100xf32>, %do: tensor<2x4x2100x64xf16>) -> (tensor<2x4x2100x64xf16>, tensor<2x4x2000x64xf16>, tensor<2x4x2000x64xf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {deterministic} : tensor<2x4x2100x64xf16>, tensor<2x4x2000x64xf16>, tensor<2x4x2000x64xf16>, tensor<2x4x2100x64xf16>, tensor<2x4x2100xf32>, tensor<2x4x2100x64xf16> -> tensor<2x4x2100x64xf16>, tensor<2x4x2000x64xf16>, tensor<2x4x2000x64xf16>
  return %dq, %dk, %dv : tensor<2x4x2100x64xf16>, tensor<2x4x2000x64xf16>, tensor<2x4x2000x64xf16>
}
