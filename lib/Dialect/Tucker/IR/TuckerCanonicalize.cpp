//===- TuckerCanonicalize.cpp - Tucker canonicalization patterns ----------===//

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"

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

} // namespace

void GqaOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *context) {
  results.add<GqaWithAllHeadsIsMha>(context);
}

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ShrinkOversizedRanks>(context);
}
