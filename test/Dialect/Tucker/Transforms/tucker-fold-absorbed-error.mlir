// RUN: tucker-opt %s --tucker-fold="query-form=absorbed" -verify-diagnostics

// Tests that: the absorbed query form cannot place a query bias.
func.func @absorbed_bias(%x: tensor<1x8x16xf32>, %u1: tensor<2x2xf32>, %u2: tensor<16x8xf32>,
                         %c: tensor<2x8x8xf32>, %bq: tensor<8xf32>) -> tensor<1x8x16xf32> {
  // expected-error @+1 {{cannot be folded: the absorbed query form x·(U2·G_i) cannot apply a query bias or query norm between U2 and the core}}
  %y = tucker.attention %x, pre(%u1, %u2, %u2, core %c), post(%u1, %u2, %u2, core %c) query_bias(%bq)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64}
      : (tensor<1x8x16xf32>, tensor<2x2xf32>, tensor<16x8xf32>, tensor<16x8xf32>,
         tensor<2x8x8xf32>, tensor<2x2xf32>, tensor<16x8xf32>, tensor<16x8xf32>,
         tensor<2x8x8xf32>, tensor<8xf32>) -> tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}
