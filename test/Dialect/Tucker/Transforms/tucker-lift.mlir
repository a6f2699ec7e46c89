// RUN: tucker-opt %s --tucker-lift -split-input-file | FileCheck %s

// Tests that: MHA lifts to a selector core with identity head factors, the
// transposed output projection and the scale made explicit.
// CHECK-LABEL: func @mha
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>, %[[WQ:.*]]: tensor<64x64xf32>, %[[WK:.*]]: tensor<64x64xf32>, %[[WV:.*]]: tensor<64x64xf32>, %[[WO:.*]]: tensor<64x64xf32>)
// CHECK: %[[EYE:.*]] = linalg.generic
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: %[[WOT:.*]] = linalg.transpose ins(%[[WO]] : tensor<64x64xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[Y:.*]] = tucker.attention %[[X]], pre(%[[EYE]], %[[WQ]], %[[WK]]), post(%[[EYE]], %[[WOT]], %[[WV]])
// CHECK-SAME: causal
// CHECK-SAME: ranks = #tucker.ranks<[4, 64, 64], [4, 64, 64]>
// CHECK-SAME: scale = 2.500000e-01 : f64
// CHECK-SAME: selector = #tucker.selector<head_dim = 16, groups = [0, 1, 2, 3]>
// CHECK-NOT: tucker.mha
// CHECK: return %[[Y]]
func.func @mha(%x: tensor<2x16x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>,
               %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>) -> tensor<2x16x64xf32> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, causal}
      : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
         tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// -----

// Tests that: the key bias is dropped, the query bias kept, and the value
// bias folds into the output bias as bv·wo + bo.
// CHECK-LABEL: func @mha_biases
// CHECK-SAME: %[[WO:[a-z0-9]+]]: tensor<32x64xf32>, %[[BQ:[a-z0-9]+]]: tensor<64xf32>, %[[BK:[a-z0-9]+]]: tensor<64xf32>, %[[BV:[a-z0-9]+]]: tensor<32xf32>, %[[BO:[a-z0-9]+]]: tensor<64xf32>
// CHECK: %[[FOLD:.*]] = linalg.generic {{.*}} ins(%[[BV]], %[[WO]] : tensor<32xf32>, tensor<32x64xf32>)
// CHECK: %[[OB:.*]] = linalg.generic {{.*}} ins(%[[FOLD]], %[[BO]] : tensor<64xf32>, tensor<64xf32>)
// CHECK: tucker.attention {{.*}} query_bias(%[[BQ]]) out_bias(%[[OB]])
// CHECK-SAME: selector = #tucker.selector<head_dim = 16, groups = [0, 1, 2, 3], value_dim = 8>
// CHECK-NOT: %[[BK]]
func.func @mha_biases(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>,
                      %wv: tensor<64x32xf32>, %wo: tensor<32x64xf32>, %bq: tensor<64xf32>,
                      %bk: tensor<64xf32>, %bv: tensor<32xf32>, %bo: tensor<64xf32>)
    -> tensor<1x8x64xf32> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo) {num_heads = 4 : i64}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>,
         tensor<32x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<32xf32>, tensor<64xf32>)
      -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: GQA groups consecutive query heads per key block and repeats
// the per-head rope over the key blocks.
// CHECK-LABEL: func @gqa_rope
// CHECK: tucker.attention
// CHECK-SAME: ranks = #tucker.ranks<[8, 128, 32], [8, 128, 32]>
// CHECK-SAME: rope = #tucker.rope<theta = 1.000000e+04, width = 16, repeat = 2, style = half>
// CHECK-SAME: selector = #tucker.selector<head_dim = 16, groups = [0, 0, 0, 0, 1, 1, 1, 1]>
func.func @gqa_rope(%x: tensor<1x32x128xbf16>, %wq: tensor<128x128xbf16>, %wk: tensor<128x32xbf16>,
                    %wv: tensor<128x32xbf16>, %wo: tensor<128x128xbf16>) -> tensor<1x32x128xbf16> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 8 : i64, num_kv_heads = 2 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : (tensor<1x32x128xbf16>, tensor<128x128xbf16>, tensor<128x32xbf16>,
         tensor<128x32xbf16>, tensor<128x128xbf16>) -> tensor<1x32x128xbf16>
  return %y : tensor<1x32x128xbf16>
}

// -----

