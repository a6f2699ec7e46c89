// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure --tucker-flash-to-gpu | FileCheck %s

// What --tucker-flash-to-gpu emits for a tucker.flash_backward: buffers of
// the operands, the gradients and the f32 scratch (delta, dq_accum), a call
// of the launcher, and the launcher's prep, main and finish launches (the
// main kernel's body is its builder's: only its ABI is checked here).

// Tests that: an MHA backward (bf16, d = 128, causal, N = 1000) launches
// prep (a warp per row: ceil(2·8·1000 / 4) CTAs), the main kernel on grid
// (ceil(1000 / 128), Hkv, B) with the tensor maps of q and do in 64-row boxes
// and of k and v in 128-row boxes, then finish (ceil(2·8·1000·128 / 512)
// CTAs); static non-empty shapes need no guard and no zero kernel.

// CHECK-LABEL: func.func @mha_d128_causal(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x8x1000x128xbf16>, %[[K:[^:]+]]: tensor<2x8x1000x128xbf16>, %[[V:[^:]+]]: tensor<2x8x1000x128xbf16>, %[[O:[^:]+]]: tensor<2x8x1000x128xbf16>, %[[LSE:[^:]+]]: tensor<2x8x1000xf32>, %[[DO:[^:]+]]: tensor<2x8x1000x128xbf16>)
// CHECK: %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only : tensor<2x8x1000x128xbf16> to memref<2x8x1000x128xbf16>
// CHECK: %[[KB:.+]] = bufferization.to_buffer %[[K]] read_only
// CHECK: %[[VB:.+]] = bufferization.to_buffer %[[V]] read_only
// CHECK: %[[OB:.+]] = bufferization.to_buffer %[[O]] read_only
// CHECK: %[[LSEB:.+]] = bufferization.to_buffer %[[LSE]] read_only : tensor<2x8x1000xf32> to memref<2x8x1000xf32>
// CHECK: %[[DOB:.+]] = bufferization.to_buffer %[[DO]] read_only
// CHECK: %[[DQ:.+]] = memref.alloc() : memref<2x8x1000x128xbf16>
// CHECK: %[[DK:.+]] = memref.alloc() : memref<2x8x1000x128xbf16>
// CHECK: %[[DV:.+]] = memref.alloc() : memref<2x8x1000x128xbf16>
// CHECK: %[[DELTA:.+]] = memref.alloc() : memref<2x8x1000xf32>
// CHECK: %[[ACC:.+]] = memref.alloc() : memref<2x8x1000x128xf32>
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d128_causal(%[[QB]], %[[KB]], %[[VB]], %[[OB]], %[[LSEB]], %[[DOB]], %[[DQ]], %[[DK]], %[[DV]], %[[DELTA]], %[[ACC]])
// CHECK: %[[RQ:.+]] = bufferization.to_tensor %[[DQ]] restrict writable
// CHECK: %[[RK:.+]] = bufferization.to_tensor %[[DK]] restrict writable
// CHECK: %[[RV:.+]] = bufferization.to_tensor %[[DV]] restrict writable
// CHECK-NOT: tucker.flash_backward
// CHECK: return %[[RQ]], %[[RK]], %[[RV]]

// CHECK-LABEL: gpu.module @tucker_flash_kernels
// CHECK: gpu.func @flash_bwd_bf16_d128_causal(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i32, %{{[^:]+}}: i32) kernel
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>
// CHECK-SAME: tucker.launch = {backward = true, block_m = 64 : i64, block_n = 128 : i64, causal = true, element = "bf16", group = 1 : i64, head_splits = 1 : i64, lengths = false, ordered_dq = false, qk_dim = 128 : i64, scale_log2e = 0.127517432 : f32, shared_bytes = [[$SMEM:[0-9]+]] : i64, threads = 384 : i64, v_dim = 128 : i64}

