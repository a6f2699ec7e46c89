//===- Passes.h - Project-level transformations -----------------*- C++ -*-===//

#ifndef TUCKER_TRANSFORMS_PASSES_H
#define TUCKER_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace tucker {

#define GEN_PASS_DECL
#include "tucker/Transforms/Passes.h.inc"

/// The pattern of --tucker-decompose-aggregates: any
/// linalg::AggregatedOpInterface op to the ops of its decomposition.
void populateDecomposeAggregatesPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "tucker/Transforms/Passes.h.inc"

} // namespace tucker
} // namespace mlir

#endif // TUCKER_TRANSFORMS_PASSES_H
