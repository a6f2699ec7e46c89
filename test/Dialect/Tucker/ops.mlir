// RUN: tucker-opt %s | tucker-opt | FileCheck %s
// RUN: tucker-opt %s --verify-roundtrip | FileCheck %s
// RUN: tucker-opt %s --mlir-print-op-generic | tucker-opt | FileCheck %s

// CHECK-LABEL: func @mha_plain
// CHECK: tucker.mha %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {causal, num_heads = 4 : i64}
func.func @mha_plain(%x: tensor<2x16x64xf32>, %wq: tensor<64x64xf32>,
                     %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>,
                     %wo: tensor<64x64xf32>) -> tensor<2x16x64xf32> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, causal}
      : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
         tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// CHECK-LABEL: func @mha_biases_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x64xbf16>
// CHECK: tucker.mha %[[X]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} bq(%{{[a-z0-9]+}}) bv(%{{[a-z0-9]+}}) bo(%{{[a-z0-9]+}}) {num_heads = 2 : i64, scale = 1.250000e-01 : f64}
func.func @mha_biases_dynamic(%x: tensor<?x?x64xbf16>, %wq: tensor<64x64xbf16>,
                              %wk: tensor<64x64xbf16>, %wv: tensor<64x32xbf16>,
                              %wo: tensor<32x64xbf16>, %bq: tensor<64xbf16>,
                              %bv: tensor<32xbf16>, %bo: tensor<64xbf16>)
    -> tensor<?x?x64xbf16> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bv(%bv) bo(%bo)
      {num_heads = 2 : i64, scale = 0.125 : f64}
      : (tensor<?x?x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>,
         tensor<64x32xbf16>, tensor<32x64xbf16>, tensor<64xbf16>,
         tensor<32xbf16>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  return %y : tensor<?x?x64xbf16>
}

// CHECK-LABEL: func @gqa_rope
// CHECK: tucker.gqa
// CHECK-SAME: num_kv_heads = 2 : i64
// CHECK-SAME: rope = #tucker.rope<theta = 1.000000e+04, width = 16, style = half>
func.func @gqa_rope(%x: tensor<1x32x128xf16>, %wq: tensor<128x128xf16>,
                    %wk: tensor<128x32xf16>, %wv: tensor<128x32xf16>,
                    %wo: tensor<128x128xf16>) -> tensor<1x32x128xf16> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 8 : i64, num_kv_heads = 2 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : (tensor<1x32x128xf16>, tensor<128x128xf16>, tensor<128x32xf16>,
         tensor<128x32xf16>, tensor<128x128xf16>) -> tensor<1x32x128xf16>
  return %y : tensor<1x32x128xf16>
}

