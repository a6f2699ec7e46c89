// RUN: tucker-opt %s --tucker-fold -split-input-file | FileCheck %s

// Selector cores that do not run as MHA/GQA heads as they are still fold:
// as heads with their key/value blocks regrouped, or as a dense core.

// Tests that: one head whose identity head factor the greedy driver folded
// to a constant-yielding generic (buildIdentity(1) after --tucker-lift) runs
// as one MHA head, not as a dense core.
// CHECK-LABEL: func @single_head
// CHECK-NOT: tensor<1x4x4xf32>
// CHECK: tucker.flash {{.*}} : tensor<2x1x8x4xf32>, tensor<2x1x8x4xf32>, tensor<2x1x8x4xf32> -> tensor<2x1x8x4xf32>
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @single_head(%x: tensor<2x8x16xf32>, %wq: tensor<16x4xf32>, %wk: tensor<16x4xf32>,
                       %wv: tensor<16x4xf32>, %wot: tensor<16x4xf32>) -> tensor<2x8x16xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %eye = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<1x1xf32>) {
  ^bb0(%out: f32):
    linalg.yield %one : f32
  } -> tensor<1x1xf32>
  %y = tucker.attention %x, pre(%eye, %wq, %wk), post(%eye, %wot, %wv)
      {ranks = #tucker.ranks<[1, 4, 4], [1, 4, 4]>, causal,
       selector = #tucker.selector<head_dim = 4, groups = [0]>}
      : (tensor<2x8x16xf32>, tensor<1x1xf32>, tensor<16x4xf32>, tensor<16x4xf32>,
         tensor<1x1xf32>, tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}

// -----

// Tests that: query heads that read key blocks in any order (groups
// [1, 0, 1, 2]) run as MHA heads, each over a copy of its block of U3 and
// Ũ3 (column blocks gathered by the groups).
// CHECK-LABEL: func @regrouped
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x8x64xf32>, %[[U2:[a-z0-9]+]]: tensor<64x64xf32>, %[[U3:[a-z0-9]+]]: tensor<64x48xf32>
// CHECK-DAG: %[[B0:.*]] = tensor.extract_slice %[[U3]][0, 0] [64, 16] [1, 1]
// CHECK-DAG: %[[B1:.*]] = tensor.extract_slice %[[U3]][0, 16] [64, 16] [1, 1]
// CHECK-DAG: %[[B2:.*]] = tensor.extract_slice %[[U3]][0, 32] [64, 16] [1, 1]
// CHECK: %[[K3:.*]] = tensor.concat dim(1) %[[B1]], %[[B0]], %[[B1]], %[[B2]] : {{.*}} -> tensor<64x64xf32>
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[K3]] :
// CHECK: tucker.flash {{.*}}rope = #tucker.rope<theta = 1.000000e+04, width = 4, offset = 2, style = interleaved>{{.*}} : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
func.func @regrouped(%x: tensor<1x8x64xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x48xf32>,
                     %v2: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %y = tucker.attention %x, pre(%eye, %u2, %u3), post(%eye, %v2, %u3)
      {ranks = #tucker.ranks<[4, 64, 48], [4, 64, 48]>,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 2, repeat = 3, stride = 16, style = interleaved>,
       selector = #tucker.selector<head_dim = 16, groups = [1, 0, 1, 2]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x48xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x48xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a head-mixing factor (4 heads from r1 = 2 selector slices)
// makes the selector a dense core [r1, r1·head_dim, K·head_dim] built by a
// generic from the groups, folded with U1 into per-head cores, and the
// attention latent MQA (one key/value head of width K·head_dim).
// CHECK-LABEL: func @head_mixing
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x8x64xf32>, %[[U1:[a-z0-9]+]]: tensor<4x2xf32>
// CHECK: %[[GROUPS:.*]] = arith.constant dense<[0, 1]> : tensor<2xi64>
// CHECK: %[[CORE:.*]] = linalg.generic {{.*}} ins(%[[GROUPS]] : tensor<2xi64>) outs(%{{.*}} : tensor<2x32x32xf32>)
// CHECK: linalg.index 0
// CHECK: arith.select
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[U1]], %[[CORE]] : tensor<4x2xf32>, tensor<2x32x32xf32>) outs(%{{.*}} : tensor<4x32x32xf32>)
// CHECK: tucker.flash {{.*}}scale = 2.500000e-01 : f64} : tensor<1x4x8x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x32xf32> -> tensor<1x4x8x32xf32>
func.func @head_mixing(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x32xf32>,
                       %u3: tensor<64x32xf32>, %v2: tensor<64x32xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %v2, %u3)
      {ranks = #tucker.ranks<[2, 32, 32], [2, 32, 32]>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x32xf32>, tensor<64x32xf32>,
         tensor<4x2xf32>, tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: an identity passed as an argument is not known to be one at
// compile time: the selector runs as a dense core.
// CHECK-LABEL: func @identity_argument
// CHECK: tucker.flash {{.*}} : tensor<1x4x8x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x32xf32> -> tensor<1x4x8x32xf32>
func.func @identity_argument(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x64xf32>,
                             %u3: tensor<64x32xf32>, %v2: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %v2, %u3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: a latent rope that rotates the key blocks differently (here
// only the first) has no per-head form: a dense core keeps it on the latent.
// CHECK-LABEL: func @rope_not_per_head
// CHECK: tucker.flash {{.*}}rope = #tucker.rope<theta = 1.000000e+04, width = 8, style = half>{{.*}} : tensor<1x4x8x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x32xf32> -> tensor<1x4x8x32xf32>
func.func @rope_not_per_head(%x: tensor<1x8x64xf32>, %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>,
                             %v2: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %y = tucker.attention %x, pre(%eye, %u2, %u3), post(%eye, %v2, %u3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>,
       rope = #tucker.rope<theta = 10000.0, width = 8, style = half>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}
