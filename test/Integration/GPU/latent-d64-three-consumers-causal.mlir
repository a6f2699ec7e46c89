// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin consumer-warpgroups=3' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: three consumer warpgroups (192-row M tile, ring of turns),
// latent MQA (12 query heads on one kv head), d = 64, causal, N = 1000 (a
// partial last query tile and key tile).
func.func @flash(%q: tensor<2x12x1000x64xbf16>, %k: tensor<2x1x1000x64xbf16>, %v: tensor<2x1x1000x64xbf16>) -> tensor<2x12x1000x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x12x1000x64xbf16>, tensor<2x1x1000x64xbf16>, tensor<2x1x1000x64xbf16> -> tensor<2x12x1000x64xbf16>
  return %o : tensor<2x12x1000x64xbf16>
}
