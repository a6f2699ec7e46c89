// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin kv-splits=1' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json --repeat 3 | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "value_column": 0, "lengths": [4096, 0, 1, 2049]}

// Tests that: one split per query tile (kv-splits=1): each CTA merges its own two warpgroups' partials without an arrival counter; ragged lengths over a shared r256 latent, including an empty sequence (output 0) and a single key.
func.func @flash(%q: tensor<4x16x1x256xbf16>, %k: tensor<4x1x4096x256xbf16>, %len: tensor<4xi32>) -> tensor<4x16x1x256xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [4, 1, 4096, 256] [1, 1, 1, 1] : tensor<4x1x4096x256xbf16> to tensor<4x1x4096x256xbf16>
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<4xi32>) {causal} : tensor<4x16x1x256xbf16>, tensor<4x1x4096x256xbf16>, tensor<4x1x4096x256xbf16> -> tensor<4x16x1x256xbf16>
  return %o : tensor<4x16x1x256xbf16>
}
