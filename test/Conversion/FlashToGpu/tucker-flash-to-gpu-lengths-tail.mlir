// RUN: tucker-opt %s -split-input-file --tucker-gpu-configure --tucker-flash-to-gpu | FileCheck %s

// Tests that: with lengths, the key tile that holds the sequence end L
// (L / blockN when L < Nk, else -1: no tile) gets its V rows L .. blockN - 1
// zeroed in shared memory before P·V reads them (the cache past L may hold
// NaN or Inf, and P = 0 times those is NaN); 16-byte stores of whole rows
// (unrolled: 4 per thread and chunk here), then a proxy fence and a named
// barrier over the threads that read the tile. Prefill: all 256 consumer threads, barrier 6, in the prologue (tile
// 0, also L = 0) and in the loop, before the tile's S.

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d128_causal_len(
// CHECK: %[[TILE:.+]] = arith.divui %[[L:[^,]+]], %c128_i32 : i32
// CHECK: %[[END:.+]] = arith.select %{{.+}}, %[[TILE]], %c-1_i32 : i32
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %c0_i32, %[[END]] : i32
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK: arith.subi %[[L]], %{{.+}} : i32
// CHECK-COUNT-8: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: nvvm.barrier id = %c6_i32 number_of_threads = %c256_i32
// CHECK-NEXT: }
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: %[[LOOP:.+]] = arith.cmpi eq, %{{.+}}, %[[END]] : i32
// CHECK-NEXT: scf.if %[[LOOP]] {
// CHECK-COUNT-8: vector<4xi32>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: nvvm.barrier id = %c6_i32 number_of_threads = %c256_i32
// CHECK-NEXT: }
// CHECK: nvvm.wgmma.fence.aligned
func.func @prefill(%q: tensor<3x4x300x128xbf16>, %k: tensor<3x4x500x128xbf16>, %v: tensor<3x4x500x128xbf16>, %len: tensor<3xi32>) -> tensor<3x4x300x128xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<3xi32>) {causal} : tensor<3x4x300x128xbf16>, tensor<3x4x500x128xbf16>, tensor<3x4x500x128xbf16> -> tensor<3x4x300x128xbf16>
  return %o : tensor<3x4x300x128xbf16>
}

// -----

// Decode: the warpgroup that takes the tile zeroes it (its 128 threads,
// barrier 4); after the loop the other one passes barrier 5 once, so both
// pass as many barriers before they merge on barrier 1.

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d128_g4_p4_causal_len_decode(
// CHECK: %[[END:.+]] = arith.select %{{.+}}, %{{.+}}, %c-1_i32 : i32
// CHECK: %[[MINE:.+]] = arith.cmpi eq, %{{.+}}, %[[END]] : i32
// CHECK-NEXT: scf.if %[[MINE]] {
// CHECK-COUNT-8: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: nvvm.barrier id = %c4_i32 number_of_threads = %c128_i32
// CHECK-NEXT: }
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: arith.subi %[[END]], %{{.+}} : i32
// CHECK: scf.if %{{.+}} {
// CHECK-NEXT: nvvm.barrier id = %c5_i32 number_of_threads = %c128_i32
// CHECK-NEXT: }
// CHECK-NEXT: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
func.func @decode(%q: tensor<4x32x1x128xbf16>, %k: tensor<4x8x2048x128xbf16>, %v: tensor<4x8x2048x128xbf16>, %len: tensor<4xi32>) -> tensor<4x32x1x128xbf16> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<4xi32>) {causal} : tensor<4x32x1x128xbf16>, tensor<4x8x2048x128xbf16>, tensor<4x8x2048x128xbf16> -> tensor<4x32x1x128xbf16>
  return %o : tensor<4x32x1x128xbf16>
}

// -----

// Split-O (v a slice of k): in the pair that holds the tile, each warpgroup
// zeroes its own value columns of it (4 chunks of 64 each), after the
// second rendezvous on barrier 1 (both S complete), and passes its own
// barrier (4 for warpgroup 0, 5 for warpgroup 1) before its P·V.

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d576_v512_g16_p16_vk0_causal_len_decode(
// CHECK: %[[END:.+]] = arith.select %{{.+}}, %{{.+}}, %c-1_i32 : i32
// CHECK: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
// CHECK: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
// CHECK: scf.if %{{.+}} {
// CHECK: arith.muli %[[END]], %c64_i32 : i32
// CHECK-COUNT-16: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: nvvm.barrier id = %c4_i32 number_of_threads = %c128_i32
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// CHECK: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
// CHECK: "barrier.sync $0, $1;", "r,r" %c1_i32, %c256_i32
// CHECK: scf.if %{{.+}} {
// CHECK: arith.muli %[[END]], %c64_i32 : i32
// CHECK-COUNT-16: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: nvvm.barrier id = %c5_i32 number_of_threads = %c128_i32
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.wgmma.fence.aligned
func.func @wide(%q: tensor<2x16x1x576xbf16>, %k: tensor<2x1x300x576xbf16>, %len: tensor<2xi32>) -> tensor<2x16x1x512xbf16> {
  %v = tensor.extract_slice %k[0, 0, 0, 0] [2, 1, 300, 512] [1, 1, 1, 1] : tensor<2x1x300x576xbf16> to tensor<2x1x300x512xbf16>
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<2xi32>) {causal} : tensor<2x16x1x576xbf16>, tensor<2x1x300x576xbf16>, tensor<2x1x300x512xbf16> -> tensor<2x16x1x512xbf16>
  return %o : tensor<2x16x1x512xbf16>
}

// -----

// Without lengths nothing is zeroed.

// CHECK-LABEL: gpu.func @flash_fwd_bf16_d128_causal(
// CHECK-NOT: vector<4xi32>
func.func @full(%q: tensor<1x4x256x128xbf16>, %k: tensor<1x4x256x128xbf16>, %v: tensor<1x4x256x128xbf16>) -> tensor<1x4x256x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16> -> tensor<1x4x256x128xbf16>
  return %o : tensor<1x4x256x128xbf16>
}
