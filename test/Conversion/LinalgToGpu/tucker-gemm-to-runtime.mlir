// RUN: tucker-opt %s -split-input-file --tucker-gemm-to-runtime --canonicalize --cse | FileCheck %s

// What --tucker-gemm-to-runtime makes of contractions: a launcher call with
// the operands as identity-layout buffers, the result and cuBLASLt scratch
// allocated at the op site; the launcher passes tuckerGemm (types, m, n, k,
// batch, outer, then per operand its pointer and strides) as the header
// include/tucker/Runtime/Gemm.h describes. Type codes: 0 f32, 1 f16, 2 bf16.

// Tests that: a projection (the einsum --tucker-fold builds) with its cast to
// bf16 and a bias over the last dim becomes one call with the bias epilogue:
// m = 2·48, n = 96, k = 128, A row stride 128, B row stride 96, ldc 96.
// CHECK-LABEL: func.func @proj(
// CHECK-SAME:    %[[X:.+]]: tensor<2x48x128xbf16>, %[[W:.+]]: tensor<128x96xbf16>, %[[BIAS:.+]]: tensor<96xbf16>)
// CHECK-DAG:     %[[XB:.+]] = bufferization.to_buffer %[[X]] read_only : tensor<2x48x128xbf16> to memref<2x48x128xbf16>
// CHECK-DAG:     %[[WB:.+]] = bufferization.to_buffer %[[W]] read_only
// CHECK-DAG:     %[[BB:.+]] = bufferization.to_buffer %[[BIAS]] read_only
// CHECK:         %[[C:.+]] = memref.alloc() : memref<2x48x96xbf16>
// CHECK:         %[[S:.+]] = memref.alloc() : memref<33554432xi8>
// CHECK:         call @tucker_gemm_bf16_bf16_bias(%[[XB]], %[[WB]], %[[BB]], %[[C]], %[[S]])
// CHECK:         %[[Y:.+]] = bufferization.to_tensor %[[C]] restrict writable
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[Y]]
// CHECK-LABEL: func.func private @tucker_gemm_bf16_bf16_bias(
// CHECK-DAG:     %[[BF16:.+]] = arith.constant 2 : i32
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : i64
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[C96:.+]] = arith.constant 96 : i64
// CHECK-DAG:     %[[C128:.+]] = arith.constant 128 : i64
// CHECK-DAG:     %[[SCRATCH:.+]] = arith.constant 33554432 : i64
// CHECK:         call @tuckerGemm(%[[BF16]], %[[BF16]], %[[C96]], %[[C96]], %[[C128]], %[[C1]], %[[C1]], %{{.+}}, %[[C128]], %[[C1]], %[[C0]], %[[C0]], %{{.+}}, %[[C96]], %[[C1]], %[[C0]], %[[C0]], %{{.+}}, %[[C96]], %[[C0]], %[[C0]], %{{.+}}, %{{.+}}, %[[SCRATCH]])
#x = affine_map<(b, n, j, k) -> (b, n, k)>
#w = affine_map<(b, n, j, k) -> (k, j)>
#o = affine_map<(b, n, j, k) -> (b, n, j)>
#id = affine_map<(b, n, j) -> (b, n, j)>
#last = affine_map<(b, n, j) -> (j)>
func.func @proj(%x: tensor<2x48x128xbf16>, %w: tensor<128x96xbf16>, %bias: tensor<96xbf16>) -> tensor<2x48x96xbf16> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x48x96xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x48x96xf32>) -> tensor<2x48x96xf32>
  %p = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x48x128xbf16>, tensor<128x96xbf16>) outs(%f : tensor<2x48x96xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x48x96xf32>
  %e2 = tensor.empty() : tensor<2x48x96xbf16>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p : tensor<2x48x96xf32>) outs(%e2 : tensor<2x48x96xbf16>) {
  ^bb0(%v: f32, %o: bf16):
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x48x96xbf16>
  %y = linalg.generic {indexing_maps = [#id, #last, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c, %bias : tensor<2x48x96xbf16>, tensor<96xbf16>) outs(%e2 : tensor<2x48x96xbf16>) {
  ^bb0(%v: bf16, %bb: bf16, %o: bf16):
    %v32 = arith.extf %v : bf16 to f32
    %b32 = arith.extf %bb : bf16 to f32
    %s = arith.addf %v32, %b32 : f32
    %t = arith.truncf %s : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x48x96xbf16>
  return %y : tensor<2x48x96xbf16>
}
// -----

// Tests that: linalg.matmul on f32 (no cast to absorb) is a plain call.
// CHECK-LABEL: func.func @matmul(
// CHECK:         call @tucker_gemm_f32_f32(
// CHECK-NOT:     linalg.matmul
// CHECK-LABEL: func.func private @tucker_gemm_f32_f32(
// CHECK-DAG:     %[[F32:.+]] = arith.constant 0 : i32
// CHECK-DAG:     %[[C64:.+]] = arith.constant 64 : i64
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : i64
// CHECK-DAG:     %[[C32:.+]] = arith.constant 32 : i64
// CHECK-DAG:     %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         call @tuckerGemm(%[[F32]], %[[F32]], %[[C64]], %[[C16]], %[[C32]], {{.*}}, %[[NULL]], %{{.+}}, %{{.+}})
func.func @matmul(%a: tensor<64x32xf32>, %b: tensor<32x16xf32>) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %c = linalg.matmul ins(%a, %b : tensor<64x32xf32>, tensor<32x16xf32>) outs(%f : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %c : tensor<64x16xf32>
}
// -----

// Tests that: linalg.batch_matmul (f16 in, f32 out) is one strided batch of 4:
// batch strides 64·32, 32·16 and 64·16.
// CHECK-LABEL: func.func private @tucker_gemm_f16_f32(
// CHECK-DAG:     %[[F16:.+]] = arith.constant 1 : i32
// CHECK-DAG:     %[[F32:.+]] = arith.constant 0 : i32
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : i64
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[SA:.+]] = arith.constant 2048 : i64
// CHECK-DAG:     %[[SB:.+]] = arith.constant 512 : i64
// CHECK-DAG:     %[[SC:.+]] = arith.constant 1024 : i64
// CHECK:         call @tuckerGemm(%[[F16]], %[[F32]], %{{.+}}, %{{.+}}, %{{.+}}, %[[C4]], %[[C1]], %{{.+}}, %{{.+}}, %{{.+}}, %[[SA]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[SB]], %{{.+}}, %{{.+}}, %{{.+}}, %[[SC]],
func.func @bmm(%a: tensor<4x64x32xf16>, %b: tensor<4x32x16xf16>) -> tensor<4x64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x64x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x64x16xf32>) -> tensor<4x64x16xf32>
  %c = linalg.batch_matmul ins(%a, %b : tensor<4x64x32xf16>, tensor<4x32x16xf16>) outs(%f : tensor<4x64x16xf32>) -> tensor<4x64x16xf32>
  return %c : tensor<4x64x16xf32>
}
// -----

