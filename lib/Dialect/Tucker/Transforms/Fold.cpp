//===- Fold.cpp - tucker.attention to projections + tucker.flash ----------===//
//
// Executes the Tucker form (DESIGN.md §1 "Execution form"): latent
// projections as linalg contractions, one tucker.flash, and the output fold.
// Selector cores run as MHA/GQA heads; dense cores as latent MQA.
//
//===----------------------------------------------------------------------===//

#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERFOLDPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;

namespace {

/// The latent rope of a selector core as the rope of each head of
/// `headDim`: every head must see the same rotated blocks.
FailureOr<RopeAttr> ropePerHead(RopeAttr rope, int64_t headDim,
                                int64_t blocks, std::string &why) {
  if (!rope)
    return rope;
  SmallVector<SmallVector<int64_t>> starts(blocks);
  for (int64_t b = 0; b < rope.getRepeat(); ++b) {
    int64_t start = rope.getOffset() + b * rope.getStrideOrWidth();
    int64_t head = start / headDim, inHead = start % headDim;
    if (inHead + rope.getWidth() > headDim) {
      why = "rope block at dim " + std::to_string(start) +
            " straddles two heads of " + std::to_string(headDim);
      return failure();
    }
    starts[head].push_back(inHead);
  }
  if (llvm::any_of(starts, [&](auto &s) { return s != starts.front(); })) {
    why = "rope does not rotate every head of " + std::to_string(headDim) +
          " dims the same way";
    return failure();
  }
  ArrayRef<int64_t> first = starts.front();
  std::optional<int64_t> stride;
  if (first.size() > 1 && first[1] - first[0] != rope.getWidth())
    stride = first[1] - first[0];
  return RopeAttr::get(rope.getContext(), rope.getTheta(), rope.getWidth(),
                       first.front(), first.size(), stride, rope.getStyle());
}

/// How a selector core runs.
enum class SelectorForm {
  /// MHA/GQA heads of head_dim over the stacked projections.
  Heads,
  /// Heads as well, each reading its own copy of its key/value block: the
  /// groups are not consecutive equal groups of query heads.
  RegroupedHeads,
  /// As a dense core (latent MQA): the head factors mix heads or are not
  /// known to be identities, the rope differs between key blocks, or the
  /// heads would need regrouping under a key or value norm.
  Dense,
};

/// Whether selector groups are consecutive equal groups of query heads
/// (head i reads key block i / (heads / key blocks)), as GQA's.
bool isGrouped(SelectorAttr selector) {
  ArrayRef<int64_t> groups = selector.getGroups();
  int64_t heads = groups.size(), kvHeads = selector.getNumKvBlocks();
  if (heads % kvHeads != 0)
    return false;
  for (int64_t h = 0; h < heads; ++h)
    if (groups[h] != h / (heads / kvHeads))
      return false;
  return true;
}

SelectorForm selectorForm(AttentionOp op) {
  SelectorAttr selector = op.getSelectorAttr();
  std::string unused;
  if (!isIdentityMatrix(op.getU1()) || !isIdentityMatrix(op.getU1Out()) ||
      failed(ropePerHead(op.getRopeAttr(), selector.getHeadDim(),
                         selector.getNumKvBlocks(), unused)))
    return SelectorForm::Dense;
  if (isGrouped(selector))
    return SelectorForm::Heads;
  // An RMS norm over the first latent dims must see the blocks in order.
  if (op.getKeyNormAttr() || op.getValueNormAttr())
    return SelectorForm::Dense;
  return SelectorForm::RegroupedHeads;
}

/// Why `op` cannot be folded with the given forms, or nothing.
std::optional<std::string> whyNotFoldable(AttentionOp op, FoldForm queryForm) {
  if (op.getSelectorAttr() && selectorForm(op) != SelectorForm::Dense)
    return std::nullopt;
  if (queryForm == FoldForm::Absorbed &&
      (op.getQueryBias() || op.getQueryNorm()))
    return std::string("the absorbed query form x·(U2·G_i) cannot apply a "
                       "query bias or query norm between U2 and the core");
  return std::nullopt;
}

/// The selector's core (`pre`) or core_out as a dense tensor
/// `[r1, r1·w, K·w]` (w: head_dim or value_dim): slice j has ones at
/// (j·w + t, g_j·w + t), t < w.
Value buildSelectorCore(OpBuilder &b, Location loc, SelectorAttr selector,
                        bool pre, Type elementType) {
  ArrayRef<int64_t> groups = selector.getGroups();
  int64_t heads = groups.size();
  int64_t width = pre ? selector.getHeadDim() : selector.getValueDimOrHeadDim();
  auto groupsType = RankedTensorType::get({heads}, b.getI64Type());
  Value groupsValue = arith::ConstantOp::create(
      b, loc, DenseIntElementsAttr::get(groupsType, groups));
  Value init = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<int64_t>{heads, heads * width,
                        selector.getNumKvBlocks() * width},
      elementType);
  MLIRContext *ctx = b.getContext();
  AffineMap perSlice = AffineMap::get(3, 0, {getAffineDimExpr(0, ctx)}, ctx);
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), groupsValue, init,
             ArrayRef<AffineMap>{perSlice, b.getMultiDimIdentityMap(3)},
             iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value j = linalg::IndexOp::create(nb, nl, 0);
               Value row = linalg::IndexOp::create(nb, nl, 1);
               Value col = linalg::IndexOp::create(nb, nl, 2);
               Value w = arith::ConstantIndexOp::create(nb, nl, width);
               Value g = arith::IndexCastOp::create(nb, nl, nb.getIndexType(),
                                                    args[0]);
               // Row j·w + t of slice j meets column g_j·w + t.
               Value inSlice = arith::CmpIOp::create(
                   nb, nl, arith::CmpIPredicate::eq,
                   arith::DivUIOp::create(nb, nl, row, w), j);
               Value shift = arith::MulIOp::create(
                   nb, nl, arith::SubIOp::create(nb, nl, g, j), w);
               Value onDiagonal = arith::CmpIOp::create(
                   nb, nl, arith::CmpIPredicate::eq, col,
                   arith::AddIOp::create(nb, nl, row, shift));
               Value one = arith::ConstantOp::create(
                   nb, nl, nb.getFloatAttr(elementType, 1.0));
               Value zero = arith::ConstantOp::create(
                   nb, nl, nb.getFloatAttr(elementType, 0.0));
               Value hit = arith::AndIOp::create(nb, nl, inSlice, onDiagonal);
               linalg::YieldOp::create(
                   nb, nl,
                   arith::SelectOp::create(nb, nl, hit, one, zero).getResult());
             })
      .getResult(0);
}

