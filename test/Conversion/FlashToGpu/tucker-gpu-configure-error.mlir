// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-gpu-configure
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=chip=sm_80 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=heads-per-tile=3 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=decode=on 2>&1 | FileCheck %s --check-prefix=DECODE
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=decode=fast 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=kv-splits=-1 2>&1 | FileCheck %s --check-prefix=SPLITS
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=kv-splits=65536 2>&1 | FileCheck %s --check-prefix=SPLITS-BIG
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=sm-count=9223372036854775807 2>&1 | FileCheck %s --check-prefix=SMS-BIG
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=keys-per-tile=40 2>&1 | FileCheck %s --check-prefix=KEYS
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=consumer-warpgroups=4 2>&1 | FileCheck %s --check-prefix=GROUPS
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=consumer-warpgroups=3 2>&1 | FileCheck %s --check-prefix=GROUPS-WIDTH
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-configure=keys-per-tile=256 2>&1 | FileCheck %s --check-prefix=KEYS-RING

// What --tucker-gpu-configure refuses (options, and shapes or schedules the
// Hopper kernels cannot run), one case per limit; the first case is the
// valid boundary beside them (bf16, Dqk = Dv = 128, GQA, causal).

// Tests that: bf16, Dqk = Dv = 128, GQA 4:1, causal is accepted.
// HEADS: 'tucker.flash' op cannot be configured by --tucker-gpu-configure: heads-per-tile = 3 must be a power of two up to 128 (the M tile) that divides Hq / Hkv = 4
// CHIP: error: --tucker-gpu-configure: chip 'sm_80' is not supported (the kernels use wgmma, TMA and setmaxnreg: sm_90a)
// DECODE: 'tucker.flash' op cannot be configured by --tucker-gpu-configure: decode=on needs a static Nq of at most 64 (one M tile), got 256
// MODE: for the --decode option: Cannot find option named 'fast'!
// SPLITS: error: --tucker-gpu-configure: kv-splits = -1 and sm-count = 132 must be in [0, 65535] and [1, 4096]
// SPLITS-BIG: error: --tucker-gpu-configure: kv-splits = 65536 and sm-count = 132 must be in [0, 65535] and [1, 4096]
// KEYS: error: --tucker-gpu-configure: keys-per-tile = 40 must be 0 (from the shapes) or a multiple of 16 in [32, 256]
// KEYS-RING: 'tucker.flash' op cannot run on the Hopper kernels: the K/V ring for Dqk = 128, Dv = 128 does not fit in shared memory (427064 B with 256-key tiles, at most 232448 B)
// GROUPS: error: --tucker-gpu-configure: consumer-warpgroups = 4 must be 0 (from the shapes), 2 or 3
// GROUPS-WIDTH: 'tucker.flash' op cannot be configured by --tucker-gpu-configure: consumer-warpgroups = 3 needs Dv <= 64 (a consumer thread has 160 registers), got Dv = 128
// SMS-BIG: error: --tucker-gpu-configure: kv-splits = 0 and sm-count = 9223372036854775807 must be in [0, 65535] and [1, 4096]
func.func @ok(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16> -> tensor<1x8x256x128xbf16>
  return %o : tensor<1x8x256x128xbf16>
}

// -----

