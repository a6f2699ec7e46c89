// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure | FileCheck %s
// RUN: tucker-opt %s -split-input-file "--tucker-gpu-configure=decode=off consumer-warpgroups=2 sm-count=114 ping-pong=false" \
// RUN:   | FileCheck %s --check-prefix=OPTS

// The schedules --tucker-gpu-configure chooses from the shapes (the
// kernels they lower to are tucker-flash-to-gpu*.mlir's), and that a
// schedule already on an op is kept. What it refuses:
// tucker-gpu-configure-error.mlir.
// Tests that: a causal MHA with heads of 128: the prefill kernel, two consumer warpgroups, one head per 128-row tile.
// CHECK-LABEL: func @mha_d128
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>
func.func @mha_d128(%q: tensor<2x16x256x128xbf16>, %k: tensor<2x16x256x128xbf16>, %v: tensor<2x16x256x128xbf16>) -> tensor<2x16x256x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x16x256x128xbf16>, tensor<2x16x256x128xbf16>, tensor<2x16x256x128xbf16> -> tensor<2x16x256x128xbf16>
  return %o : tensor<2x16x256x128xbf16>
}

// -----

// Tests that: latent MQA with heads of 64 (8 query heads on one key head, N = 1024): three consumer warpgroups (192-row tiles), 8 heads of 24 positions per tile (the fewest padded rows).
// CHECK-LABEL: func @latent_d64
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false, consumers = 3, heads_per_tile = 8, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>
func.func @latent_d64(%q: tensor<2x8x1024x64xbf16>, %k: tensor<2x1x1024x64xbf16>, %v: tensor<2x1x1024x64xbf16>) -> tensor<2x8x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<2x8x1024x64xbf16>, tensor<2x1x1024x64xbf16>, tensor<2x1x1024x64xbf16> -> tensor<2x8x1024x64xbf16>
  return %o : tensor<2x8x1024x64xbf16>
}

// -----

// Tests that: causal MHA with heads of 64 at N = 1024: 192-row tiles would pad 12.5 % of the rows, so two consumer warpgroups.
// CHECK-LABEL: func @mha_d64_causal
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>
func.func @mha_d64_causal(%q: tensor<2x12x1024x64xbf16>, %k: tensor<2x12x1024x64xbf16>, %v: tensor<2x12x1024x64xbf16>) -> tensor<2x12x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x12x1024x64xbf16>, tensor<2x12x1024x64xbf16>, tensor<2x12x1024x64xbf16> -> tensor<2x12x1024x64xbf16>
  return %o : tensor<2x12x1024x64xbf16>
}

// -----

// Tests that: one query per sequence over a cache: the split-KV decode kernel with the group's 4 heads in one tile, splits planned at launch for 132 SMs, launched dependent on the previous grid.
// CHECK-LABEL: func @decode
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = true, consumers = 2, heads_per_tile = 4, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = true>
// OPTS-LABEL: func @decode
// OPTS: schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 4, keys_per_tile = 0, kv_splits = 0, sm_count = 114, ping_pong = false, rope_kernel = true, dependent_launch = false>
func.func @decode(%q: tensor<4x8x1x128xbf16>, %k: tensor<4x2x4096x128xbf16>, %v: tensor<4x2x4096x128xbf16>) -> tensor<4x8x1x128xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<4x8x1x128xbf16>, tensor<4x2x4096x128xbf16>, tensor<4x2x4096x128xbf16> -> tensor<4x8x1x128xbf16>
  return %o : tensor<4x8x1x128xbf16>
}

// -----

// Tests that: one query per sequence, but the flash returns its log-sum-exp, which only the prefill kernel writes: not decode.
// CHECK-LABEL: func @decode_shape_with_lse
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false,
func.func @decode_shape_with_lse(%q: tensor<4x8x1x128xbf16>, %k: tensor<4x2x4096x128xbf16>, %v: tensor<4x2x4096x128xbf16>) -> tensor<4x8x1xf32> {
  %o, %lse = tucker.flash %q, %k, %v : tensor<4x8x1x128xbf16>, tensor<4x2x4096x128xbf16>, tensor<4x2x4096x128xbf16> -> tensor<4x8x1x128xbf16>, tensor<4x8x1xf32>
  return %lse : tensor<4x8x1xf32>
}