// Tests that: the per-head query cores q_i = q̃·G_i (result [B, H, N, r3], the
// flash's layout) need no copy: heads i become a cuBLASLt batch that A
// broadcasts (stride 0), batch b an outer loop of 2 calls that B broadcasts
// (cheaper than copying the 4M-element result); m = N = 4096, n = r3 = 64,
// k = r2 = 64.
// CHECK-LABEL: func.func @query_core(
// CHECK-NOT:     linalg.transpose
// CHECK:         call @tucker_gemm_bf16_f32(
// CHECK-LABEL: func.func private @tucker_gemm_bf16_f32(
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : i64
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : i64
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : i64
// CHECK-DAG:     %[[C64:.+]] = arith.constant 64 : i64
// CHECK-DAG:     %[[C4096:.+]] = arith.constant 4096 : i64
// CHECK-DAG:     %[[SA:.+]] = arith.constant 262144 : i64
// CHECK-DAG:     %[[SC:.+]] = arith.constant 2097152 : i64
// CHECK:         call @tuckerGemm(%{{.+}}, %{{.+}}, %[[C4096]], %[[C64]], %[[C64]], %[[C8]], %[[C2]], %{{.+}}, %[[C64]], %[[C1]], %[[C0]], %[[SA]], %{{.+}}, %[[C64]], %[[C1]], %[[C4096]], %[[C0]], %{{.+}}, %[[C64]], %[[SA]], %[[SC]],
#q = affine_map<(b, i, n, s, r) -> (b, n, r)>
#g = affine_map<(b, i, n, s, r) -> (i, r, s)>
#qo = affine_map<(b, i, n, s, r) -> (b, i, n, s)>
func.func @query_core(%qt: tensor<2x4096x64xbf16>, %g: tensor<8x64x64xbf16>) -> tensor<2x8x4096x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x4096x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x4096x64xf32>) -> tensor<2x8x4096x64xf32>
  %p = linalg.generic {indexing_maps = [#q, #g, #qo], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %g : tensor<2x4096x64xbf16>, tensor<8x64x64xbf16>) outs(%f : tensor<2x8x4096x64xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x8x4096x64xf32>
  return %p : tensor<2x8x4096x64xf32>
}

// -----

// Tests that: with a small result, one call and a copy of the result back
// ([B, N, H, r3] computed, then transposed) beats an outer loop of calls.
// CHECK-LABEL: func.func @query_core_small(
// CHECK:         call @tucker_gemm_bf16_f32(%{{[^,]+}}, %{{[^,]+}}, %[[C:[^,]+]],
// CHECK-SAME:      memref<2x64x8x32xf32>
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[C]]
// CHECK:         linalg.transpose ins(%[[R]] : tensor<2x64x8x32xf32>) outs(%{{.+}} : tensor<2x8x64x32xf32>) permutation = [0, 2, 1, 3]
#q = affine_map<(b, i, n, s, r) -> (b, n, r)>
#g = affine_map<(b, i, n, s, r) -> (i, r, s)>
#qo = affine_map<(b, i, n, s, r) -> (b, i, n, s)>
func.func @query_core_small(%qt: tensor<2x64x64xbf16>, %g: tensor<8x64x32xbf16>) -> tensor<2x8x64x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x64x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x64x32xf32>) -> tensor<2x8x64x32xf32>
  %p = linalg.generic {indexing_maps = [#q, #g, #qo], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %g : tensor<2x64x64xbf16>, tensor<8x64x32xbf16>) outs(%f : tensor<2x8x64x32xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x8x64x32xf32>
  return %p : tensor<2x8x64x32xf32>
}

// -----

// Tests that: when the queries feed a tucker.flash, the head transpose of the
// result is free (--tucker-flash-to-gpu reads it in place): one call, heads
// a cuBLASLt batch over the whole [B·N] rows, even for a large result.
// CHECK-LABEL: func.func @query_core_flash(
// CHECK:         call @tucker_gemm_bf16_bf16(%{{[^,]+}}, %{{[^,]+}}, %[[C:[^,]+]],
// CHECK-SAME:      memref<2x4096x8x64xbf16>
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[C]]
// CHECK:         %[[Q:.+]] = linalg.transpose ins(%[[R]] : tensor<2x4096x8x64xbf16>) outs(%{{.+}} : tensor<2x8x4096x64xbf16>) permutation = [0, 2, 1, 3]
// CHECK:         tucker.flash %[[Q]],
// CHECK-LABEL: func.func private @tucker_gemm_bf16_bf16(
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : i64
// CHECK-DAG:     %[[M:.+]] = arith.constant 8192 : i64
// CHECK:         call @tuckerGemm(%{{.+}}, %{{.+}}, %[[M]], %{{.+}}, %{{.+}}, %[[C8]], %[[C1]],
#q = affine_map<(b, i, n, s, r) -> (b, n, r)>
#g = affine_map<(b, i, n, s, r) -> (i, r, s)>
#qo = affine_map<(b, i, n, s, r) -> (b, i, n, s)>
#id = affine_map<(b, i, n, s) -> (b, i, n, s)>
func.func @query_core_flash(%qt: tensor<2x4096x64xbf16>, %g: tensor<8x64x64xbf16>, %k: tensor<2x1x4096x64xbf16>) -> tensor<2x8x4096x64xbf16> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x4096x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x4096x64xf32>) -> tensor<2x8x4096x64xf32>
  %p = linalg.generic {indexing_maps = [#q, #g, #qo], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %g : tensor<2x4096x64xbf16>, tensor<8x64x64xbf16>) outs(%f : tensor<2x8x4096x64xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x8x4096x64xf32>
  %e2 = tensor.empty() : tensor<2x8x4096x64xbf16>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%p : tensor<2x8x4096x64xf32>) outs(%e2 : tensor<2x8x4096x64xbf16>) {
  ^bb0(%v: f32, %o: bf16):
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x8x4096x64xbf16>
  %o = tucker.flash %q, %k, %k : tensor<2x8x4096x64xbf16>, tensor<2x1x4096x64xbf16>, tensor<2x1x4096x64xbf16> -> tensor<2x8x4096x64xbf16>
  return %o : tensor<2x8x4096x64xbf16>
}

// -----

// Tests that: the output fold y = Σ_i o_i·G̃_i, whose reduction dims (head,
// value) are not adjacent in o [B, H, N, r̃3] nor in G̃ [H, d, r̃3], copies
// both to canonical order first (o to [B, N, H, r̃3], G̃ to [H, r̃3, d]):
// one product with m = 2·64, n = 64, k = 8·32.
// CHECK-LABEL: func.func @output_fold(
// CHECK-SAME:    %[[O:.+]]: tensor<2x8x64x32xbf16>, %[[G:.+]]: tensor<8x64x32xbf16>)
// CHECK-DAG:     %[[OT:.+]] = linalg.transpose ins(%[[O]] : tensor<2x8x64x32xbf16>) outs(%{{.+}} : tensor<2x64x8x32xbf16>) permutation = [0, 2, 1, 3]
// CHECK-DAG:     %[[GT:.+]] = linalg.transpose ins(%[[G]] : tensor<8x64x32xbf16>) outs(%{{.+}} : tensor<8x32x64xbf16>) permutation = [0, 2, 1]
// CHECK-DAG:     %[[OB:.+]] = bufferization.to_buffer %[[OT]]
// CHECK-DAG:     %[[GB:.+]] = bufferization.to_buffer %[[GT]]
// CHECK:         call @tucker_gemm_bf16_f32(%[[OB]], %[[GB]],
// CHECK-LABEL: func.func private @tucker_gemm_bf16_f32(
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[C64:.+]] = arith.constant 64 : i64
// CHECK-DAG:     %[[C128:.+]] = arith.constant 128 : i64
// CHECK-DAG:     %[[C256:.+]] = arith.constant 256 : i64
// CHECK:         call @tuckerGemm(%{{.+}}, %{{.+}}, %[[C128]], %[[C64]], %[[C256]], %[[C1]], %[[C1]], %{{.+}}, %[[C256]], %[[C1]],
#o = affine_map<(b, n, t, i, s) -> (b, i, n, s)>
#gt = affine_map<(b, n, t, i, s) -> (i, t, s)>
#z = affine_map<(b, n, t, i, s) -> (b, n, t)>
func.func @output_fold(%o: tensor<2x8x64x32xbf16>, %g: tensor<8x64x32xbf16>) -> tensor<2x64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x64x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x64x64xf32>) -> tensor<2x64x64xf32>
  %p = linalg.generic {indexing_maps = [#o, #gt, #z], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%o, %g : tensor<2x8x64x32xbf16>, tensor<8x64x32xbf16>) outs(%f : tensor<2x64x64xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x64x64xf32>
  return %p : tensor<2x64x64xf32>
}
// -----

// Tests that: a transposed weight (x·w_oᵀ as --tucker-lift writes it) is read
// through the transpose: B is w_o itself with row stride 1, column stride
// 128 (no copy).
// CHECK-LABEL: func.func @transposed_weight(
// CHECK-SAME:    %{{.+}}: tensor<96x128xbf16>, %[[WO:.+]]: tensor<64x128xbf16>)
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[WB:.+]] = bufferization.to_buffer %[[WO]] read_only : tensor<64x128xbf16> to memref<64x128xbf16>
// CHECK:         call @tucker_gemm_bf16_bf16(%{{.+}}, %[[WB]],
// CHECK-LABEL: func.func private @tucker_gemm_bf16_bf16(
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[C128:.+]] = arith.constant 128 : i64
// CHECK:         call @tuckerGemm(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[C1]], %[[C128]],
func.func @transposed_weight(%x: tensor<96x128xbf16>, %wo: tensor<64x128xbf16>) -> tensor<96x64xbf16> {
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<128x64xbf16>
  %wt = linalg.transpose ins(%wo : tensor<64x128xbf16>) outs(%et : tensor<128x64xbf16>) permutation = [1, 0]
  %e = tensor.empty() : tensor<96x64xbf16>
  %zb = arith.constant 0.0 : bf16
  %f = linalg.fill ins(%zb : bf16) outs(%e : tensor<96x64xbf16>) -> tensor<96x64xbf16>
  %c = linalg.matmul ins(%x, %wt : tensor<96x128xbf16>, tensor<128x64xbf16>) outs(%f : tensor<96x64xbf16>) -> tensor<96x64xbf16>
  return %c : tensor<96x64xbf16>
}
// -----

