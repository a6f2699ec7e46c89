// RUN: tucker-opt %s --tucker-fold -split-input-file | FileCheck %s

// Tests that: a selector core runs as GQA heads: stacked projections split
// into [B, H, N, head_dim], one tucker.flash with the per-head rope, heads
// merged back and projected by Ũ2ᵀ.
// CHECK-LABEL: func @selector
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x8x64xf32>, %[[WQ:[a-z0-9]+]]: tensor<64x64xf32>, %[[WK:[a-z0-9]+]]: tensor<64x32xf32>, %[[WV:[a-z0-9]+]]: tensor<64x32xf32>, %[[WOT:[a-z0-9]+]]: tensor<64x64xf32>)
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[WQ]] :
// CHECK: %[[K:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[WK]] :
// CHECK: %[[V:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[WV]] :
// CHECK: %[[QS:.*]] = tensor.expand_shape %[[Q]] {{.*}} into tensor<2x8x4x16xf32>
// CHECK: %[[QH:.*]] = linalg.transpose ins(%[[QS]] : tensor<2x8x4x16xf32>) {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[KS:.*]] = tensor.expand_shape %[[K]] {{.*}} into tensor<2x8x2x16xf32>
// CHECK: %[[KH:.*]] = linalg.transpose ins(%[[KS]]
// CHECK: %[[VH:.*]] = linalg.transpose
// CHECK: %[[O:.*]] = tucker.flash %[[QH]], %[[KH]], %[[VH]] {causal, rope = #tucker.rope<theta = 1.000000e+04, width = 8, offset = 4, style = half>, scale = 2.500000e-01 : f64} : tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<2x4x8x16xf32>
// CHECK: %[[OT:.*]] = linalg.transpose ins(%[[O]] {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[OM:.*]] = tensor.collapse_shape %[[OT]] {{\[\[}}0], [1], [2, 3]]
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[OM]], %[[WOT]] :
// CHECK: return %[[Y]]
func.func @selector(%x: tensor<2x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>,
                    %wv: tensor<64x32xf32>, %wot: tensor<64x64xf32>) -> tensor<2x8x64xf32> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %y = tucker.attention %x, pre(%eye, %wq, %wk), post(%eye, %wot, %wv)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, causal, scale = 0.25 : f64,
       rope = #tucker.rope<theta = 10000.0, width = 8, offset = 4, repeat = 2, stride = 16, style = half>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<2x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<4x4xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// -----