// Tests that: a partial per-head rope (GPT-NeoX style) becomes a strided
// rope over the key blocks.
// CHECK-LABEL: func @gqa_partial_rope
// CHECK: rope = #tucker.rope<theta = 1.000000e+04, width = 4, offset = 2, repeat = 2, stride = 16, style = interleaved>
func.func @gqa_partial_rope(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>,
                            %wv: tensor<64x32xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 4 : i64, num_kv_heads = 2 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 2, style = interleaved>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x32xf32>,
         tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: MQA (one key/value head) keeps the per-head rope as is.
// CHECK-LABEL: func @mqa
// CHECK: ranks = #tucker.ranks<[4, 64, 16], [4, 64, 16]>
// CHECK-SAME: rope = #tucker.rope<theta = 5.000000e+05, width = 8, offset = 8, style = half>
// CHECK-SAME: selector = #tucker.selector<head_dim = 16, groups = [0, 0, 0, 0]>
func.func @mqa(%x: tensor<?x?x64xf16>, %wq: tensor<64x64xf16>, %wk: tensor<64x16xf16>,
               %wv: tensor<64x16xf16>, %wo: tensor<64x64xf16>) -> tensor<?x?x64xf16> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 4 : i64, num_kv_heads = 1 : i64,
       rope = #tucker.rope<theta = 500000.0, width = 8, offset = 8, style = half>}
      : (tensor<?x?x64xf16>, tensor<64x64xf16>, tensor<64x16xf16>, tensor<64x16xf16>,
         tensor<64x64xf16>) -> tensor<?x?x64xf16>
  return %y : tensor<?x?x64xf16>
}

// -----

// Tests that: MLA lifts to dense cores: U2 = wq_a, U3 = wkv_a, the value
// factor is the latent columns of wkv_a (a shared latent), the query norm
// weight and the latent norm weight fold into the cores, the RMS norms stay
// as attributes and the decoupled rope moves to the last latent dims.
// CHECK-LABEL: func @mla
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x8x64xf32>, %[[WQA:[a-z0-9]+]]: tensor<64x32xf32>, %[[QN:[a-z0-9]+]]: tensor<32xf32>, %[[WQB:[a-z0-9]+]]: tensor<32x48xf32>, %[[WKVA:[a-z0-9]+]]: tensor<64x20xf32>, %[[KVN:[a-z0-9]+]]: tensor<16xf32>, %[[WKVB:[a-z0-9]+]]: tensor<16x64xf32>, %[[WO:[a-z0-9]+]]: tensor<32x64xf32>)
// CHECK-DAG: %[[QB:.*]] = tensor.expand_shape %[[WQB]] {{\[\[}}0], [1, 2]] output_shape [32, 4, 12]
// CHECK-DAG: %[[KVB:.*]] = tensor.expand_shape %[[WKVB]] {{\[\[}}0], [1, 2]] output_shape [16, 4, 16]
// CHECK: %[[UQ:.*]] = tensor.extract_slice %[[QB]][0, 0, 0] [32, 4, 8]
// CHECK: %[[QR:.*]] = tensor.extract_slice %[[QB]][0, 0, 8] [32, 4, 4]
// CHECK: %[[UK:.*]] = tensor.extract_slice %[[KVB]][0, 0, 0] [16, 4, 8]
// CHECK: %[[ABS:.*]] = linalg.generic {{.*}} ins(%[[QN]], %[[UQ]], %[[KVN]], %[[UK]] :
// CHECK: %[[C0:.*]] = tensor.insert_slice %[[ABS]] into {{.*}}[0, 0, 0] [4, 32, 16]
// CHECK: %[[DEC:.*]] = linalg.generic {{.*}} ins(%[[QN]], %[[QR]] :
// CHECK: %[[CORE:.*]] = tensor.insert_slice %[[DEC]] into %[[C0]][0, 0, 16] [4, 32, 4]
// CHECK: %[[V3:.*]] = tensor.extract_slice %[[WKVA]][0, 0] [64, 16] [1, 1]
// CHECK: tucker.attention %[[X]], pre(%{{[a-z0-9_]+}}, %[[WQA]], %[[WKVA]], core %[[CORE]]), post(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %[[V3]], core %{{[a-z0-9_]+}})
// CHECK-SAME: key_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, width = 16>
// CHECK-SAME: query_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, width = 32>
// CHECK-SAME: ranks = #tucker.ranks<[4, 32, 20], [4, 64, 16]>
// CHECK-SAME: rope = #tucker.rope<theta = 1.000000e+04, width = 4, offset = 16, style = interleaved>
// CHECK-SAME: scale = 0.28867513459481292 : f64
// CHECK-SAME: value_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, width = 16>
func.func @mla(%x: tensor<1x8x64xf32>, %wq_a: tensor<64x32xf32>, %q_norm: tensor<32xf32>,
               %wq_b: tensor<32x48xf32>, %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>,
               %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 32 : i64, kv_lora_rank = 16 : i64,
       qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 8, style = interleaved>}
      : (tensor<1x8x64xf32>, tensor<64x32xf32>, tensor<32xf32>, tensor<32x48xf32>,
         tensor<64x20xf32>, tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>)
      -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// Tests that: MLA without a query LoRA reads x directly (U2 = I_d, no query
