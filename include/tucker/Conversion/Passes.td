//===- Passes.td - Tucker conversions ----------------------*- tablegen -*-===//

#ifndef TUCKER_CONVERSION_PASSES_TD
#define TUCKER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def TuckerFlashToLinalgPass : Pass<"tucker-flash-to-linalg"> {
  let summary = "Lower tucker.flash and tucker.rope to tiled online-softmax linalg loops";
  let description = [{
    Lowers `tucker.flash` to the flash-attention algorithm on tensors: an
    `scf.for` over query tiles and, inside, over key tiles, with linalg
    contractions for `S = Q·Kᵀ` and `O += P·V`, a running row max and row
    sum, the accumulator rescaled by `exp2` of the max difference, and the
    softmax scale folded with `log2(e)`. No `Nq×Nk` score matrix is built.
    Causal masking skips key tiles entirely above the diagonal and masks the
    diagonal ones; tails of lengths that are no multiple of the tile are
    masked. `tucker.rope` (and a flash's `rope` attribute) become elementwise
    linalg ops with a cos/sin table. Runs anywhere linalg runs.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Rows of queries per tile">,
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"64",
           "Keys per tile">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // TUCKER_CONVERSION_PASSES_TD
