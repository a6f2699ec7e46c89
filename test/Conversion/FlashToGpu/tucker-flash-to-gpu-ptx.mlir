// RUN: tucker-opt %s --tucker-gpu-configure --tucker-flash-to-gpu \
// RUN:   | mlir-opt --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:       -gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 opt-level=3 cubin-format=isa" \
// RUN:   | FileCheck %s

// Tests that: the result of --tucker-flash-to-gpu lowers with the stock
// pipeline (no CUDA needed: cubin-format=isa keeps the PTX text in the
// gpu.binary) to a Hopper kernel with the warp-specialization registers cap,
// setmaxnreg, 4-D TMA loads on mbarriers, wgmma (shared-memory and register
// A), ftz exp2, and host code that encodes the tensor maps and launches.

// CHECK-LABEL: llvm.func @causal_gqa(
// CHECK: llvm.call @tucker_flash_launch_flash_fwd_bf16_d128_g2_p2_causal(
// CHECK-LABEL: gpu.binary @tucker_flash_kernels
// CHECK-SAME: .entry flash_fwd_bf16_d128_g2_p2_causal(
// CHECK-SAME: .maxntid 384, 1, 1
// CHECK-SAME: .minnctapersm 1
// CHECK-SAME: mbarrier.init.shared.b64
// CHECK-SAME: fence.mbarrier_init.release.cluster
// CHECK-SAME: setmaxnreg.dec.sync.aligned.u32
// CHECK-SAME: mbarrier.arrive.expect_tx.shared.b64
// CHECK-SAME: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK-SAME: mbarrier.try_wait.parity.shared::cta.b64 p, [%r{{[0-9]+}}], %r{{[0-9]+}}, 10000000;\0A@!p bra wait;
// CHECK-SAME: setmaxnreg.inc.sync.aligned.u32
// CHECK-SAME: wgmma.fence.sync.aligned
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK-SAME: wgmma.commit_group.sync.aligned
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: ex2.approx.ftz.f32
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK-SAME: wgmma.wait_group.sync.aligned
// CHECK-SAME: mbarrier.arrive.shared.b64
// CHECK-LABEL: llvm.func @tucker_flash_launch_flash_fwd_bf16_d128_g2_p2_causal(
// CHECK-COUNT-3: llvm.call @mgpuTensorMapEncodeTiledMemref(
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_g2_p2_causal
func.func @causal_gqa(%q: tensor<2x8x300x128xbf16>, %k: tensor<2x4x300x128xbf16>, %v: tensor<2x4x300x128xbf16>) -> tensor<2x8x300x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x8x300x128xbf16>, tensor<2x4x300x128xbf16>, tensor<2x4x300x128xbf16> -> tensor<2x8x300x128xbf16>
  return %o : tensor<2x8x300x128xbf16>
}
