// RUN: tucker-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(tucker-gpu-device-buffers,canonicalize)" | FileCheck %s

// Tests that: the static buffers of a function become views into one
// trailing workspace argument, and a region is reused once its last user
// (through views too) is enqueued: %a (8 KiB) is dead after the second call,
// so %c reuses its offset while %b, live across, keeps its own; the host
// deallocation goes; the base alignment is asserted.
// CHECK-LABEL: func.func @chain(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<1x2x16x128xbf16>, %[[O:[^:]+]]: memref<1x2x16x128xbf16>, %[[WS:[^:]+]]: memref<16384xi8>)
// CHECK-SAME:    attributes {tucker.workspace_bytes = 16384 : i64}
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C8192:.+]] = arith.constant 8192 : index
// CHECK-DAG:     %[[C256:.+]] = arith.constant 256 : index
// CHECK:         %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[WS]]
// CHECK:         %[[REM:.+]] = arith.remui %[[BASE]], %[[C256]] : index
// CHECK:         %[[OK:.+]] = arith.cmpi eq, %[[REM]], %[[C0]] : index
// CHECK:         cf.assert %[[OK]], "tucker: the workspace must be 256-byte aligned"
// CHECK:         %[[A:.+]] = memref.view %[[WS]][%[[C0]]][] : memref<16384xi8> to memref<1x2x16x128xbf16>
// CHECK:         %[[B:.+]] = memref.view %[[WS]][%[[C8192]]][] : memref<16384xi8> to memref<1x2x16x128xbf16>
// CHECK:         call @tucker_flash_launch_k(%[[Q]], %[[A]])
// CHECK:         %[[AX:.+]] = memref.expand_shape %[[A]]
// CHECK:         call @use(%[[AX]], %[[B]])
// CHECK:         %[[C:.+]] = memref.view %[[WS]][%[[C0]]][] : memref<16384xi8> to memref<1x2x16x128xbf16>
// CHECK:         call @tucker_flash_launch_k(%[[B]], %[[C]])
// CHECK:         call @tucker_flash_launch_k(%[[C]], %[[O]])
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func private @tucker_flash_launch_k(memref<1x2x16x128xbf16>, memref<1x2x16x128xbf16>)
func.func private @use(memref<1x2x16x2x64xbf16>, memref<1x2x16x128xbf16>)
func.func @chain(%q: memref<1x2x16x128xbf16>, %o: memref<1x2x16x128xbf16>) {
  %a = memref.alloc() : memref<1x2x16x128xbf16>
  %b = memref.alloc() : memref<1x2x16x128xbf16>
  call @tucker_flash_launch_k(%q, %a) : (memref<1x2x16x128xbf16>, memref<1x2x16x128xbf16>) -> ()
  %ax = memref.expand_shape %a [[0], [1], [2], [3, 4]] output_shape [1, 2, 16, 2, 64] : memref<1x2x16x128xbf16> into memref<1x2x16x2x64xbf16>
  call @use(%ax, %b) : (memref<1x2x16x2x64xbf16>, memref<1x2x16x128xbf16>) -> ()
  %c = memref.alloc() : memref<1x2x16x128xbf16>
  call @tucker_flash_launch_k(%b, %c) : (memref<1x2x16x128xbf16>, memref<1x2x16x128xbf16>) -> ()
  call @tucker_flash_launch_k(%c, %o) : (memref<1x2x16x128xbf16>, memref<1x2x16x128xbf16>) -> ()
  memref.dealloc %a : memref<1x2x16x128xbf16>
  return
}

// -----

// Tests that: a buffer of dynamic size cannot have a compile-time offset: it
// becomes a stream-ordered gpu.alloc freed by gpu.dealloc before the
// terminator; a function without static buffers gets no workspace.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x128xbf16>, %[[O:[^:]+]]: memref<?x128xbf16>) {
// CHECK:         %[[T0:.+]] = gpu.wait async
// CHECK:         %[[MID:.+]], %[[T1:.+]] = gpu.alloc async [%[[T0]]] (%{{.+}}) : memref<?x128xbf16>
// CHECK:         gpu.wait [%[[T1]]]
// CHECK:         call @launch(%[[Q]], %[[MID]])
// CHECK:         call @launch(%[[MID]], %[[O]])
// CHECK:         %[[T2:.+]] = gpu.wait async
// CHECK:         %[[T3:.+]] = gpu.dealloc async [%[[T2]]] %[[MID]]
// CHECK:         gpu.wait [%[[T3]]]
// CHECK-NEXT:    return
func.func private @launch(memref<?x128xbf16>, memref<?x128xbf16>)
func.func @dynamic(%q: memref<?x128xbf16>, %o: memref<?x128xbf16>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %q, %c0 : memref<?x128xbf16>
  %mid = memref.alloc(%n) : memref<?x128xbf16>
  call @launch(%q, %mid) : (memref<?x128xbf16>, memref<?x128xbf16>) -> ()
  call @launch(%mid, %o) : (memref<?x128xbf16>, memref<?x128xbf16>) -> ()
  memref.dealloc %mid : memref<?x128xbf16>
  return
}

