// Tests that: --tucker-compress checks its options before touching the IR.
// RUN: not tucker-opt %s --tucker-compress 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: not tucker-opt %s --tucker-compress=ranks=1,2 2>&1 | FileCheck %s --check-prefix=LENGTH
// RUN: not tucker-opt %s --tucker-compress=ranks=1,2,3,4 2>&1 | FileCheck %s --check-prefix=LENGTH4
// RUN: not tucker-opt %s --tucker-compress=ranks=1,0,2 2>&1 | FileCheck %s --check-prefix=NONPOSITIVE
// RUN: not tucker-opt %s --tucker-compress="ranks=1,2,3 tolerance=0.1" 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not tucker-opt %s --tucker-compress=tolerance=1.5 2>&1 | FileCheck %s --check-prefix=TOLERANCE

// NONE: error: --tucker-compress: needs 'ranks=r1,r2,r3[,r̃1,r̃2,r̃3]' or a relative error 'tolerance' in (0, 1)
// LENGTH: error: --tucker-compress: option 'ranks' needs 3 values (r1,r2,r3 for both tensors) or 6 (r1,r2,r3,r̃1,r̃2,r̃3), got 2
// LENGTH4: error: --tucker-compress: option 'ranks' needs 3 values {{.*}}, got 4
// NONPOSITIVE: error: --tucker-compress: ranks must be positive, got 0
// BOTH: error: --tucker-compress: give either 'ranks' or 'tolerance', not both
// TOLERANCE: error: --tucker-compress: needs {{.*}} in (0, 1), got tolerance 1.5{{$}}

func.func @f(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %w = arith.constant dense<1.0> : tensor<16x16xf32>
  %y = tucker.mha %x, %w, %w, %w, %w {num_heads = 4 : i64}
      : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>,
         tensor<16x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}
