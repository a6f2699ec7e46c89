// A Llama-style GQA layer: d = 256, 8 query heads and 2 key/value heads of
// width 32, rotate-half RoPE on every head, causal.
func.func @gqa_layer(%x: tensor<2x64x256xf32>, %wq: tensor<256x256xf32>,
                     %wk: tensor<256x64xf32>, %wv: tensor<256x64xf32>,
                     %wo: tensor<256x256xf32>) -> tensor<2x64x256xf32> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 8 : i64, num_kv_heads = 2 : i64, causal,
       rope = #tucker.rope<theta = 10000.0, width = 32, style = half>}
      : (tensor<2x64x256xf32>, tensor<256x256xf32>, tensor<256x64xf32>,
         tensor<256x64xf32>, tensor<256x256xf32>) -> tensor<2x64x256xf32>
  return %y : tensor<2x64x256xf32>
}