// -----

// Tests that: a callee with a workspace gets a slice of its caller's, live
// during the call (the caller's own buffer %t, live across, sits beside it).
// CHECK-LABEL: func.func private @inner(
// CHECK-SAME:    %{{.+}}: memref<256xf32>, %[[IWS:[^:]+]]: memref<1024xi8>)
// CHECK-SAME:    attributes {tucker.workspace_bytes = 1024 : i64}
// CHECK:         memref.view %[[IWS]]
// CHECK-LABEL: func.func @outer(
// CHECK-SAME:    %{{.+}}: memref<256xf32>, %[[WS:[^:]+]]: memref<2048xi8>)
// CHECK-SAME:    attributes {tucker.workspace_bytes = 2048 : i64}
// CHECK:         %[[T:.+]] = memref.view %[[WS]][%{{.+}}][] : memref<2048xi8> to memref<256xf32>
// CHECK:         %[[SLICE:.+]] = memref.view %[[WS]][%{{.+}}][] : memref<2048xi8> to memref<1024xi8>
// CHECK:         call @inner(%[[T]], %[[SLICE]]) : (memref<256xf32>, memref<1024xi8>) -> ()
// CHECK:         call @launch(%[[T]])
func.func private @launch(memref<256xf32>)
func.func private @inner(%x: memref<256xf32>) {
  %s = memref.alloc() : memref<256xf32>
  call @launch(%s) : (memref<256xf32>) -> ()
  call @launch(%x) : (memref<256xf32>) -> ()
  return
}
func.func @outer(%x: memref<256xf32>) {
  %t = memref.alloc() : memref<256xf32>
  call @inner(%t) : (memref<256xf32>) -> ()
  call @launch(%t) : (memref<256xf32>) -> ()
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

// -----

// Tests that: a host stack buffer is refused (the GPU cannot read it).
func.func private @launch(memref<4xf32>)
func.func @stack() {
  // expected-error @+1 {{tucker-gpu-pipeline: a stack buffer (memref.alloca) lives in host memory, which the GPU cannot use}}
  %s = memref.alloca() : memref<4xf32>
  call @launch(%s) : (memref<4xf32>) -> ()
  return
}

// -----

// Tests that: recursion is refused (its workspace would be unbounded).
func.func @self(%x: memref<4xf32>) {
  %s = memref.alloc() : memref<4xf32>
  // expected-error @+1 {{tucker-gpu-pipeline: recursive calls cannot share a compile-time workspace}}
  call @self(%s) : (memref<4xf32>) -> ()
  return
}

// -----

// Tests that: a persistent buffer (tucker.persistent) shares its region with
// nothing, though its last use comes before %b's allocation: %b does not
// reuse offset 0, and a callee's workspace holding one is reserved in the
// caller likewise: the later %c takes %b's region, not the callee's slice.
// CHECK-LABEL: func.func private @counters(
// CHECK-SAME:    %[[IWS:[^:]+]]: memref<256xi8>)
// CHECK-SAME:    attributes {tucker.workspace_bytes = 256 : i64}
// CHECK:         memref.view %[[IWS]][%{{.+}}][] : memref<256xi8> to memref<64xi32>
// CHECK-LABEL: func.func @keep(
// CHECK-SAME:    %[[WS:[^:]+]]: memref<768xi8>)
// CHECK-SAME:    attributes {tucker.workspace_bytes = 768 : i64}
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C256:.+]] = arith.constant 256 : index
// CHECK-DAG:     %[[C512:.+]] = arith.constant 512 : index
// CHECK:         %[[P:.+]] = memref.view %[[WS]][%[[C0]]][] : memref<768xi8> to memref<64xi32>
// CHECK:         call @use(%[[P]])
// CHECK:         %[[B:.+]] = memref.view %[[WS]][%[[C256]]][] : memref<768xi8> to memref<64xi32>
// CHECK:         call @use(%[[B]])
// CHECK:         %[[SLICE:.+]] = memref.view %[[WS]][%[[C512]]][] : memref<768xi8> to memref<256xi8>
// CHECK:         call @counters(%[[SLICE]])
// CHECK:         %[[C:.+]] = memref.view %[[WS]][%[[C256]]][] : memref<768xi8> to memref<64xi32>
// CHECK:         call @use(%[[C]])
func.func private @use(memref<64xi32>)
func.func private @counters() {
  %n = memref.alloc() {tucker.persistent} : memref<64xi32>
  call @use(%n) : (memref<64xi32>) -> ()
  return
}
func.func @keep() {
  %p = memref.alloc() {tucker.persistent} : memref<64xi32>
  call @use(%p) : (memref<64xi32>) -> ()
  %b = memref.alloc() : memref<64xi32>
  call @use(%b) : (memref<64xi32>) -> ()
  call @counters() : () -> ()
  %c = memref.alloc() : memref<64xi32>
  call @use(%c) : (memref<64xi32>) -> ()
  return
}