/// `factor` [d, K·w] with its column blocks of width w gathered by `groups`:
/// [d, H·w], block h is block groups[h].
Value gatherBlocks(OpBuilder &b, Location loc, Value factor,
                   ArrayRef<int64_t> groups, int64_t width) {
  llvm::SmallDenseMap<int64_t, Value> slices;
  SmallVector<Value> blocks;
  for (int64_t g : groups) {
    Value &slice = slices[g];
    if (!slice)
      slice = buildSliceLastDim(b, loc, factor, g * width, width);
    blocks.push_back(slice);
  }
  return tensor::ConcatOp::create(b, loc, /*dim=*/1, blocks);
}

/// `x·w` for x [B, N, d] and w [d, r], then the optional bias and norm.
Value project(OpBuilder &b, Location loc, Value x, Value w, Value bias,
              RmsNormAttr norm) {
  Type elementType = cast<ShapedType>(x.getType()).getElementType();
  Value y = isIdentityMatrix(w)
                ? x
                : buildEinsum(b, loc, "bnk,kj->bnj", {x, w}, elementType);
  if (bias)
    y = buildAddBias(b, loc, y, bias);
  if (norm)
    y = buildRmsNormPrefix(b, loc, y, norm.getEpsilon().convertToDouble(),
                           norm.getWidth());
  return y;
}

/// `[B, N, H·w] -> [B, H, N, w]`.
Value toHeads(OpBuilder &b, Location loc, Value v, int64_t width) {
  return buildTranspose(b, loc, buildSplitLastDim(b, loc, v, width),
                        {0, 2, 1, 3});
}

/// Whether the value latent is the first columns of the key latent, with
/// norms that agree, so that `v = k[..., :r̃3]` (one cached latent).
bool sharesKeyLatent(AttentionOp op) {
  Value u3 = op.getU3(), u3Out = op.getU3Out();
  if (u3 != u3Out) {
    auto slice = u3Out.getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || slice.getSource() != u3 || !slice.hasUnitStride() ||
        !slice.hasZeroOffset())
      return false;
  }
  RmsNormAttr keyNorm = op.getKeyNormAttr(), valueNorm = op.getValueNormAttr();
  if (!keyNorm || !valueNorm)
    return !keyNorm && !valueNorm;
  return keyNorm == valueNorm &&
         keyNorm.getWidth() <= op.getDims().r3Out;
}

