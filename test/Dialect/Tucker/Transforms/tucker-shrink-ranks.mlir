// RUN: tucker-opt %s --tucker-shrink-ranks -split-input-file | FileCheck %s
// RUN: tucker-opt %s --canonicalize -split-input-file | FileCheck %s --check-prefix=CANON

// Tests that: canonicalization leaves ranks alone (this pass shrinks them).
// CANON-LABEL: func @shrink
// CANON: ranks = #tucker.ranks<[6, 20, 20], [2, 24, 8]>

// Tests that: ranks above their mode's size shrink to it: r1 = 6 > 4 heads,
// r2 = 20 > d = 16 and r̃2 = 24 > d absorb their factors into the cores,
// while r3 = 20 > d keeps U3 because a key norm acts on that latent.
// CHECK-LABEL: func @shrink
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[U1:[a-z0-9]+]]: tensor<4x6xf32>, %[[U2:[a-z0-9]+]]: tensor<16x20xf32>, %[[U3:[a-z0-9]+]]: tensor<16x20xf32>
// CHECK: %[[Y:.*]] = tucker.attention %[[X]], pre(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %[[U3]], core %{{[a-z0-9_]+}}), post(
// CHECK-SAME: ranks = #tucker.ranks<[4, 16, 20], [2, 16, 8]>
// CHECK: return %[[Y]]
func.func @shrink(%x: tensor<1x8x16xf32>, %u1: tensor<4x6xf32>, %u2: tensor<16x20xf32>,
                  %u3: tensor<16x20xf32>, %c: tensor<6x20x20xf32>, %v1: tensor<4x2xf32>,
                  %v2: tensor<16x24xf32>, %v3: tensor<16x8xf32>, %cv: tensor<2x24x8xf32>)
    -> tensor<1x8x16xf32> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[6, 20, 20], [2, 24, 8]>, scale = 0.5 : f64,
       key_norm = #tucker.rms_norm<epsilon = 1.0e-6, width = 20>}
      : (tensor<1x8x16xf32>, tensor<4x6xf32>, tensor<16x20xf32>, tensor<16x20xf32>,
         tensor<6x20x20xf32>, tensor<4x2xf32>, tensor<16x24xf32>, tensor<16x8xf32>,
         tensor<2x24x8xf32>) -> tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

// Tests that: ranks within their modes are left alone.
// CHECK-LABEL: func @no_shrink
// CHECK: ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>
func.func @no_shrink(%x: tensor<1x8x16xf32>, %u1: tensor<4x2xf32>, %u: tensor<16x8xf32>,
                     %c: tensor<2x8x8xf32>) -> tensor<1x8x16xf32> {
  %y = tucker.attention %x, pre(%u1, %u, %u, core %c), post(%u1, %u, %u, core %c)
      {ranks = #tucker.ranks<[2, 8, 8], [2, 8, 8]>, scale = 0.5 : f64}
      : (tensor<1x8x16xf32>, tensor<4x2xf32>, tensor<16x8xf32>, tensor<16x8xf32>,
         tensor<2x8x8xf32>, tensor<4x2xf32>, tensor<16x8xf32>, tensor<16x8xf32>,
         tensor<2x8x8xf32>) -> tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}