// Tests that: dense cores run as latent MQA: queries per head in the key
// space [B, H, N, r3], one key head x·U3 and one value head; a value factor
// that is the first columns of the key factor with the same norm reads the
// normalized key latent (one cached latent).
// CHECK-LABEL: func @dense_shared
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x8x64xf32>, %[[U1:[a-z0-9]+]]: tensor<4x2xf32>, %[[U2:[a-z0-9]+]]: tensor<64x24xf32>, %[[U3:[a-z0-9]+]]: tensor<64x20xf32>, %[[C:[a-z0-9]+]]: tensor<2x24x20xf32>, %[[V1:[a-z0-9]+]]: tensor<4x3xf32>, %[[V2:[a-z0-9]+]]: tensor<64x12xf32>, %[[CV:[a-z0-9]+]]: tensor<3x12x16xf32>)
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[U1]], %[[C]] : tensor<4x2xf32>, tensor<2x24x20xf32>)
// CHECK: %[[GO:.*]] = linalg.generic {{.*}} ins(%[[V1]], %[[CV]] : tensor<4x3xf32>, tensor<3x12x16xf32>)
// CHECK: %[[QT:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[U2]] :
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%[[QT]], %[[G]] : tensor<1x8x24xf32>, tensor<4x24x20xf32>)
// CHECK: %[[KP:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[U3]] :
// CHECK: %[[KN:.*]] = linalg.generic {{.*}} ins(%[[KP]], %{{.*}} : tensor<1x8x20xf32>, tensor<1x8xf32>)
// CHECK: math.rsqrt
// CHECK: %[[VS:.*]] = tensor.extract_slice %[[KN]][0, 0, 0] [1, 8, 16] [1, 1, 1]
// CHECK: %[[K1:.*]] = tensor.expand_shape %[[KN]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 1, 8, 20]
// CHECK: %[[V1H:.*]] = tensor.expand_shape %[[VS]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 1, 8, 16]
// CHECK: %[[O:.*]] = tucker.flash %[[Q]], %[[K1]], %[[V1H]] {rope = #tucker.rope<theta = 1.000000e+04, width = 4, offset = 16, style = interleaved>, scale = 2.500000e-01 : f64} : tensor<1x4x8x20xf32>, tensor<1x1x8x20xf32>, tensor<1x1x8x16xf32> -> tensor<1x4x8x16xf32>
// CHECK: %[[Z:.*]] = linalg.generic {{.*}} ins(%[[O]], %[[GO]] :
// CHECK: linalg.generic {{.*}} ins(%[[Z]], %[[V2]] :
func.func @dense_shared(%x: tensor<1x8x64xf32>, %u1: tensor<4x2xf32>, %u2: tensor<64x24xf32>,
                        %u3: tensor<64x20xf32>, %c: tensor<2x24x20xf32>, %v1: tensor<4x3xf32>,
                        %v2: tensor<64x12xf32>, %cv: tensor<3x12x16xf32>) -> tensor<1x8x64xf32> {
  %v3 = tensor.extract_slice %u3[0, 0] [64, 16] [1, 1] : tensor<64x20xf32> to tensor<64x16xf32>
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[2, 24, 20], [3, 12, 16]>, scale = 0.25 : f64,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 16, style = interleaved>,
       key_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 16>,
       value_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 16>}
      : (tensor<1x8x64xf32>, tensor<4x2xf32>, tensor<64x24xf32>, tensor<64x20xf32>,
         tensor<2x24x20xf32>, tensor<4x3xf32>, tensor<64x12xf32>, tensor<64x16xf32>,
         tensor<3x12x16xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: identity head and output factors are skipped, a separate
// value latent is projected on its own, and the query bias and output bias
// apply.
// CHECK-LABEL: func @dense_identities
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x8x16xbf16>, %[[U2:[a-z0-9]+]]: tensor<16x8xbf16>, %[[U3:[a-z0-9]+]]: tensor<16x8xbf16>, %[[C:[a-z0-9]+]]: tensor<2x8x8xbf16>, %[[V3:[a-z0-9]+]]: tensor<16x4xbf16>, %[[CV:[a-z0-9]+]]: tensor<2x16x4xbf16>, %[[BQ:[a-z0-9]+]]: tensor<8xbf16>, %[[BO:[a-z0-9]+]]: tensor<16xbf16>)
// CHECK: %[[QT:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[U2]] :
// CHECK: %[[QB:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[BQ]] :
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%[[QB]], %[[C]] :
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[V3]] :
// CHECK: %[[O:.*]] = tucker.flash {{.*}} : tensor<1x2x8x8xbf16>, tensor<1x1x8x8xbf16>, tensor<1x1x8x4xbf16> -> tensor<1x2x8x4xbf16>
// CHECK: %[[Z:.*]] = linalg.generic {{.*}} ins(%[[O]], %[[CV]] :
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[BO]] :
// CHECK-NOT: ins(%{{.*}}, %[[U2]]
func.func @dense_identities(%x: tensor<1x8x16xbf16>, %u2: tensor<16x8xbf16>, %u3: tensor<16x8xbf16>,
                            %c: tensor<2x8x8xbf16>, %v3: tensor<16x4xbf16>, %cv: tensor<2x16x4xbf16>,
                            %bq: tensor<8xbf16>, %bo: tensor<16xbf16>) -> tensor<1x8x16xbf16> {
  %eye2 = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xbf16>
  %e = tensor.empty() : tensor<16x16xbf16>
  %eye16 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                           iterator_types = ["parallel", "parallel"]} outs(%e : tensor<16x16xbf16>) {
  ^bb0(%out: bf16):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %eq = arith.cmpi eq, %i, %j : index
    %one = arith.constant 1.0 : bf16
    %zero = arith.constant 0.0 : bf16
    %s = arith.select %eq, %one, %zero : bf16
    linalg.yield %s : bf16
  } -> tensor<16x16xbf16>
  %y = tucker.attention %x, pre(%eye2, %u2, %u3, core %c), post(%eye2, %eye16, %v3, core %cv)
         query_bias(%bq) out_bias(%bo)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 16, 4]>, scale = 0.5 : f64}
      : (tensor<1x8x16xbf16>, tensor<2x2xbf16>, tensor<16x8xbf16>, tensor<16x8xbf16>,
         tensor<2x8x8xbf16>, tensor<2x2xbf16>, tensor<16x16xbf16>, tensor<16x4xbf16>,
         tensor<2x16x4xbf16>, tensor<8xbf16>, tensor<16xbf16>) -> tensor<1x8x16xbf16>
  return %y : tensor<1x8x16xbf16>
}
