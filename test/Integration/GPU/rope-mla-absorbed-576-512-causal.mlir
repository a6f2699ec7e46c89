// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "rope": {"theta": 10000.0, "width": 64, "offset": 512, "style": "interleaved"}, "value_column": 0}

// Tests that: absorbed MLA with its decoupled rope (interleaved, the last 64 of 576 dims) on the
// fly in the split-O kernel: Q rotated by both warpgroups, each K tile by the warpgroup that
// computes its S, before P reuses that rope chunk.
func.func @flash(%q: tensor<1x16x300x576xbf16>, %k: tensor<1x1x300x576xbf16>) -> tensor<1x16x300x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, 300, 512] [1, 1, 1, 1] : tensor<1x1x300x576xbf16> to tensor<1x1x300x512xbf16>
  %o = tucker.flash %q, %k, %v {causal, rope = #tucker.rope<theta = 10000.0, width = 64, offset = 512, style = interleaved>} : tensor<1x16x300x576xbf16>, tensor<1x1x300x576xbf16>, tensor<1x1x300x512xbf16> -> tensor<1x16x300x512xbf16>
  return %o : tensor<1x16x300x512xbf16>
}
