// RUN: tucker-opt %s --tucker-gpu-configure --tucker-flash-to-gpu | FileCheck %s

// Tests that: in the split-O kernel with rope, a consumer warpgroup passes
// the barrier that ends the rotation of its key tile (2 for warpgroup 0, 3
// for warpgroup 1) also in a pair with no tile for it, so both warpgroups
// pass as many barriers before each rendezvous on barrier 1 (racecheck pairs
// barriers by count; docs/reliability.md, compute-sanitizer).

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d576_v512_g16_p16_vk0_rope64_causal_len_decode(
// CHECK: nvvm.barrier id = %c2_i32 number_of_threads = %c128_i32
// CHECK: scf.yield %{{[0-9]+}}#0,
// CHECK-NEXT: } else {
// CHECK-NEXT: nvvm.barrier id = %c2_i32 number_of_threads = %c128_i32
// CHECK-NEXT: scf.yield %cst
// CHECK: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
// CHECK: nvvm.barrier id = %c3_i32 number_of_threads = %c128_i32
// CHECK: scf.yield %{{[0-9]+}}#0,
// CHECK-NEXT: } else {
// CHECK-NEXT: nvvm.barrier id = %c3_i32 number_of_threads = %c128_i32
// CHECK-NEXT: scf.yield %cst
// CHECK: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
func.func @flash(%q: tensor<2x16x1x576xbf16>, %k: tensor<2x1x300x576xbf16>, %len: tensor<2xi32>) -> tensor<2x16x1x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [2, 1, 300, 512] [1, 1, 1, 1] : tensor<2x1x300x576xbf16> to tensor<2x1x300x512xbf16>
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<2xi32>) {causal, rope = #tucker.rope<theta = 10000.0, width = 64, offset = 512, style = interleaved>} : tensor<2x16x1x576xbf16>, tensor<2x1x300x576xbf16>, tensor<2x1x300x512xbf16> -> tensor<2x16x1x512xbf16>
  return %o : tensor<2x16x1x512xbf16>
}