// norm) and its query-core rows are wq_b's.
// CHECK-LABEL: func @mla_direct
// CHECK: tucker.attention
// CHECK-NOT: query_norm
// CHECK-SAME: ranks = #tucker.ranks<[4, 64, 20], [4, 64, 16]>
func.func @mla_direct(%x: tensor<1x8x64xbf16>, %wq_b: tensor<64x48xbf16>, %wkv_a: tensor<64x20xbf16>,
                      %kv_norm: tensor<16xbf16>, %wkv_b: tensor<16x64xbf16>,
                      %wo: tensor<32x64xbf16>) -> tensor<1x8x64xbf16> {
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64, qk_nope_head_dim = 8 : i64,
       qk_rope_head_dim = 4 : i64, v_head_dim = 8 : i64, causal}
      : (tensor<1x8x64xbf16>, tensor<64x48xbf16>, tensor<64x20xbf16>, tensor<16xbf16>,
         tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<1x8x64xbf16>
  return %y : tensor<1x8x64xbf16>
}

// -----

// Tests that: a nonzero key bias under rope (Qwen2) is kept exactly as the
// weight row of a constant input feature 1: x' = [x, 1] (dynamic B, N),
// U3 = [wk; bk], zero rows under U2, Ũ3 and Ũ2, the output's extra column
// dropped and the output bias added after.
// CHECK-LABEL: func @key_bias_rope
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x?x64xf32>, %[[W:[a-z0-9]+]]: tensor<64x64xf32>, %[[BK:[a-z0-9]+]]: tensor<64xf32>, %[[BO:[a-z0-9]+]]: tensor<64xf32>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[ONES:.*]] = linalg.fill ins(%[[ONE]] : f32) outs(%{{.*}} : tensor<?x?x65xf32>)
// CHECK: %[[XA:.*]] = tensor.insert_slice %[[X]] into %[[ONES]][0, 0, 0] [%{{.*}}, %{{.*}}, 64] [1, 1, 1]
// CHECK: %[[WQA:.*]] = tensor.insert_slice %[[W]] into %{{.*}}[0, 0] [64, 64] [1, 1] : tensor<64x64xf32> into tensor<65x64xf32>
// CHECK: %[[WKZ:.*]] = tensor.insert_slice %[[W]] into %{{.*}}[0, 0] [64, 64] [1, 1] : tensor<64x64xf32> into tensor<65x64xf32>
// CHECK: %[[WKA:.*]] = tensor.insert_slice %[[BK]] into %[[WKZ]][64, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<65x64xf32>
// CHECK: %[[Y:.*]] = tucker.attention %[[XA]], pre(%{{.*}}, %[[WQA]], %[[WKA]]), post(
// CHECK-SAME: rope = #tucker.rope<theta = 1.000000e+04, width = 16, repeat = 4, style = half>
// CHECK-SAME: -> tensor<?x?x65xf32>
// CHECK: %[[YS:.*]] = tensor.extract_slice %[[Y]][0, 0, 0] [%{{.*}}, %{{.*}}, 64] [1, 1, 1] : tensor<?x?x65xf32> to tensor<?x?x64xf32>
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[YS]], %[[BO]] :
// CHECK: return %[[OUT]]
func.func @key_bias_rope(%x: tensor<?x?x64xf32>, %w: tensor<64x64xf32>, %bk: tensor<64xf32>,
                         %bo: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %y = tucker.mha %x, %w, %w, %w, %w bk(%bk) bo(%bo)
      {num_heads = 4 : i64, rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
         tensor<64x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}