// -----

// Tests that: absorbed MLA (Dqk 576, Dv 512): the split-O kernel runs two consumer warpgroups.
// CHECK-LABEL: func @mla_wide
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>
func.func @mla_wide(%q: tensor<1x128x512x576xbf16>, %k: tensor<1x1x512x576xbf16>, %v: tensor<1x1x512x512xbf16>) -> tensor<1x128x512x512xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x128x512x576xbf16>, tensor<1x1x512x576xbf16>, tensor<1x1x512x512xbf16> -> tensor<1x128x512x512xbf16>
  return %o : tensor<1x128x512x512xbf16>
}

// -----

// Tests that: dynamic B and N: the prefill kernel (decode needs a static Nq), no head packing.
// CHECK-LABEL: func @dynamic
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>
func.func @dynamic(%q: tensor<?x8x?x128xbf16>, %k: tensor<?x2x?x128xbf16>, %v: tensor<?x2x?x128xbf16>) -> tensor<?x8x?x128xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<?x8x?x128xbf16>, tensor<?x2x?x128xbf16>, tensor<?x2x?x128xbf16> -> tensor<?x8x?x128xbf16>
  return %o : tensor<?x8x?x128xbf16>
}

// -----

// Tests that: a schedule given in IR is kept as it is (two consumer
// warpgroups and no head packing where the shapes would choose three and
// 8), and that the options apply only to ops without one.
// CHECK-LABEL: func @given
// CHECK: tucker.flash {{.*}}schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 64, kv_splits = 0, sm_count = 100, ping_pong = false, rope_kernel = false, dependent_launch = false>
// OPTS-LABEL: func @given
// OPTS: schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 64, kv_splits = 0, sm_count = 100, ping_pong = false, rope_kernel = false, dependent_launch = false>
func.func @given(%q: tensor<2x8x1024x64xbf16>, %k: tensor<2x1x1024x64xbf16>, %v: tensor<2x1x1024x64xbf16>) -> tensor<2x8x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 64, kv_splits = 0, sm_count = 100, ping_pong = false, rope_kernel = false, dependent_launch = false>}
      : tensor<2x8x1024x64xbf16>, tensor<2x1x1024x64xbf16>, tensor<2x1x1024x64xbf16> -> tensor<2x8x1024x64xbf16>
  return %o : tensor<2x8x1024x64xbf16>
}

// -----

// Tests that: a flash backward (MHA, heads of 128, causal) gets the backward kernels' schedule: 128 keys per CTA, 64 query rows per step; the options do not change it.
// CHECK-LABEL: func @backward_mha_d128
// CHECK: tucker.flash_backward {{.*}}schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = false>
// OPTS-LABEL: func @backward_mha_d128
// OPTS: schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = false>
func.func @backward_mha_d128(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x8x1000x128xbf16>, %v: tensor<2x8x1000x128xbf16>, %lse: tensor<2x8x1000xf32>) -> tensor<2x8x1000x128xbf16> {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q {causal}
      : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x128xbf16>
      -> tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
  return %dq : tensor<2x8x1000x128xbf16>
}

// -----

