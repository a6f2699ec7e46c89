// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-gpu-map-loops
// RUN: not tucker-opt %s --tucker-gpu-map-loops=block-size=2048 2>&1 | FileCheck %s --check-prefix=BLOCK

// BLOCK: error: --tucker-gpu-map-loops: block-size = 2048 must be in [1, 1024]

// Tests that: a load left on the host (device memory read by the CPU) is
// refused, naming the op.
func.func @host_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{tucker-gpu-pipeline: 'memref.load' would access device memory from the host (no GPU lowering)}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// Tests that: a store left on the host is refused too.
func.func @host_store(%x: memref<4xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{tucker-gpu-pipeline: 'memref.store' would access device memory from the host (no GPU lowering)}}
  memref.store %v, %x[%c0] : memref<4xf32>
  return
}

// -----

// Tests that: a host global still read by a kernel's loop (a constant not
// routed through its device copy by --tucker-gpu-device-buffers) is refused.
memref.global "private" constant @table : memref<4xf32> = dense<1.0>
func.func @host_global(%out: memref<4xf32>) {
  // expected-error @+1 {{tucker-gpu-pipeline: 'memref.get_global' of @table reads host memory (--tucker-gpu-device-buffers reads constants through their device copies; run it first)}}
  %t = memref.get_global @table : memref<4xf32>
  linalg.copy ins(%t : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}
