//===- Lift.cpp - mha/gqa/mla to tucker.attention -------------------------===//
//
// The exact Tucker forms of DESIGN.md §1: selector cores for MHA/GQA/MQA and
// dense cores with a shared latent value for DeepSeek MLA.
//
//===----------------------------------------------------------------------===//

#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERLIFTPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;

namespace {

/// The per-head rope of MHA/GQA as one descriptor on the stacked key latent
/// of `blocks` heads of `headDim`: the same rotation on every key block.
FailureOr<RopeAttr> ropeOverKeyBlocks(RopeAttr rope, int64_t headDim,
                                      int64_t blocks, std::string &why) {
  if (!rope || blocks == 1)
    return rope;
  MLIRContext *ctx = rope.getContext();
  if (rope.getRepeat() == 1)
    return RopeAttr::get(
        ctx, rope.getTheta(), rope.getWidth(), rope.getOffset(), blocks,
        headDim == rope.getWidth() ? std::nullopt
                                   : std::optional<int64_t>(headDim),
        rope.getStyle());
  if (rope.getStrideOrWidth() * rope.getRepeat() == headDim)
    return RopeAttr::get(ctx, rope.getTheta(), rope.getWidth(),
                         rope.getOffset(), rope.getRepeat() * blocks,
                         rope.getStride(), rope.getStyle());
  why = "its rotated blocks are not evenly spaced across heads of " +
        std::to_string(headDim) +
        " dims, so repeated over the key heads they are no single rope";
  return failure();
}

/// Why a multi-head op cannot be lifted, or nothing.
template <typename OpTy> std::optional<std::string> whyNotLiftable(OpTy op) {
  MultiHeadDims dims = op.getDims();
  std::string why;
  if (failed(ropeOverKeyBlocks(op.getRopeAttr(), dims.headDim,
                               dims.numKvHeads, why)))
    return "cannot lift the rope: " + why;
  return std::nullopt;
}

/// Builds the selector-form tucker.attention of an MHA/GQA op.
template <typename OpTy>
LogicalResult liftMultiHead(OpTy op, Value bq, Value bv, Value bo,
                            Value bk, PatternRewriter &rewriter) {
  if (std::optional<std::string> why = whyNotLiftable(op))
    return rewriter.notifyMatchFailure(op, *why);
  MultiHeadDims dims = op.getDims();
  Location loc = op.getLoc();
  Type elementType = op.getX().getType().getElementType();
  int64_t heads = dims.numHeads, kvHeads = dims.numKvHeads;

  Value eye = buildIdentity(rewriter, loc, heads, elementType);
  Value x = op.getX(), wq = op.getWq(), wk = op.getWk(), wv = op.getWv();
  Value woT = buildTranspose(rewriter, loc, op.getWo(), {1, 0});
  // A key bias cancels in the softmax (constant per query row) unless the
  // keys are rotated: then it is kept exactly as the weight row of a
  // constant input feature 1, x' = [x, 1] and U3 = [wk; bk]; the other
  // factors get a zero row and the output's extra column is dropped.
  bool keepKeyBias = bk && op.getRopeAttr() && !isZeroConstant(bk);
  if (keepKeyBias) {
    x = buildAppend(rewriter, loc, x, /*dim=*/2, /*fill=*/1.0);
    wq = buildAppend(rewriter, loc, wq, /*dim=*/0, 0.0);
    wk = buildAppend(rewriter, loc, wk, /*dim=*/0, 0.0, bk);
    wv = buildAppend(rewriter, loc, wv, /*dim=*/0, 0.0);
    woT = buildAppend(rewriter, loc, woT, /*dim=*/0, 0.0);
  }
  // In self-attention every query sees a key, so the softmax weights sum to
  // one and the value bias passes through to the output: bv·wo + bo.
  Value outBias = bo;
  if (bv) {
    Value folded = buildEinsum(rewriter, loc, "k,kd->d", {bv, op.getWo()},
                               elementType);
    outBias = bo ? buildAddBias(rewriter, loc, folded, bo) : folded;
  }

  SmallVector<int64_t> groups;
  for (int64_t h = 0; h < heads; ++h)
    groups.push_back(h / (heads / kvHeads));
  MLIRContext *ctx = rewriter.getContext();
  auto selector = SelectorAttr::get(
      ctx, dims.headDim,
      dims.valueDim == dims.headDim ? std::nullopt
                                    : std::optional<int64_t>(dims.valueDim),
      groups);
  auto ranks = RanksAttr::get(
      ctx, {heads, heads * dims.headDim, kvHeads * dims.headDim},
      {heads, heads * dims.valueDim, kvHeads * dims.valueDim});
  std::string unused;
  RopeAttr rope = *ropeOverKeyBlocks(op.getRopeAttr(), dims.headDim, kvHeads,
                                     unused);

  auto attention = AttentionOp::create(
      rewriter, loc, cast<RankedTensorType>(x.getType()), x, eye, wq, wk,
      /*core=*/Value(), eye, woT, wv, /*core_out=*/Value(), bq,
      keepKeyBias ? Value() : outBias, ranks, selector,
      /*query_norm=*/nullptr, /*key_norm=*/nullptr,
      /*value_norm=*/nullptr, op.getCausal(),
      rewriter.getF64FloatAttr(op.getEffectiveScale()), rope);
  Value y = attention.getResult();
  if (keepKeyBias) {
    y = buildSliceLastDim(rewriter, loc, y, 0, dims.model);
    if (outBias)
      y = buildAddBias(rewriter, loc, y, outBias);
  }
  rewriter.replaceOp(op, y);
  return success();
}

struct LiftMha : OpRewritePattern<MhaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MhaOp op,
                                PatternRewriter &rewriter) const override {
    return liftMultiHead(op, op.getBq(), op.getBv(), op.getBo(), op.getBk(),
                         rewriter);
  }
};