// -----

// Tests that: a persistent buffer of dynamic size is refused (it needs a
// fixed region).
func.func private @use(memref<?xi32>)
func.func @dynamic_persistent(%n: index) {
  // expected-error @+1 {{tucker-gpu-pipeline: a persistent buffer ('tucker.persistent') needs a static size, an identity layout and the function's top block (it has a fixed workspace region)}}
  %p = memref.alloc(%n) {tucker.persistent} : memref<?xi32>
  call @use(%p) : (memref<?xi32>) -> ()
  return
}

// -----

// Tests that: every read of a constant global goes through its device copy
// (one zero-initialized slot global per constant, shared by its reads; the
// host address and byte size passed to tuckerDeviceConstant, i1 elements a
// byte each); the device copy is viewed with the constant's type.
// CHECK-LABEL: func.func @weights(
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[BYTES:.+]] = arith.constant 8192 : i64
// CHECK-DAG:     %[[MBYTES:.+]] = arith.constant 16 : i64
// CHECK:         %[[HOST:.+]] = memref.get_global @w : memref<64x64xbf16>
// CHECK:         %[[SLOT:.+]] = memref.get_global @w_device : memref<1xi64>
// CHECK:         %[[HP:.+]] = memref.extract_aligned_pointer_as_index %[[HOST]]
// CHECK:         %[[HA:.+]] = arith.index_cast %[[HP]] : index to i64
// CHECK:         %[[SP:.+]] = memref.extract_aligned_pointer_as_index %[[SLOT]]
// CHECK:         %[[SA:.+]] = arith.index_cast %[[SP]] : index to i64
// CHECK:         %[[DEV:.+]] = call @tuckerDeviceConstant(%[[HA]], %[[BYTES]], %[[SA]]) : (i64, i64, i64) -> memref<?xi8>
// CHECK:         %[[W:.+]] = memref.view %[[DEV]][%[[C0]]][] : memref<?xi8> to memref<64x64xbf16>
// CHECK:         call @gemm(%[[W]])
// CHECK:         memref.get_global @w_device
// CHECK:         call @tuckerDeviceConstant
// CHECK:         memref.get_global @m_device
// CHECK:         call @tuckerDeviceConstant(%{{.+}}, %[[MBYTES]], %{{.+}})
// CHECK-NOT:     memref.get_global @w :
// CHECK:         return
// CHECK-DAG:   func.func private @tuckerDeviceConstant(i64, i64, i64) -> memref<?xi8> attributes {llvm.emit_c_interface}
// CHECK-DAG:   memref.global "private" @w_device : memref<1xi64> = dense<0>
// CHECK-DAG:   memref.global "private" @m_device : memref<1xi64> = dense<0>
memref.global "private" constant @w : memref<64x64xbf16> = dense<1.0>
memref.global "private" constant @m : memref<4x4xi1> = dense<true>
func.func private @gemm(memref<64x64xbf16>)
func.func private @mask(memref<4x4xi1>)
func.func @weights() {
  %w = memref.get_global @w : memref<64x64xbf16>
  call @gemm(%w) : (memref<64x64xbf16>) -> ()
  %again = memref.get_global @w : memref<64x64xbf16>
  call @gemm(%again) : (memref<64x64xbf16>) -> ()
  %m = memref.get_global @m : memref<4x4xi1>
  call @mask(%m) : (memref<4x4xi1>) -> ()
  return
}

// -----

// Tests that: a mutable global is host memory the kernels cannot read.
memref.global "private" @state : memref<4xf32> = dense<0.0>
func.func private @launch(memref<4xf32>)
func.func @mutable() {
  // expected-error @+1 {{tucker-gpu-pipeline: @state is a mutable host global, which the GPU cannot read}}
  %s = memref.get_global @state : memref<4xf32>
  call @launch(%s) : (memref<4xf32>) -> ()
  return
}
