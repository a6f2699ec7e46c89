// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-gpu-check-host

// What --tucker-gpu-check-host lets through (host glue around the flash
// launchers) and what it refuses (work that would run on the host).

// Tests that: buffers, a launcher call and the returned tensor pass.
func.func private @tucker_flash_launch_k(memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>)
func.func @glue(%q: tensor<1x2x64x128xbf16>) -> tensor<1x2x64x128xbf16> {
  %b = bufferization.to_buffer %q read_only : tensor<1x2x64x128xbf16> to memref<1x2x64x128xbf16>
  %o = memref.alloc() : memref<1x2x64x128xbf16>
  call @tucker_flash_launch_k(%b, %o) : (memref<1x2x64x128xbf16>, memref<1x2x64x128xbf16>) -> ()
  %t = bufferization.to_tensor %o restrict writable : memref<1x2x64x128xbf16> to tensor<1x2x64x128xbf16>
  return %t : tensor<1x2x64x128xbf16>
}

// -----

// Tests that: a linalg op (the projection of a layer) is refused.
func.func @proj(%x: tensor<64x128xf32>, %w: tensor<128x128xf32>, %z: tensor<64x128xf32>) -> tensor<64x128xf32> {
  // expected-error @+1 {{tucker-gpu-pipeline: 'linalg.matmul' would run on the host: the whole-layer GPU path is not there yet}}
  %y = linalg.matmul ins(%x, %w : tensor<64x128xf32>, tensor<128x128xf32>) outs(%z : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// -----

// Tests that: a tucker op left over (a rope that did not fuse) is refused.
func.func @rope(%x: tensor<1x2x64x128xbf16>) -> tensor<1x2x64x128xbf16> {
  // expected-error @+1 {{tucker-gpu-pipeline: 'tucker.rope' would run on the host}}
  %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 128, style = half>} : tensor<1x2x64x128xbf16> -> tensor<1x2x64x128xbf16>
  return %y : tensor<1x2x64x128xbf16>
}

// -----

// Tests that: any other op on tensors is refused.
func.func @slice(%x: tensor<1x2x64x128xbf16>) -> tensor<1x2x64x64xbf16> {
  // expected-error @+1 {{tucker-gpu-pipeline: 'tensor.extract_slice' would run on the host}}
  %y = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 64, 64] [1, 1, 1, 1] : tensor<1x2x64x128xbf16> to tensor<1x2x64x64xbf16>
  return %y : tensor<1x2x64x64xbf16>
}
