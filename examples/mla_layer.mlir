// A DeepSeek-V3-style MLA layer: d = 128, 4 heads, query LoRA 64, latent 32,
// heads of 16 no-position + 8 rotated dims (interleaved RoPE), values of 16,
// causal.
func.func @mla_layer(%x: tensor<2x40x128xf32>, %wq_a: tensor<128x64xf32>,
                     %q_norm: tensor<64xf32>, %wq_b: tensor<64x96xf32>,
                     %wkv_a: tensor<128x40xf32>, %kv_norm: tensor<32xf32>,
                     %wkv_b: tensor<32x128xf32>, %wo: tensor<64x128xf32>)
    -> tensor<2x40x128xf32> {
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 64 : i64, kv_lora_rank = 32 : i64,
       qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64,
       v_head_dim = 16 : i64, causal,
       rope = #tucker.rope<theta = 10000.0, width = 8, offset = 16, style = interleaved>}
      : (tensor<2x40x128xf32>, tensor<128x64xf32>, tensor<64xf32>,
         tensor<64x96xf32>, tensor<128x40xf32>, tensor<32xf32>,
         tensor<32x128xf32>, tensor<64x128xf32>) -> tensor<2x40x128xf32>
  return %y : tensor<2x40x128xf32>
}