struct LiftGqa : OpRewritePattern<GqaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GqaOp op,
                                PatternRewriter &rewriter) const override {
    return liftMultiHead(op, Value(), Value(), Value(), Value(), rewriter);
  }
};

/// Inserts `part` into `into` at `offset` of the last dim.
Value insertLastDim(OpBuilder &b, Location loc, Value part, Value into,
                    int64_t offset) {
  auto type = cast<RankedTensorType>(part.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  offsets.back() = b.getIndexAttr(offset);
  SmallVector<OpFoldResult> sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t dim : type.getShape())
    sizes.push_back(b.getIndexAttr(dim));
  return tensor::InsertSliceOp::create(b, loc, part, into, offsets, sizes,
                                       strides);
}

/// DeepSeek MLA as dense-core Tucker attention (see reference.mla_to_tucker):
/// U2 = wq_a (or I), U3 = wkv_a = [W_DKV | W_KR], Ũ3 = W_DKV, Ũ2 = I,
/// core_i = diag(q_norm)·[W_UQ_i·W_UK_iᵀ·diag(kv_norm) | W_QR_i],
/// core_out_i = (diag(kv_norm)·W_UV_i·W_O_i)ᵀ.
struct LiftMla : OpRewritePattern<MlaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MlaOp op,
                                PatternRewriter &rewriter) const override {
    MlaDims dims = op.getDims();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type elementType = op.getX().getType().getElementType();
    int64_t heads = dims.numHeads, kvl = dims.kvLoraRank;
    int64_t nope = dims.nopeDim, ropeDim = dims.ropeDim, vd = dims.valueDim;
    int64_t qIn = dims.qLoraRank.value_or(dims.model);
    double eps = op.getNormEpsilon().convertToDouble();

    // Per-head blocks of the packed projections: [in, H, part].
    Value wqB = buildSplitLastDim(rewriter, loc, op.getWqB(), nope + ropeDim);
    Value wkvB = buildSplitLastDim(rewriter, loc, op.getWkvB(), nope + vd);
    Value wUq = buildSliceLastDim(rewriter, loc, wqB, 0, nope);
    Value wQr = buildSliceLastDim(rewriter, loc, wqB, nope, ropeDim);
    Value wUk = buildSliceLastDim(rewriter, loc, wkvB, 0, nope);
    Value wUv = buildSliceLastDim(rewriter, loc, wkvB, nope, vd);
    Value kvNorm = op.getKvNorm();
    Value qNorm = op.getQNorm();

    Value core = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{heads, qIn, kvl + ropeDim},
        elementType);
    if (nope > 0) {
      Value absorbed =
          qNorm ? buildEinsum(rewriter, loc, "a,ahn,c,chn->hac",
                              {qNorm, wUq, kvNorm, wUk}, elementType)
                : buildEinsum(rewriter, loc, "ahn,c,chn->hac",
                              {wUq, kvNorm, wUk}, elementType);
      core = insertLastDim(rewriter, loc, absorbed, core, 0);
    } else {
      Value zero = arith::ConstantOp::create(
          rewriter, loc, rewriter.getFloatAttr(elementType, 0.0));
      core = linalg::FillOp::create(rewriter, loc, zero, core).getResult(0);
    }
    if (ropeDim > 0) {
      Value decoupled =
          qNorm ? buildEinsum(rewriter, loc, "a,ahr->har", {qNorm, wQr},
                              elementType)
                : buildTranspose(rewriter, loc, wQr, {1, 0, 2});
      core = insertLastDim(rewriter, loc, decoupled, core, kvl);
    }
    Value wo = buildSplitLastDim(
        rewriter, loc, buildTranspose(rewriter, loc, op.getWo(), {1, 0}), vd);
    Value coreOut = buildEinsum(rewriter, loc, "c,chj,thj->htc",
                                {kvNorm, wUv, wo}, elementType);

    Value eyeHeads = buildIdentity(rewriter, loc, heads, elementType);
    Value eyeModel = buildIdentity(rewriter, loc, dims.model, elementType);
    Value u2 = op.getWqA() ? op.getWqA() : eyeModel;
    Value u3Out = buildSliceLastDim(rewriter, loc, op.getWkvA(), 0, kvl);

    RopeAttr rope = op.getRopeAttr();
    if (rope)
      rope = RopeAttr::get(ctx, rope.getTheta(), rope.getWidth(),
                           rope.getOffset() - nope + kvl, rope.getRepeat(),
                           rope.getStride(), rope.getStyle());
    auto norm = [&](int64_t width) { return RmsNormAttr::get(ctx, APFloat(eps), width); };
    auto ranks = RanksAttr::get(ctx, {heads, qIn, kvl + ropeDim},
                                {heads, dims.model, kvl});
    auto attention = AttentionOp::create(
        rewriter, loc, op.getType(), op.getX(), eyeHeads, u2, op.getWkvA(),
        core, eyeHeads, eyeModel, u3Out, coreOut, /*query_bias=*/Value(),
        /*out_bias=*/Value(), ranks, /*selector=*/nullptr,
        op.getWqA() ? norm(qIn) : nullptr, norm(kvl), norm(kvl),
        op.getCausal(), rewriter.getF64FloatAttr(op.getEffectiveScale()),
        rope);
    rewriter.replaceOp(op, attention.getResult());
    return success();
  }
};

struct TuckerLiftPass : tucker::impl::TuckerLiftPassBase<TuckerLiftPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLiftPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // What is left could not be lifted: say why.
    WalkResult result = getOperation()->walk([](Operation *op) {
      std::optional<std::string> why;
      if (auto mha = dyn_cast<MhaOp>(op))
        why = whyNotLiftable(mha);
      else if (auto gqa = dyn_cast<GqaOp>(op))
        why = whyNotLiftable(gqa);
      else if (isa<MlaOp>(op))
        why = "was not lifted";
      else
        return WalkResult::advance();
      op->emitOpError() << *why;
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::tucker::populateLiftPatterns(RewritePatternSet &patterns) {
  patterns.add<LiftMha, LiftGqa, LiftMla>(patterns.getContext());
}