// Prep: each lane loads 4 elements of a row of o and of do, multiplies them
// in f32, the warp sums them by butterfly shuffles, lane 0 stores delta, and
// each lane zeroes 4 f32 of dq_accum.
// CHECK: gpu.func @flash_bwd_bf16_d128_causal_prep(%[[PO:[^:]+]]: !llvm.ptr, %[[PDO:[^:]+]]: !llvm.ptr, %[[PDELTA:[^:]+]]: !llvm.ptr, %[[PACC:[^:]+]]: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[ROWS:[^:]+]]: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: %[[ROW:.+]] = arith.addi
// CHECK: arith.cmpi ult, %[[ROW]], %[[ROWS]] : i32
// CHECK: llvm.getelementptr %[[PO]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, bf16
// CHECK: llvm.load %{{.+}} {alignment = 8 : i64} : !llvm.ptr -> vector<4xbf16>
// CHECK: llvm.getelementptr %[[PDO]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, bf16
// CHECK: llvm.load %{{.+}} {alignment = 8 : i64} : !llvm.ptr -> vector<4xbf16>
// CHECK-COUNT-4: llvm.intr.fma
// CHECK-COUNT-5: nvvm.shfl.sync bfly
// CHECK: llvm.getelementptr %[[PDELTA]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: llvm.store %{{.+}} {alignment = 4 : i64} : f32, !llvm.ptr
// CHECK: llvm.getelementptr %[[PACC]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: llvm.store %{{.+}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr
// CHECK: gpu.return

// Finish: 4 elements per thread, times the scale (1/sqrt(128)), as bf16.
// CHECK: gpu.func @flash_bwd_bf16_d128_causal_finish(%[[FACC:[^:]+]]: !llvm.ptr, %[[FDQ:[^:]+]]: !llvm.ptr, %{{[^:]+}}: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: %[[SCALE:.+]] = arith.constant dense<0.0883883461> : vector<4xf32>
// CHECK: llvm.getelementptr %[[FACC]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: %[[ACC4:.+]] = llvm.load %{{.+}} {alignment = 16 : i64} : !llvm.ptr -> vector<4xf32>
// CHECK: %[[SCALED:.+]] = arith.mulf %[[ACC4]], %[[SCALE]] : vector<4xf32>
// CHECK: %[[NARROW:.+]] = arith.truncf %[[SCALED]] : vector<4xf32> to vector<4xbf16>
// CHECK: %[[DST:.+]] = llvm.getelementptr %[[FDQ]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, bf16
// CHECK: llvm.store %[[NARROW]], %[[DST]] {alignment = 8 : i64} : vector<4xbf16>, !llvm.ptr
// CHECK-NOT: gpu.func @flash_bwd_bf16_d128_causal_zero

// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_bf16_d128_causal(
// CHECK-SAME: %[[LQ:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LK:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LV:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LO:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LLSE:[^:]+]]: memref<2x8x1000xf32>, %[[LDO:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LDQ:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LDK:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LDV:[^:]+]]: memref<2x8x1000x128xbf16>, %[[LDELTA:[^:]+]]: memref<2x8x1000xf32>, %[[LACC:[^:]+]]: memref<2x8x1000x128xf32>)
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK-DAG: %[[C384:.+]] = arith.constant 384 : index
// CHECK-DAG: %[[C4000:.+]] = arith.constant 4000 : index
// CHECK-NOT: cf.assert
// CHECK: %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LO]]
// CHECK: %[[PO:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LDO]]
// CHECK: %[[PDO:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LLSE]]
// CHECK: %[[PLSE:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LDELTA]]
// CHECK: %[[PDELTA:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LACC]]
// CHECK: %[[PACC:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LDQ]]
// CHECK: %[[PDQ:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LDK]]
// CHECK: %[[PDK:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LDV]]
// CHECK: %[[PDV:.+]] = llvm.inttoptr
// CHECK-NOT: scf.if
// CHECK: %[[ROWS:.+]] = arith.constant 16000 : i32
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d128_causal_prep blocks in (%[[C4000]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]]) args(%[[PO]] : !llvm.ptr, %[[PDO]] : !llvm.ptr, %[[PDELTA]] : !llvm.ptr, %[[PACC]] : !llvm.ptr, %[[NULL]] : !llvm.ptr, %[[ROWS]] : i32)
// CHECK: %[[SMEMV:.+]] = arith.constant [[$SMEM]] : i32
// CHECK: %[[N:.+]] = arith.constant 1000 : i32
// CHECK: %[[UQ:.+]] = memref.cast %[[LQ]] : memref<2x8x1000x128xbf16> to memref<*xbf16>
// CHECK: %[[TQ:.+]] = nvgpu.tma.create.descriptor %[[UQ]] box[%[[C1]], %[[C1]], %[[C64]], %[[C64]]] : memref<*xbf16> -> <tensor = memref<1x1x64x64xbf16, 3>, swizzle = swizzle_128b, l2promo = l2promo_128b, oob = zero, interleave = none>
// CHECK: %[[MQ:.+]] = builtin.unrealized_conversion_cast %[[TQ]] : {{.+}} to !llvm.ptr
// CHECK: %[[UK:.+]] = memref.cast %[[LK]]
// CHECK: %[[TK:.+]] = nvgpu.tma.create.descriptor %[[UK]] box[%[[C1]], %[[C1]], %[[C128]], %[[C64]]] : memref<*xbf16> -> <tensor = memref<1x1x128x64xbf16, 3>
// CHECK: %[[MK:.+]] = builtin.unrealized_conversion_cast %[[TK]]
// CHECK: %[[UV:.+]] = memref.cast %[[LV]]
// CHECK: %[[TV:.+]] = nvgpu.tma.create.descriptor %[[UV]] box[%[[C1]], %[[C1]], %[[C128]], %[[C64]]]
// CHECK: %[[MV:.+]] = builtin.unrealized_conversion_cast %[[TV]]
// CHECK: %[[UDO:.+]] = memref.cast %[[LDO]]
// CHECK: %[[TDO:.+]] = nvgpu.tma.create.descriptor %[[UDO]] box[%[[C1]], %[[C1]], %[[C64]], %[[C64]]]
// CHECK: %[[MDO:.+]] = builtin.unrealized_conversion_cast %[[TDO]]
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d128_causal blocks in (%[[C8]], %[[C8]], %[[C2]]) threads in (%[[C384]], %[[C1]], %[[C1]]) dynamic_shared_memory_size %[[SMEMV]] args(%[[MQ]] : !llvm.ptr, %[[MK]] : !llvm.ptr, %[[MV]] : !llvm.ptr, %[[MDO]] : !llvm.ptr, %[[PLSE]] : !llvm.ptr, %[[PDELTA]] : !llvm.ptr, %[[PACC]] : !llvm.ptr, %[[NULL]] : !llvm.ptr, %[[PDK]] : !llvm.ptr, %[[PDV]] : !llvm.ptr, %[[NULL]] : !llvm.ptr, %[[N]] : i32, %[[N]] : i32)
// CHECK: %[[COUNT:.+]] = arith.constant 2048000 : i32
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d128_causal_finish blocks in (%[[C4000]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]]) args(%[[PACC]] : !llvm.ptr, %[[PDQ]] : !llvm.ptr, %[[COUNT]] : i32)
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @mha_d128_causal(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x8x1000x128xbf16>, %v: tensor<2x8x1000x128xbf16>, %o: tensor<2x8x1000x128xbf16>, %lse: tensor<2x8x1000xf32>, %do: tensor<2x8x1000x128xbf16>) -> (tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal}
      : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x128xbf16>
      -> tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
  return %dq, %dk, %dv : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
}

// -----

// Tests that: a GQA backward (f16, d = 64, 8 query heads on 2 kv heads, not
// causal) takes the kernels of its spec: the main kernel would run 4 CTAs, so
// --tucker-gpu-configure splits each group's 4 heads over 4 CTAs (`_s4`):
// prep loads 2 elements per lane and zeroes 2 f32, the main grid covers
// (ceil(256 / 128), Hkv · 4, B) and writes f32 partials of dk and dv
// ([4, B, Hkv, Nk, 64], allocated at the op site), finish writes dq in f16 at
// the scale 1/sqrt(64), and two sum kernels add the partials in split order
// into dk (times the scale) and dv.