// CHECK-LABEL: func @mla_q_lora
// CHECK: tucker.mla %{{[a-z0-9]+}}, q_a(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}), %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}
// CHECK-SAME: rope = #tucker.rope<theta = 1.000000e+04, width = 4, offset = 8, style = interleaved>
func.func @mla_q_lora(%x: tensor<1x8x64xf32>, %wq_a: tensor<64x32xf32>,
                      %q_norm: tensor<32xf32>, %wq_b: tensor<32x48xf32>,
                      %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>,
                      %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>)
    -> tensor<1x8x64xf32> {
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 32 : i64, kv_lora_rank = 16 : i64,
       qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64,
       v_head_dim = 8 : i64, causal,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 8, style = interleaved>}
      : (tensor<1x8x64xf32>, tensor<64x32xf32>, tensor<32xf32>,
         tensor<32x48xf32>, tensor<64x20xf32>, tensor<16xf32>,
         tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// CHECK-LABEL: func @mla_no_q_lora
// CHECK: tucker.mla %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {
// CHECK-SAME: norm_epsilon = 1.000000e-05 : f64
func.func @mla_no_q_lora(%x: tensor<1x8x64xf32>, %wq_b: tensor<64x48xf32>,
                         %wkv_a: tensor<64x20xf32>, %kv_norm: tensor<16xf32>,
                         %wkv_b: tensor<16x64xf32>, %wo: tensor<32x64xf32>)
    -> tensor<1x8x64xf32> {
  %y = tucker.mla %x, %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, kv_lora_rank = 16 : i64,
       qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64,
       v_head_dim = 8 : i64, norm_epsilon = 1.0e-5 : f64}
      : (tensor<1x8x64xf32>, tensor<64x48xf32>, tensor<64x20xf32>,
         tensor<16xf32>, tensor<16x64xf32>, tensor<32x64xf32>)
      -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// CHECK-LABEL: func @attention_selector
// CHECK: tucker.attention %{{[a-z0-9]+}}, pre(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}), post(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}})
// CHECK-SAME: ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>
// CHECK-SAME: selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>
func.func @attention_selector(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>,
                              %u2: tensor<64x64xf32>, %u3: tensor<64x32xf32>,
                              %v1: tensor<4x4xf32>, %v2: tensor<64x64xf32>,
                              %v3: tensor<64x32xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%v1, %v2, %v3)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>,
       selector = #tucker.selector<head_dim = 16, groups = [0, 0, 1, 1]>}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>,
         tensor<64x32xf32>, tensor<4x4xf32>, tensor<64x64xf32>,
         tensor<64x32xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// CHECK-LABEL: func @attention_dense
// CHECK: tucker.attention %{{[a-z0-9]+}}, pre(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, core %{{[a-z0-9]+}}), post(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, core %{{[a-z0-9]+}}) query_bias(%{{[a-z0-9]+}}) out_bias(%{{[a-z0-9]+}})
// CHECK-SAME: key_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, width = 16>
// CHECK-SAME: rope = #tucker.rope<theta = 1.000000e+04, width = 4, offset = 16, style = interleaved>
// CHECK-SAME: value_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, width = 16>
func.func @attention_dense(%x: tensor<2x8x64xf32>, %u1: tensor<4x2xf32>,
                           %u2: tensor<64x24xf32>, %u3: tensor<64x20xf32>,
                           %c: tensor<2x24x20xf32>, %v1: tensor<4x3xf32>,
                           %v2: tensor<64x12xf32>, %v3: tensor<64x16xf32>,
                           %cv: tensor<3x12x16xf32>, %bq: tensor<24xf32>,
                           %bo: tensor<64xf32>) -> tensor<2x8x64xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c),
         post(%v1, %v2, %v3, core %cv) query_bias(%bq) out_bias(%bo)
      {ranks = #tucker.ranks<[2, 24, 20], [3, 12, 16]>, scale = 0.25 : f64,
       causal,
       rope = #tucker.rope<theta = 10000.0, width = 4, offset = 16, style = interleaved>,
       key_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 16>,
       value_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 16>}
      : (tensor<2x8x64xf32>, tensor<4x2xf32>, tensor<64x24xf32>,
         tensor<64x20xf32>, tensor<2x24x20xf32>, tensor<4x3xf32>,
         tensor<64x12xf32>, tensor<64x16xf32>, tensor<3x12x16xf32>,
         tensor<24xf32>, tensor<64xf32>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// CHECK-LABEL: func @flash_gqa_causal
// CHECK: tucker.flash %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {causal} : tensor<2x8x100x64xbf16>, tensor<2x2x120x64xbf16>, tensor<2x2x120x32xbf16> -> tensor<2x8x100x32xbf16>
func.func @flash_gqa_causal(%q: tensor<2x8x100x64xbf16>, %k: tensor<2x2x120x64xbf16>,
                            %v: tensor<2x2x120x32xbf16>) -> tensor<2x8x100x32xbf16> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<2x8x100x64xbf16>, tensor<2x2x120x64xbf16>,
        tensor<2x2x120x32xbf16> -> tensor<2x8x100x32xbf16>
  return %o : tensor<2x8x100x32xbf16>
}