// Tests that: a dynamic row count is read from the result buffer in the
// launcher (m = memref.dim).
// CHECK-LABEL: func.func @dyn(
// CHECK:         %[[N:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x16xbf16>
// CHECK:         memref.alloc(%[[N]]) : memref<?x4xf32>
// CHECK-LABEL: func.func private @tucker_gemm_bf16_f32(
// CHECK:         %[[M:.+]] = memref.dim %{{.+}}, %{{.+}} : memref<?x4xf32>
// CHECK:         %[[M64:.+]] = arith.index_cast %[[M]] : index to i64
// CHECK:         call @tuckerGemm(%{{.+}}, %{{.+}}, %[[M64]],
func.func @dyn(%a: tensor<?x16xbf16>, %b: tensor<16x4xbf16>) -> tensor<?x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?x16xbf16>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  %c = linalg.matmul ins(%a, %b : tensor<?x16xbf16>, tensor<16x4xbf16>) outs(%f : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %c : tensor<?x4xf32>
}
// -----

// Tests that: contractions the runtime does not take stay linalg (three
// operands; an init that is not zero; operands of two types).
// CHECK-LABEL: func.func @three_inputs(
// CHECK:         linalg.generic
// CHECK-LABEL: func.func @nonzero_init(
// CHECK:         linalg.matmul
// CHECK-LABEL: func.func @mixed_types(
// CHECK:         linalg.matmul
// CHECK-NOT:   call @tucker_gemm
#a3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b3 = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @three_inputs(%x: tensor<2x8x16xf32>, %w: tensor<16x4xf32>, %s: tensor<16x4xf32>) -> tensor<2x8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %p = linalg.generic {indexing_maps = [#a3, #b3, #b3, #c3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w, %s : tensor<2x8x16xf32>, tensor<16x4xf32>, tensor<16x4xf32>) outs(%f : tensor<2x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %m2 = arith.mulf %m, %c : f32
    %r = arith.addf %acc, %m2 : f32
    linalg.yield %r : f32
  } -> tensor<2x8x4xf32>
  return %p : tensor<2x8x4xf32>
}
func.func @nonzero_init(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %c = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x4xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %c : tensor<8x4xf32>
}
func.func @mixed_types(%a: tensor<8x16xbf16>, %b: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %c = linalg.matmul ins(%a, %b : tensor<8x16xbf16>, tensor<16x4xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %c : tensor<8x4xf32>
}

// -----

// Tests that: a column slice (--tucker-merge-products' result) is read in
// place: the call takes a strided view of the slice's source, and the
// launcher passes its row pitch (32) as A's row stride and starts at its
// first column (offset 8 elements of 4 bytes).
// CHECK-LABEL: func.func @column_slice(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x32xf32>
// CHECK:         %[[XB:.+]] = bufferization.to_buffer %[[X]] read_only : tensor<64x32xf32> to memref<64x32xf32>
// CHECK:         %[[V:.+]] = memref.subview %[[XB]][0, 8] [64, 16] [1, 1] : memref<64x32xf32> to memref<64x16xf32, strided<[32, 1], offset: 8>>
// CHECK:         call @tucker_gemm_f32_f32(%[[V]],
// CHECK-LABEL: func.func private @tucker_gemm_f32_f32(
// CHECK-SAME:    %[[A:[^:]+]]: memref<64x16xf32, strided<[32, 1], offset: 8>>
// CHECK-DAG:     %[[C32:.+]] = arith.constant 32 : i64
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[C32B:.+]] = arith.constant 32 : index
// CHECK:         %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK:         %[[FIRST:.+]] = arith.addi %[[BASE]], %[[C32B]] : index
// CHECK:         %[[I:.+]] = arith.index_cast %[[FIRST]] : index to i64
// CHECK:         %[[PA:.+]] = llvm.inttoptr %[[I]]
// CHECK:         call @tuckerGemm(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[PA]], %[[C32]], %[[C1]],
func.func @column_slice(%x: tensor<64x32xf32>, %w: tensor<16x4xf32>) -> tensor<64x4xf32> {
  %zero = arith.constant 0.0 : f32
  %s = tensor.extract_slice %x[0, 8] [64, 16] [1, 1] : tensor<64x32xf32> to tensor<64x16xf32>
  %e = tensor.empty() : tensor<64x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x4xf32>) -> tensor<64x4xf32>
  %c = linalg.matmul ins(%s, %w : tensor<64x16xf32>, tensor<16x4xf32>) outs(%f : tensor<64x4xf32>) -> tensor<64x4xf32>
  return %c : tensor<64x4xf32>
}