// CHECK-LABEL: func.func @gqa_d64(
// CHECK: %[[KPARTS:.+]] = memref.alloc() : memref<4x1x2x256x64xf32>
// CHECK: %[[VPARTS:.+]] = memref.alloc() : memref<4x1x2x256x64xf32>
// CHECK: call @tucker_flash_launch_flash_bwd_f16_d64_g4_s4({{.+}}, %[[KPARTS]], %[[VPARTS]])
// CHECK-SAME: (memref<1x8x256x64xf16>, memref<1x2x256x64xf16>, memref<1x2x256x64xf16>, memref<1x8x256x64xf16>, memref<1x8x256xf32>, memref<1x8x256x64xf16>, memref<1x8x256x64xf16>, memref<1x2x256x64xf16>, memref<1x2x256x64xf16>, memref<1x8x256xf32>, memref<1x8x256x64xf32>, memref<4x1x2x256x64xf32>, memref<4x1x2x256x64xf32>) -> ()
// CHECK: gpu.func @flash_bwd_f16_d64_g4_s4(
// CHECK-SAME: tucker.launch = {backward = true, block_m = 64 : i64, block_n = 128 : i64, causal = false, element = "f16", group = 4 : i64, head_splits = 4 : i64, lengths = false, ordered_dq = false, qk_dim = 64 : i64, scale_log2e = 0.180336878 : f32
// CHECK: llvm.store %{{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr
// CHECK: gpu.func @flash_bwd_f16_d64_g4_s4_prep(
// CHECK: llvm.load %{{.+}} {alignment = 4 : i64} : !llvm.ptr -> vector<2xf16>
// CHECK: llvm.load %{{.+}} {alignment = 4 : i64} : !llvm.ptr -> vector<2xf16>
// CHECK-COUNT-2: llvm.intr.fma
// CHECK: llvm.store %{{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr
// CHECK: gpu.func @flash_bwd_f16_d64_g4_s4_finish(
// CHECK: arith.constant dense<1.250000e-01> : vector<4xf32>
// CHECK: arith.truncf %{{.+}} : vector<4xf32> to vector<4xf16>
// CHECK: gpu.func @flash_bwd_f16_d64_g4_s4_sum_dk(
// CHECK: arith.constant dense<1.250000e-01> : vector<4xf32>
// CHECK-COUNT-4: llvm.load %{{.+}} {alignment = 16 : i64} : !llvm.ptr -> vector<4xf32>
// CHECK: arith.addf %{{.+}}, %{{.+}} : vector<4xf32>
// CHECK: gpu.func @flash_bwd_f16_d64_g4_s4_sum_dv(
// CHECK: arith.constant dense<1.000000e+00> : vector<4xf32>
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_f16_d64_g4_s4(
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C512:.+]] = arith.constant 512 : index
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_f16_d64_g4_s4_prep blocks in (%[[C512]], %[[C1]], %[[C1]])
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_f16_d64_g4_s4 blocks in (%[[C2]], %[[C8]], %[[C1]])
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_f16_d64_g4_s4_finish
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_f16_d64_g4_s4_sum_dk blocks in (%[[C64:.+]], %[[C1]], %[[C1]])
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_f16_d64_g4_s4_sum_dv blocks in (%[[C64]], %[[C1]], %[[C1]])
// CHECK-NOT: gpu.launch_func
func.func @gqa_d64(%q: tensor<1x8x256x64xf16>, %k: tensor<1x2x256x64xf16>, %v: tensor<1x2x256x64xf16>, %o: tensor<1x8x256x64xf16>, %lse: tensor<1x8x256xf32>, %do: tensor<1x8x256x64xf16>) -> (tensor<1x8x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do
      : tensor<1x8x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x8x256x64xf16>, tensor<1x8x256xf32>, tensor<1x8x256x64xf16>
      -> tensor<1x8x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>
  return %dq, %dk, %dv : tensor<1x8x256x64xf16>, tensor<1x2x256x64xf16>, tensor<1x2x256x64xf16>
}

// -----

// Tests that: with lengths and dynamic B, Nq and Nk, the launcher asserts
// that q and k index in i32, passes the lengths to the main kernel, runs
// prep and finish when B·Hq·Nq > 0, builds the tensor maps and runs the main
// kernel only when B, Hq·Nq and Nk are all > 0, and zeroes dk and dv by the
// zero kernel when there is no query row but there are keys. (The schedule
// is given: one CTA per kv head, as the other tests of head splits expect.)

