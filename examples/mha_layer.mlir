// An nn.MultiheadAttention-style layer with all four biases: d = 128, 4 heads
// of width 32, causal.
func.func @mha_layer(%x: tensor<2x48x128xf32>, %wq: tensor<128x128xf32>,
                     %wk: tensor<128x128xf32>, %wv: tensor<128x128xf32>,
                     %wo: tensor<128x128xf32>, %bq: tensor<128xf32>,
                     %bk: tensor<128xf32>, %bv: tensor<128xf32>,
                     %bo: tensor<128xf32>) -> tensor<2x48x128xf32> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo)
      {num_heads = 4 : i64, causal}
      : (tensor<2x48x128xf32>, tensor<128x128xf32>, tensor<128x128xf32>,
         tensor<128x128xf32>, tensor<128x128xf32>, tensor<128xf32>,
         tensor<128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<2x48x128xf32>
  return %y : tensor<2x48x128xf32>
}
