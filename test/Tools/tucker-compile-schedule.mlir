// RUN: rm -rf %t && split-file %s %t
// RUN: tucker-compile %t/given.mlir --target=cuda --emit=mlir -o - | FileCheck %s --check-prefix=GIVEN
// RUN: tucker-compile %t/chosen.mlir --target=cuda --emit=mlir -o - | FileCheck %s --check-prefix=CHOSEN
// RUN: tucker-compile %t/given.mlir --target=cuda --emit=mlir -o - \
// RUN:   --pipeline-options='consumer-warpgroups=3 heads-per-tile=8' | FileCheck %s --check-prefix=GIVEN

// Tests that: tucker-compile honours a schedule written in the IR (two
// consumer warpgroups, one head per 128-row tile, 64-key tiles, no
// ping-pong), whatever its pipeline options say; without one, the shapes
// choose (latent MQA with heads of 64: three consumers, 8 heads per
// 192-row tile).
// GIVEN: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_g8_n64
// GIVEN-NOT: _w3
// CHOSEN: gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d64_g8_p8_w3

//--- given.mlir
func.func @attn(%q: tensor<2x8x1024x64xbf16>, %k: tensor<2x1x1024x64xbf16>, %v: tensor<2x1x1024x64xbf16>) -> tensor<2x8x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v {schedule = #tucker.flash_schedule<decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 64, kv_splits = 0, sm_count = 132, ping_pong = false, rope_kernel = true, dependent_launch = false>}
      : tensor<2x8x1024x64xbf16>, tensor<2x1x1024x64xbf16>, tensor<2x1x1024x64xbf16> -> tensor<2x8x1024x64xbf16>
  return %o : tensor<2x8x1024x64xbf16>
}

//--- chosen.mlir
func.func @attn(%q: tensor<2x8x1024x64xbf16>, %k: tensor<2x1x1024x64xbf16>, %v: tensor<2x1x1024x64xbf16>) -> tensor<2x8x1024x64xbf16> {
  %o = tucker.flash %q, %k, %v
      : tensor<2x8x1024x64xbf16>, tensor<2x1x1024x64xbf16>, tensor<2x1x1024x64xbf16> -> tensor<2x8x1024x64xbf16>
  return %o : tensor<2x8x1024x64xbf16>
}
