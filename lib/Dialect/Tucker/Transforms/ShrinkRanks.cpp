//===- ShrinkRanks.cpp - Dense ranks larger than their modes --------------===//
//
// --tucker-shrink-ranks: a dense-core rank larger than its mode's size
// carries no information; the factor is absorbed into the core (computed
// with linalg) and the mode takes the identity. A transform, not a
// canonicalization: it builds products, and the dialect's IR library
// depends on no transform.
//
//===----------------------------------------------------------------------===//

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"
#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERSHRINKRANKSPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;

namespace {

/// The operands and ranks of a dense tucker.attention being rewritten.
struct DenseParts {
  Value u1, u2, u3, core, u1Out, u2Out, u3Out, coreOut;
  SmallVector<int64_t> pre, post;

  explicit DenseParts(AttentionOp op)
      : u1(op.getU1()), u2(op.getU2()), u3(op.getU3()), core(op.getCore()),
        u1Out(op.getU1Out()), u2Out(op.getU2Out()), u3Out(op.getU3Out()),
        coreOut(op.getCoreOut()), pre(op.getRanks().getPre()),
        post(op.getRanks().getPost()) {}

  void replace(AttentionOp op, PatternRewriter &rewriter) const {
    auto ranks = RanksAttr::get(op.getContext(), pre, post);
    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, op.getType(), op.getX(), u1, u2, u3, core, u1Out, u2Out, u3Out,
        coreOut, op.getQueryBias(), op.getOutBias(), ranks,
        op.getSelectorAttr(), op.getQueryNormAttr(), op.getKeyNormAttr(),
        op.getValueNormAttr(), op.getCausalAttr(), op.getScaleAttr(),
        op.getRopeAttr());
  }
};

/// A dense-core rank larger than its mode's size carries no information:
/// absorb the factor into the core and use the identity, e.g. r2 > d gives
/// 𝒞'_a = U2·𝒞_a and U2' = I_d. Modes followed by a bias, a norm or a rope
/// keep their factor, since those act on the latent.
struct ShrinkOversizedRanks : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getCore())
      return rewriter.notifyMatchFailure(op, "selector cores have no ranks "
                                             "to shrink");
    TuckerDims dims = op.getDims();
    Location loc = op.getLoc();
    Type type = op.getX().getType().getElementType();
    DenseParts parts(op);
    auto identity = [&](int64_t n) {
      return buildIdentity(rewriter, loc, n, type);
    };
    if (dims.r1 > dims.numHeads) {
      parts.core = buildEinsum(rewriter, loc, "ia,ars->irs",
                               {parts.u1, parts.core}, type);
      parts.u1 = identity(dims.numHeads);
      parts.pre[0] = dims.numHeads;
    } else if (dims.r2 > dims.model && !op.getQueryBias() &&
               !op.getQueryNorm()) {
      parts.core = buildEinsum(rewriter, loc, "kr,ars->aks",
                               {parts.u2, parts.core}, type);
      parts.u2 = identity(dims.model);
      parts.pre[1] = dims.model;
    } else if (dims.r3 > dims.model && !op.getKeyNorm() && !op.getRope()) {
      parts.core = buildEinsum(rewriter, loc, "ars,ks->ark",
                               {parts.core, parts.u3}, type);
      parts.u3 = identity(dims.model);
      parts.pre[2] = dims.model;
    } else if (dims.r1Out > dims.numHeads) {
      parts.coreOut = buildEinsum(rewriter, loc, "ia,ars->irs",
                                  {parts.u1Out, parts.coreOut}, type);
      parts.u1Out = identity(dims.numHeads);
      parts.post[0] = dims.numHeads;
    } else if (dims.r2Out > dims.model) {
      parts.coreOut = buildEinsum(rewriter, loc, "dt,ats->ads",
                                  {parts.u2Out, parts.coreOut}, type);
      parts.u2Out = identity(dims.model);
      parts.post[1] = dims.model;
    } else if (dims.r3Out > dims.model && !op.getValueNorm()) {
      parts.coreOut = buildEinsum(rewriter, loc, "ats,ks->atk",
                                  {parts.coreOut, parts.u3Out}, type);
      parts.u3Out = identity(dims.model);
      parts.post[2] = dims.model;
    } else {
      return rewriter.notifyMatchFailure(op, "no rank exceeds its mode");
    }
    parts.replace(op, rewriter);
    return success();
  }
};

struct TuckerShrinkRanksPass
    : tucker::impl::TuckerShrinkRanksPassBase<TuckerShrinkRanksPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateShrinkRanksPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::tucker::populateShrinkRanksPatterns(RewritePatternSet &patterns) {
  patterns.add<ShrinkOversizedRanks>(patterns.getContext());
}
