//===- Passes.h - Tucker dialect transformations ----------------*- C++ -*-===//

#ifndef TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_H
#define TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace tucker {

/// How --tucker-fold executes the query projection and the output fold of a
/// dense core (its `query-form` / `output-form` options).
enum class FoldForm { Auto, Absorbed, TwoStep };

#define GEN_PASS_DECL
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"

/// Patterns of --tucker-lift: mha/gqa/mla to tucker.attention.
void populateLiftPatterns(RewritePatternSet &patterns);

/// Patterns of --tucker-fold with the given query/output forms.
void populateFoldPatterns(RewritePatternSet &patterns, FoldForm queryForm,
                          FoldForm outputForm);

/// Patterns of --tucker-fuse-rope.
void populateFuseRopePatterns(RewritePatternSet &patterns);

/// Adds the --tucker-shrink-ranks pattern.
void populateShrinkRanksPatterns(RewritePatternSet &patterns);

/// Patterns of --tucker-raise (layers to tucker.mha / tucker.gqa, and with
/// `raiseFlash` attention cores to tucker.flash); apply them bottom-up.
void populateRaisePatterns(RewritePatternSet &patterns, bool raiseFlash);

#define GEN_PASS_REGISTRATION
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"

} // namespace tucker
} // namespace mlir

#endif // TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_H
