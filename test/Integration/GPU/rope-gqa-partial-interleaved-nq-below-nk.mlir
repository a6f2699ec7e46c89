// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true, "rope": {"theta": 500000.0, "width": 64, "style": "interleaved"}}

// Tests that: partial interleaved rope (64 of 128 dims), queries at positions i + Nk - Nq.
func.func @flash(%q: tensor<1x8x77x128xbf16>, %k: tensor<1x2x300x128xbf16>, %v: tensor<1x2x300x128xbf16>) -> tensor<1x8x77x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal, rope = #tucker.rope<theta = 500000.0, width = 64, style = interleaved>} : tensor<1x8x77x128xbf16>, tensor<1x2x300x128xbf16>, tensor<1x2x300x128xbf16> -> tensor<1x8x77x128xbf16>
  return %o : tensor<1x8x77x128xbf16>
}
