// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "tucker", "heads": 4, "scale": 0.125, "causal": true, "selector": {"head_dim": 64, "groups": [1, 0, 1, 2]}, "u1": "identity"}

// Tests that: a selector whose query heads read key blocks in any order
// (groups [1, 0, 1, 2]) runs on the GPU as MHA heads of 64 over copies of
// their key and value blocks, causal.
func.func @layer(%x: tensor<2x200x256xbf16>, %u2: tensor<256x256xbf16>, %u3: tensor<256x192xbf16>,
                 %v2: tensor<256x256xbf16>, %v3: tensor<256x192xbf16>) -> tensor<2x200x256xbf16> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xbf16>
  %y = tucker.attention %x, pre(%eye, %u2, %u3), post(%eye, %v2, %v3)
      {ranks = #tucker.ranks<[4, 256, 192], [4, 256, 192]>, causal,
       selector = #tucker.selector<head_dim = 64, groups = [1, 0, 1, 2]>}
      : (tensor<2x200x256xbf16>, tensor<4x4xbf16>, tensor<256x256xbf16>, tensor<256x192xbf16>,
         tensor<4x4xbf16>, tensor<256x256xbf16>, tensor<256x192xbf16>) -> tensor<2x200x256xbf16>
  return %y : tensor<2x200x256xbf16>
}