// Tests that: a deterministic flash backward gets the ordered dQ adds (and,
// 32 CTAs being too few, its group of 4 split over 4 CTAs); a schedule given
// in IR with ordered_dq on a backward that does not ask for determinism is
// kept.
// CHECK-LABEL: func @backward_deterministic
// CHECK: tucker.flash_backward {{.*}}schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 4, ordered_dq = true>
// CHECK: tucker.flash_backward {{.*}}schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = true>
// OPTS-LABEL: func @backward_deterministic
// OPTS-COUNT-2: ordered_dq = true
func.func @backward_deterministic(%q: tensor<2x8x1000x64xbf16>, %k: tensor<2x2x1000x64xbf16>, %v: tensor<2x2x1000x64xbf16>, %lse: tensor<2x8x1000xf32>) -> (tensor<2x8x1000x64xbf16>, tensor<2x8x1000x64xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q {causal, deterministic}
      : tensor<2x8x1000x64xbf16>, tensor<2x2x1000x64xbf16>, tensor<2x2x1000x64xbf16>, tensor<2x8x1000x64xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x64xbf16>
      -> tensor<2x8x1000x64xbf16>, tensor<2x2x1000x64xbf16>, tensor<2x2x1000x64xbf16>
  %dq2, %dk2, %dv2 = tucker.flash_backward %q, %k, %v, %q, %lse, %q {schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = true>}
      : tensor<2x8x1000x64xbf16>, tensor<2x2x1000x64xbf16>, tensor<2x2x1000x64xbf16>, tensor<2x8x1000x64xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x64xbf16>
      -> tensor<2x8x1000x64xbf16>, tensor<2x2x1000x64xbf16>, tensor<2x2x1000x64xbf16>
  return %dq, %dq2 : tensor<2x8x1000x64xbf16>, tensor<2x8x1000x64xbf16>
}

// -----

// Tests that: head splits follow the CTA count of the main kernel (ceil(Nk /
// 128) · Hkv · B against 16 per SM, 2112 on 132 SMs): latent MQA 32/1 at B 4,
// N 4096 (128 CTAs) splits its 32 heads over 32 CTAs (2048 < 2112), at
// sm-count = 114 (OPTS, 1824) over 16; MHA never splits; GQA 32/8 at B 2 (512
// CTAs) splits its 4 heads over 4.
// CHECK-LABEL: func @backward_head_splits
// CHECK: head_splits = 32, ordered_dq = false
// CHECK: head_splits = 1, ordered_dq = false
// CHECK: head_splits = 4, ordered_dq = false
// OPTS-LABEL: func @backward_head_splits
// OPTS: head_splits = 16
// OPTS: head_splits = 1
// OPTS: head_splits = 4
func.func @backward_head_splits(%q: tensor<4x32x4096x64xbf16>, %kv: tensor<4x1x4096x64xbf16>, %lse: tensor<4x32x4096xf32>,
                                %mq: tensor<1x4x256x64xbf16>, %mlse: tensor<1x4x256xf32>,
                                %gq: tensor<2x32x4096x128xbf16>, %gk: tensor<2x8x4096x128xbf16>, %glse: tensor<2x32x4096xf32>) -> (tensor<4x32x4096x64xbf16>, tensor<1x4x256x64xbf16>, tensor<2x32x4096x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %kv, %kv, %q, %lse, %q {causal}
      : tensor<4x32x4096x64xbf16>, tensor<4x1x4096x64xbf16>, tensor<4x1x4096x64xbf16>, tensor<4x32x4096x64xbf16>, tensor<4x32x4096xf32>, tensor<4x32x4096x64xbf16>
      -> tensor<4x32x4096x64xbf16>, tensor<4x1x4096x64xbf16>, tensor<4x1x4096x64xbf16>
  %mdq, %mdk, %mdv = tucker.flash_backward %mq, %mq, %mq, %mq, %mlse, %mq
      : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>, tensor<1x4x256x64xbf16>
      -> tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>
  %gdq, %gdk, %gdv = tucker.flash_backward %gq, %gk, %gk, %gq, %glse, %gq {causal}
      : tensor<2x32x4096x128xbf16>, tensor<2x8x4096x128xbf16>, tensor<2x8x4096x128xbf16>, tensor<2x32x4096x128xbf16>, tensor<2x32x4096xf32>, tensor<2x32x4096x128xbf16>
      -> tensor<2x32x4096x128xbf16>, tensor<2x8x4096x128xbf16>, tensor<2x8x4096x128xbf16>
  return %dq, %mdq, %gdq : tensor<4x32x4096x64xbf16>, tensor<1x4x256x64xbf16>, tensor<2x32x4096x128xbf16>
}
