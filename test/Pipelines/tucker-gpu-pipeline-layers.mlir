// RUN: tucker-opt %s -split-input-file --tucker-gpu-pipeline \
// RUN:   | FileCheck %s --implicit-check-not=linalg. --implicit-check-not='= tucker.' \
// RUN:       --implicit-check-not=memref.alloc --implicit-check-not=mgpuMemAlloc

// --tucker-gpu-pipeline lowers whole layers (bf16) completely: every op is
// LLVM host code or a kernel in a gpu.binary (no linalg, no tucker op, no
// host allocation left); dense products call tuckerGemm (cuBLASLt), the
// attention is the generated flash kernel, the rest elementwise kernels, and
// the entry takes its workspace as a trailing argument.

// Tests that: MHA with all four biases: three projections and the output fold
// are tuckerGemm calls (the query and output biases in their epilogue, the
// value bias folded into the output bias by one more call), the flash kernel
// reads the head-split projections in place and writes [B, N, H, D]: no
// elementwise kernel is left.
// CHECK-LABEL: llvm.func @mha_layer(
// CHECK-SAME:    tucker.workspace_bytes = {{[0-9]+}}
// CHECK-COUNT-3: llvm.call @tucker_gemm_bf16_bf16
// CHECK:         llvm.call @tucker_flash_launch_
// CHECK:         llvm.call @tucker_gemm_bf16_bf16_bias
// CHECK:         llvm.return
// CHECK-NOT:   gpu.binary @mha_layer_kernel
// CHECK:       gpu.binary @tucker_flash_kernels
// CHECK-SAME:    .entry flash_fwd_bf16_d32_causal
func.func @mha_layer(%x: tensor<2x48x128xbf16>, %wq: tensor<128x128xbf16>,
                     %wk: tensor<128x128xbf16>, %wv: tensor<128x128xbf16>,
                     %wo: tensor<128x128xbf16>, %bq: tensor<128xbf16>,
                     %bk: tensor<128xbf16>, %bv: tensor<128xbf16>,
                     %bo: tensor<128xbf16>) -> tensor<2x48x128xbf16> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo)
      {num_heads = 4 : i64, causal}
      : (tensor<2x48x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>,
         tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128xbf16>,
         tensor<128xbf16>, tensor<128xbf16>, tensor<128xbf16>) -> tensor<2x48x128xbf16>
  return %y : tensor<2x48x128xbf16>
}


// -----

// Tests that: Llama GQA with rotate-half RoPE: the rope is fused into the
// flash kernel (groups of 4 query heads per kv head).
// CHECK-LABEL: llvm.func @gqa_layer(
// CHECK-SAME:    tucker.workspace_bytes = {{[0-9]+}}
// CHECK:         llvm.call @tucker_gemm_bf16_bf16
// CHECK:         llvm.call @tucker_flash_launch_flash_fwd_bf16_d32_g4_rope32_causal
// CHECK:         llvm.call @tucker_gemm_bf16_bf16
// CHECK:       gpu.binary @tucker_flash_kernels
// CHECK:       llvm.func @tuckerGemm(
func.func @gqa_layer(%x: tensor<2x64x256xbf16>, %wq: tensor<256x256xbf16>,
                     %wk: tensor<256x64xbf16>, %wv: tensor<256x64xbf16>,
                     %wo: tensor<256x256xbf16>) -> tensor<2x64x256xbf16> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 8 : i64, num_kv_heads = 2 : i64, causal,
       rope = #tucker.rope<theta = 10000.0, width = 32, style = half>}
      : (tensor<2x64x256xbf16>, tensor<256x256xbf16>, tensor<256x64xbf16>,
         tensor<256x64xbf16>, tensor<256x256xbf16>) -> tensor<2x64x256xbf16>
  return %y : tensor<2x64x256xbf16>
}


// -----

