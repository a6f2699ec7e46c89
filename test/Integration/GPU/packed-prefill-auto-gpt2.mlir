// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": false}

// Tests that: the GPT-2-size latent MQA attention (12 query heads on one kv
// head, N = 1024, d = 64) with the automatic schedule: three consumers and
// 2 heads of 96 positions per 192-row tile (11 tiles per head pair).
func.func @flash(%q: tensor<2x12x1024x64xbf16>, %k: tensor<2x1x1024x64xbf16>, %v: tensor<2x1x1024x64xbf16>) -> tensor<2x12x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<2x12x1024x64xbf16>, tensor<2x1x1024x64xbf16>, tensor<2x1x1024x64xbf16> -> tensor<2x12x1024x64xbf16>
  return %o : tensor<2x12x1024x64xbf16>
}
