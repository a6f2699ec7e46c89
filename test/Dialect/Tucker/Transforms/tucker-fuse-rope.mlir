// RUN: tucker-opt %s --tucker-fuse-rope -split-input-file | FileCheck %s

// Tests that: one rope on both queries and keys at default positions moves
// into the flash.
// CHECK-LABEL: func @fuse
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x16x64xf32>, %[[K:.*]]: tensor<1x2x16x64xf32>, %[[V:.*]]: tensor<1x2x16x32xf32>)
// CHECK-NOT: tucker.rope
// CHECK: %[[O:.*]] = tucker.flash %[[Q]], %[[K]], %[[V]] {causal, rope = #tucker.rope<theta = 1.000000e+04, width = 32, repeat = 2, style = interleaved>, scale = 1.250000e-01 : f64}
// CHECK: return %[[O]]
func.func @fuse(%q: tensor<1x4x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x32xf32>)
    -> tensor<1x4x16x32xf32> {
  %qr = tucker.rope %q {rope = #tucker.rope<theta = 10000.0, width = 32, repeat = 2, style = interleaved>}
      : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
  %kr = tucker.rope %k {rope = #tucker.rope<theta = 10000.0, width = 32, repeat = 2, style = interleaved>}
      : tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>
  %o = tucker.flash %qr, %kr, %v {causal, scale = 0.125 : f64}
      : tensor<1x4x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x32xf32> -> tensor<1x4x16x32xf32>
  return %o : tensor<1x4x16x32xf32>
}

// -----

// Tests that: different ropes on queries and keys stay apart.
// CHECK-LABEL: func @different_ropes
// CHECK-COUNT-2: tucker.rope
// CHECK: tucker.flash
// CHECK-NOT: rope =
func.func @different_ropes(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %qr = tucker.rope %q {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %kr = tucker.rope %k {rope = #tucker.rope<theta = 500.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %o = tucker.flash %qr, %kr, %k : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// Tests that: with fewer queries than keys the flash would rotate queries
// at shifted positions, so the rope stays.
// CHECK-LABEL: func @shifted_positions
// CHECK-COUNT-2: tucker.rope
func.func @shifted_positions(%q: tensor<1x1x4x16xf32>, %k: tensor<1x1x8x16xf32>) -> tensor<1x1x4x16xf32> {
  %qr = tucker.rope %q {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x4x16xf32> -> tensor<1x1x4x16xf32>
  %kr = tucker.rope %k {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %o = tucker.flash %qr, %kr, %k : tensor<1x1x4x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x4x16xf32>
  return %o : tensor<1x1x4x16xf32>
}

// -----

// Tests that: explicit positions are not the flash's implicit ones.
// CHECK-LABEL: func @explicit_positions
// CHECK-COUNT-2: tucker.rope
func.func @explicit_positions(%q: tensor<1x1x8x16xf32>, %p: tensor<8xi32>) -> tensor<1x1x8x16xf32> {
  %qr = tucker.rope %q positions(%p : tensor<8xi32>) {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %kr = tucker.rope %q positions(%p : tensor<8xi32>) {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %o = tucker.flash %qr, %kr, %q : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// Tests that: a rope on the queries only cannot move into the flash.
// CHECK-LABEL: func @query_only
// CHECK: tucker.rope
// CHECK: tucker.flash
// CHECK-NOT: rope =
func.func @query_only(%q: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %qr = tucker.rope %q {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %o = tucker.flash %qr, %q, %q : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// Tests that: with lengths the flash would rotate query m at m + L − Nq, not
// at m, so the ropes stay and the flash keeps its lengths.
// CHECK-LABEL: func @lengths
// CHECK-SAME: %[[LEN:[a-z0-9]+]]: tensor<1xi32>
// CHECK-COUNT-2: tucker.rope
// CHECK: tucker.flash %{{.*}} lengths(%[[LEN]] : tensor<1xi32>)
// CHECK-NOT: rope =
func.func @lengths(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %len: tensor<1xi32>) -> tensor<1x1x8x16xf32> {
  %qr = tucker.rope %q {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %kr = tucker.rope %k {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  %o = tucker.flash %qr, %kr, %k lengths(%len : tensor<1xi32>) {causal}
      : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
