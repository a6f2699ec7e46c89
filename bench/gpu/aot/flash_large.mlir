// Timing case for the CUDA AOT path: GQA 32/8, N = 4096, head dim 128, not causal.
func.func @flash_large(%q: tensor<4x32x4096x128xbf16>, %k: tensor<4x8x4096x128xbf16>,
                       %v: tensor<4x8x4096x128xbf16>) -> tensor<4x32x4096x128xbf16> {
  %o = tucker.flash %q, %k, %v
      : tensor<4x32x4096x128xbf16>, tensor<4x8x4096x128xbf16>, tensor<4x8x4096x128xbf16>
        -> tensor<4x32x4096x128xbf16>
  return %o : tensor<4x32x4096x128xbf16>
}