struct FoldAttention : OpRewritePattern<AttentionOp> {
  FoldAttention(MLIRContext *ctx, FoldForm queryForm, FoldForm outputForm)
      : OpRewritePattern(ctx), queryForm(queryForm), outputForm(outputForm) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (std::optional<std::string> why = whyNotFoldable(op, queryForm))
      return rewriter.notifyMatchFailure(op, *why);
    Value y;
    if (SelectorAttr selector = op.getSelectorAttr()) {
      SelectorForm form = selectorForm(op);
      if (form == SelectorForm::Dense) {
        Type elementType = op.getX().getType().getElementType();
        Value core = buildSelectorCore(rewriter, op.getLoc(), selector,
                                       /*pre=*/true, elementType);
        Value coreOut = buildSelectorCore(rewriter, op.getLoc(), selector,
                                          /*pre=*/false, elementType);
        y = foldDense(op, rewriter, core, coreOut);
      } else {
        y = foldSelector(op, rewriter, form == SelectorForm::RegroupedHeads);
      }
    } else {
      y = foldDense(op, rewriter, op.getCore(), op.getCoreOut());
    }
    if (Value bias = op.getOutBias())
      y = buildAddBias(rewriter, op.getLoc(), y, bias);
    rewriter.replaceOp(op, y);
    return success();
  }

