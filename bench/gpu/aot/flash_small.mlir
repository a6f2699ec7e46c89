// Correctness case for the CUDA AOT path: GQA 8/2, N = 1000 (a tail), causal.
func.func @flash_small(%q: tensor<2x8x1000x128xbf16>, %k: tensor<2x2x1000x128xbf16>,
                       %v: tensor<2x2x1000x128xbf16>) -> tensor<2x8x1000x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<2x8x1000x128xbf16>, tensor<2x2x1000x128xbf16>, tensor<2x2x1000x128xbf16>
        -> tensor<2x8x1000x128xbf16>
  return %o : tensor<2x8x1000x128xbf16>
}