// -----

// Tests that: a reduction over the last two dims of a column slice (heads
// and their columns, as an output fold) cannot be one K run of it (its rows
// are 32 apart, 2·8 = 16 wide): it is passed as an identity-layout buffer
// (bufferization copies it there), not as a view.
// CHECK-LABEL: func.func @column_slice_run(
// CHECK:         %[[S:.+]] = tensor.extract_slice
// CHECK:         %[[SB:.+]] = bufferization.to_buffer %[[S]] read_only : tensor<64x2x8xf32> to memref<64x2x8xf32>
// CHECK-NOT:     memref.subview
// CHECK:         call @tucker_gemm_f32_f32(%[[SB]],
#sa = affine_map<(m, n, h, d) -> (m, h, d)>
#sb = affine_map<(m, n, h, d) -> (h, d, n)>
#sc = affine_map<(m, n, h, d) -> (m, n)>
func.func @column_slice_run(%x: tensor<64x2x32xf32>, %w: tensor<2x8x4xf32>) -> tensor<64x4xf32> {
  %zero = arith.constant 0.0 : f32
  %s = tensor.extract_slice %x[0, 0, 8] [64, 2, 8] [1, 1, 1] : tensor<64x2x32xf32> to tensor<64x2x8xf32>
  %e = tensor.empty() : tensor<64x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x4xf32>) -> tensor<64x4xf32>
  %c = linalg.generic {indexing_maps = [#sa, #sb, #sc], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%s, %w : tensor<64x2x8xf32>, tensor<2x8x4xf32>) outs(%f : tensor<64x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<64x4xf32>
  return %c : tensor<64x4xf32>
}
