// RUN: tucker-opt %s -split-input-file -verify-diagnostics --tucker-gpu-check-host

// What --tucker-gpu-check-host lets through (what the rest of the GPU
// pipeline lowers: launchers, structured linalg on tensors, shape ops) and
// what it refuses (work that would run on the host), each with the op named.

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

// Tests that: structured linalg on tensors (a kernel later) and the shape ops
// that bufferize to views or copies pass.
func.func @elementwise(%x: tensor<2x64x128xbf16>, %b: tensor<128xbf16>) -> tensor<2x64x64xbf16> {
  %e = tensor.empty() : tensor<2x64x128xbf16>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %b : tensor<2x64x128xbf16>, tensor<128xbf16>) outs(%e : tensor<2x64x128xbf16>) {
  ^bb0(%v: bf16, %c: bf16, %o: bf16):
    %s = arith.addf %v, %c : bf16
    linalg.yield %s : bf16
  } -> tensor<2x64x128xbf16>
  %h = tensor.expand_shape %y [[0], [1], [2, 3]] output_shape [2, 64, 2, 64] : tensor<2x64x128xbf16> into tensor<2x64x2x64xbf16>
  %s = tensor.extract_slice %h[0, 0, 1, 0] [2, 64, 1, 64] [1, 1, 1, 1] : tensor<2x64x2x64xbf16> to tensor<2x64x64xbf16>
  return %s : tensor<2x64x64xbf16>
}

// -----

// Tests that: a tucker op left over is refused.
func.func @attention(%q: tensor<1x2x64x128xbf16>) -> tensor<1x2x64x128xbf16> {
  // expected-error @+1 {{tucker-gpu-pipeline: 'tucker.flash' has no GPU lowering (only tucker.flash, and tucker.rope outside it, are lowered)}}
  %y = tucker.flash %q, %q, %q : tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x2x64x128xbf16>
  return %y : tensor<1x2x64x128xbf16>
}

// -----

// Tests that: reading one element on the host is refused.
func.func @extract(%x: tensor<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{tucker-gpu-pipeline: 'tensor.extract' would run on the host (no GPU lowering for it on tensors)}}
  %v = tensor.extract %x[%c0] : tensor<4xf32>
  return %v : f32
}

// -----

// Tests that: a tensor constant passes (the kernels that read it get it).
func.func @table() -> tensor<4xf32> {
  %c = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

// Tests that: linalg on buffers (not from this pipeline) is refused.
func.func @on_buffers(%x: memref<4xf32>) {
  %c = arith.constant 0.0 : f32
  // expected-error @+1 {{tucker-gpu-pipeline: 'linalg.fill' works on buffers before bufferization (the GPU pipeline takes linalg on tensors)}}
  linalg.fill ins(%c : f32) outs(%x : memref<4xf32>)
  return
}

// -----

// Tests that: a linalg op that is not structured (no loop lowering) is refused.
func.func @softmax(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %e = tensor.empty() : tensor<2x16xf32>
  // expected-error @+1 {{tucker-gpu-pipeline: 'linalg.softmax' is not a structured linalg op (no GPU loop lowering)}}
  %r = linalg.softmax dimension(1) ins(%x : tensor<2x16xf32>) outs(%e : tensor<2x16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}