// Tests that: f32 operands are refused (the kernels take bf16 or f16).
func.func @f32(%q: tensor<1x2x128x128xf32>, %k: tensor<1x2x128x128xf32>, %v: tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32> {
  // expected-error @+1 {{'tucker.flash' op cannot run on the Hopper kernels: element type 'f32' is not supported (the kernels take bf16 or f16)}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x128xf32>, tensor<1x2x128x128xf32>, tensor<1x2x128x128xf32> -> tensor<1x2x128x128xf32>
  return %o : tensor<1x2x128x128xf32>
}

// -----

// Tests that: a head width that is not a multiple of 16 is refused.
func.func @width(%q: tensor<1x2x128x72xbf16>, %k: tensor<1x2x128x72xbf16>, %v: tensor<1x2x128x72xbf16>) -> tensor<1x2x128x72xbf16> {
  // expected-error @+1 {{head widths Dqk = 72, Dv = 72 are not supported (the kernels take multiples of 16, Dqk up to 576 and Dv up to 512)}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x72xbf16>, tensor<1x2x128x72xbf16>, tensor<1x2x128x72xbf16> -> tensor<1x2x128x72xbf16>
  return %o : tensor<1x2x128x72xbf16>
}

// -----

// Tests that: a value width above 512 is refused.
func.func @wide(%q: tensor<1x2x128x128xbf16>, %k: tensor<1x2x128x128xbf16>, %v: tensor<1x2x128x528xbf16>) -> tensor<1x2x128x528xbf16> {
  // expected-error @+1 {{head widths Dqk = 128, Dv = 528 are not supported}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x528xbf16> -> tensor<1x2x128x528xbf16>
  return %o : tensor<1x2x128x528xbf16>
}

// -----

// Tests that: a wide head whose value columns cannot be split between the two
// consumer warpgroups at a 64-column chunk is refused.
func.func @split(%q: tensor<1x2x128x320xbf16>, %k: tensor<1x2x128x320xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x2x128x64xbf16> {
  // expected-error @+1 {{Dv = 64 leaves the second consumer warpgroup of the wide kernel no columns (it splits Dv at a 64-column chunk)}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x320xbf16>, tensor<1x2x128x320xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x2x128x64xbf16>
  return %o : tensor<1x2x128x64xbf16>
}

// -----

// Tests that: Nk = 0 is refused.
func.func @no_keys(%q: tensor<1x2x64x128xbf16>, %k: tensor<1x2x0x128xbf16>, %v: tensor<1x2x0x128xbf16>) -> tensor<1x2x64x128xbf16> {
  // expected-error @+1 {{Nk = 0: there is no key to attend to}}
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<1x2x64x128xbf16>, tensor<1x2x0x128xbf16>, tensor<1x2x0x128xbf16> -> tensor<1x2x64x128xbf16>
  return %o : tensor<1x2x64x128xbf16>
}

// -----

// Tests that: v read out of k must not overlap the rotated columns.
func.func @rope_value(%q: tensor<1x8x128x192xbf16>, %k: tensor<1x1x128x192xbf16>) -> tensor<1x8x128x128xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 64] [1, 1, 128, 128] [1, 1, 1, 1] : tensor<1x1x128x192xbf16> to tensor<1x1x128x128xbf16>
  // expected-error @+1 {{v is columns [64, 192) of k, which overlap the rotated columns [128, 192); pass v as its own tensor}}
  %o = tucker.flash %q, %k, %v {rope = #tucker.rope<theta = 10000.0, width = 64, offset = 128, style = half>}
      : tensor<1x8x128x192xbf16>, tensor<1x1x128x192xbf16>, tensor<1x1x128x128xbf16> -> tensor<1x8x128x128xbf16>
  return %o : tensor<1x8x128x128xbf16>
}

// -----

// Tests that: a schedule given in IR is checked against the kernels'
// resources like a chosen one: 256-key tiles of heads of 128 do not fit in
// shared memory.
func.func @given_schedule_too_big(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16> {
  // expected-error @+1 {{'tucker.flash' op cannot run on the Hopper kernels: the K/V ring for Dqk = 128, Dv = 128 does not fit in shared memory (427064 B with 256-key tiles, at most 232448 B)}}
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 256, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>}
      : tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16> -> tensor<1x8x256x128xbf16>
  return %o : tensor<1x8x256x128xbf16>
}

// -----

// Tests that: a wide flash (absorbed MLA) that returns its log-sum-exp is
// refused: only the prefill kernel writes it.
func.func @lse_wide(%q: tensor<1x16x256x576xbf16>, %k: tensor<1x1x256x576xbf16>, %v: tensor<1x1x256x512xbf16>) -> tensor<1x16x256xf32> {
  // expected-error @+1 {{'tucker.flash' op cannot run on the Hopper kernels: the log-sum-exp ('lse') is written by the prefill kernel only (not decode, heads up to 256 wide)}}
  %o, %lse = tucker.flash %q, %k, %v {causal}
      : tensor<1x16x256x576xbf16>, tensor<1x1x256x576xbf16>, tensor<1x1x256x512xbf16> -> tensor<1x16x256x512xbf16>, tensor<1x16x256xf32>
  return %lse : tensor<1x16x256xf32>
}

// -----

// Tests that: a flash backward with rope applied by the flash is refused.
func.func @backward_rope(%q: tensor<1x4x256x64xbf16>, %k: tensor<1x4x256x64xbf16>, %v: tensor<1x4x256x64xbf16>, %lse: tensor<1x4x256xf32>) -> tensor<1x4x256x64xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op with rope applied by the flash has no Hopper kernel yet; --tucker-cpu-pipeline runs it}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q {causal, rope = #tucker.rope<theta = 10000.0, width = 64, style = half>}
      : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>, tensor<1x4x256x64xbf16>
      -> tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>
  return %dq : tensor<1x4x256x64xbf16>
}

// -----

