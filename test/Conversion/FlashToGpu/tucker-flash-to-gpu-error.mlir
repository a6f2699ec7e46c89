// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-flash-to-gpu
// RUN: not tucker-opt %s -split-input-file --tucker-flash-to-gpu=chip=sm_80 2>&1 | FileCheck %s --check-prefix=CHIP

// What --tucker-flash-to-gpu refuses, one case per limit; the first case is
// the valid boundary beside them (bf16, Dqk = Dv = 128, GQA, causal).

// Tests that: bf16, Dqk = Dv = 128, GQA 4:1, causal is accepted.
// CHIP: 'tucker.flash' op cannot be lowered by --tucker-flash-to-gpu: chip 'sm_80' is not supported (the kernels use wgmma, TMA and setmaxnreg: sm_90a)
func.func @ok(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16> -> tensor<1x8x256x128xbf16>
  return %o : tensor<1x8x256x128xbf16>
}

// -----

// Tests that: f32 operands are refused (the kernels take bf16 or f16).
func.func @f32(%q: tensor<1x2x128x128xf32>, %k: tensor<1x2x128x128xf32>, %v: tensor<1x2x128x128xf32>) -> tensor<1x2x128x128xf32> {
  // expected-error @+1 {{'tucker.flash' op cannot be lowered by --tucker-flash-to-gpu: element type 'f32' is not supported (the kernels take bf16 or f16)}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x128xf32>, tensor<1x2x128x128xf32>, tensor<1x2x128x128xf32> -> tensor<1x2x128x128xf32>
  return %o : tensor<1x2x128x128xf32>
}

// -----

// Tests that: a head width other than 64, 128, 256 is refused.
func.func @width(%q: tensor<1x2x128x96xbf16>, %k: tensor<1x2x128x96xbf16>, %v: tensor<1x2x128x96xbf16>) -> tensor<1x2x128x96xbf16> {
  // expected-error @+1 {{head widths Dqk = 96, Dv = 96 are not supported (the kernels take Dqk = Dv = 64, 128 or 256)}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x96xbf16>, tensor<1x2x128x96xbf16>, tensor<1x2x128x96xbf16> -> tensor<1x2x128x96xbf16>
  return %o : tensor<1x2x128x96xbf16>
}

// -----

// Tests that: Dqk != Dv is refused (latent MQA widths are not generated yet).
func.func @mixed(%q: tensor<1x2x128x128xf16>, %k: tensor<1x2x128x128xf16>, %v: tensor<1x2x128x64xf16>) -> tensor<1x2x128x64xf16> {
  // expected-error @+1 {{head widths Dqk = 128, Dv = 64 are not supported}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x128x128xf16>, tensor<1x2x128x128xf16>, tensor<1x2x128x64xf16> -> tensor<1x2x128x64xf16>
  return %o : tensor<1x2x128x64xf16>
}

// -----

// Tests that: Nq != Nk is refused.
func.func @lengths(%q: tensor<1x2x64x128xbf16>, %k: tensor<1x2x128x128xbf16>, %v: tensor<1x2x128x128xbf16>) -> tensor<1x2x64x128xbf16> {
  // expected-error @+1 {{Nq = 64 and Nk = 128 differ (the kernels need Nq == Nk)}}
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<1x2x64x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16> -> tensor<1x2x64x128xbf16>
  return %o : tensor<1x2x64x128xbf16>
}

// -----

// Tests that: a static Nq with a dynamic Nk is refused (no run-time check
// can make them equal).
func.func @half_dynamic(%q: tensor<1x2x64x128xbf16>, %k: tensor<1x2x?x128xbf16>, %v: tensor<1x2x?x128xbf16>) -> tensor<1x2x64x128xbf16> {
  // expected-error @+1 {{Nq and Nk must be both static or both dynamic (the kernels need Nq == Nk), got Nq = 64, Nk = ?}}
  %o = tucker.flash %q, %k, %v
      : tensor<1x2x64x128xbf16>, tensor<1x2x?x128xbf16>, tensor<1x2x?x128xbf16> -> tensor<1x2x64x128xbf16>
  return %o : tensor<1x2x64x128xbf16>
}

// -----

// Tests that: rope on the fly is refused for now.
func.func @rope(%q: tensor<1x2x128x128xbf16>, %k: tensor<1x2x128x128xbf16>, %v: tensor<1x2x128x128xbf16>) -> tensor<1x2x128x128xbf16> {
  // expected-error @+1 {{rope is not supported yet (apply tucker.rope before the flash, or use --tucker-flash-to-linalg)}}
  %o = tucker.flash %q, %k, %v {rope = #tucker.rope<theta = 10000.0, width = 128, style = half>}
      : tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16> -> tensor<1x2x128x128xbf16>
  return %o : tensor<1x2x128x128xbf16>
}
