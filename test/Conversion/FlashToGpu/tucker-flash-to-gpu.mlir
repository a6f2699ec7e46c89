// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure --tucker-flash-to-gpu | FileCheck %s
// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure=ping-pong=false --tucker-flash-to-gpu | FileCheck %s --check-prefix=NOPP
// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure=kv-splits=3 --tucker-flash-to-gpu | FileCheck %s --check-prefix=SPLIT3
// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure=decode=off --tucker-flash-to-gpu | FileCheck %s --check-prefix=OFF
// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure=rope-kernel=false --tucker-flash-to-gpu | FileCheck %s --check-prefix=FUSED

// Tests that: a bf16 MHA flash (d = 128, N = 1000) becomes buffers, an
// output allocation and a call of the launcher; the launcher builds three
// 4-D tensor maps and launches the kernel on grid (ceil(N/128), Hq, B); the
// kernel is the warp-specialized TMA + mbarrier + wgmma kernel.

// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: func.func @mha(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x16x1000x128xbf16>, %[[K:[^:]+]]: tensor<2x16x1000x128xbf16>, %[[V:[^:]+]]: tensor<2x16x1000x128xbf16>)
// CHECK: %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only : tensor<2x16x1000x128xbf16> to memref<2x16x1000x128xbf16>
// CHECK: %[[KB:.+]] = bufferization.to_buffer %[[K]] read_only
// CHECK: %[[VB:.+]] = bufferization.to_buffer %[[V]] read_only
// CHECK: %[[OB:.+]] = memref.alloc() : memref<2x16x1000x128xbf16>
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d128(%[[QB]], %[[KB]], %[[VB]], %[[OB]])
// CHECK: %[[O:.+]] = bufferization.to_tensor %[[OB]] restrict writable
// CHECK-NOT: tucker.flash
// CHECK: return %[[O]]

// CHECK-LABEL: gpu.module @tucker_flash_kernels
// CHECK: llvm.mlir.global external @__tucker_smem() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// CHECK: gpu.func @flash_fwd_bf16_d128(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i32, %{{[^:]+}}: i32, %{{[^:]+}}: i32) kernel
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>, nvvm.maxntid = array<i32: 384, 1, 1>, nvvm.minctasm = 1 : i32
// CHECK-SAME: tucker.launch = {block_m = 128 : i64, block_n = 128 : i64, causal = false, decode = false, element = "bf16", group = 1 : i64, heads_per_tile = 1 : i64, lengths = false, output_transposed = false, qk_dim = 128 : i64, scale_log2e = 0.127517432 : f32, shared_bytes = 230456 : i64, stages = 3 : i64, threads = 384 : i64, v_dim = 128 : i64, value_from_key = false}
// CHECK: %[[TID:.+]] = nvvm.read.ptx.sreg.tid.x : i32
// CHECK: %[[HEAD:.+]] = nvvm.read.ptx.sreg.ctaid.y : i32
// CHECK: %[[BATCH:.+]] = nvvm.read.ptx.sreg.ctaid.z : i32
// CHECK: llvm.mlir.addressof @__tucker_smem : !llvm.ptr<3>
// Barrier init: 3 full (count 1), 3 empty (count 256), Q (count 1).
// CHECK-COUNT-7: nvvm.mbarrier.init %{{.+}}, %{{.+}} : !llvm.ptr<3>, i32
// CHECK: nvvm.fence.mbarrier.init
// CHECK: gpu.barrier
// Producer warpgroup: one thread issues every TMA load.
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %{{.+}} : !llvm.ptr<3>, i32
// CHECK: %[[DST:.+]] = llvm.addrspacecast %{{.+}} : !llvm.ptr<3> to !llvm.ptr<7>
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %[[DST]], %{{.+}}, %{{.+}}, box[%{{.+}}, %{{.+}}, %[[HEAD]], %[[BATCH]]] : !llvm.ptr<7>, !llvm.ptr
// CHECK: scf.for
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// Consumer warpgroups.
// CHECK: nvvm.setmaxregister increase 240
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK: nvvm.barrier.arrive id = %{{.+}} number_of_threads = %{{.+}}
// CHECK: nvvm.barrier id = %{{.+}} number_of_threads = %{{.+}}
// CHECK: nvvm.wgmma.fence.aligned
// wgmma descriptor: low word in i32, constant high word attached (ptxas 13.0).
// CHECK: vector.from_elements %{{.+}}, %{{.+}} : vector<2xi32>
// CHECK: vector.bitcast %{{.+}} : vector<2xi32> to vector<1xi64>
// CHECK-COUNT-8: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 16>, D[<f32>, {{<zero>|<one>}}], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// Prologue softmax (masked and unmasked copies): quad reductions, ftz exp2.
// CHECK: scf.if
// CHECK: nvvm.shfl.sync bfly
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: arith.truncf %{{.+}} : vector<2xf32> to vector<2xbf16>
// Steady state: S(j) and P(j-1)·V(j-1) in flight, then the softmax.
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK-COUNT-8: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "{\0A.reg .pred p;\0Asetp.ne.b32 p, 1, 0;\0Awgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {$0, $1,
// CHECK-SAME: $63}, {$128, $129, $130, $131}, $132, p, 1, 1, 1;\0A}"
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.mbarrier.arrive %{{.+}} : !llvm.ptr<3>
// CHECK: arith.truncf %{{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK: scf.yield
// Last P·V, then O / l stored as bf16 pairs for rows < N.
// CHECK: llvm.inline_asm
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.mbarrier.arrive
// CHECK: arith.divf
// CHECK: llvm.getelementptr %{{.+}}[%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, bf16
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : i32, !llvm.ptr
// CHECK: gpu.return

// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d128(
// CHECK-SAME: %[[LQ:[^:]+]]: memref<2x16x1000x128xbf16>, %[[LK:[^:]+]]: memref<2x16x1000x128xbf16>, %[[LV:[^:]+]]: memref<2x16x1000x128xbf16>, %[[LO:[^:]+]]: memref<2x16x1000x128xbf16>)
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK-DAG: %[[C384:.+]] = arith.constant 384 : index
// CHECK-DAG: %[[C1000:.+]] = arith.constant 1000 : index
// CHECK-NOT: cf.assert
// CHECK: %[[OI:.+]] = memref.extract_aligned_pointer_as_index %[[LO]]
// CHECK: %[[OI64:.+]] = arith.index_cast %[[OI]] : index to i64
// CHECK: %[[PO:.+]] = llvm.inttoptr %[[OI64]] : i64 to !llvm.ptr
// CHECK: %[[SMEM:.+]] = arith.constant 230456 : i32
// CHECK: %[[GX:.+]] = arith.constant 8 : index
// CHECK: %[[N:.+]] = arith.constant 1000 : i32
// CHECK: %[[NOSPLIT:.+]] = arith.constant 0 : i32
// CHECK: %[[UQ:.+]] = memref.cast %[[LQ]] : memref<2x16x1000x128xbf16> to memref<*xbf16>
// CHECK: %[[TQ:.+]] = nvgpu.tma.create.descriptor %[[UQ]] box[%[[C1]], %[[C1]], %[[C128]], %[[C64]]] : memref<*xbf16> -> <tensor = memref<1x1x128x64xbf16, 3>, swizzle = swizzle_128b, l2promo = l2promo_128b, oob = zero, interleave = none>
// CHECK: %[[PQ:.+]] = builtin.unrealized_conversion_cast %[[TQ]] : {{.+}} to !llvm.ptr
// CHECK: %[[UK:.+]] = memref.cast %[[LK]]
// CHECK: %[[TK:.+]] = nvgpu.tma.create.descriptor %[[UK]]
// CHECK: %[[PK:.+]] = builtin.unrealized_conversion_cast %[[TK]]
// CHECK: %[[UV:.+]] = memref.cast %[[LV]]
// CHECK: %[[TV:.+]] = nvgpu.tma.create.descriptor %[[UV]]
// CHECK: %[[PV:.+]] = builtin.unrealized_conversion_cast %[[TV]]
// CHECK-NOT: scf.if
// CHECK-NOT: tuckerLaunchDependentNext
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128 blocks in (%[[GX]], %[[C16]], %[[C2]]) threads in (%[[C384]], %[[C1]], %[[C1]]) dynamic_shared_memory_size %[[SMEM]] args(%[[PQ]] : !llvm.ptr, %[[PK]] : !llvm.ptr, %[[PV]] : !llvm.ptr, %[[PO]] : !llvm.ptr, %[[NULL:.+]] : !llvm.ptr, %[[NULL]] : !llvm.ptr, %[[NULL]] : !llvm.ptr, %[[N]] : i32, %[[N]] : i32, %[[NOSPLIT]] : i32)
// CHECK-NOT: gpu.launch_func
// CHECK: return

// Without ping-pong (v4): no named barriers.
// NOPP-LABEL: gpu.func @flash_fwd_bf16_d128(
// NOPP-NOT: nvvm.barrier
// NOPP: gpu.return
func.func @mha(%q: tensor<2x16x1000x128xbf16>, %k: tensor<2x16x1000x128xbf16>, %v: tensor<2x16x1000x128xbf16>) -> tensor<2x16x1000x128xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<2x16x1000x128xbf16>, tensor<2x16x1000x128xbf16>, tensor<2x16x1000x128xbf16> -> tensor<2x16x1000x128xbf16>
  return %o : tensor<2x16x1000x128xbf16>
}

// -----

// Tests that: GQA (8 query heads on 2 kv heads), causal, f16, dynamic B and
// N: K/V are read at kv head h / 4 by TMA coordinate, the causal kernel runs
// query tiles longest first and masks key > query + Nk - Nq, and the
// launcher skips empty launches and, for Nk = 0, fills the output with
// zeros (a memset on the caller's stream) instead of launching.

// CHECK-LABEL: func.func @gqa(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<?x8x?x128xf16>
// CHECK: %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only
// CHECK: %[[B:.+]] = memref.dim %[[QB]], %{{.+}} : memref<?x8x?x128xf16>
// CHECK: %[[N:.+]] = memref.dim %[[QB]], %{{.+}} : memref<?x8x?x128xf16>
// CHECK: %[[OB:.+]] = memref.alloc(%[[B]], %[[N]]) : memref<?x8x?x128xf16>
// CHECK: call @tucker_flash_launch_flash_fwd_f16_d128_g4_causal(%[[QB]], %{{.+}}, %{{.+}}, %[[OB]])

// CHECK-LABEL: gpu.func @flash_fwd_f16_d128_g4_causal(
// CHECK-SAME: causal = true, decode = false, element = "f16", group = 4 : i64
// CHECK: %[[BX:.+]] = nvvm.read.ptx.sreg.ctaid.x : i32
// CHECK: %[[HEAD:.+]] = nvvm.read.ptx.sreg.ctaid.y : i32
// CHECK: %[[NBX:.+]] = nvvm.read.ptx.sreg.nctaid.x : i32
// CHECK: %[[LAST:.+]] = arith.subi %[[NBX]], %{{.+}} : i32
// CHECK: arith.subi %[[LAST]], %[[BX]] : i32
// CHECK: %[[KVH:.+]] = arith.divui %[[HEAD]], %{{.+}} : i32
// CHECK: arith.minui
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %{{.+}}, %{{.+}}, box[%{{.+}}, %{{.+}}, %[[HEAD]], %{{.+}}]
// CHECK: scf.for
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %{{.+}}, %{{.+}}, box[%{{.+}}, %{{.+}}, %[[KVH]], %{{.+}}]
// CHECK: nvvm.wgmma.mma_async {{.+}} A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
// CHECK: arith.cmpi sgt
// CHECK: arith.truncf %{{.+}} : vector<2xf32> to vector<2xf16>
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// CHECK: llvm.getelementptr %{{.+}}[%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, f16

// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_f16_d128_g4_causal(
// CHECK-SAME: %[[LQ:[^:]+]]: memref<?x8x?x128xf16>, %[[LK:[^:]+]]: memref<?x2x?x128xf16>, %{{[^:]+}}: memref<?x2x?x128xf16>, %{{[^:]+}}: memref<?x8x?x128xf16>)
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK: %[[B:.+]] = memref.dim %[[LQ]], %[[C0]]
// CHECK: %[[NQ:.+]] = memref.dim %[[LQ]], %[[C2]]
// CHECK: %[[NK:.+]] = memref.dim %[[LK]], %[[C2]]
// CHECK: %[[GX:.+]] = arith.ceildivui %[[NQ]]
// CHECK: %[[SOME:.+]] = arith.cmpi ugt, %[[NK]], %[[C0]] : index
// CHECK: scf.if %[[SOME]] {
// CHECK: %[[NONEMPTY:.+]] = arith.andi
// CHECK: scf.if %[[NONEMPTY]] {
// CHECK: nvgpu.tma.create.descriptor {{.+}} : memref<*xf16> -> <tensor = memref<1x1x128x64xf16, 3>
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_f16_d128_g4_causal blocks in (%[[GX]], %[[C8]], %[[B]])
// CHECK: } else {
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i16
// CHECK: func.call @mgpuMemset16(%{{.+}}, %[[ZERO]], %{{.+}}, %{{.+}}) : (!llvm.ptr, i16, i64, !llvm.ptr) -> ()
func.func @gqa(%q: tensor<?x8x?x128xf16>, %k: tensor<?x2x?x128xf16>, %v: tensor<?x2x?x128xf16>) -> tensor<?x8x?x128xf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<?x8x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16> -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}

