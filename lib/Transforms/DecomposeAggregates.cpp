//===- DecomposeAggregates.cpp - Aggregated linalg ops to structured ops --===//
//
// --tucker-decompose-aggregates: the decomposition is upstream's (each op's
// AggregatedOpInterface::decomposeOperation); this pass only applies it,
// since no upstream pass does outside the transform dialect.
//
//===----------------------------------------------------------------------===//

#include "tucker/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERDECOMPOSEAGGREGATESPASS
#include "tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

struct DecomposeAggregate
    : OpInterfaceRewritePattern<linalg::AggregatedOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::AggregatedOpInterface op,
                                PatternRewriter &rewriter) const override {
    FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
    if (failed(values))
      return rewriter.notifyMatchFailure(op, "its decomposition failed");
    rewriter.replaceOp(op, *values);
    return success();
  }
};

struct TuckerDecomposeAggregatesPass
    : tucker::impl::TuckerDecomposeAggregatesPassBase<
          TuckerDecomposeAggregatesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    tucker::populateDecomposeAggregatesPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult left =
        getOperation()->walk([](linalg::AggregatedOpInterface op) {
          op->emitOpError()
              << "could not be decomposed into structured linalg ops";
          return WalkResult::interrupt();
        });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::tucker::populateDecomposeAggregatesPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeAggregate>(patterns.getContext());
}
