// The attention core of a Llama-style layer: 32 query heads over 8 key/value
// heads of width 128, bf16, causal, sequence length decided at run time.
// `--tucker-flash-to-gpu` turns it into a Hopper kernel and its launch.
func.func @flash_gqa(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
                     %v: tensor<?x8x?x128xbf16>) -> tensor<?x32x?x128xbf16> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>
        -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