// CHECK-LABEL: func @flash_schedule
// CHECK: tucker.flash %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {schedule = #tucker.flash_schedule<decode = true, consumers = 2, heads_per_tile = 4, keys_per_tile = 0, kv_splits = 8, sm_count = 132, ping_pong = true, rope_kernel = false, dependent_launch = true>}
func.func @flash_schedule(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x4096x64xbf16>,
                          %v: tensor<2x2x4096x64xbf16>) -> tensor<2x8x1x64xbf16> {
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = true,
      consumers = 2, heads_per_tile = 4, keys_per_tile = 0, kv_splits = 8, sm_count = 132,
      ping_pong = true, rope_kernel = false, dependent_launch = true>}
      : tensor<2x8x1x64xbf16>, tensor<2x2x4096x64xbf16>,
        tensor<2x2x4096x64xbf16> -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// CHECK-LABEL: func @flash_lengths
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: {{.*}}, %[[K:[a-z0-9]+]]: {{.*}}, %[[V:[a-z0-9]+]]: {{.*}}, %[[LEN:[a-z0-9]+]]: tensor<4xi32>)
// CHECK: tucker.flash %[[Q]], %[[K]], %[[V]] lengths(%[[LEN]] : tensor<4xi32>) {causal} : tensor<4x8x1x64xbf16>, tensor<4x2x512x64xbf16>, tensor<4x2x512x32xbf16> -> tensor<4x8x1x32xbf16>
func.func @flash_lengths(%q: tensor<4x8x1x64xbf16>, %k: tensor<4x2x512x64xbf16>,
                         %v: tensor<4x2x512x32xbf16>, %len: tensor<4xi32>)
    -> tensor<4x8x1x32xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<4xi32>) {causal}
      : tensor<4x8x1x64xbf16>, tensor<4x2x512x64xbf16>,
        tensor<4x2x512x32xbf16> -> tensor<4x8x1x32xbf16>
  return %o : tensor<4x8x1x32xbf16>
}

// CHECK-LABEL: func @flash_lse
// CHECK: %{{.*}}, %{{.*}} = tucker.flash %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {causal} : tensor<2x8x100x64xbf16>, tensor<2x2x120x64xbf16>, tensor<2x2x120x32xbf16> -> tensor<2x8x100x32xbf16>, tensor<2x8x100xf32>
func.func @flash_lse(%q: tensor<2x8x100x64xbf16>, %k: tensor<2x2x120x64xbf16>,
                     %v: tensor<2x2x120x32xbf16>)
    -> (tensor<2x8x100x32xbf16>, tensor<2x8x100xf32>) {
  %o, %lse = tucker.flash %q, %k, %v {causal}
      : tensor<2x8x100x64xbf16>, tensor<2x2x120x64xbf16>,
        tensor<2x2x120x32xbf16> -> tensor<2x8x100x32xbf16>, tensor<2x8x100xf32>
  return %o, %lse : tensor<2x8x100x32xbf16>, tensor<2x8x100xf32>
}