// Tests that: DeepSeek MLA with its latent RMS norms and decoupled
// interleaved RoPE: the norms (a reduction and a scaling each) and the
// weight preparation of the absorbed cores are elementwise kernels, the four
// products tuckerGemm calls, the attention one latent MQA flash (qk 80 =
// latent 64 + rope 16, v 64 read out of k's tile: vk0).
// CHECK-LABEL: llvm.func @mla(
// CHECK-SAME:    tucker.workspace_bytes = {{[0-9]+}}
// CHECK:         gpu.launch_func @mla_kernel
// CHECK:         llvm.call @tucker_gemm_bf16_bf16
// CHECK:         gpu.launch_func @mla_kernel
// CHECK:         llvm.call @tucker_flash_launch_flash_fwd_bf16_d80_v64_g4_p4_vk0_rope16_causal_decode
// CHECK:         llvm.call @tucker_gemm_bf16_bf16
// CHECK:       gpu.binary @mla_kernel_{{[0-9]+}} {{.*}}rsqrt.approx.f32
// CHECK:       gpu.binary @tucker_flash_kernels
func.func @mla(%x: tensor<2x40x128xbf16>, %wq_a: tensor<128x64xbf16>,
               %q_norm: tensor<64xbf16>, %wq_b: tensor<64x192xbf16>,
               %wkv_a: tensor<128x80xbf16>, %kv_norm: tensor<64xbf16>,
               %wkv_b: tensor<64x256xbf16>, %wo: tensor<128x128xbf16>)
    -> tensor<2x40x128xbf16> {
  %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm, %wkv_b, %wo
      {num_heads = 4 : i64, q_lora_rank = 64 : i64, kv_lora_rank = 64 : i64,
       qk_nope_head_dim = 32 : i64, qk_rope_head_dim = 16 : i64,
       v_head_dim = 32 : i64, causal,
       rope = #tucker.rope<theta = 10000.0, width = 16, offset = 32, style = interleaved>}
      : (tensor<2x40x128xbf16>, tensor<128x64xbf16>, tensor<64xbf16>,
         tensor<64x192xbf16>, tensor<128x80xbf16>, tensor<64xbf16>,
         tensor<64x256xbf16>, tensor<128x128xbf16>) -> tensor<2x40x128xbf16>
  return %y : tensor<2x40x128xbf16>
}


// -----

// Tests that: a Tucker layer with dense cores: the head cores G_i, the
// projections, the per-head query cores and the two-step output fold are
// tuckerGemm calls, the three projections of x one call (x read once; U2,
// U3 and Ũ3 copied side by side by three copy kernels), the flash latent MQA
// (8 query heads, one kv head) reads k and v in place from its columns and
// writes its output [B, N, H, r̃3] for the fold; the transpose of the output
// core G̃ (weights) is the only other elementwise kernel.
// CHECK-LABEL: llvm.func @tucker_layer(
// CHECK-SAME:    tucker.workspace_bytes = {{[0-9]+}}
// CHECK-COUNT-2: llvm.call @tucker_gemm_bf16_bf16(
// CHECK-COUNT-3: gpu.launch_func @tucker_layer_kernel{{(_[0-9])?}}::@tucker_layer_kernel
// CHECK-COUNT-2: llvm.call @tucker_gemm_bf16_bf16_{{[0-9]}}(
// CHECK:         llvm.call @tucker_flash_launch_flash_fwd_bf16_d32_g8_p8_causal{{.*}}obnhd
// CHECK:         gpu.launch_func @tucker_layer_kernel_2::@tucker_layer_kernel
// CHECK-COUNT-2: llvm.call @tucker_gemm_bf16_bf16
// CHECK:         llvm.return
// CHECK:       gpu.binary @tucker_layer_kernel
// CHECK:       gpu.binary @tucker_flash_kernels
func.func @tucker_layer(%x: tensor<2x256x256xbf16>, %u1: tensor<8x4xbf16>,
                        %u2: tensor<256x64xbf16>, %u3: tensor<256x32xbf16>,
                        %core: tensor<4x64x32xbf16>, %v1: tensor<8x4xbf16>,
                        %v2: tensor<256x64xbf16>, %v3: tensor<256x32xbf16>,
                        %core_out: tensor<4x64x32xbf16>) -> tensor<2x256x256xbf16> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %core),
         post(%v1, %v2, %v3, core %core_out)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, scale = 0.17677669529663687 : f64,
       causal}
      : (tensor<2x256x256xbf16>, tensor<8x4xbf16>, tensor<256x64xbf16>,
         tensor<256x32xbf16>, tensor<4x64x32xbf16>, tensor<8x4xbf16>,
         tensor<256x64xbf16>, tensor<256x32xbf16>, tensor<4x64x32xbf16>)
      -> tensor<2x256x256xbf16>
  return %y : tensor<2x256x256xbf16>
}


// -----

// Tests that: a tucker.rope that feeds no flash is lowered to elementwise
// kernels, which read its frequency table (a constant: 16 f64, 128 bytes)
// through the device copy that tuckerDeviceConstant makes; then the product
// is a tuckerGemm call, and the weight argument is read in place.
// CHECK:       llvm.mlir.global private constant @__constant_16xf64(
// CHECK-LABEL: llvm.func @rope_then_project(
// CHECK-DAG:     llvm.mlir.addressof @__constant_16xf64_device : !llvm.ptr
// CHECK-DAG:     llvm.mlir.addressof @__constant_16xf64 : !llvm.ptr
// CHECK-DAG:     %[[BYTES:.+]] = llvm.mlir.constant(128 : i64) : i64
// CHECK:         llvm.call @tuckerDeviceConstant({{.+}}, %[[BYTES]], {{.+}})
// CHECK:         gpu.launch_func @rope_then_project_kernel
// CHECK:         llvm.call @tucker_gemm_bf16_bf16
// CHECK:       gpu.binary @rope_then_project_kernel
// CHECK-NOT:     __constant_16xf64[
// CHECK:       llvm.func @_mlir_ciface_tuckerDeviceConstant(!llvm.ptr, i64, i64, i64)
// CHECK:       llvm.mlir.global private @__constant_16xf64_device(dense<0> : tensor<1xi64>)
func.func @rope_then_project(%x: tensor<2x4x64x32xbf16>, %w: tensor<32x32xbf16>) -> tensor<2x4x64x32xbf16> {
  %r = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 32, style = half>} : tensor<2x4x64x32xbf16> -> tensor<2x4x64x32xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x64x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x64x32xf32>) -> tensor<2x4x64x32xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(b, h, n, j, k) -> (b, h, n, k)>, affine_map<(b, h, n, j, k) -> (k, j)>, affine_map<(b, h, n, j, k) -> (b, h, n, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%r, %w : tensor<2x4x64x32xbf16>, tensor<32x32xbf16>) outs(%f : tensor<2x4x64x32xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %a32 = arith.extf %a : bf16 to f32
    %b32 = arith.extf %b : bf16 to f32
    %m = arith.mulf %a32, %b32 : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x64x32xf32>
  %e2 = tensor.empty() : tensor<2x4x64x32xbf16>
  %c = linalg.generic {indexing_maps = [affine_map<(b, h, n, j) -> (b, h, n, j)>, affine_map<(b, h, n, j) -> (b, h, n, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%p : tensor<2x4x64x32xf32>) outs(%e2 : tensor<2x4x64x32xbf16>) {
  ^bb0(%v: f32, %o: bf16):
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x4x64x32xbf16>
  return %c : tensor<2x4x64x32xbf16>
}