private:
  Value flash(AttentionOp op, PatternRewriter &rewriter, Value q, Value k,
              Value v, RopeAttr rope) const {
    auto qType = cast<RankedTensorType>(q.getType());
    auto vType = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(qType.getShape());
    shape.back() = vType.getShape().back();
    return FlashOp::create(rewriter, op.getLoc(),
                           RankedTensorType::get(shape, qType.getElementType()),
                           /*lse=*/Type(), q, k, v, /*lengths=*/Value(),
                           op.getCausal(),
                           rewriter.getF64FloatAttr(op.getEffectiveScale()),
                           rope, /*schedule=*/nullptr)
        .getResult();
  }

  /// MHA/GQA: heads of width head_dim over the stacked projections; with
  /// `regroup`, key and value blocks copied for each query head (MHA).
  Value foldSelector(AttentionOp op, PatternRewriter &rewriter,
                     bool regroup) const {
    Location loc = op.getLoc();
    SelectorAttr selector = op.getSelectorAttr();
    int64_t headDim = selector.getHeadDim();
    int64_t valueDim = selector.getValueDimOrHeadDim();
    Value x = op.getX();
    Type elementType = op.getX().getType().getElementType();
    Value u3 = op.getU3(), u3Out = op.getU3Out();
    if (regroup) {
      u3 = gatherBlocks(rewriter, loc, u3, selector.getGroups(), headDim);
      u3Out =
          gatherBlocks(rewriter, loc, u3Out, selector.getGroups(), valueDim);
    }
    Value q = project(rewriter, loc, x, op.getU2(), op.getQueryBias(),
                      op.getQueryNormAttr());
    Value k = project(rewriter, loc, x, u3, {}, op.getKeyNormAttr());
    Value v = project(rewriter, loc, x, u3Out, {}, op.getValueNormAttr());
    std::string unused;
    RopeAttr rope = *ropePerHead(op.getRopeAttr(), headDim,
                                 selector.getNumKvBlocks(), unused);
    // Built one by one: argument evaluation order would scramble the IR.
    Value qHeads = toHeads(rewriter, loc, q, headDim);
    Value kHeads = toHeads(rewriter, loc, k, headDim);
    Value vHeads = toHeads(rewriter, loc, v, valueDim);
    Value o = flash(op, rewriter, qHeads, kHeads, vHeads, rope);
    Value merged = buildMergeLastDims(
        rewriter, loc, buildTranspose(rewriter, loc, o, {0, 2, 1, 3}));
    return buildEinsum(rewriter, loc, "bnj,dj->bnd", {merged, op.getU2Out()},
                       elementType);
  }

  /// Dense cores: latent MQA with one key/value head of widths r3 and r̃3.
  Value foldDense(AttentionOp op, PatternRewriter &rewriter, Value opCore,
                  Value opCoreOut) const {
    Location loc = op.getLoc();
    TuckerDims dims = op.getDims();
    Value x = op.getX();
    Type elementType = op.getX().getType().getElementType();
    bool u2Identity = isIdentityMatrix(op.getU2());
    bool u2OutIdentity = isIdentityMatrix(op.getU2Out());

    // Head cores G_i = Σ_a U1[i,a]·𝒞_a and G̃_i.
    Value core = isIdentityMatrix(op.getU1())
                     ? opCore
                     : buildEinsum(rewriter, loc, "ia,ars->irs",
                                   {op.getU1(), opCore}, elementType);
    Value coreOut = isIdentityMatrix(op.getU1Out())
                        ? opCoreOut
                        : buildEinsum(rewriter, loc, "ia,ars->irs",
                                      {op.getU1Out(), opCoreOut}, elementType);

    // Queries: (x·U2)·G_i or x·(U2·G_i), whichever costs fewer FLOPs per
    // token: (d·r2 + H·r2·r3) against d·H·r3.
    int64_t twoStepQ = (u2Identity ? 0 : dims.model * dims.r2) +
                       dims.numHeads * dims.r2 * dims.r3;
    int64_t absorbedQ = dims.model * dims.numHeads * dims.r3;
    bool canAbsorbQ = !op.getQueryBias() && !op.getQueryNorm();
    bool absorbQ =
        queryForm == FoldForm::Absorbed ||
        (queryForm == FoldForm::Auto && canAbsorbQ && absorbedQ < twoStepQ);
    Value q;
    if (absorbQ) {
      Value w = buildEinsum(rewriter, loc, "kr,irs->iks", {op.getU2(), core},
                            elementType);
      q = buildEinsum(rewriter, loc, "bnk,iks->bins", {x, w}, elementType);
    } else {
      Value qt = project(rewriter, loc, x, op.getU2(), op.getQueryBias(),
                         op.getQueryNormAttr());
      q = buildEinsum(rewriter, loc, "bnr,irs->bins", {qt, core}, elementType);
    }

    // One shared key (and value) head.
    Value k = project(rewriter, loc, x, op.getU3(), {}, op.getKeyNormAttr());
    Value v = sharesKeyLatent(op)
                  ? buildSliceLastDim(rewriter, loc, k, 0, dims.r3Out)
                  : project(rewriter, loc, x, op.getU3Out(), {},
                            op.getValueNormAttr());
    Value kHead = buildInsertUnitDim1(rewriter, loc, k);
    Value vHead = buildInsertUnitDim1(rewriter, loc, v);
    Value o = flash(op, rewriter, q, kHead, vHead, op.getRopeAttr());

    // Output: Σ_i Ũ2·(G̃_i·o_i), two-step (H·r̃3·r̃2 + r̃2·d) or absorbed
    // (H·r̃3·d) per token.
    int64_t twoStepO = dims.numHeads * dims.r3Out * dims.r2Out +
                       (u2OutIdentity ? 0 : dims.r2Out * dims.model);
    int64_t absorbedO = dims.numHeads * dims.r3Out * dims.model;
    bool absorbO = outputForm == FoldForm::Absorbed ||
                   (outputForm == FoldForm::Auto && absorbedO < twoStepO);
    if (absorbO) {
      Value w = buildEinsum(rewriter, loc, "dt,its->ids",
                            {op.getU2Out(), coreOut}, elementType);
      return buildEinsum(rewriter, loc, "bins,ids->bnd", {o, w}, elementType);
    }
    Value z =
        buildEinsum(rewriter, loc, "bins,its->bnt", {o, coreOut}, elementType);
    if (u2OutIdentity)
      return z;
    return buildEinsum(rewriter, loc, "bnt,dt->bnd", {z, op.getU2Out()},
                       elementType);
  }

  FoldForm queryForm, outputForm;
};

struct TuckerFoldPass : tucker::impl::TuckerFoldPassBase<TuckerFoldPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldAttention>(&getContext(), queryForm, outputForm);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      std::optional<std::string> why = whyNotFoldable(op, queryForm);
      op.emitOpError() << "cannot be folded: "
                       << why.value_or("no fold pattern applied");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::tucker::populateFoldPatterns(RewritePatternSet &patterns,
                                        FoldForm queryForm,
                                        FoldForm outputForm) {
  patterns.add<FoldAttention>(patterns.getContext(), queryForm, outputForm);
}
