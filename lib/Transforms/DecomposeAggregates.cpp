//===- DecomposeAggregates.cpp - Aggregated linalg ops to structured ops --===//
//
// --tucker-decompose-aggregates: the decomposition is upstream's (each op's
// AggregatedOpInterface::decomposeOperation); this pass applies it, since no
// upstream pass does outside the transform dialect, after promoting a
// softmax on f16/bf16 to f32.
//
//===----------------------------------------------------------------------===//

#include "tucker/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

/// linalg.softmax on f16/bf16 as a softmax on f32 between extf and truncf:
/// the decomposition reduces in the op's element type, and a sum of many
/// exponentials rounded to 8 or 11 bits at every step loses the accuracy
/// that the rest of the compiler keeps (it accumulates in f32).
struct PromoteSoftmax : OpRewritePattern<linalg::SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    auto inputType = dyn_cast<RankedTensorType>(op.getInput().getType());
    auto outputType = dyn_cast<RankedTensorType>(op.getOutput().getType());
    if (!inputType || !outputType || op->getNumResults() != 1)
      return rewriter.notifyMatchFailure(op, "not a softmax on tensors");
    auto element = dyn_cast<FloatType>(inputType.getElementType());
    if (!element || element.getWidth() >= 32)
      return rewriter.notifyMatchFailure(op, "computes in f32 or wider");
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    Value input = arith::ExtFOp::create(rewriter, loc, inputType.clone(f32),
                                        op.getInput());
    Value init = tensor::EmptyOp::create(
        rewriter, loc, tensor::getMixedSizes(rewriter, loc, op.getOutput()),
        f32);
    auto softmax =
        linalg::SoftmaxOp::create(rewriter, loc, TypeRange{init.getType()},
                                  input, init, op.getDimension());
    rewriter.replaceOpWithNewOp<arith::TruncFOp>(op, outputType,
                                                 softmax->getResult(0));
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
  patterns.add<PromoteSoftmax>(patterns.getContext(), /*benefit=*/2);
  patterns.add<DecomposeAggregate>(patterns.getContext());
}
