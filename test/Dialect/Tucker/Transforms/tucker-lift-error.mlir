// RUN: tucker-opt %s --tucker-lift -split-input-file -verify-diagnostics

// Tests that: a rope whose blocks are not evenly spaced over the key heads
// has no single latent descriptor.
func.func @uneven_rope(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>,
                       %wv: tensor<64x32xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{cannot lift the rope: its rotated blocks are not evenly spaced across heads of 16 dims, so repeated over the key heads they are no single rope}}
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 4 : i64, num_kv_heads = 2 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 4, repeat = 2, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x32xf32>,
         tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a constant zero key bias under rope is harmless and lifts.
func.func @zero_key_bias_rope(%x: tensor<1x8x64xf32>, %w: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %bk = arith.constant dense<0.0> : tensor<64xf32>
  %y = tucker.mha %x, %w, %w, %w, %w bk(%bk)
      {num_heads = 4 : i64, rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
         tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}
