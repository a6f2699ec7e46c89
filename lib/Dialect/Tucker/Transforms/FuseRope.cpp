//===- FuseRope.cpp - tucker.rope producers into tucker.flash -------------===//

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERFUSEROPEPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;

namespace {

/// flash(rope(q), rope(k), v) -> flash(q, k, v) {rope}. The flash rotates
/// queries at positions m + L − Nq (L = Nk without lengths), which are the
/// rope op's default positions 0..N−1 only when Nq = Nk and no lengths
/// operand makes L vary per sequence.
struct FuseRopeIntoFlash : OpRewritePattern<FlashOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FlashOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getRopeAttr())
      return rewriter.notifyMatchFailure(op, "already has a rope");
    auto qRope = op.getQ().getDefiningOp<RopeOp>();
    auto kRope = op.getK().getDefiningOp<RopeOp>();
    if (!qRope || !kRope)
      return rewriter.notifyMatchFailure(
          op, "queries and keys are not both produced by tucker.rope");
    if (qRope.getRope() != kRope.getRope())
      return rewriter.notifyMatchFailure(
          op, "queries and keys are rotated by different ropes");
    if (op.getLengths())
      return rewriter.notifyMatchFailure(
          op, "with lengths the flash rotates query m at m + lengths[b] − Nq, "
              "not at the rope op's position m");
    if (qRope.getPositions() || kRope.getPositions())
      return rewriter.notifyMatchFailure(
          op, "explicit rope positions cannot be expressed by the flash");
    int64_t nq = op.getQ().getType().getDimSize(2);
    int64_t nk = op.getK().getType().getDimSize(2);
    if (ShapedType::isDynamic(nq) || nq != nk)
      return rewriter.notifyMatchFailure(
          op, "query and key lengths are not statically equal, so query "
              "positions would shift");
    rewriter.replaceOpWithNewOp<FlashOp>(
        op, op.getResult().getType(),
        op.getLse() ? op.getLse().getType() : Type(), qRope.getX(),
        kRope.getX(), op.getV(), op.getLengths(), op.getCausalAttr(),
        op.getScaleAttr(), qRope.getRope(), op.getScheduleAttr());
    return success();
  }
};

struct TuckerFuseRopePass
    : tucker::impl::TuckerFuseRopePassBase<TuckerFuseRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseRopePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::tucker::populateFuseRopePatterns(RewritePatternSet &patterns) {
  patterns.add<FuseRopeIntoFlash>(patterns.getContext());
}