// CHECK-LABEL: func @flash_backward
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: {{.*}}, %[[K:[a-z0-9]+]]: {{.*}}, %[[V:[a-z0-9]+]]: {{.*}}, %[[O:[a-z0-9]+]]: {{.*}}, %[[LSE:[a-z0-9]+]]: {{.*}}, %[[DO:[a-z0-9]+]]: {{.*}}, %[[LEN:[a-z0-9]+]]: tensor<?xi32>)
// CHECK: tucker.flash_backward %[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]], %[[DO]] lengths(%[[LEN]] : tensor<?xi32>) {causal, rope = #tucker.rope<theta = 1.000000e+04, width = 32, style = half>, scale = 1.250000e-01 : f64} : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>, tensor<?x8x?x32xbf16>, tensor<?x8x?xf32>, tensor<?x8x?x32xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>
func.func @flash_backward(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                          %v: tensor<?x2x?x32xbf16>, %o: tensor<?x8x?x32xbf16>,
                          %lse: tensor<?x8x?xf32>, %do: tensor<?x8x?x32xbf16>,
                          %len: tensor<?xi32>)
    -> (tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do
      lengths(%len : tensor<?xi32>)
      {causal, scale = 0.125 : f64,
       rope = #tucker.rope<theta = 10000.0, width = 32, style = half>}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>,
        tensor<?x8x?x32xbf16>, tensor<?x8x?xf32>, tensor<?x8x?x32xbf16>
      -> tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>
  return %dq, %dk, %dv
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>
}

// CHECK-LABEL: func @flash_backward_schedule
// CHECK: tucker.flash_backward {{.*}} {causal, schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = false>}
// CHECK: tucker.flash_backward {{.*}} {deterministic, schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = true>}
func.func @flash_backward_schedule(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x2x128x64xbf16>,
                                   %v: tensor<2x2x128x64xbf16>, %lse: tensor<2x8x128xf32>)
    -> tensor<2x8x128x64xbf16> {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q
      {causal, schedule = #tucker.flash_backward_schedule<keys_per_tile = 128,
                                                          queries_per_tile = 64, head_splits = 1, ordered_dq = false>}
      : tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>,
        tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>, tensor<2x8x128x64xbf16>
      -> tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>
  %dq2, %dk2, %dv2 = tucker.flash_backward %q, %k, %v, %q, %lse, %q
      {deterministic, schedule = #tucker.flash_backward_schedule<keys_per_tile = 128,
                                                          queries_per_tile = 64, head_splits = 1, ordered_dq = true>}
      : tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>,
        tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>, tensor<2x8x128x64xbf16>
      -> tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>
  return %dq : tensor<2x8x128x64xbf16>
}

// CHECK-LABEL: func @flash_lengths_dynamic
// CHECK: tucker.flash %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} lengths(%{{[a-z0-9]+}} : tensor<?xi32>) : tensor<?x4x?x64xf32>, tensor<3x1x?x64xf32>, tensor<?x1x?x64xf32> -> tensor<?x4x?x64xf32>
func.func @flash_lengths_dynamic(%q: tensor<?x4x?x64xf32>, %k: tensor<3x1x?x64xf32>,
                                 %v: tensor<?x1x?x64xf32>, %len: tensor<?xi32>)
    -> tensor<?x4x?x64xf32> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<?xi32>)
      : tensor<?x4x?x64xf32>, tensor<3x1x?x64xf32>, tensor<?x1x?x64xf32>
        -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}

// CHECK-LABEL: func @flash_dynamic_rope
// CHECK: tucker.flash
// CHECK-SAME: rope = #tucker.rope<theta = 5.000000e+05, width = 32, repeat = 2, style = half>
func.func @flash_dynamic_rope(%q: tensor<?x4x?x64xf16>, %k: tensor<?x1x?x64xf16>,
                              %v: tensor<?x1x?x64xf16>) -> tensor<?x4x?x64xf16> {
  %o = tucker.flash %q, %k, %v
      {rope = #tucker.rope<theta = 500000.0, width = 32, repeat = 2, style = half>}
      : tensor<?x4x?x64xf16>, tensor<?x1x?x64xf16>, tensor<?x1x?x64xf16>
        -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}

// CHECK-LABEL: func @rope_positions
// CHECK: tucker.rope %{{[a-z0-9]+}} positions(%{{[a-z0-9]+}} : tensor<2x16xi64>)
func.func @rope_positions(%x: tensor<2x4x16x64xf32>, %p: tensor<2x16xi64>)
    -> tensor<2x4x16x64xf32> {
  %y = tucker.rope %x positions(%p : tensor<2x16xi64>)
      {rope = #tucker.rope<theta = 10000.0, width = 64, style = interleaved>}
      : tensor<2x4x16x64xf32> -> tensor<2x4x16x64xf32>
  return %y : tensor<2x4x16x64xf32>
}

// CHECK-LABEL: func @rope_strided
// CHECK: rope = #tucker.rope<theta = 1.000000e+04, width = 8, repeat = 4, stride = 16, style = half>
func.func @rope_strided(%x: tensor<1x2x7x64xf32>) -> tensor<1x2x7x64xf32> {
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 8, repeat = 4, stride = 16, style = half>}
      : tensor<1x2x7x64xf32> -> tensor<1x2x7x64xf32>
  return %y : tensor<1x2x7x64xf32>
}

// CHECK-LABEL: func @rope_default_positions
// CHECK: tucker.rope %{{[a-z0-9]+}} {rope = #tucker.rope<theta = 1.000000e+04, width = 32, style = half>}
func.func @rope_default_positions(%x: tensor<1x2x7x64xf32>) -> tensor<1x2x7x64xf32> {
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 32, style = half>}
      : tensor<1x2x7x64xf32> -> tensor<1x2x7x64xf32>
  return %y : tensor<1x2x7x64xf32>
}
