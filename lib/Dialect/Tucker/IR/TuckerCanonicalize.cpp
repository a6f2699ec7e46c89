//===- TuckerCanonicalize.cpp - Tucker canonicalization patterns ----------===//

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::tucker;

namespace {

/// GQA with as many key/value heads as query heads is MHA.
struct GqaWithAllHeadsIsMha : OpRewritePattern<GqaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GqaOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getNumKvHeads() != op.getNumHeads())
      return rewriter.notifyMatchFailure(op, "has grouped key/value heads");
    rewriter.replaceOpWithNewOp<MhaOp>(
        op, op.getType(), op.getX(), op.getWq(), op.getWk(), op.getWv(),
        op.getWo(), Value(), Value(), Value(), Value(), op.getNumHeadsAttr(),
        op.getCausalAttr(), op.getScaleAttr(), op.getRopeAttr());
    return success();
  }
};

} // namespace

void GqaOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *context) {
  results.add<GqaWithAllHeadsIsMha>(context);
}
