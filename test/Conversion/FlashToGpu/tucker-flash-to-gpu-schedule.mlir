// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure --tucker-flash-to-gpu | FileCheck %s --check-prefix=DEFAULT
// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure=consumer-warpgroups=2 --tucker-flash-to-gpu | FileCheck %s --check-prefix=W2
// The schedules as text, read back by the kernel emission alone:
// RUN: tucker-opt %s -split-input-file "--tucker-gpu-configure=consumer-warpgroups=3 keys-per-tile=160" \
// RUN:   | tucker-opt -split-input-file --tucker-flash-to-gpu | FileCheck %s --check-prefix=W3
// RUN: tucker-opt %s -split-input-file "--tucker-gpu-configure=consumer-warpgroups=3 ping-pong=false" --tucker-flash-to-gpu | FileCheck %s --check-prefix=W3-NOPP

// Tests that: the prefill kernel's schedule options. Two consumer
// warpgroups (384 threads, 128-row M tile, 240 registers each, empty
// barriers counting 256) and 128-key tiles; consumer-warpgroups=3 (the
// default at d <= 64) makes 512 threads, a 192-row M tile, 160 registers
// per consumer, empty barriers counting 384 and a ring of turns over named
// barriers 1..3; keys-per-tile sets the K/V tile. (With 192 rows, Nq = 1000
// packs 4 heads of 48 positions: 21 tiles per head quad pad the fewest.)
// Causal, the default K/V tile is in step with a tile's query positions:
// 96 keys for 48 positions of each head, so the diagonal is whole tiles
// (128 keys for the 64 positions of two consumers).

// W2: call @tucker_flash_launch_flash_fwd_bf16_d64_g12_causal(
// W2: gpu.func @flash_fwd_bf16_d64_g12_causal(
// W2-SAME: known_block_size = array<i32: 384, 1, 1>
// W2-SAME: block_m = 128 : i64, block_n = 128 : i64
// W2-SAME: threads = 384 : i64
// W2: nvvm.mbarrier.init %{{.+}}, %c256_i32
// W2: nvvm.setmaxregister  increase 240

// DEFAULT: gpu.func @flash_fwd_bf16_d64_g12_p4_causal_w3(

// W3: call @tucker_flash_launch_flash_fwd_bf16_d64_g12_p4_causal_n160_w3(
// W3: gpu.func @flash_fwd_bf16_d64_g12_p4_causal_n160_w3(
// W3-SAME: known_block_size = array<i32: 512, 1, 1>, nvvm.maxntid = array<i32: 512, 1, 1>
// W3-SAME: block_m = 192 : i64, block_n = 160 : i64
// W3-SAME: threads = 512 : i64
// W3: nvvm.mbarrier.init %{{.+}}, %c384_i32
// W3: nvvm.setmaxregister  decrease 24
// W3: nvvm.setmaxregister  increase 160
// The last warpgroup (2) lets warpgroup 0 issue first, on barrier 1.
// W3: arith.cmpi eq, %{{.+}}, %c2_i32
// W3-NEXT: scf.if
// W3-NEXT: nvvm.barrier.arrive id = %c1_i32 number_of_threads = %c256_i32
// Warpgroup w passes the turn to barrier (w + 1) mod 3 + 1.
// W3: %[[MOD:.+]] = arith.remui %{{[0-9]+}}, %c3_i32
// W3-NEXT: %[[ID:.+]] = arith.addi %[[MOD]], %c1_i32
// W3-NEXT: nvvm.barrier.arrive id = %[[ID]] number_of_threads = %c256_i32
// W3: launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_g12_p4_causal_n160_w3 blocks in (%{{.+}}, %{{.+}}, %{{.+}}) threads in (%c512

// W3-NOPP: gpu.func @flash_fwd_bf16_d64_g12_p4_causal_w3(
// W3-NOPP-SAME: block_m = 192 : i64, block_n = 96 : i64
// W3-NOPP-NOT: nvvm.barrier.arrive
func.func @latent(%q: tensor<2x12x1000x64xbf16>, %k: tensor<2x1x1000x64xbf16>, %v: tensor<2x1x1000x64xbf16>) -> tensor<2x12x1000x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<2x12x1000x64xbf16>, tensor<2x1x1000x64xbf16>, tensor<2x1x1000x64xbf16> -> tensor<2x12x1000x64xbf16>
  return %o : tensor<2x12x1000x64xbf16>
}

// -----

// Tests that: a short GQA prefill (Nq = 90 < 192 rows) with three
// consumers packs the most heads whose rows still hold every position:
// 2 heads of 96 rows (the M tile is no power of two).

