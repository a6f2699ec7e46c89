// A Tucker attention layer with dense cores: d = 256, 8 heads, ranks
// [4, 64, 32] before the softmax and [4, 64, 32] after it (the paper's
// configurations, scaled down), causal.
func.func @tucker_layer(%x: tensor<2x64x256xf32>, %u1: tensor<8x4xf32>,
                        %u2: tensor<256x64xf32>, %u3: tensor<256x32xf32>,
                        %core: tensor<4x64x32xf32>, %v1: tensor<8x4xf32>,
                        %v2: tensor<256x64xf32>, %v3: tensor<256x32xf32>,
                        %core_out: tensor<4x64x32xf32>) -> tensor<2x64x256xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %core),
         post(%v1, %v2, %v3, core %core_out)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, scale = 0.17677669529663687 : f64,
       causal}
      : (tensor<2x64x256xf32>, tensor<8x4xf32>, tensor<256x64xf32>,
         tensor<256x32xf32>, tensor<4x64x32xf32>, tensor<8x4xf32>,
         tensor<256x64xf32>, tensor<256x32xf32>, tensor<4x64x32xf32>)
      -> tensor<2x64x256xf32>
  return %y : tensor<2x64x256xf32>
}
