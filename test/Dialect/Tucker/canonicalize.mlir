// RUN: tucker-opt %s --canonicalize -split-input-file | FileCheck %s

// Tests that: GQA with one key/value head per query head is MHA.
// CHECK-LABEL: func @gqa_is_mha
// CHECK: tucker.mha %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {causal, num_heads = 4 : i64, rope = #tucker.rope<theta = 1.000000e+04, width = 16, style = half>}
// CHECK-NOT: tucker.gqa
func.func @gqa_is_mha(%x: tensor<1x8x64xf32>, %w: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.gqa %x, %w, %w, %w, %w
      {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal,
       rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
         tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: real grouping stays GQA.
// CHECK-LABEL: func @gqa_stays
// CHECK: tucker.gqa
func.func @gqa_stays(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>)
    -> tensor<1x8x64xf32> {
  %y = tucker.gqa %x, %wq, %wk, %wk, %wq {num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x32xf32>,
         tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}
