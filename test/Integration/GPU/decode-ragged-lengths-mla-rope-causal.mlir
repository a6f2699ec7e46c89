// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "value_column": 0, "rope": {"theta": 10000.0, "width": 64, "offset": 512, "style": "interleaved"}, "lengths": [999, 64, 5]}

// Tests that: ragged absorbed-MLA decode with 2 queries per sequence and the decoupled RoPE on the last 64 latent columns: queries at positions L - 2, L - 1 of their own sequence.
func.func @flash(%q: tensor<3x16x2x576xbf16>, %k: tensor<3x1x1000x576xbf16>, %len: tensor<3xi32>) -> tensor<3x16x2x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [3, 1, 1000, 512] [1, 1, 1, 1] : tensor<3x1x1000x576xbf16> to tensor<3x1x1000x512xbf16>
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<3xi32>) {causal, rope = #tucker.rope<theta = 10000.0, width = 64, offset = 512, style = interleaved>} : tensor<3x16x2x576xbf16>, tensor<3x1x1000x576xbf16>, tensor<3x1x1000x512xbf16> -> tensor<3x16x2x512xbf16>
  return %o : tensor<3x16x2x512xbf16>
}
