// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin consumer-warpgroups=3 ping-pong=false keys-per-tile=160' -o %t.so --signature=%t.json
// RUN: %python %S/check_flash.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"causal": true}

// Tests that: three consumer warpgroups without ping-pong, 160-key tiles,
// MHA d = 64, Nq = 300 < Nk = 777, causal (bottom-right aligned).
func.func @flash(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x4x777x64xbf16>, %v: tensor<1x4x777x64xbf16>) -> tensor<1x4x300x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x4x300x64xbf16>, tensor<1x4x777x64xbf16>, tensor<1x4x777x64xbf16> -> tensor<1x4x300x64xbf16>
  return %o : tensor<1x4x300x64xbf16>
}
