// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "tucker", "heads": 4, "scale": 0.125, "causal": false, "selector": {"head_dim": 64, "groups": [0, 1]}}

// Tests that: a selector with a head-mixing factor (4 heads from 2 slices,
// an argument) runs on the GPU as the dense core it stands for: latent MQA
// with a key of 2 blocks of 64.
func.func @layer(%x: tensor<2x200x256xbf16>, %u1: tensor<4x2xbf16>, %u2: tensor<256x128xbf16>,
                 %u3: tensor<256x128xbf16>, %v2: tensor<256x128xbf16>, %v3: tensor<256x128xbf16>)
    -> tensor<2x200x256xbf16> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %v2, %v3)
      {ranks = #tucker.ranks<[2, 128, 128], [2, 128, 128]>,
       selector = #tucker.selector<head_dim = 64, groups = [0, 1]>}
      : (tensor<2x200x256xbf16>, tensor<4x2xbf16>, tensor<256x128xbf16>, tensor<256x128xbf16>,
         tensor<4x2xbf16>, tensor<256x128xbf16>, tensor<256x128xbf16>) -> tensor<2x200x256xbf16>
  return %y : tensor<2x200x256xbf16>
}
