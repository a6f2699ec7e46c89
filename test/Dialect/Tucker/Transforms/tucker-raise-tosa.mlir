// RUN: tucker-opt %s -split-input-file --tucker-raise --verify-roundtrip | FileCheck %s

// --tucker-raise on attention as torch-mlir's TOSA backend lowers it. The same
// functions run raised and unraised in test/Integration/CPU/raise/raise-tosa.mlir.

// Tests that torch-mlir's TOSA lowering of scaled dot-product attention
// (tosa.transpose of k, tosa.matmul, tosa.mul by the scale, reduce_max / sub /
// exp / reduce_sum / reciprocal / mul) becomes tucker.flash on a batch of one.

// CHECK-LABEL: func.func @tosa_flash(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x8x8xf32>, %[[K:[a-z0-9]+]]: tensor<4x8x8xf32>, %[[V:[a-z0-9]+]]: tensor<4x8x8xf32>
// CHECK: %[[Q4:.+]] = tensor.expand_shape %[[Q]]
// CHECK: %[[K4:.+]] = tensor.expand_shape %[[K]]
// CHECK: %[[V4:.+]] = tensor.expand_shape %[[V]]
// CHECK: %[[O:.+]] = tucker.flash %[[Q4]], %[[K4]], %[[V4]] {scale = 0.35355{{[0-9]+}} : f64} : tensor<1x4x8x8xf32>
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[O]]
// CHECK-NOT: tosa.
// CHECK: return %[[R]]
func.func @tosa_flash(%q: tensor<4x8x8xf32>, %k: tensor<4x8x8xf32>, %v: tensor<4x8x8xf32>) -> tensor<4x8x8xf32> {
  %t1 = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %k2 = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm3 = tosa.matmul %q, %t1, %k2, %k2 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %k4 = "tosa.const"() <{values = dense<3.535533906e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %k6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %mul5 = tosa.mul %mm3, %k4, %k6 : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %reduce_max7 = tosa.reduce_max %mul5 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub8 = tosa.sub %mul5, %reduce_max7 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp9 = tosa.exp %sub8 : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %reduce_sum10 = tosa.reduce_sum %exp9 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %reciprocal11 = tosa.reciprocal %reduce_sum10 : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %mul12 = tosa.mul %exp9, %reciprocal11, %k6 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %mm13 = tosa.matmul %mul12, %v, %k2, %k2 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  return %mm13 : tensor<4x8x8xf32>
}

// -----

// Tests that the unsafe TOSA softmax (no reduce_max) with a constant causal mask
// added (broadcast over the heads) and no scale becomes a causal tucker.flash with
// scale 1.

// CHECK-LABEL: func.func @tosa_flash_causal(
// CHECK: tucker.flash {{.*}} {causal, scale = 1.000000e+00 : f64}
// CHECK-NOT: tosa.
func.func @tosa_flash_causal(%q: tensor<4x8x8xf32>, %k: tensor<4x8x8xf32>, %v: tensor<4x8x8xf32>) -> tensor<4x8x8xf32> {
  %t1 = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %k2 = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm3 = tosa.matmul %q, %t1, %k2, %k2 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %k4 = "tosa.const"() <{values = dense<[[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<1x8x8xf32>}> : () -> tensor<1x8x8xf32>
  %add5 = tosa.add %mm3, %k4 : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %exp6 = tosa.exp %add5 : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %reduce_sum7 = tosa.reduce_sum %exp6 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %reciprocal8 = tosa.reciprocal %reduce_sum7 : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %k10 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %mul9 = tosa.mul %exp6, %reciprocal8, %k10 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %mm11 = tosa.matmul %mul9, %v, %k2, %k2 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  return %mm11 : tensor<4x8x8xf32>
}

// -----

// Tests that a whole TOSA layer (tosa.reshape of the tokens to [1, B·N, d],
// tosa.transpose of [out, in] weights, tosa.matmul projections with tosa.add
// biases, heads split and merged by reshape / transpose, causal constant mask)
// becomes tucker.mha with its biases.

// CHECK-LABEL: func.func @tosa_mha(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8x16xf32>
// CHECK-SAME: %[[WQ:[a-z0-9]+]]: tensor<16x16xf32>, %[[WK:[a-z0-9]+]]: tensor<16x16xf32>, %[[WV:[a-z0-9]+]]: tensor<16x16xf32>, %[[WO:[a-z0-9]+]]: tensor<16x16xf32>
// CHECK-SAME: %[[BQ:[a-z0-9]+]]: tensor<16xf32>, %[[BK:[a-z0-9]+]]: tensor<16xf32>, %[[BV:[a-z0-9]+]]: tensor<16xf32>, %[[BO:[a-z0-9]+]]: tensor<16xf32>
// CHECK: %[[TQ:.+]] = linalg.transpose ins(%[[WQ]]
// CHECK: %[[TK:.+]] = linalg.transpose ins(%[[WK]]
// CHECK: %[[TV:.+]] = linalg.transpose ins(%[[WV]]
// CHECK: %[[TO:.+]] = linalg.transpose ins(%[[WO]]
// CHECK: %[[Y:.+]] = tucker.mha %[[X]], %[[TQ]], %[[TK]], %[[TV]], %[[TO]] bq(%[[BQ]]) bk(%[[BK]]) bv(%[[BV]]) bo(%[[BO]]) {causal, num_heads = 2 : i64, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: tosa.
// CHECK: return %[[Y]]
func.func @tosa_mha(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>, %bq: tensor<16xf32>, %bk: tensor<16xf32>, %bv: tensor<16xf32>, %bo: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %s1 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r2 = tosa.reshape %x, %s1 : (tensor<2x8x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %t3 = tosa.transpose %wq {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s4 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r5 = tosa.reshape %t3, %s4 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %k6 = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm7 = tosa.matmul %r2, %r5, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s8 = tosa.const_shape {values = dense<[1, 1, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r9 = tosa.reshape %bq, %s8 : (tensor<16xf32>, !tosa.shape<3>) -> tensor<1x1x16xf32>
  %add10 = tosa.add %mm7, %r9 : (tensor<1x16x16xf32>, tensor<1x1x16xf32>) -> tensor<1x16x16xf32>
  %s11 = tosa.const_shape {values = dense<[2, 8, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r12 = tosa.reshape %add10, %s11 : (tensor<1x16x16xf32>, !tosa.shape<4>) -> tensor<2x8x2x8xf32>
  %t13 = tosa.transpose %r12 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
  %t14 = tosa.transpose %wk {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s15 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r16 = tosa.reshape %t14, %s15 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %mm17 = tosa.matmul %r2, %r16, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s18 = tosa.const_shape {values = dense<[1, 1, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r19 = tosa.reshape %bk, %s18 : (tensor<16xf32>, !tosa.shape<3>) -> tensor<1x1x16xf32>
  %add20 = tosa.add %mm17, %r19 : (tensor<1x16x16xf32>, tensor<1x1x16xf32>) -> tensor<1x16x16xf32>
  %s21 = tosa.const_shape {values = dense<[2, 8, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r22 = tosa.reshape %add20, %s21 : (tensor<1x16x16xf32>, !tosa.shape<4>) -> tensor<2x8x2x8xf32>
  %t23 = tosa.transpose %r22 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
  %t24 = tosa.transpose %wv {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s25 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r26 = tosa.reshape %t24, %s25 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %mm27 = tosa.matmul %r2, %r26, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s28 = tosa.const_shape {values = dense<[1, 1, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r29 = tosa.reshape %bv, %s28 : (tensor<16xf32>, !tosa.shape<3>) -> tensor<1x1x16xf32>
  %add30 = tosa.add %mm27, %r29 : (tensor<1x16x16xf32>, tensor<1x1x16xf32>) -> tensor<1x16x16xf32>
  %s31 = tosa.const_shape {values = dense<[2, 8, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r32 = tosa.reshape %add30, %s31 : (tensor<1x16x16xf32>, !tosa.shape<4>) -> tensor<2x8x2x8xf32>
  %t33 = tosa.transpose %r32 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
  %s34 = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r35 = tosa.reshape %t13, %s34 : (tensor<2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %t36 = tosa.transpose %t23 {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s37 = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r38 = tosa.reshape %t36, %s37 : (tensor<2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %s39 = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r40 = tosa.reshape %t33, %s39 : (tensor<2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %mm41 = tosa.matmul %r35, %r38, %k6, %k6 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %k42 = "tosa.const"() <{values = dense<3.535533906e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %k44 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %mul43 = tosa.mul %mm41, %k42, %k44 : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %k45 = "tosa.const"() <{values = dense<[[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<1x8x8xf32>}> : () -> tensor<1x8x8xf32>
  %add46 = tosa.add %mul43, %k45 : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %reduce_max47 = tosa.reduce_max %add46 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub48 = tosa.sub %add46, %reduce_max47 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp49 = tosa.exp %sub48 : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %reduce_sum50 = tosa.reduce_sum %exp49 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %reciprocal51 = tosa.reciprocal %reduce_sum50 : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %mul52 = tosa.mul %exp49, %reciprocal51, %k44 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %mm53 = tosa.matmul %mul52, %r40, %k6, %k6 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %s54 = tosa.const_shape {values = dense<[2, 2, 8, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r55 = tosa.reshape %mm53, %s54 : (tensor<4x8x8xf32>, !tosa.shape<4>) -> tensor<2x2x8x8xf32>
  %t56 = tosa.transpose %r55 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x2x8x8xf32>) -> tensor<2x8x2x8xf32>
  %s57 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r58 = tosa.reshape %t56, %s57 : (tensor<2x8x2x8xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %t59 = tosa.transpose %wo {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s60 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r61 = tosa.reshape %t59, %s60 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %mm62 = tosa.matmul %r58, %r61, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s63 = tosa.const_shape {values = dense<[1, 1, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r64 = tosa.reshape %bo, %s63 : (tensor<16xf32>, !tosa.shape<3>) -> tensor<1x1x16xf32>
  %add65 = tosa.add %mm62, %r64 : (tensor<1x16x16xf32>, tensor<1x1x16xf32>) -> tensor<1x16x16xf32>
  %s66 = tosa.const_shape {values = dense<[2, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r67 = tosa.reshape %add65, %s66 : (tensor<1x16x16xf32>, !tosa.shape<3>) -> tensor<2x8x16xf32>
  return %r67 : tensor<2x8x16xf32>
}

// -----

// Tests that rotate-half RoPE in TOSA (tosa.slice halves, tosa.negate,
// tosa.concat, tosa.mul by constant [1, 1, N, dh] cos / sin tables, tosa.add) on
// q and k makes a causal tucker.mha with a rope.

// CHECK-LABEL: func.func @tosa_rope(
// CHECK: tucker.mha {{.*}} {causal, num_heads = 2 : i64, rope = #tucker.rope<theta = 1.000000e+04, width = 8, style = half>, scale = 0.35355{{[0-9]+}} : f64}
// CHECK-NOT: tosa.
func.func @tosa_rope(%x: tensor<2x8x16xf32>, %wq: tensor<16x16xf32>, %wk: tensor<16x16xf32>, %wv: tensor<16x16xf32>, %wo: tensor<16x16xf32>) -> tensor<2x8x16xf32> {
  %s1 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r2 = tosa.reshape %x, %s1 : (tensor<2x8x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %t3 = tosa.transpose %wq {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s4 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r5 = tosa.reshape %t3, %s4 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %k6 = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm7 = tosa.matmul %r2, %r5, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s8 = tosa.const_shape {values = dense<[2, 8, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r9 = tosa.reshape %mm7, %s8 : (tensor<1x16x16xf32>, !tosa.shape<4>) -> tensor<2x8x2x8xf32>
  %t10 = tosa.transpose %r9 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
  %t11 = tosa.transpose %wk {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s12 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r13 = tosa.reshape %t11, %s12 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %mm14 = tosa.matmul %r2, %r13, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s15 = tosa.const_shape {values = dense<[2, 8, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r16 = tosa.reshape %mm14, %s15 : (tensor<1x16x16xf32>, !tosa.shape<4>) -> tensor<2x8x2x8xf32>
  %t17 = tosa.transpose %r16 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
  %t18 = tosa.transpose %wv {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s19 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r20 = tosa.reshape %t18, %s19 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %mm21 = tosa.matmul %r2, %r20, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s22 = tosa.const_shape {values = dense<[2, 8, 2, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r23 = tosa.reshape %mm21, %s22 : (tensor<1x16x16xf32>, !tosa.shape<4>) -> tensor<2x8x2x8xf32>
  %t24 = tosa.transpose %r23 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
  %k25 = "tosa.const"() <{values = dense<[[[[1.000000000e+00, 1.000000000e+00, 1.000000000e+00, 1.000000000e+00, 1.000000000e+00, 1.000000000e+00, 1.000000000e+00, 1.000000000e+00], [5.403023059e-01, 9.950041653e-01, 9.999500004e-01, 9.999995000e-01, 5.403023059e-01, 9.950041653e-01, 9.999500004e-01, 9.999995000e-01], [-4.161468365e-01, 9.800665778e-01, 9.998000067e-01, 9.999980000e-01, -4.161468365e-01, 9.800665778e-01, 9.998000067e-01, 9.999980000e-01], [-9.899924966e-01, 9.553364891e-01, 9.995500337e-01, 9.999955000e-01, -9.899924966e-01, 9.553364891e-01, 9.995500337e-01, 9.999955000e-01], [-6.536436209e-01, 9.210609940e-01, 9.992001067e-01, 9.999920000e-01, -6.536436209e-01, 9.210609940e-01, 9.992001067e-01, 9.999920000e-01], [2.836621855e-01, 8.775825619e-01, 9.987502604e-01, 9.999875000e-01, 2.836621855e-01, 8.775825619e-01, 9.987502604e-01, 9.999875000e-01], [9.601702867e-01, 8.253356149e-01, 9.982005399e-01, 9.999820001e-01, 9.601702867e-01, 8.253356149e-01, 9.982005399e-01, 9.999820001e-01], [7.539022543e-01, 7.648421873e-01, 9.975510003e-01, 9.999755001e-01, 7.539022543e-01, 7.648421873e-01, 9.975510003e-01, 9.999755001e-01]]]]> : tensor<1x1x8x8xf32>}> : () -> tensor<1x1x8x8xf32>
  %k26 = "tosa.const"() <{values = dense<[[[[0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00], [8.414709848e-01, 9.983341665e-02, 9.999833334e-03, 9.999998333e-04, 8.414709848e-01, 9.983341665e-02, 9.999833334e-03, 9.999998333e-04], [9.092974268e-01, 1.986693308e-01, 1.999866669e-02, 1.999998667e-03, 9.092974268e-01, 1.986693308e-01, 1.999866669e-02, 1.999998667e-03], [1.411200081e-01, 2.955202067e-01, 2.999550020e-02, 2.999995500e-03, 1.411200081e-01, 2.955202067e-01, 2.999550020e-02, 2.999995500e-03], [-7.568024953e-01, 3.894183423e-01, 3.998933419e-02, 3.999989333e-03, -7.568024953e-01, 3.894183423e-01, 3.998933419e-02, 3.999989333e-03], [-9.589242747e-01, 4.794255386e-01, 4.997916927e-02, 4.999979167e-03, -9.589242747e-01, 4.794255386e-01, 4.997916927e-02, 4.999979167e-03], [-2.794154982e-01, 5.646424734e-01, 5.996400648e-02, 5.999964000e-03, -2.794154982e-01, 5.646424734e-01, 5.996400648e-02, 5.999964000e-03], [6.569865987e-01, 6.442176872e-01, 6.994284734e-02, 6.999942833e-03, 6.569865987e-01, 6.442176872e-01, 6.994284734e-02, 6.999942833e-03]]]]> : tensor<1x1x8x8xf32>}> : () -> tensor<1x1x8x8xf32>
  %s27 = tosa.const_shape {values = dense<[0, 0, 0, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s28 = tosa.const_shape {values = dense<[2, 2, 8, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %x129 = tosa.slice %t10, %s27, %s28 : (tensor<2x2x8x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<2x2x8x4xf32>
  %s30 = tosa.const_shape {values = dense<[0, 0, 0, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %x231 = tosa.slice %t10, %s30, %s28 : (tensor<2x2x8x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<2x2x8x4xf32>
  %neg32 = tosa.negate %x231, %k6, %k6 : (tensor<2x2x8x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x2x8x4xf32>
  %rot33 = tosa.concat %neg32, %x129 {axis = 3 : i32} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>) -> tensor<2x2x8x8xf32>
  %k35 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %mul34 = tosa.mul %t10, %k25, %k35 : (tensor<2x2x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1xi8>) -> tensor<2x2x8x8xf32>
  %mul36 = tosa.mul %rot33, %k26, %k35 : (tensor<2x2x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1xi8>) -> tensor<2x2x8x8xf32>
  %add37 = tosa.add %mul34, %mul36 : (tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s38 = tosa.const_shape {values = dense<[0, 0, 0, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s39 = tosa.const_shape {values = dense<[2, 2, 8, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %x140 = tosa.slice %t17, %s38, %s39 : (tensor<2x2x8x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<2x2x8x4xf32>
  %s41 = tosa.const_shape {values = dense<[0, 0, 0, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %x242 = tosa.slice %t17, %s41, %s39 : (tensor<2x2x8x8xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<2x2x8x4xf32>
  %neg43 = tosa.negate %x242, %k6, %k6 : (tensor<2x2x8x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x2x8x4xf32>
  %rot44 = tosa.concat %neg43, %x140 {axis = 3 : i32} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>) -> tensor<2x2x8x8xf32>
  %mul45 = tosa.mul %t17, %k25, %k35 : (tensor<2x2x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1xi8>) -> tensor<2x2x8x8xf32>
  %mul46 = tosa.mul %rot44, %k26, %k35 : (tensor<2x2x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1xi8>) -> tensor<2x2x8x8xf32>
  %add47 = tosa.add %mul45, %mul46 : (tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s48 = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r49 = tosa.reshape %add37, %s48 : (tensor<2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %t50 = tosa.transpose %add47 {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s51 = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r52 = tosa.reshape %t50, %s51 : (tensor<2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %s53 = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r54 = tosa.reshape %t24, %s53 : (tensor<2x2x8x8xf32>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  %mm55 = tosa.matmul %r49, %r52, %k6, %k6 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %k56 = "tosa.const"() <{values = dense<3.535533906e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %mul57 = tosa.mul %mm55, %k56, %k35 : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %k58 = "tosa.const"() <{values = dense<[[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<1x8x8xf32>}> : () -> tensor<1x8x8xf32>
  %add59 = tosa.add %mul57, %k58 : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %reduce_max60 = tosa.reduce_max %add59 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub61 = tosa.sub %add59, %reduce_max60 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp62 = tosa.exp %sub61 : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %reduce_sum63 = tosa.reduce_sum %exp62 {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %reciprocal64 = tosa.reciprocal %reduce_sum63 : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %mul65 = tosa.mul %exp62, %reciprocal64, %k35 : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %mm66 = tosa.matmul %mul65, %r54, %k6, %k6 : (tensor<4x8x8xf32>, tensor<4x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %s67 = tosa.const_shape {values = dense<[2, 2, 8, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %r68 = tosa.reshape %mm66, %s67 : (tensor<4x8x8xf32>, !tosa.shape<4>) -> tensor<2x2x8x8xf32>
  %t69 = tosa.transpose %r68 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x2x8x8xf32>) -> tensor<2x8x2x8xf32>
  %s70 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r71 = tosa.reshape %t69, %s70 : (tensor<2x8x2x8xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %t72 = tosa.transpose %wo {perms = array<i32: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %s73 = tosa.const_shape {values = dense<[1, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r74 = tosa.reshape %t72, %s73 : (tensor<16x16xf32>, !tosa.shape<3>) -> tensor<1x16x16xf32>
  %mm75 = tosa.matmul %r71, %r74, %k6, %k6 : (tensor<1x16x16xf32>, tensor<1x16x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x16xf32>
  %s76 = tosa.const_shape {values = dense<[2, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %r77 = tosa.reshape %mm75, %s76 : (tensor<1x16x16xf32>, !tosa.shape<3>) -> tensor<2x8x16xf32>
  return %r77 : tensor<2x8x16xf32>
}
