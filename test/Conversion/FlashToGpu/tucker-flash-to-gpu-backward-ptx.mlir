// RUN: tucker-opt %s --tucker-gpu-configure --tucker-flash-to-gpu \
// RUN:   | mlir-opt --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:       -gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 opt-level=3 cubin-format=isa" \
// RUN:   | FileCheck %s

// Tests that: the backward's kernels and launcher lower with the stock
// pipeline (no CUDA needed): prep with 8-byte loads of o and do, f32 FMAs,
// a butterfly reduction and 16-byte zero stores; finish with a 16-byte load
// and bf16x2 conversions; the launcher encodes four tensor maps and launches
// prep, the main kernel and finish. The main kernel adds dQ by f32
// atomics; its deterministic form (ordered_dq) waits for its turn with a
// gpu-scope acquire load, adds by L2 loads and plain stores, and releases
// with a fence and an integer increment.

// CHECK-LABEL: llvm.func @mha(
// CHECK: llvm.call @tucker_flash_launch_flash_bwd_bf16_d128_causal(
// CHECK-LABEL: llvm.func @mha_deterministic(
// CHECK: llvm.call @tucker_flash_launch_flash_bwd_bf16_d128_causal_ordered(
// CHECK-LABEL: gpu.binary @tucker_flash_kernels
// CHECK-SAME: .entry flash_bwd_bf16_d128_causal(
// CHECK-SAME: .maxntid 384, 1, 1
// CHECK-SAME: atom.global.add.f32
// CHECK-SAME: .entry flash_bwd_bf16_d128_causal_prep(
// CHECK-SAME: .maxntid 128, 1, 1
// CHECK-SAME: ld.global.v4.b16
// CHECK-SAME: cvt.f32.bf16
// CHECK-SAME: fma.rn.f32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: st.global.v4.b32 {{[^;]*}}{0f00000000, 0f00000000, 0f00000000, 0f00000000};
// CHECK-SAME: .entry flash_bwd_bf16_d128_causal_finish(
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: cvt.rn.bf16x2.f32
// CHECK-SAME: st.global.v2.b32
// CHECK-SAME: .entry flash_bwd_bf16_d128_causal_ordered(
// CHECK-SAME: ld.acquire.gpu.global.b32
// CHECK-SAME: ld.global.cg.v2.f32
// CHECK-SAME: st.global.v2.b32
// CHECK-SAME: fence.acq_rel.gpu;
// CHECK-SAME: atom.global.add.u32
// CHECK-SAME: .entry flash_bwd_bf16_d128_causal_ordered_prep(
// CHECK-LABEL: llvm.func @tucker_flash_launch_flash_bwd_bf16_d128_causal(
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d128_causal_prep
// CHECK-COUNT-4: llvm.call @mgpuTensorMapEncodeTiledMemref(
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d128_causal blocks
// CHECK: gpu.launch_func @tucker_flash_kernels::@flash_bwd_bf16_d128_causal_finish
func.func @mha(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x8x1000x128xbf16>, %v: tensor<2x8x1000x128xbf16>, %o: tensor<2x8x1000x128xbf16>, %lse: tensor<2x8x1000xf32>, %do: tensor<2x8x1000x128xbf16>) -> (tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal}
      : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x128xbf16>
      -> tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
  return %dq, %dk, %dv : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
}

func.func @mha_deterministic(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x8x1000x128xbf16>, %v: tensor<2x8x1000x128xbf16>, %o: tensor<2x8x1000x128xbf16>, %lse: tensor<2x8x1000xf32>, %do: tensor<2x8x1000x128xbf16>) -> (tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal, deterministic}
      : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000xf32>, tensor<2x8x1000x128xbf16>
      -> tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
  return %dq, %dk, %dv : tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>, tensor<2x8x1000x128xbf16>
}