// CHECK-LABEL: func.func @lengths_dynamic(
// CHECK: %[[LENB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?xi32> to memref<?xi32>
// CHECK: memref.alloc(%{{.+}}, %{{.+}}) : memref<?x8x?x64xbf16>
// CHECK: memref.alloc(%{{.+}}, %{{.+}}) : memref<?x2x?x64xbf16>
// CHECK: memref.alloc(%{{.+}}, %{{.+}}) : memref<?x2x?x64xbf16>
// CHECK: memref.alloc(%{{.+}}, %{{.+}}) : memref<?x8x?xf32>
// CHECK: memref.alloc(%{{.+}}, %{{.+}}) : memref<?x8x?x64xf32>
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d64_g4_causal_len(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[LENB]],
// CHECK: gpu.func @flash_bwd_bf16_d64_g4_causal_len(
// CHECK-SAME: lengths = true
// CHECK: gpu.func @flash_bwd_bf16_d64_g4_causal_len_prep(
// CHECK: gpu.func @flash_bwd_bf16_d64_g4_causal_len_finish(
// CHECK: gpu.func @flash_bwd_bf16_d64_g4_causal_len_zero(%[[ZDST:[^:]+]]: !llvm.ptr, %[[ZCOUNT:[^:]+]]: i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: %[[ZERO:.+]] = arith.constant dense<0> : vector<4xi32>
// CHECK: arith.cmpi ult, %{{.+}}, %[[ZCOUNT]] : i32
// CHECK: llvm.getelementptr %[[ZDST]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, i32
// CHECK: llvm.store %[[ZERO]], %{{.+}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr

// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_bf16_d64_g4_causal_len(
// CHECK-SAME: %[[LQ:[^:]+]]: memref<?x8x?x64xbf16>, %[[LK:[^:]+]]: memref<?x2x?x64xbf16>, %{{[^:]+}}: memref<?x2x?x64xbf16>, %{{[^:]+}}: memref<?x8x?x64xbf16>, %{{[^:]+}}: memref<?x8x?xf32>, %{{[^:]+}}: memref<?x8x?x64xbf16>, %[[LLEN:[^:]+]]: memref<?xi32>, %{{[^:]+}}: memref<?x8x?x64xbf16>, %[[LDK:[^:]+]]: memref<?x2x?x64xbf16>, %[[LDV:[^:]+]]: memref<?x2x?x64xbf16>, %{{[^:]+}}: memref<?x8x?xf32>, %{{[^:]+}}: memref<?x8x?x64xf32>)
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[LIMIT:.+]] = arith.constant 2147483648 : index
// CHECK: %[[B:.+]] = memref.dim %[[LQ]], %[[C0]]
// CHECK: %[[NQ:.+]] = memref.dim %[[LQ]], %[[C2]]
// CHECK: %[[NK:.+]] = memref.dim %[[LK]], %[[C2]]
// CHECK: %[[QROWS:.+]] = arith.muli %[[C8]], %[[NQ]] : index
// CHECK: %[[ROWS:.+]] = arith.muli %[[B]], %[[QROWS]] : index
// CHECK: %[[QELEMS:.+]] = arith.muli %[[ROWS]], %{{.+}} : index
// CHECK: %[[QFITS:.+]] = arith.cmpi ult, %[[QELEMS]], %[[LIMIT]] : index
// CHECK: cf.assert %[[QFITS]], "tucker.flash_backward on the GPU needs fewer than 2^31 elements per operand"
// CHECK: cf.assert
// CHECK: memref.extract_aligned_pointer_as_index %[[LDK]]
// CHECK: %[[PDK:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LDV]]
// CHECK: %[[PDV:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[LLEN]]
// CHECK: %[[PLEN:.+]] = llvm.inttoptr
// CHECK: %[[HASROWS:.+]] = arith.cmpi ugt, %[[ROWS]], %[[C0]] : index
// CHECK: scf.if %[[HASROWS]] {
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_g4_causal_len_prep
// CHECK-NEXT: }
// CHECK: %[[B1:.+]] = arith.cmpi ugt, %[[B]], %[[C0]] : index
// CHECK: %[[Q1:.+]] = arith.cmpi ugt, %[[QROWS]], %[[C0]] : index
// CHECK: %[[BQ:.+]] = arith.andi %[[B1]], %[[Q1]] : i1
// CHECK: %[[K1:.+]] = arith.cmpi ugt, %[[NK]], %[[C0]] : index
// CHECK: %[[WORK:.+]] = arith.andi %[[BQ]], %[[K1]] : i1
// CHECK: scf.if %[[WORK]] {
// CHECK-COUNT-4: nvgpu.tma.create.descriptor
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_g4_causal_len blocks in (%{{.+}}, %[[C2]], %[[B]]) {{.+}} args({{.+}}, %[[PDK]] : !llvm.ptr, %[[PDV]] : !llvm.ptr, %[[PLEN]] : !llvm.ptr, %{{.+}} : i32, %{{.+}} : i32)
// CHECK-NEXT: }
// CHECK: scf.if %[[HASROWS]] {
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_g4_causal_len_finish
// CHECK-NEXT: }
// CHECK: %[[NOQ:.+]] = arith.cmpi eq, %[[QROWS]], %[[C0]] : index
// CHECK: %[[KEYSONLY:.+]] = arith.andi %{{.+}}, %[[NOQ]] : i1
// CHECK: scf.if %[[KEYSONLY]] {
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_g4_causal_len_zero blocks in {{.+}} args(%[[PDK]] : !llvm.ptr, %{{.+}} : i32)
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_g4_causal_len_zero blocks in {{.+}} args(%[[PDV]] : !llvm.ptr, %{{.+}} : i32)
// CHECK-NEXT: }
// CHECK: return
func.func @lengths_dynamic(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>, %o: tensor<?x8x?x64xbf16>, %lse: tensor<?x8x?xf32>, %do: tensor<?x8x?x64xbf16>, %len: tensor<?xi32>) -> (tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do lengths(%len : tensor<?xi32>) {causal, schedule = #tucker.flash_backward_schedule<keys_per_tile = 128, queries_per_tile = 64, head_splits = 1, ordered_dq = false>}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>, tensor<?x8x?x64xbf16>
      -> tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
  return %dq, %dk, %dv : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>
}

// -----

// Tests that: static empty shapes: without queries (Nq = 0) only the zero
// kernel runs, on dk and dv (2·4·100·64 elements: 6400 16-byte units, 50
// CTAs); without keys (Nk = 0) prep zeroes dq_accum and finish writes
// dq = 0, the main kernel does not run. Two backward ops of one spec share
// its kernels; each operand type gets its own launcher.

// CHECK-LABEL: func.func @empty(
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d64(
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d64_0(
// CHECK: gpu.func @flash_bwd_bf16_d64(
// CHECK: gpu.func @flash_bwd_bf16_d64_prep(
// CHECK: gpu.func @flash_bwd_bf16_d64_finish(
// CHECK: gpu.func @flash_bwd_bf16_d64_zero(
// CHECK-NOT: gpu.func
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_bf16_d64(
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C50:.+]] = arith.constant 50 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK-NOT: nvgpu.tma.create.descriptor
// CHECK: %[[UNITS:.+]] = arith.constant 6400 : i32
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_zero blocks in (%[[C50]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]]) args(%{{.+}} : !llvm.ptr, %[[UNITS]] : i32)
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_zero blocks in (%[[C50]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]]) args(%{{.+}} : !llvm.ptr, %[[UNITS]] : i32)
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_bf16_d64_0(
// CHECK-NOT: nvgpu.tma.create.descriptor
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_prep
// CHECK-NEXT: arith.constant 25600 : i32
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_finish
// CHECK-NEXT: return
func.func @empty(%q: tensor<2x4x0x64xbf16>, %k: tensor<2x4x100x64xbf16>, %v: tensor<2x4x100x64xbf16>, %o: tensor<2x4x0x64xbf16>, %lse: tensor<2x4x0xf32>, %do: tensor<2x4x0x64xbf16>,
                 %q2: tensor<2x4x50x64xbf16>, %k2: tensor<2x4x0x64xbf16>, %v2: tensor<2x4x0x64xbf16>, %o2: tensor<2x4x50x64xbf16>, %lse2: tensor<2x4x50xf32>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x50x64xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do
      : tensor<2x4x0x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x0x64xbf16>, tensor<2x4x0xf32>, tensor<2x4x0x64xbf16>
      -> tensor<2x4x0x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>
  %dq2, %dk2, %dv2 = tucker.flash_backward %q2, %k2, %v2, %o2, %lse2, %o2
      : tensor<2x4x50x64xbf16>, tensor<2x4x0x64xbf16>, tensor<2x4x0x64xbf16>, tensor<2x4x50x64xbf16>, tensor<2x4x50xf32>, tensor<2x4x50x64xbf16>
      -> tensor<2x4x50x64xbf16>, tensor<2x4x0x64xbf16>, tensor<2x4x0x64xbf16>
  return %dk, %dq2 : tensor<2x4x100x64xbf16>, tensor<2x4x50x64xbf16>
}

// -----

// Tests that: two backward ops that differ only in scale get kernels of
// their own (the second name with a suffix), one op per launcher.

// CHECK-LABEL: func.func @two_scales(
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d128(
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d128_0(
// CHECK: gpu.func @flash_bwd_bf16_d128(
// CHECK-SAME: scale_log2e = 0.127517432 : f32
// CHECK: gpu.func @flash_bwd_bf16_d128_prep(
// CHECK: gpu.func @flash_bwd_bf16_d128_finish(
// CHECK: gpu.func @flash_bwd_bf16_d128_0(
// CHECK-SAME: scale_log2e = 1.44269502 : f32
// CHECK: gpu.func @flash_bwd_bf16_d128_0_prep(
// CHECK: gpu.func @flash_bwd_bf16_d128_0_finish(
// CHECK: arith.constant dense<1.000000e+00> : vector<4xf32>
func.func @two_scales(%q: tensor<1x4x128x128xbf16>, %lse: tensor<1x4x128xf32>, %k: tensor<1x4x128x128xbf16>, %v: tensor<1x4x128x128xbf16>) -> (tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %q, %lse, %q
      : tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128xf32>, tensor<1x4x128x128xbf16>
      -> tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>
  %dq2, %dk2, %dv2 = tucker.flash_backward %q, %k, %v, %q, %lse, %q {scale = 1.0 : f64}
      : tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128xf32>, tensor<1x4x128x128xbf16>
      -> tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>
  return %dq, %dq2 : tensor<1x4x128x128xbf16>, tensor<1x4x128x128xbf16>
}

// -----

// Tests that: a deterministic backward (ordered_dq) allocates i32 counters
// [B, Hq, Nq] beside the f32 scratch and passes them to prep, which zeroes
// them, and to the main kernel (named _ordered), which waits for its turn
// with a gpu-scope acquire load, adds dQ by L2 loads and plain stores and
// releases with a fence and an integer increment, without f32 atomics.
// CHECK-LABEL: func.func @deterministic(
// CHECK: %[[DELTA:.+]] = memref.alloc() : memref<1x4x300xf32>
// CHECK: %[[ACC:.+]] = memref.alloc() : memref<1x4x300x64xf32>
// CHECK: %[[COUNTERS:.+]] = memref.alloc() : memref<1x4x300xi32>
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d64_ordered(%{{.+}}, %[[DELTA]], %[[ACC]], %[[COUNTERS]])
// CHECK: gpu.func @flash_bwd_bf16_d64_ordered(
// CHECK-SAME: ordered_dq = true
// CHECK-NOT: llvm.atomicrmw fadd
// CHECK: llvm.load %{{.+}} atomic syncscope("device") acquire {alignment = 4 : i64} : !llvm.ptr -> i32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "barrier.sync $0, $1;"
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "ld.global.cg.v2.f32 {$0, $1}, [$2];"
// CHECK: llvm.store %{{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr
// CHECK: llvm.fence syncscope("device") acq_rel
// CHECK: llvm.atomicrmw add %{{.+}}, %{{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK-NOT: llvm.atomicrmw fadd
// CHECK: gpu.func @flash_bwd_bf16_d64_ordered_prep(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %[[PCOUNTERS:[^:]+]]: !llvm.ptr, %{{[^:]+}}: i32)
// CHECK: llvm.getelementptr %[[PCOUNTERS]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, i32
// CHECK: llvm.store %{{.+}} {alignment = 4 : i64} : i32, !llvm.ptr
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_bf16_d64_ordered(
// CHECK-SAME: %[[LCOUNTERS:[^:]+]]: memref<1x4x300xi32>)
// CHECK: memref.extract_aligned_pointer_as_index %[[LCOUNTERS]]
// CHECK: %[[PC:.+]] = llvm.inttoptr
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_ordered_prep {{.+}} args(%{{.+}} : !llvm.ptr, %{{.+}} : !llvm.ptr, %{{.+}} : !llvm.ptr, %{{.+}} : !llvm.ptr, %[[PC]] : !llvm.ptr, %{{.+}} : i32)
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d64_ordered blocks {{.+}} args({{.+}}, %[[PC]] : !llvm.ptr, {{.+}})
func.func @deterministic(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x4x300x64xbf16>, %v: tensor<1x4x300x64xbf16>, %o: tensor<1x4x300x64xbf16>, %lse: tensor<1x4x300xf32>, %do: tensor<1x4x300x64xbf16>) -> (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {deterministic}
      : tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300xf32>, tensor<1x4x300x64xbf16>
      -> tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>
  return %dq, %dk, %dv : tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>
}

// -----

// Tests that: a backward whose v is a column slice of k (a shared latent:
// latent MQA, v = k[..., 64:128]) reads V from the K tile: the launcher takes
// no v, builds no tensor map of it, the main kernel loads only K's two chunks
// (one 32 KiB transaction), and the slice that made v is gone. (Its group
// of 8 query heads is split over 8 CTAs: 6 would be too few.)
// CHECK-LABEL: func.func @latent_column_slice(
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[KB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<2x1x300x128xbf16> to memref<2x1x300x128xbf16>
// CHECK: %[[OB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<2x8x300x64xbf16> to memref<2x8x300x64xbf16>
// CHECK: memref.alloc() : memref<2x1x300x64xbf16>
// CHECK: call @tucker_flash_launch_flash_bwd_bf16_d128_v64_g8_vk64_causal_s8(%{{.+}}, %[[KB]], %[[OB]],
// CHECK: gpu.func @flash_bwd_bf16_d128_v64_g8_vk64_causal_s8(
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c32768_i32
// CHECK-COUNT-2: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %arg1,
// CHECK-NOT: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %arg2,
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_bwd_bf16_d128_v64_g8_vk64_causal_s8(
// CHECK-SAME: %{{[^:]+}}: memref<2x8x300x128xbf16>, %{{[^:]+}}: memref<2x1x300x128xbf16>, %{{[^:]+}}: memref<2x8x300x64xbf16>, %{{[^:]+}}: memref<2x8x300xf32>, %{{[^:]+}}: memref<2x8x300x64xbf16>,
// CHECK-COUNT-3: nvgpu.tma.create.descriptor
// CHECK-NOT: nvgpu.tma.create.descriptor
// CHECK: return
func.func @latent_column_slice(%q: tensor<2x8x300x128xbf16>, %kv: tensor<2x1x300x128xbf16>, %o: tensor<2x8x300x64xbf16>, %lse: tensor<2x8x300xf32>, %do: tensor<2x8x300x64xbf16>) -> (tensor<2x8x300x128xbf16>, tensor<2x1x300x128xbf16>, tensor<2x1x300x64xbf16>) {
  %v = tensor.extract_slice %kv[0, 0, 0, 64] [2, 1, 300, 64] [1, 1, 1, 1] : tensor<2x1x300x128xbf16> to tensor<2x1x300x64xbf16>
  %dq, %dk, %dv = tucker.flash_backward %q, %kv, %v, %o, %lse, %do {causal}
      : tensor<2x8x300x128xbf16>, tensor<2x1x300x128xbf16>, tensor<2x1x300x64xbf16>, tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>, tensor<2x8x300x64xbf16>
      -> tensor<2x8x300x128xbf16>, tensor<2x1x300x128xbf16>, tensor<2x1x300x64xbf16>
  return %dq, %dk, %dv : tensor<2x8x300x128xbf16>, tensor<2x1x300x128xbf16>, tensor<2x1x300x64xbf16>
}
