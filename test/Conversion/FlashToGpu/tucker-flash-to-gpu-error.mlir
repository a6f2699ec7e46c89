// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-flash-to-gpu

// What --tucker-flash-to-gpu refuses: it reads every choice from the op's
// schedule (what --tucker-gpu-configure refuses is in
// tucker-gpu-configure-error.mlir).

// Tests that: a flash without a schedule is an error naming the pass that
// chooses one.
func.func @no_schedule(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16> {
  // expected-error @+1 {{'tucker.flash' op has no #tucker.flash_schedule: run --tucker-gpu-configure first (it chooses one from the shapes)}}
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16> -> tensor<1x8x256x128xbf16>
  return %o : tensor<1x8x256x128xbf16>
}

// -----

// Tests that: a schedule the kernels cannot run is refused here too (when
// --tucker-gpu-configure did not check it).
func.func @schedule_too_big(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16> {
  // expected-error @+1 {{'tucker.flash' op cannot run on the Hopper kernels: the K/V ring for Dqk = 128, Dv = 128 does not fit in shared memory}}
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 256, kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true, dependent_launch = false>}
      : tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16> -> tensor<1x8x256x128xbf16>
  return %o : tensor<1x8x256x128xbf16>
}

// -----

// Tests that: a flash backward without a schedule is an error naming the
// pass that stamps one.
func.func @backward_no_schedule(%q: tensor<1x4x256x64xbf16>, %k: tensor<1x4x256x64xbf16>, %v: tensor<1x4x256x64xbf16>, %lse: tensor<1x4x256xf32>) -> tensor<1x4x256x64xbf16> {
  // expected-error @+1 {{'tucker.flash_backward' op has no #tucker.flash_backward_schedule: run --tucker-gpu-configure first}}
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q
      : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256xf32>, tensor<1x4x256x64xbf16>
      -> tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>
  return %dq : tensor<1x4x256x64xbf16>
}