// Tests that: a flash backward on heads 96 wide is refused (the backward
// kernels take 64 and 128).
func.func @backward_width(%q: tensor<1x4x256x96xbf16>, %v: tensor<1x4x256x64xbf16>, %o: tensor<1x4x256x64xbf16>, %lse: tensor<1x4x256xf32>) -> tensor<1x4x256x96xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op with head widths other than 64 and 128 has no Hopper kernel yet; --tucker-cpu-pipeline runs it}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %v, %o, %lse, %o
      : tensor<1x4x256x96xbf16>, tensor<1x4x256x96xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>, tensor<1x4x256x64xbf16>
      -> tensor<1x4x256x96xbf16>, tensor<1x4x256x96xbf16>, tensor<1x4x256x64xbf16>
  return %dq : tensor<1x4x256x96xbf16>
}

// -----

// Tests that: a flash backward in f32 is refused (the kernels take bf16 and
// f16).
func.func @backward_f32(%q: tensor<1x4x256x64xf32>, %lse: tensor<1x4x256xf32>) -> tensor<1x4x256x64xf32> {
  // expected-error @+1 {{'tucker.flash_backward' op with element type f32 (the kernels take bf16 or f16) has no Hopper kernel yet; --tucker-cpu-pipeline runs it}}
  %dq, %dk, %dv = tucker.flash_backward %q, %q, %q, %q, %lse, %q
      : tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256xf32>, tensor<1x4x256x64xf32>
      -> tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>
  return %dq : tensor<1x4x256x64xf32>
}

// -----

// Tests that: a backward schedule given in IR with tiles the kernel does not
// run is refused.
func.func @backward_schedule(%q: tensor<1x4x256x64xbf16>, %k: tensor<1x4x256x64xbf16>, %v: tensor<1x4x256x64xbf16>, %lse: tensor<1x4x256xf32>) -> tensor<1x4x256x64xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op cannot run on the Hopper kernels: the backward kernel runs 128 keys per CTA and 64 query rows per step, the schedule asks for 64 and 64}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q {schedule = #tucker.flash_backward_schedule<keys_per_tile = 64, queries_per_tile = 64, head_splits = 1, ordered_dq = false>}
      : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>, tensor<1x4x256x64xbf16>
      -> tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>
  return %dq : tensor<1x4x256x64xbf16>
}

// -----

// Tests that: a backward whose operands have 2^31 elements or more is
// refused (the kernels index in i32).
func.func @backward_too_large(%q: tensor<1x256x65536x128xbf16>, %k: tensor<1x256x64x128xbf16>, %v: tensor<1x256x64x128xbf16>, %lse: tensor<1x256x65536xf32>) -> tensor<1x256x65536x128xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op cannot run on the Hopper kernels: 'q' has 2147483648 elements; the kernels index fewer than 2^31}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q : tensor<1x256x65536x128xbf16>, tensor<1x256x64x128xbf16>, tensor<1x256x64x128xbf16>, tensor<1x256x65536x128xbf16>, tensor<1x256x65536xf32>, tensor<1x256x65536x128xbf16> -> tensor<1x256x65536x128xbf16>, tensor<1x256x64x128xbf16>, tensor<1x256x64x128xbf16>
  return %dq : tensor<1x256x65536x128xbf16>
}

// -----

// Tests that: a deterministic backward given a schedule that adds dQ by
// atomics (whose rounding order changes from run to run) is refused.
func.func @backward_deterministic_atomics(%q: tensor<1x4x256x64xbf16>, %k: tensor<1x4x256x64xbf16>, %v: tensor<1x4x256x64xbf16>, %lse: tensor<1x4x256xf32>) -> tensor<1x4x256x64xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op cannot run on the Hopper kernels: the op is deterministic, its schedule adds dQ by atomics (ordered_dq = false)}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q {deterministic, schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = false>}
      : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>, tensor<1x4x256x64xbf16>
      -> tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>
  return %dq : tensor<1x4x256x64xbf16>
}

// -----

// Tests that: a backward schedule whose head splits do not divide the group
// (4 query heads per kv head, 3 splits) is refused.
func.func @backward_head_splits(%q: tensor<1x8x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>, %lse: tensor<1x8x256xf32>) -> tensor<1x8x256x64xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op cannot run on the Hopper kernels: head_splits = 3 does not divide the group of 4 query heads per kv head}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q {schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 3, ordered_dq = false>}
      : tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x8x256x64xbf16>, tensor<1x8x256xf32>, tensor<1x8x256x64xbf16>
      -> tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>
  return %dq : tensor<1x8x256x64xbf16>
}
