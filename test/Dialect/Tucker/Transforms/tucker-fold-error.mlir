// RUN: tucker-opt %s --tucker-fold -split-input-file -verify-diagnostics
// RUN: not tucker-opt %s --tucker-fold="query-form=fused" 2>&1 | FileCheck %s --check-prefix=OPTION

// OPTION: tucker-fold: query-form and output-form must be auto, absorbed or two-step, got 'fused' and 'auto'

// Tests that: a selector core with a head-mixing factor is no MHA/GQA.
func.func @mixing_head_factor(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x64xf32>,
                              %u3: tensor<64x32xf32>, %v2: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // expected-error @+1 {{cannot be folded: a selector core runs as MHA/GQA heads only with identity head factors 'u1' and 'u1_out'}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %v2, %u3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: interleaved groups are no consecutive GQA grouping.
func.func @interleaved_groups(%x: tensor<1x8x64xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>,
                              %v2: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  // expected-error @+1 {{cannot be folded: the selector's groups are not consecutive equal groups of query heads}}
  %y = tucker.attention %x, pre(%eye, %u2, %u3), post(%eye, %v2, %u3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 1, 0, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a latent rope that rotates heads differently has no per-head
// form.
func.func @rope_not_per_head(%x: tensor<1x8x64xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>,
                             %v2: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  // expected-error @+1 {{cannot be folded: rope does not rotate every head of 16 dims the same way}}
  %y = tucker.attention %x, pre(%eye, %u2, %u3), post(%eye, %v2, %u3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>,
       rope = #tucker.rope<theta = 10000.0, width = 8, style = half>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}