// -----

// Tests that: ops with the same spec share one kernel and one launcher; an
// explicit scale makes another kernel; d = 64 takes one 64-column chunk
// (m64n64 P·V) and, not causal, three consumer warpgroups (192-row Q tile:
// 123 960 B of shared memory).

// CHECK-LABEL: func.func @shared(
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d64_w3(
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d64_w3(
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d64_w3_0(
// CHECK-LABEL: gpu.module @tucker_flash_kernels
// CHECK: gpu.func @flash_fwd_bf16_d64_w3(
// CHECK-SAME: qk_dim = 64 : i64, scale_log2e = 0.180336878 : f32, shared_bytes = 123960 : i64
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK: gpu.func @flash_fwd_bf16_d64_w3_0(
// CHECK-SAME: scale_log2e = 0.72134751 : f32
// CHECK-NOT: gpu.func
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_w3(
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_w3 blocks
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_w3_0(
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_w3_0 blocks
// CHECK-NOT: func.func
func.func @shared(%q: tensor<1x4x256x64xbf16>, %k: tensor<1x4x256x64xbf16>, %v: tensor<1x4x256x64xbf16>) -> (tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>) {
  %a = tucker.flash %q, %k, %v : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16> -> tensor<1x4x256x64xbf16>
  %b = tucker.flash %q, %k, %v : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16> -> tensor<1x4x256x64xbf16>
  %c = tucker.flash %q, %k, %v {scale = 0.5 : f64} : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16> -> tensor<1x4x256x64xbf16>
  return %a, %b, %c : tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>
}

// -----

// Tests that: d = 256 uses 48-key tiles (3 ring slots fit), S is m64n48,
// P·V is m64n256 with 3 key steps, and the K/V boxes are 48 rows.

// CHECK-LABEL: func.func @d256(
// CHECK-LABEL: gpu.func @flash_fwd_bf16_d256_causal(
// CHECK-SAME: block_n = 48 : i64, causal = true
// CHECK-SAME: shared_bytes = 214072 : i64
// CHECK: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 48, k = 16>
// CHECK: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d256_causal(
// CHECK: nvgpu.tma.create.descriptor {{.+}} -> <tensor = memref<1x1x128x64xbf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.+}} -> <tensor = memref<1x1x48x64xbf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.+}} -> <tensor = memref<1x1x48x64xbf16, 3>
func.func @d256(%q: tensor<1x2x512x256xbf16>, %k: tensor<1x2x512x256xbf16>, %v: tensor<1x2x512x256xbf16>) -> tensor<1x2x512x256xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x2x512x256xbf16>, tensor<1x2x512x256xbf16>, tensor<1x2x512x256xbf16> -> tensor<1x2x512x256xbf16>
  return %o : tensor<1x2x512x256xbf16>
}

// -----

// Tests that: a module without tucker.flash is left alone.

// CHECK-NOT: gpu.container_module
// CHECK-LABEL: func.func @none(
// CHECK-NOT: gpu.module
func.func @none(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// Tests that: latent MQA decode (16 query heads on one latent, Nq = 5,
// Nk = 300, v the first 128 columns of k) takes the split-KV decode kernel:
// 8 heads x 8 positions share the 64-row M tile (Q box of 8 rows x 8
// heads); only K is loaded; the 5 key tiles are split 5 ways (4 CTAs would
// leave the GPU idle); the op site allocates the partial results (160 rows
// x 5 splits x 128 f32, and (max, sum) pairs); each consumer warpgroup
// takes alternate tiles (S m64n64 over 12 k-steps, P.V m64n128 from
// registers, one slot held, 128 arrivals per empty barrier); warpgroup 1
// hands its O (64 values a thread) and (m, l) to warpgroup 0 through shared
// memory, which rescales both; warpgroup 0 writes the output when the tile
// has one split and the kernel merges, else the split's partial. Batch and
// Nq are static, so the op site also allocates one
// persistent arrival counter per (batch, head tile, query tile) (2 x 2 x 1)
// and the kernel merges the splits itself: after a barrier of the 256
// consumer threads, thread 0 releases (gpu fence) and counts the CTA in
// with an atomic add; the CTA that completes the count acquires (fence),
// sets the counter back to 0, and its warps merge the tile's rows (a warp
// per row) from the partials read through L2 (ld.global.cg) into the bf16
// output. The launcher runs only the kernel, and no combine kernel is built
// (dynamic shapes, below, still launch one).

// CHECK-LABEL: func.func @latent(
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[O:.+]] = memref.alloc() : memref<2x16x5x128xbf16>
// CHECK: %[[P:.+]] = memref.alloc() : memref<102400xf32>
// CHECK: %[[PD:.+]] = memref.cast %[[P]] : memref<102400xf32> to memref<?xf32>
// CHECK: %[[S:.+]] = memref.alloc() : memref<1600xf32>
// CHECK: %[[SD:.+]] = memref.cast %[[S]] : memref<1600xf32> to memref<?xf32>
// CHECK: %[[CTR:.+]] = memref.alloc() {tucker.persistent} : memref<4xi32>
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d192_v128_g16_p8_vk0_causal_decode(%{{[^,]+}}, %{{[^,]+}}, %[[O]], %[[PD]], %[[SD]], %[[CTR]]) : (memref<2x16x5x192xbf16>, memref<2x1x300x192xbf16>, memref<2x16x5x128xbf16>, memref<?xf32>, memref<?xf32>, memref<4xi32>) -> ()
// CHECK-LABEL: gpu.func @flash_fwd_bf16_d192_v128_g16_p8_vk0_causal_decode(
// CHECK-SAME: %{{[^:]+}}: i32, %{{[^:]+}}: i32, %{{[^:]+}}: i32, %[[COUNTERS:[^:]+]]: !llvm.ptr) kernel
// CHECK-SAME: block_m = 64 : i64, block_n = 64 : i64, causal = true, decode = true
// CHECK-SAME: heads_per_tile = 8 : i64
// CHECK-SAME: stages = 4 : i64
// CHECK-SAME: value_from_key = true
// Launched with programmatic stream serialization: the previous grid is
// awaited before any global access, then the next launch may begin.
// CHECK-NOT: llvm.load
// CHECK: nvvm.griddepcontrol  wait
// CHECK-NEXT: nvvm.griddepcontrol  launch_dependents
// Grid x is (query tile, split): split = x % (gridDim.x / query tiles).
// CHECK: nvvm.read.ptx.sreg.nctaid.x
// CHECK: arith.remui
// CHECK-COUNT-4: nvvm.mbarrier.init %{{.+}}, %{{.+}} : !llvm.ptr<3>, i32
// CHECK: nvvm.mbarrier.init
// CHECK: nvvm.fence.mbarrier.init
// Producer: Q (3 chunks), then K only: 3 loads per ring slot.
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: scf.for
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK-COUNT-3: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK-NOT: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: nvvm.setmaxregister increase 240
// CHECK: scf.for
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK-COUNT-12: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.mbarrier.arrive
// CHECK: scf.yield
// The warpgroups' results merged through shared memory.
// CHECK: "barrier.sync $0, $1;", "r,r" %{{.+}}, %c256_i32
// CHECK: scf.if
// CHECK-COUNT-68: llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : f32, !llvm.ptr<3>
// CHECK: "barrier.sync $0, $1;", "r,r" %{{.+}}, %c256_i32
// CHECK: llvm.load %{{.+}} {alignment = 4 : i64} : !llvm.ptr<3> -> f32
// CHECK: arith.maxnumf
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: %[[NOCTR:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[GIVEN:.+]] = llvm.icmp "ne" %[[COUNTERS]], %[[NOCTR]] : !llvm.ptr
// CHECK: %[[ONE:.+]] = arith.cmpi eq, %{{.+}}, %c1_i32 : i32
// CHECK: %[[DIRECT:.+]] = arith.andi %[[GIVEN]], %[[ONE]] : i1
// CHECK: scf.if %[[DIRECT]] {
// The output: 16-bit pairs.
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : i32, !llvm.ptr
// CHECK: } else {
// The partial result: f32 pairs, then (max, sum).
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr
// The merge by the last CTA of a tile with several splits.
// CHECK: %[[SEVERAL:.+]] = arith.cmpi ugt, %{{.+}}, %c1_i32 : i32
// CHECK: %[[MERGE:.+]] = arith.andi %[[GIVEN]], %[[SEVERAL]] : i1
// CHECK: scf.if %[[MERGE]] {
// CHECK: "barrier.sync $0, $1;", "r,r" %{{.+}}, %c256_i32
// CHECK: %[[CTRAT:.+]] = llvm.getelementptr %[[COUNTERS]][%{{.+}}] : (!llvm.ptr, i32) -> !llvm.ptr, i32
// CHECK-NEXT: llvm.fence syncscope("device") acq_rel
// CHECK-NEXT: %[[BEFORE:.+]] = llvm.atomicrmw add %[[CTRAT]], %{{.+}} syncscope("device") monotonic : !llvm.ptr, i32
// CHECK: %[[LAST:.+]] = arith.cmpi eq, %[[BEFORE]], %{{.+}} : i32
// CHECK: scf.if %[[LAST]] {
// CHECK-NEXT: llvm.fence syncscope("device") acq_rel
// CHECK-NEXT: llvm.store %c0_i32, %[[CTRAT]] {alignment = 4 : i64} : i32, !llvm.ptr
// CHECK: llvm.store %{{.+}}, %[[FLAG:.+]] {alignment = 4 : i64} : i32, !llvm.ptr<3>
// CHECK: "barrier.sync $0, $1;", "r,r" %{{.+}}, %c256_i32
// CHECK: llvm.load %[[FLAG]] {alignment = 4 : i64} : !llvm.ptr<3> -> i32
// One pass over the partials, 8 at a time: 8 x (stats + 2 O pairs) loads,
// then the running maximum and the rescaled sums.
// CHECK: scf.for
// CHECK: scf.for
// CHECK-COUNT-24: "ld.global.cg.v2.f32 {$0, $1}, [$2];", "=f,=f,l"
// CHECK-NOT: ld.global.cg
// CHECK: arith.maxnumf
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: arith.divf
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : i32, !llvm.ptr
// CHECK: gpu.return
// Static shapes launch no combine kernel, so none is built.
// CHECK-NOT: _combine
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d192_v128_g16_p8_vk0_causal_decode(
// CHECK-SAME: memref<2x16x5x192xbf16>, %{{[^:]+}}: memref<2x1x300x192xbf16>, %{{[^:]+}}: memref<2x16x5x128xbf16>, %{{[^:]+}}: memref<?xf32>, %{{[^:]+}}: memref<?xf32>, %[[CTRARG:[^:]+]]: memref<4xi32>)
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK: %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[OP:.+]] = llvm.inttoptr
// CHECK: %[[PP:.+]] = llvm.inttoptr
// CHECK: %[[SP:.+]] = llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[CTRARG]]
// CHECK: %[[CP:.+]] = llvm.inttoptr
// CHECK-DAG: %[[SPLITS:.+]] = arith.constant 5 : index
// CHECK-DAG: %[[NQ:.+]] = arith.constant 5 : i32
// CHECK-DAG: %[[NK:.+]] = arith.constant 300 : i32
// CHECK-DAG: %[[TPS:.+]] = arith.constant 1 : i32
// CHECK: nvgpu.tma.create.descriptor %{{.+}} box[%{{.+}}, %[[C8]], %[[C8]], %{{.+}}] : memref<*xbf16> -> <tensor = memref<1x8x8x64xbf16, 3>
// CHECK: builtin.unrealized_conversion_cast
// CHECK: nvgpu.tma.create.descriptor %{{.+}} -> <tensor = memref<1x1x64x64xbf16, 3>
// CHECK: %[[KMAP:.+]] = builtin.unrealized_conversion_cast
// CHECK-NOT: nvgpu.tma.create.descriptor
// The schedule's dependent launch, announced to the runtime.
// CHECK: call @tuckerLaunchDependentNext() : () -> ()
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d192_v128_g16_p8_vk0_causal_decode blocks in (%[[SPLITS]], %[[C2]], %[[C2]]) {{.+}} args(%{{.+}} : !llvm.ptr, %[[KMAP]] : !llvm.ptr, %[[KMAP]] : !llvm.ptr, %[[OP]] : !llvm.ptr, %[[PP]] : !llvm.ptr, %[[SP]] : !llvm.ptr, %[[NULL]] : !llvm.ptr, %[[NQ]] : i32, %[[NK]] : i32, %[[TPS]] : i32, %[[CP]] : !llvm.ptr)
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @latent(%q: tensor<2x16x5x192xbf16>, %k: tensor<2x1x300x192xbf16>) -> tensor<2x16x5x128xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [2, 1, 300, 128] [1, 1, 1, 1] : tensor<2x1x300x192xbf16> to tensor<2x1x300x128xbf16>
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x16x5x192xbf16>, tensor<2x1x300x192xbf16>, tensor<2x1x300x128xbf16> -> tensor<2x16x5x128xbf16>
  return %o : tensor<2x16x5x128xbf16>
}

// -----

// Tests that: an odd width (96 = 64 + 32) loads two 64-column chunks (the
// second zero-filled past 96) and runs 6 k-steps for S, N = 96 for P·V.

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d96(
// CHECK-SAME: qk_dim = 96 : i64
// CHECK: nvvm.setmaxregister increase 240
// CHECK-COUNT-6: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 16>
// CHECK-NOT: nvvm.wgmma.mma_async
// CHECK: scf.for
// CHECK-COUNT-6: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 128, k = 16>
// CHECK-NOT: nvvm.wgmma.mma_async
// CHECK: wgmma.mma_async.sync.aligned.m64n96k16.f32.bf16.bf16
func.func @odd(%q: tensor<1x2x300x96xbf16>, %k: tensor<1x2x300x96xbf16>, %v: tensor<1x2x300x96xbf16>) -> tensor<1x2x300x96xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x300x96xbf16>, tensor<1x2x300x96xbf16>, tensor<1x2x300x96xbf16> -> tensor<1x2x300x96xbf16>
  return %o : tensor<1x2x300x96xbf16>
}

// -----

// Tests that: absorbed MLA (Dqk = 576, Dv = 512, v = k[..., :512]) takes the
// split-O kernel: 64 query rows (8 heads of 8 positions: 63 tiles per head
// octet pad 500 positions less than 8 tiles of 64), 64-key tiles in a 2-slot ring of K only
// (9 chunks per tile), S by SS-wgmma m64n64 over 36 k-steps, two
// rendezvous per pair of tiles, and P·V as m64n256 RS-wgmma per warpgroup
// (its 256 value columns), each warpgroup generated for its own columns.

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d576_v512_g16_p8_vk0_causal(
// CHECK-SAME: block_m = 64 : i64, block_n = 64 : i64
// CHECK-SAME: shared_bytes = 224808 : i64, stages = 2 : i64
// CHECK-SAME: value_from_key = true
// CHECK: nvvm.setmaxregister decrease 24
// CHECK: scf.for
// CHECK-COUNT-9: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK-NOT: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: nvvm.setmaxregister increase 240
// CHECK: scf.for
// CHECK-COUNT-36: nvvm.wgmma.mma_async {{.+}} <m = 64, n = 64, k = 16>
// The two rendezvous: non-aligned barrier.sync (each warpgroup's own code).
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "barrier.sync $0, $1;", "r,r"
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "barrier.sync $0, $1;", "r,r"
// CHECK: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK: nvvm.mbarrier.arrive
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d576_v512_g16_p8_vk0_causal(
// CHECK: nvgpu.tma.create.descriptor {{.+}} -> <tensor = memref<1x8x8x64xbf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.+}} -> <tensor = memref<1x1x64x64xbf16, 3>
// CHECK-NOT: nvgpu.tma.create.descriptor
func.func @mla(%q: tensor<1x16x500x576xbf16>, %k: tensor<1x1x500x576xbf16>) -> tensor<1x16x500x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, 500, 512] [1, 1, 1, 1] : tensor<1x1x500x576xbf16> to tensor<1x1x500x512xbf16>
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x16x500x576xbf16>, tensor<1x1x500x576xbf16>, tensor<1x1x500x512xbf16> -> tensor<1x16x500x512xbf16>
  return %o : tensor<1x16x500x512xbf16>
}

// -----

// Tests that: prefill with rope rotates q and k ahead (the default): the
// rotate kernel (128 threads, 16 rows per CTA) reads the f64 frequencies of
// its own global, rotates the interleaved pairs (angles reduced mod 2π,
// sin/cos.approx) and copies the other columns; the op site allocates the
// rotated copies; the launcher runs it on q (query positions) and on k, then
// the flash kernel without rope on the copies.

// CHECK-LABEL: func.func @rope(
// CHECK: %[[QB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<1x4x256x128xbf16>
// CHECK: %[[O:.+]] = memref.alloc() : memref<1x4x256x128xbf16>
// CHECK: %[[QR:.+]] = memref.alloc() : memref<1x4x256x128xbf16>
// CHECK: %[[KR:.+]] = memref.alloc() : memref<1x4x256x128xbf16>
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d128_rope64_causal_rotate(%[[QB]], %{{[^,]+}}, %{{[^,]+}}, %[[O]], %[[QR]], %[[KR]])
// CHECK: llvm.mlir.global internal constant @flash_fwd_bf16_d128_rope64_causal_rotate_freq(dense<[1.000000e+00, {{.+}}]> : tensor<32xf64>)
// CHECK-LABEL: gpu.func @flash_fwd_bf16_d128_rope64_causal_rotate(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i32, %{{[^:]+}}: i32, %{{[^:]+}}: i32, %{{[^:]+}}: i32, %{{[^:]+}}: i32, %{{[^:]+}}: i32) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: scf.for
// CHECK: scf.if
// CHECK: math.roundeven
// CHECK: llvm.call_intrinsic "llvm.nvvm.cos.approx.ftz.f"
// CHECK: llvm.call_intrinsic "llvm.nvvm.sin.approx.ftz.f"
// CHECK: } else {
// CHECK: llvm.load
// CHECK: llvm.store
// CHECK: gpu.return
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d128_rope64_causal_rotate(
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG: %[[QUERY:.+]] = arith.constant 1 : i32
// CHECK-DAG: %[[KEY:.+]] = arith.constant 0 : i32
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_rope64_causal_rotate blocks in (%[[C16]], %{{.+}}, %{{.+}}) threads in ({{.+}}) args({{.+}}, %[[QUERY]] : i32, %{{.+}} : i32, %{{.+}} : i32)
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_rope64_causal_rotate blocks in (%[[C16]], %{{.+}}, %{{.+}}) threads in ({{.+}}) args({{.+}}, %[[KEY]] : i32, %{{.+}} : i32, %{{.+}} : i32)
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_causal blocks

// Tests that: with rope-kernel=false, rope on the fly declares the f64
// frequencies as a global of the kernel module, rotates the Q rows of each
// consumer warpgroup (angles reduced mod 2π, sin/cos.approx) behind a proxy
// fence and a 128-thread barrier, and each K tile (256 threads) before its S.

// FUSED-LABEL: gpu.module @tucker_flash_kernels
// FUSED: llvm.mlir.global internal constant @flash_fwd_bf16_d128_rope64_causal_rope_freq(dense<[1.000000e+00, {{.+}}]> : tensor<32xf64>) {addr_space = 1 : i32, alignment = 8 : i64} : !llvm.array<32 x f64>
// FUSED: gpu.func @flash_fwd_bf16_d128_rope64_causal(
// FUSED: nvvm.setmaxregister increase 240
// FUSED: llvm.mlir.addressof @flash_fwd_bf16_d128_rope64_causal_rope_freq : !llvm.ptr<1>
// FUSED: math.roundeven
// FUSED: llvm.call_intrinsic "llvm.nvvm.cos.approx.ftz.f"
// FUSED: llvm.call_intrinsic "llvm.nvvm.sin.approx.ftz.f"
// FUSED: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// FUSED: nvvm.barrier id = %{{.+}} number_of_threads = %{{.+}}
// FUSED: mbarrier.try_wait.parity.shared::cta.b64
// FUSED: llvm.call_intrinsic "llvm.nvvm.sin.approx.ftz.f"
// FUSED: nvvm.fence.proxy
// FUSED: nvvm.wgmma.mma_async
func.func @rope(%q: tensor<1x4x256x128xbf16>, %k: tensor<1x4x256x128xbf16>, %v: tensor<1x4x256x128xbf16>) -> tensor<1x4x256x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal, rope = #tucker.rope<theta = 10000.0, width = 64, style = interleaved>} : tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16> -> tensor<1x4x256x128xbf16>
  return %o : tensor<1x4x256x128xbf16>
}

// -----

// Tests that: ragged decode (lengths, GQA 32/8, causal): the launcher takes
// the i32 lengths buffer and passes its address; the kernel reads
// lengths[batch] and clamps it to [0, Nk] before anything uses Nk; 4 CTAs
// before splitting, so 4 splits of 8 of the 32 key tiles (from the cache
// size: a short sequence's extra splits see no tile), merged in the kernel
// (32 counters: 4 sequences x 8 head tiles). kv-splits=3 gives 3 splits of
// 11 tiles; decode=off takes the 128-row kernel with lengths.

// CHECK-LABEL: func.func @ragged(
// CHECK: %[[L:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<4xi32> to memref<4xi32>
// CHECK: memref.alloc() : memref<65536xf32>
// CHECK: memref.alloc() : memref<1024xf32>
// CHECK: memref.alloc() {tucker.persistent} : memref<32xi32>
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d128_g4_p4_causal_len_decode(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[L]],
// CHECK-LABEL: gpu.func @flash_fwd_bf16_d128_g4_p4_causal_len_decode(
// CHECK-SAME: lengths = true
// CHECK: %[[B:.+]] = nvvm.read.ptx.sreg.ctaid.z : i32
// CHECK: %[[AT:.+]] = llvm.getelementptr %[[LP:[^\[]+]][%[[B]]] : (!llvm.ptr, i32) -> !llvm.ptr, i32
// CHECK: %[[LEN:.+]] = llvm.load %[[AT]] {alignment = 4 : i64} : !llvm.ptr -> i32
// CHECK: %[[NEG:.+]] = arith.cmpi slt, %[[LEN]], %{{.+}} : i32
// CHECK: %[[NONNEG:.+]] = arith.select %[[NEG]], %{{.+}}, %[[LEN]] : i32
// CHECK: %[[BIG:.+]] = arith.cmpi sgt, %[[NONNEG]], %[[NK:[^ ]+]] : i32
// CHECK: arith.select %[[BIG]], %[[NK]], %[[NONNEG]] : i32
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d128_g4_p4_causal_len_decode(
// CHECK-SAME: %{{[^:]+}}: memref<4xi32>
// CHECK-DAG: %[[TPS:.+]] = arith.constant 8 : i32
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_g4_p4_causal_len_decode blocks in (%c4{{.*}}, %c8, %c4{{.*}}) {{.+}} %[[TPS]] : i32, %{{.+}} : !llvm.ptr)
// CHECK-NOT: gpu.launch_func
// CHECK: return

// SPLIT3-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d128_g4_p4_causal_len_decode(
// SPLIT3-DAG: %[[TPS:.+]] = arith.constant 11 : i32
// SPLIT3: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_g4_p4_causal_len_decode blocks in (%c3, {{.+}} %[[TPS]] : i32, %{{.+}} : !llvm.ptr)

// OFF-LABEL: gpu.func @flash_fwd_bf16_d128_g4_p4_causal_len(
// OFF-SAME: block_m = 128 : i64
// OFF-SAME: decode = false
// OFF-SAME: lengths = true
// OFF: llvm.load
// OFF-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d128_g4_p4_causal_len(
// OFF-NOT: _combine
// OFF: return
func.func @ragged(%q: tensor<4x32x1x128xbf16>, %k: tensor<4x8x2048x128xbf16>, %v: tensor<4x8x2048x128xbf16>, %len: tensor<4xi32>) -> tensor<4x32x1x128xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<4xi32>) {causal} : tensor<4x32x1x128xbf16>, tensor<4x8x2048x128xbf16>, tensor<4x8x2048x128xbf16> -> tensor<4x32x1x128xbf16>
  return %o : tensor<4x32x1x128xbf16>
}

// -----

// Tests that: decode with dynamic batch and cache size: v is the whole k
// sliced with tensor.dim sizes (recognized as read from K; the slice and its
// dims are erased), the split count is computed at run time (at least one
// wave of 132 CTAs, capped by the key tiles) and sizes the partial buffers,
// all from memref.dim of the buffers (no tensor op left on the host). The
// number of counters would be dynamic: no counters, the kernel gets a null
// pointer and the combine kernel merges.

// CHECK-LABEL: func.func @dynamic(
// CHECK-NOT: tensor.dim
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[QB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x16x1x256xbf16> to memref<?x16x1x256xbf16>
// CHECK: %[[KB:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<?x1x?x256xbf16> to memref<?x1x?x256xbf16>
// CHECK: %[[NK:.+]] = memref.dim %[[KB]], %{{.+}} : memref<?x1x?x256xbf16>
// CHECK: %[[TILES:.+]] = arith.ceildivui %[[NK]], %{{.+}} : index
// CHECK: arith.ceildivui %{{.+}}, %{{.+}} : index
// CHECK: arith.minui
// CHECK: %[[P:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: %[[S:.+]] = memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK-NOT: tucker.persistent
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d256_g16_p16_vk0_causal_len_decode(%[[QB]], %[[KB]], %{{[^,]+}}, %{{[^,]+}}, %[[P]], %[[S]]) :
// CHECK-NOT: tensor.dim
// CHECK: return
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d256_g16_p16_vk0_causal_len_decode(
// CHECK-SAME: memref<?xf32>, %{{[^:]+}}: memref<?xf32>) {
// CHECK: %[[NOCTR:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d256_g16_p16_vk0_causal_len_decode blocks {{.+}} %[[NOCTR]] : !llvm.ptr)
// CHECK-NEXT: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d256_g16_p16_vk0_causal_len_decode_combine
func.func @dynamic(%q: tensor<?x16x1x256xbf16>, %k: tensor<?x1x?x256xbf16>, %len: tensor<?xi32>) -> tensor<?x16x1x256xbf16> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %k, %c0 : tensor<?x1x?x256xbf16>
  %n = tensor.dim %k, %c2 : tensor<?x1x?x256xbf16>
  %v = tensor.extract_slice %k[0, 0, 0, 0] [%b, 1, %n, 256] [1, 1, 1, 1] : tensor<?x1x?x256xbf16> to tensor<?x1x?x256xbf16>
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<?xi32>) {causal} : tensor<?x16x1x256xbf16>, tensor<?x1x?x256xbf16>, tensor<?x1x?x256xbf16> -> tensor<?x16x1x256xbf16>
  return %o : tensor<?x16x1x256xbf16>
}

// -----

// Tests that: heads made by transposing [B, N, H, D] projections (what
// --tucker-fold emits) are read in place: q, k and v are passed as
// memref.transpose views of the projections (TMA reads them strided), the
// output is written as [B, N, H, D] (the kernel's output_transposed rows)
// in place of the transpose after the flash, and the four transposes and
// their init tensors are gone.

// CHECK-LABEL: func.func @heads(
// CHECK-NOT: linalg.transpose
// CHECK: %[[QS:.+]] = bufferization.to_buffer %{{.+}} read_only : tensor<2x300x4x64xbf16> to memref<2x300x4x64xbf16>
// CHECK: %[[QV:.+]] = memref.transpose %[[QS]] (d0, d1, d2, d3) -> (d0, d2, d1, d3) : memref<2x300x4x64xbf16> to memref<2x4x300x64xbf16, strided<[76800, 64, 256, 1]>>
// CHECK: memref.transpose
// CHECK: memref.transpose
// CHECK: %[[O:.+]] = memref.alloc() : memref<2x300x4x64xbf16>
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d64_causal_obnhd_w3(%[[QV]], %{{[^,]+}}, %{{[^,]+}}, %[[O]]) : (memref<2x4x300x64xbf16, strided<[76800, 64, 256, 1]>>, memref<2x4x300x64xbf16, strided<[76800, 64, 256, 1]>>, memref<2x4x300x64xbf16, strided<[76800, 64, 256, 1]>>, memref<2x300x4x64xbf16>) -> ()
// CHECK: %[[OT:.+]] = bufferization.to_tensor %[[O]] restrict writable : memref<2x300x4x64xbf16> to tensor<2x300x4x64xbf16>
// CHECK-NOT: linalg.transpose
// CHECK: return %[[OT]]
// CHECK-LABEL: gpu.func @flash_fwd_bf16_d64_causal_obnhd_w3(
// CHECK-SAME: output_transposed = true
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_causal_obnhd_w3(
// CHECK: %[[U:.+]] = memref.cast %{{.+}} : memref<2x4x300x64xbf16, strided<[76800, 64, 256, 1]>> to memref<*xbf16>
// CHECK: nvgpu.tma.create.descriptor %[[U]]
func.func @heads(%qp: tensor<2x300x4x64xbf16>, %kp: tensor<2x300x4x64xbf16>, %vp: tensor<2x300x4x64xbf16>) -> tensor<2x300x4x64xbf16> {
  %e = tensor.empty() : tensor<2x4x300x64xbf16>
  %q = linalg.transpose ins(%qp : tensor<2x300x4x64xbf16>) outs(%e : tensor<2x4x300x64xbf16>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%kp : tensor<2x300x4x64xbf16>) outs(%e : tensor<2x4x300x64xbf16>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%vp : tensor<2x300x4x64xbf16>) outs(%e : tensor<2x4x300x64xbf16>) permutation = [0, 2, 1, 3]
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x4x300x64xbf16>, tensor<2x4x300x64xbf16>, tensor<2x4x300x64xbf16> -> tensor<2x4x300x64xbf16>
  %f = tensor.empty() : tensor<2x300x4x64xbf16>
  %y = linalg.transpose ins(%o : tensor<2x4x300x64xbf16>) outs(%f : tensor<2x300x4x64xbf16>) permutation = [0, 2, 1, 3]
  return %y : tensor<2x300x4x64xbf16>
}

// -----

// Tests that: k and v that are column slices of one tensor (the merged
// projections of --tucker-merge-products), with the kv head inserted by
// tensor.expand_shape, are passed as views of that tensor's buffer: the
// launcher takes strided memrefs (rows 128 apart, v 64 columns in) and the
// tensor maps are built from them; nothing is copied.

// CHECK-LABEL: func.func @sliced_kv(
// CHECK-SAME:    %{{[^:]+}}: tensor<2x4x256x64xbf16>, %[[KV:[^:]+]]: tensor<2x256x128xbf16>
// CHECK:         %[[B:.+]] = bufferization.to_buffer %[[KV]] read_only : tensor<2x256x128xbf16> to memref<2x256x128xbf16>
// CHECK:         %[[K:.+]] = memref.subview %[[B]][0, 0, 0] [2, 256, 64] [1, 1, 1] : memref<2x256x128xbf16> to memref<2x256x64xbf16, strided<[32768, 128, 1]>>
// CHECK:         %[[KH:.+]] = memref.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [2, 1, 256, 64] : memref<2x256x64xbf16, strided<[32768, 128, 1]>> into memref<2x1x256x64xbf16, strided<[32768, 32768, 128, 1]>>
// CHECK:         %[[V:.+]] = memref.subview %{{.+}}[0, 0, 64] [2, 256, 64] [1, 1, 1] : memref<2x256x128xbf16> to memref<2x256x64xbf16, strided<[32768, 128, 1], offset: 64>>
// CHECK:         %[[VH:.+]] = memref.expand_shape %[[V]]
// CHECK:         call @tucker_flash_launch_flash_fwd_bf16_d64_g4_p2_w3(%{{[^,]+}}, %[[KH]], %[[VH]], %{{[^)]+}})
// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_g4_p2_w3(
// CHECK-SAME:    memref<2x1x256x64xbf16, strided<[32768, 32768, 128, 1]>>, %{{[^:]+}}: memref<2x1x256x64xbf16, strided<[32768, 32768, 128, 1], offset: 64>>
// CHECK-COUNT-3: nvgpu.tma.create.descriptor
func.func @sliced_kv(%q: tensor<2x4x256x64xbf16>, %kv: tensor<2x256x128xbf16>) -> tensor<2x4x256x64xbf16> {
  %k = tensor.extract_slice %kv[0, 0, 0] [2, 256, 64] [1, 1, 1] : tensor<2x256x128xbf16> to tensor<2x256x64xbf16>
  %v = tensor.extract_slice %kv[0, 0, 64] [2, 256, 64] [1, 1, 1] : tensor<2x256x128xbf16> to tensor<2x256x64xbf16>
  %kh = tensor.expand_shape %k [[0, 1], [2], [3]] output_shape [2, 1, 256, 64] : tensor<2x256x64xbf16> into tensor<2x1x256x64xbf16>
  %vh = tensor.expand_shape %v [[0, 1], [2], [3]] output_shape [2, 1, 256, 64] : tensor<2x256x64xbf16> into tensor<2x1x256x64xbf16>
  %o = tucker.flash %q, %kh, %vh : tensor<2x4x256x64xbf16>, tensor<2x1x256x64xbf16>, tensor<2x1x256x64xbf16> -> tensor<2x4x256x64xbf16>
  return %o : tensor<2x4x256x64xbf16>
}

// -----

// Tests that: a rope kernel reading a column slice of k starts at the
// slice's first element: its pointer adds the view's offset (64 elements of
// 2 bytes) to the buffer's address.

// CHECK-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_g2_rope64_w3_rotate(
// CHECK-SAME:    %arg1: memref<1x1x128x64xbf16, strided<[16384, 16384, 128, 1], offset: 64>>
// CHECK:         memref.extract_strided_metadata %arg1
// CHECK:         %[[BYTES:.+]] = arith.muli %offset{{[_0-9]*}}, %c2{{[_0-9]*}} : index
// CHECK:         arith.addi %{{.+}}, %[[BYTES]] : index
func.func @sliced_rope(%q: tensor<1x2x128x64xbf16>, %kv: tensor<1x128x128xbf16>) -> tensor<1x2x128x64xbf16> {
  %k = tensor.extract_slice %kv[0, 0, 64] [1, 128, 64] [1, 1, 1] : tensor<1x128x128xbf16> to tensor<1x128x64xbf16>
  %kh = tensor.expand_shape %k [[0, 1], [2], [3]] output_shape [1, 1, 128, 64] : tensor<1x128x64xbf16> into tensor<1x1x128x64xbf16>
  %v = tensor.extract_slice %kv[0, 0, 0] [1, 128, 64] [1, 1, 1] : tensor<1x128x128xbf16> to tensor<1x128x64xbf16>
  %vh = tensor.expand_shape %v [[0, 1], [2], [3]] output_shape [1, 1, 128, 64] : tensor<1x128x64xbf16> into tensor<1x1x128x64xbf16>
  %o = tucker.flash %q, %kh, %vh {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>} : tensor<1x2x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16> -> tensor<1x2x128x64xbf16>
  return %o : tensor<1x2x128x64xbf16>
}

// -----

// Tests that: v as a column slice of the latent that k is, both given their
// kv head by the same tensor.expand_shape (how --tucker-fold writes an MLA
// layer), is read out of k's tile (vk0): the launcher takes no v, and the
// slice and v's expand_shape are gone.

// CHECK-LABEL: func.func @value_in_expanded_key(
// CHECK-NOT:     tensor.extract_slice
// CHECK:         tensor.expand_shape %{{.+}} into tensor<1x1x96x160xbf16>
// CHECK-NOT:     tensor.expand_shape
// CHECK:         call @tucker_flash_launch_flash_fwd_bf16_d160_v128_g4_p4_vk0(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) : (memref<1x4x96x160xbf16>, memref<1x1x96x160xbf16>, memref<1x4x96x128xbf16>) -> ()
func.func @value_in_expanded_key(%q: tensor<1x4x96x160xbf16>, %kv: tensor<1x96x160xbf16>) -> tensor<1x4x96x128xbf16> {
  %v = tensor.extract_slice %kv[0, 0, 0] [1, 96, 128] [1, 1, 1] : tensor<1x96x160xbf16> to tensor<1x96x128xbf16>
  %kh = tensor.expand_shape %kv [[0, 1], [2], [3]] output_shape [1, 1, 96, 160] : tensor<1x96x160xbf16> into tensor<1x1x96x160xbf16>
  %vh = tensor.expand_shape %v [[0, 1], [2], [3]] output_shape [1, 1, 96, 128] : tensor<1x96x128xbf16> into tensor<1x1x96x128xbf16>
  %o = tucker.flash %q, %kh, %vh : tensor<1x4x96x160xbf16>, tensor<1x1x96x160xbf16>, tensor<1x1x96x128xbf16> -> tensor<1x4x96x128xbf16>
  return %o : tensor<1x4x96x128xbf16>
}

// -----

// Tests that: a flash that returns its log-sum-exp gets an f32 [B, Hq, Nq]
// buffer beside the output, passed to the launcher and, as the kernel's last
// argument, to the prefill kernel, which stores per row (lane t2 = 0 of each
// quad, rows inside Nq) (m·scale·log2 e + lg2(l))·ln 2, −inf where l = 0.

// CHECK-LABEL: func.func @lse(
// CHECK: %[[O:.+]] = memref.alloc() : memref<2x8x300x64xbf16>
// CHECK: %[[L:.+]] = memref.alloc() : memref<2x8x300xf32>
// CHECK: call @tucker_flash_launch_flash_fwd_bf16_d64_g4_p4_causal_w3_lse(%{{.+}}, %{{.+}}, %{{.+}}, %[[O]], %[[L]])
// CHECK: %[[RO:.+]] = bufferization.to_tensor %[[O]]
// CHECK: %[[RL:.+]] = bufferization.to_tensor %[[L]] restrict writable : memref<2x8x300xf32> to tensor<2x8x300xf32>
// CHECK: return %[[RO]], %[[RL]]
// CHECK: gpu.func @flash_fwd_bf16_d64_g4_p4_causal_w3_lse({{.*}}, %[[LSE:.+]]: !llvm.ptr) kernel
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.nvvm.lg2.approx.f"
// CHECK: llvm.getelementptr %[[LSE]][%{{.+}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_g4_p4_causal_w3_lse({{.*}}, %[[LB:.+]]: memref<2x8x300xf32>)
// CHECK: %[[LI:.+]] = memref.extract_aligned_pointer_as_index %[[LB]]
// CHECK: %[[LW:.+]] = arith.index_cast %[[LI]] : index to i64
// CHECK: %[[LP:.+]] = llvm.inttoptr %[[LW]] : i64 to !llvm.ptr
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_g4_p4_causal_w3_lse {{.*}} args({{.*}} : i32, %[[LP]] : !llvm.ptr)
func.func @lse(%q: tensor<2x8x300x64xbf16>, %k: tensor<2x2x300x64xbf16>, %v: tensor<2x2x300x64xbf16>) -> (tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>) {
  %o, %lse = tucker.flash %q, %k, %v {causal} : tensor<2x8x300x64xbf16>, tensor<2x2x300x64xbf16>, tensor<2x2x300x64xbf16> -> tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>
  return %o, %lse : tensor<2x8x300x64xbf16>, tensor<2x8x300xf32>
}
