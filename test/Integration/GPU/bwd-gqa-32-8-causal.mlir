// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash_backward.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: GQA 32/8 (D 128, causal): dk and dv summed over the 4 query heads of each kv head.
func.func @flash_backward(%q: tensor<2x32x1024x128xbf16>, %k: tensor<2x8x1024x128xbf16>, %v: tensor<2x8x1024x128xbf16>, %o: tensor<2x32x1024x128xbf16>, %lse: tensor<2x32x1024xf32>, %do: tensor<2x32x1024x128xbf16>) -> (tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>, tensor<2x8x1024x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal} : tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>, tensor<2x8x1024x128xbf16>, tensor<2x32x1024x128xbf16>, tensor<2x32x1024xf32>, tensor<2x32x1024x128xbf16> -> tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>, tensor<2x8x1024x128xbf16>
  return %dq, %dk, %dv : tensor<2x32x1024x128xbf16>, tensor<2x8x1024x128xbf16>, tensor<2x8x1024x128xbf16>
}
