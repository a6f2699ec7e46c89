// RUN: env CUDA_HOME=%t.no-toolkit tucker-opt %s -verify-diagnostics --tucker-gpu-check-host

// Tests that: a kernel math function (the rsqrt of an RMS norm) that needs
// libdevice is refused when the toolkit named by $CUDA_HOME has none (the PTX
// would call an undefined __nv_rsqrtf).
func.func @norm(%x: tensor<64xf32>) -> tensor<64xf32> {
  %e = tensor.empty() : tensor<64xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%v: f32, %o: f32):
    // expected-error @+1 {{tucker-gpu-pipeline: 'math.rsqrt' needs libdevice (nvvm/libdevice/libdevice.10.bc of a CUDA toolkit), which was not found (}}
    %r = math.rsqrt %v : f32
    linalg.yield %r : f32
  } -> tensor<64xf32>
  return %y : tensor<64xf32>
}
