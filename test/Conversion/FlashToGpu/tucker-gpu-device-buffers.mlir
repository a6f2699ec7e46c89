// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-gpu-device-buffers | FileCheck %s

// Tests that: an intermediate flash output (allocated on the host, fed to a
// second launcher, never returned) becomes gpu.alloc, its host dealloc is
// dropped and gpu.dealloc frees it before the terminator; an allocation that
// no launcher reads stays.

// CHECK-LABEL: func.func @chain(
// CHECK: %[[T0:.+]] = gpu.wait async
// CHECK: %[[MID:.+]], %[[T1:.+]] = gpu.alloc async [%[[T0]]] () : memref<1x2x64x128xbf16>
// CHECK: gpu.wait [%[[T1]]]
// CHECK: %[[HOST:.+]] = memref.alloc() : memref<4xf32>
// CHECK: call @tucker_flash_launch_k(%{{.+}}, %[[MID]])
// CHECK: call @tucker_flash_launch_k(%[[MID]], %{{.+}})
// CHECK-NOT: memref.dealloc %[[MID]]
// CHECK: memref.dealloc %[[HOST]]
// CHECK: %[[T2:.+]] = gpu.wait async
// CHECK: %[[T3:.+]] = gpu.dealloc async [%[[T2]]] %[[MID]]
// CHECK: gpu.wait [%[[T3]]]
// CHECK-NEXT: return
func.func private @tucker_flash_launch_k(memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>)
func.func @chain(%q: memref<1x2x64x128xbf16>, %o: memref<1x2x64x128xbf16>) {
  %mid = memref.alloc() : memref<1x2x64x128xbf16>
  %host = memref.alloc() : memref<4xf32>
  call @tucker_flash_launch_k(%q, %mid) : (memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>) -> ()
  call @tucker_flash_launch_k(%mid, %o) : (memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>) -> ()
  memref.dealloc %mid : memref<1x2x64x128xbf16>
  memref.dealloc %host : memref<4xf32>
  return
}

// -----

// Tests that: a device buffer returned from its function is refused.
func.func private @tucker_flash_launch_k(memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>)
func.func @escape(%q: memref<1x2x64x128xbf16>) -> memref<1x2x64x128xbf16> {
  // expected-error @+1 {{tucker-gpu-pipeline: a device buffer escapes its function (results should be out-params)}}
  %o = memref.alloc() : memref<1x2x64x128xbf16>
  call @tucker_flash_launch_k(%q, %o) : (memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>) -> ()
  return %o : memref<1x2x64x128xbf16>
}