// DEFAULT-LABEL: func.func @short_gqa(
// DEFAULT: call @tucker_flash_launch_flash_fwd_bf16_d64_g4_p2_w3(
// DEFAULT: gpu.func @flash_fwd_bf16_d64_g4_p2_w3(
// DEFAULT-SAME: block_m = 192 : i64
// DEFAULT-SAME: heads_per_tile = 2 : i64
func.func @short_gqa(%q: tensor<1x8x90x64xbf16>, %k: tensor<1x2x90x64xbf16>, %v: tensor<1x2x90x64xbf16>) -> tensor<1x8x90x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x8x90x64xbf16>, tensor<1x2x90x64xbf16>, tensor<1x2x90x64xbf16> -> tensor<1x8x90x64xbf16>
  return %o : tensor<1x8x90x64xbf16>
}

// -----

// Tests that: causal at d = 64 takes three consumers too (N = 4096: 22
// tiles of 192 rows pad 3 %), but two where 192-row tiles pad over 6 % more
// rows than 128-row ones and heads cannot be packed (MHA, N = 1024: 12.5 %).

// DEFAULT-LABEL: func.func @causal_d64(
// DEFAULT: gpu.func @flash_fwd_bf16_d64_causal(
// DEFAULT-SAME: block_m = 128 : i64
// DEFAULT-SAME: threads = 384 : i64
// DEFAULT: gpu.func @flash_fwd_bf16_d64_causal_w3(
// DEFAULT-SAME: block_m = 192 : i64
// DEFAULT-SAME: threads = 512 : i64
func.func @causal_d64(%q: tensor<1x2x1024x64xbf16>, %k: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>,
                      %q4: tensor<1x2x4096x64xbf16>, %k4: tensor<1x2x4096x64xbf16>, %v4: tensor<1x2x4096x64xbf16>)
    -> (tensor<1x2x1024x64xbf16>, tensor<1x2x4096x64xbf16>) {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16> -> tensor<1x2x1024x64xbf16>
  %o4 = tucker.flash %q4, %k4, %v4 {causal} : tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16>, tensor<1x2x4096x64xbf16> -> tensor<1x2x4096x64xbf16>
  return %o, %o4 : tensor<1x2x1024x64xbf16>, tensor<1x2x4096x64xbf16>
}

// -----

// Tests that: with three consumers the automatic heads per tile pad the
// fewest rows: at Nq = 1024, 2 heads of 96 positions (11 tiles per head
// pair pad 3 %; one head of 192 would take 6 tiles, 12.5 %), a grid of 11
// query tiles by 6 head pairs.

// DEFAULT-LABEL: func.func @gpt2_latent(
// DEFAULT: gpu.func @flash_fwd_bf16_d64_g12_p2_w3(
// DEFAULT-SAME: block_m = 192 : i64
// DEFAULT-SAME: heads_per_tile = 2 : i64
// DEFAULT-DAG: %[[C11:.+]] = arith.constant 11 : index
// DEFAULT-DAG: %[[C6:.+]] = arith.constant 6 : index
// DEFAULT: launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_g12_p2_w3 blocks in (%[[C11]], %[[C6]], %{{.+}}) threads in (%c512
func.func @gpt2_latent(%q: tensor<16x12x1024x64xbf16>, %k: tensor<16x1x1024x64xbf16>, %v: tensor<16x1x1024x64xbf16>) -> tensor<16x12x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<16x12x1024x64xbf16>, tensor<16x1x1024x64xbf16>, tensor<16x1x1024x64xbf16> -> tensor<16x12x1024x64xbf16>
  return %o : tensor<16x12x1024x64xbf16>
}

// -----

// Tests that: decode splits the cache only where the unsplit CTAs would
// leave HBM idle. Latent r256 (v = k), B 64, cache 4096: 64 CTAs, each
// streaming 2 MiB, fill 48 % of the 132 SMs and saturate HBM: one split.
// Tucker d = 64 at the same B and cache: 1 MiB per CTA, three CTAs per SM
// fit: 6 splits.

// DEFAULT-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d256_g16_p16_vk0_causal_decode(
// DEFAULT: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d256_g16_p16_vk0_causal_decode blocks in (%{{c1(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %c64)
// DEFAULT-LABEL: func.func private @tucker_flash_launch_flash_fwd_bf16_d64_g32_p32_causal_decode(
// DEFAULT: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_g32_p32_causal_decode blocks in (%c6,
func.func @latent_decode(%q: tensor<64x16x1x256xbf16>, %k: tensor<64x1x4096x256xbf16>) -> tensor<64x16x1x256xbf16> {
  %o = tucker.flash %q, %k, %k {causal} : tensor<64x16x1x256xbf16>, tensor<64x1x4096x256xbf16>, tensor<64x1x4096x256xbf16> -> tensor<64x16x1x256xbf16>
  return %o : tensor<64x16x1x256xbf16>
}
func.func @tucker_decode(%q: tensor<64x32x1x64xbf16>, %k: tensor<64x1x4096x64xbf16>, %v: tensor<64x1x4096x64xbf16>) -> tensor<64x32x1x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<64x32x1x64xbf16>, tensor<64x1x4096x64xbf16>, tensor<64x1x4096x64xbf16> -> tensor<64x32x1x64xbf16>
  return %o : tensor<64x32x1x64xbf16>
}
