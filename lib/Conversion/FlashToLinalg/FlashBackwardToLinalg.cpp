//===- FlashBackwardToLinalg.cpp - tucker.flash_backward to linalg --------===//
//
// The flash-attention backward on tensors: no Nq×Nk matrix is kept. The
// probabilities are recomputed per tile from the forward's log-sum-exp,
// P = exp2(S·c − lse·log2 e) with c = scale·log2 e, and
//
//   D    = rowsum(dO ∘ O)                  once, [B, Hkv, G, Nq]
//   dV_j += Pᵀ·dO_i                         summed over the group's heads
//   dS   = P ∘ (dO_i·V_jᵀ − D_i)
//   dQ_i += dS·K_j,  dK_j += dSᵀ·Q_i        (times scale once, at the end)
//
// The outer loop runs over key tiles j (dK_j and dV_j stay in f32 tiles
// while the inner loop runs over the query tiles i that see them; dQ is one
// f32 accumulator carried through both loops), as the flash backward of
// FlashAttention-2 orders its work. Query heads are [B, Hkv, G] as in the
// forward lowering, so the sums over a group are reductions of the same
// linalg ops.
//
// Masks: with `causal` or `lengths` every tile is masked with the forward's
// rule; a hidden key gets P = 0, and its products are skipped rather than
// multiplied by 0 (a cache past L_b may hold NaN or Inf), so hidden keys
// get zero gradients and add nothing to dQ. Under rope, q and k are rotated
// before the products and the rotation is undone on dQ and dK.
//
//===----------------------------------------------------------------------===//

#include "FlashLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_linalg;

namespace {

constexpr auto kParallel = utils::IteratorType::parallel;
constexpr auto kReduction = utils::IteratorType::reduction;

/// The gradients carried through the loops, all f32: dQ [B, Hkv, G, Nq, D]
/// and dK, dV ([B, Hkv, Nk, D] outside the query loop, one key tile inside).
struct Gradients {
  Value dq, dk, dv;
};

class FlashBackward : FlashLoweringBase {
public:
  FlashBackward(PatternRewriter &b, FlashBackwardOp op,
                const FlashProblem &problem, int64_t queryTile, int64_t keyTile)
      : FlashLoweringBase(b, op, problem, queryTile, keyTile), op(op) {}

  /// dq, dk, dv.
  SmallVector<Value> build();

private:
  /// The query tiles that see the key tile at `keyStart`, accumulating its
  /// dK and dV and the whole dQ.
  Gradients keyStep(Value keyStart, Gradients grads);
  /// One query tile at `queryStart` against the key tile at `keyStart`.
  Gradients queryStep(Value queryStart, Value keyStart, Value kTile,
                      Value vTile, OpFoldResult cols, Gradients grads);
  /// Σ over the last loop of `lhs`·`rhs` into `acc` (a linalg.generic with
  /// `maps` of lhs, rhs and acc over loops whose last `reductions` reduce);
  /// with `skipZeroLhs`, a zero lhs adds nothing (its rhs may be NaN).
  Value contract(Value lhs, Value rhs, Value acc, ArrayRef<AffineMap> maps,
                 unsigned reductions, bool skipZeroLhs);
  /// f32 `grad` times `factor`, rotated back by rope at `positions` when
  /// `unrotate`, as `type`.
  Value finish(Value grad, double factor, bool unrotate,
               RopePositions positions, RankedTensorType type);

  bool masked() const { return problem.causal || keyCounts; }

  FlashBackwardOp op;
  // [B, Hkv, G, Nq, Dv] of out_grad; [B, Hkv, G, Nq] of lse and of D.
  Value outGrad5, lse4, delta4;
};

SmallVector<Value> FlashBackward::build() {
  AffineMap id5 = AffineMap::getMultiDimIdentityMap(5, ctx);
  AffineMap row5 = dimsMap(ctx, 5, {0, 1, 2, 3});
  SmallVector<OpFoldResult> outShape = {batch, attr(kvHeads * group), querySeq,
                                        attr(valueDim)};
  Value out5 =
      expandHeads(refine(op.getOut(), outShape), {querySeq, attr(valueDim)});
  outGrad5 = expandHeads(refine(op.getOutGrad(), outShape),
                         {querySeq, attr(valueDim)});
  lse4 =
      expandHeads(refine(op.getLse(), {batch, attr(kvHeads * group), querySeq}),
                  {querySeq});

  // D = rowsum(dO ∘ O), in f32.
  delta4 = buildGeneric(
      b, loc, ValueRange{outGrad5, out5}, filled(rowShape(querySeq), 0.0),
      {id5, id5, row5},
      {kParallel, kParallel, kParallel, kParallel, kReduction},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value prod = arith::MulFOp::create(nb, nl, toF32(nb, nl, args[0]),
                                           toF32(nb, nl, args[1]));
        linalg::YieldOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, args[2], prod).getResult());
      })[0];

  // Keys past the longest sequence are seen by no query: their gradients
  // stay 0 and the loop ends before them.
  Gradients grads{
      filled({batch, attr(kvHeads), attr(group), querySeq, attr(qkDim)}, 0.0),
      filled({batch, attr(kvHeads), keySeq, attr(qkDim)}, 0.0),
      filled({batch, attr(kvHeads), keySeq, attr(valueDim)}, 0.0)};
  auto loop = scf::ForOp::create(
      b, loc, index(0), value(mostKeys), index(keyTile),
      ValueRange{grads.dq, grads.dk, grads.dv},
      [&](OpBuilder &nb, Location nl, Value keyStart, ValueRange iterArgs) {
        assert(&nb == &b && "expected the body on the rewriter");
        Gradients next =
            keyStep(keyStart, {iterArgs[0], iterArgs[1], iterArgs[2]});
        scf::YieldOp::create(nb, nl, ValueRange{next.dq, next.dk, next.dv});
      });

  double scale = problem.scale;
  bool rotated = static_cast<bool>(problem.rope);
  auto qType = cast<RankedTensorType>(op.getQGrad().getType());
  Value dq = collapseHeads(loop.getResult(0), qType.clone(b.getF32Type()));
  dq = finish(dq, scale, rotated, queryRope, qType);
  Value dk = finish(loop.getResult(1), scale, rotated, RopePositions{},
                    cast<RankedTensorType>(op.getKGrad().getType()));
  Value dv = finish(loop.getResult(2), 1.0, /*unrotate=*/false, RopePositions{},
                    cast<RankedTensorType>(op.getVGrad().getType()));
  return {dq, dk, dv};
}

Gradients FlashBackward::keyStep(Value keyStart, Gradients grads) {
  OpFoldResult cols = tileExtent(keySeq, keyTile, keyStart);
  SmallVector<OpFoldResult> offsets(4, attr(0));
  offsets[2] = keyStart;
  SmallVector<OpFoldResult> unit(4, attr(1));
  SmallVector<OpFoldResult> kSizes = {batch, attr(kvHeads), cols, attr(qkDim)};
  SmallVector<OpFoldResult> vSizes = {batch, attr(kvHeads), cols,
                                      attr(valueDim)};
  Value kTile =
      tensor::ExtractSliceOp::create(b, loc, k, offsets, kSizes, unit);
  Value vTile =
      tensor::ExtractSliceOp::create(b, loc, v, offsets, vSizes, unit);

  // Causal: query m of sequence b sees key n iff n <= m + L_b − Nq, so the
  // queries before keyStart − max_b(L_b − Nq) see none of the tile; the
  // loop starts at the query tile that holds the first that may.
  Value lower = index(0);
  if (problem.causal) {
    Value first = arith::MaxSIOp::create(b, loc, value(sub(keyStart, mostDiag)),
                                         index(0));
    Value tile = index(queryTile);
    lower = arith::MulIOp::create(
        b, loc, arith::DivSIOp::create(b, loc, first, tile), tile);
  }
  auto loop = scf::ForOp::create(
      b, loc, lower, value(querySeq), index(queryTile),
      ValueRange{grads.dq, filled(kSizes, 0.0), filled(vSizes, 0.0)},
      [&](OpBuilder &nb, Location nl, Value queryStart, ValueRange iterArgs) {
        assert(&nb == &b && "expected the body on the rewriter");
        Gradients next = queryStep(queryStart, keyStart, kTile, vTile, cols,
                                   {iterArgs[0], iterArgs[1], iterArgs[2]});
        scf::YieldOp::create(nb, nl, ValueRange{next.dq, next.dk, next.dv});
      });
  Value dk = tensor::InsertSliceOp::create(b, loc, loop.getResult(1), grads.dk,
                                           offsets, kSizes, unit);
  Value dv = tensor::InsertSliceOp::create(b, loc, loop.getResult(2), grads.dv,
                                           offsets, vSizes, unit);
  return {loop.getResult(0), dk, dv};
}

Value FlashBackward::contract(Value lhs, Value rhs, Value acc,
                              ArrayRef<AffineMap> maps, unsigned reductions,
                              bool skipZeroLhs) {
  unsigned loops = maps.front().getNumDims();
  SmallVector<utils::IteratorType> iterators(loops - reductions, kParallel);
  iterators.append(reductions, kReduction);
  return buildGeneric(
      b, loc, ValueRange{lhs, rhs}, acc, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = toF32(nb, nl, args[0]);
        Value prod = arith::MulFOp::create(nb, nl, x, toF32(nb, nl, args[1]));
        Value sum = arith::AddFOp::create(nb, nl, args[2], prod);
        if (skipZeroLhs) {
          Value zero = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                             x, f32(0.0));
          sum = arith::SelectOp::create(nb, nl, zero, args[2], sum);
        }
        linalg::YieldOp::create(nb, nl, sum);
      })[0];
}

Gradients FlashBackward::queryStep(Value queryStart, Value keyStart,
                                   Value kTile, Value vTile, OpFoldResult cols,
                                   Gradients grads) {
  OpFoldResult rows = tileExtent(querySeq, queryTile, queryStart);
  SmallVector<OpFoldResult> offsets(5, attr(0));
  offsets[3] = queryStart;
  SmallVector<OpFoldResult> unit(5, attr(1));
  SmallVector<OpFoldResult> qSizes = rowShape(rows), dvSizes = rowShape(rows);
  qSizes.push_back(attr(qkDim));
  dvSizes.push_back(attr(valueDim));
  Value qTile =
      tensor::ExtractSliceOp::create(b, loc, q5, offsets, qSizes, unit);
  Value doTile =
      tensor::ExtractSliceOp::create(b, loc, outGrad5, offsets, dvSizes, unit);
  SmallVector<OpFoldResult> rowOffsets(offsets.begin(), offsets.end() - 1);
  SmallVector<OpFoldResult> rowUnit(4, attr(1));
  Value lseTile = tensor::ExtractSliceOp::create(b, loc, lse4, rowOffsets,
                                                 rowShape(rows), rowUnit);
  Value deltaTile = tensor::ExtractSliceOp::create(b, loc, delta4, rowOffsets,
                                                   rowShape(rows), rowUnit);

  // Loops (b, hk, g, i, j) over the score tile; a sixth for contractions.
  AffineMap tileId = AffineMap::getMultiDimIdentityMap(5, ctx);
  AffineMap tileRow = dimsMap(ctx, 5, {0, 1, 2, 3});
  SmallVector<OpFoldResult> scoreShape = rowShape(rows);
  scoreShape.push_back(cols);

  // S[b,hk,g,i,j] = Σ_d Q[b,hk,g,i,d]·K[b,hk,j,d].
  SmallVector<AffineMap> rowsByKeys = {dimsMap(ctx, 6, {0, 1, 2, 3, 5}),
                                       dimsMap(ctx, 6, {0, 1, 4, 5}),
                                       dimsMap(ctx, 6, {0, 1, 2, 3, 4})};
  Value scores = contract(qTile, kTile, filled(scoreShape, 0.0), rowsByKeys, 1,
                          /*skipZeroLhs=*/false);

  // P = exp2(S·c − lse·log2 e), 0 where the mask hides the key.
  Value c = f32(log2Scale());
  Value limit;
  SmallVector<Value> pIns = {scores, lseTile};
  SmallVector<AffineMap> pMaps = {tileId, tileRow};
  if (masked()) {
    OpFoldResult maskLimit = problem.causal
                                 ? (keyCounts ? sub(queryStart, querySeq)
                                              : add(queryStart, fewestDiag))
                                 : attr(-1);
    limit = value(sub(maskLimit, keyStart));
    if (keyCounts) {
      pIns.push_back(keyCounts);
      pMaps.push_back(dimsMap(ctx, 5, {0}));
    }
  }
  pMaps.push_back(tileId);
  Value probs = buildGeneric(
      b, loc, pIns,
      tensor::EmptyOp::create(b, loc, scoreShape, b.getF32Type()).getResult(),
      pMaps, SmallVector<utils::IteratorType>(5, kParallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value scaled = arith::MulFOp::create(nb, nl, args[0], c);
        Value shift = arith::MulFOp::create(nb, nl, args[1], f32(M_LOG2E));
        Value p = math::Exp2Op::create(
            nb, nl, arith::SubFOp::create(nb, nl, scaled, shift));
        if (limit) {
          Value seen = seesKey(nb, nl, 4, limit, keyCounts ? args[2] : Value());
          p = arith::SelectOp::create(nb, nl, seen, p, f32(0.0));
        }
        linalg::YieldOp::create(nb, nl, p);
      })[0];

  // dV[b,hk,j,e] += Σ_{g,i} P[b,hk,g,i,j]·dO[b,hk,g,i,e].
  SmallVector<AffineMap> overRows = {dimsMap(ctx, 6, {0, 1, 4, 5, 2}),
                                     dimsMap(ctx, 6, {0, 1, 4, 5, 3}),
                                     dimsMap(ctx, 6, {0, 1, 2, 3})};
  Value dv = contract(probs, doTile, grads.dv, overRows, 2,
                      /*skipZeroLhs=*/false);

  // dP[b,hk,g,i,j] = Σ_e dO[b,hk,g,i,e]·V[b,hk,j,e];
  // dS = P·(dP − D), 0 where P is (a hidden key's dP may be NaN).
  Value dp = contract(doTile, vTile, filled(scoreShape, 0.0), rowsByKeys, 1,
                      /*skipZeroLhs=*/false);
  Value ds = buildGeneric(
      b, loc, ValueRange{probs, dp, deltaTile},
      tensor::EmptyOp::create(b, loc, scoreShape, b.getF32Type()).getResult(),
      {tileId, tileId, tileRow, tileId},
      SmallVector<utils::IteratorType>(5, kParallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value diff = arith::SubFOp::create(nb, nl, args[1], args[2]);
        Value grad = arith::MulFOp::create(nb, nl, args[0], diff);
        Value zero = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                           args[0], f32(0.0));
        linalg::YieldOp::create(
            nb, nl,
            arith::SelectOp::create(nb, nl, zero, f32(0.0), grad).getResult());
      })[0];

  // dQ[b,hk,g,i,d] += Σ_j dS·K[b,hk,j,d] (a hidden key's K may be NaN).
  Value dqTile =
      tensor::ExtractSliceOp::create(b, loc, grads.dq, offsets, qSizes, unit);
  dqTile =
      contract(ds, kTile, dqTile,
               {dimsMap(ctx, 6, {0, 1, 2, 3, 5}), dimsMap(ctx, 6, {0, 1, 5, 4}),
                dimsMap(ctx, 6, {0, 1, 2, 3, 4})},
               1, /*skipZeroLhs=*/masked());
  Value dq = tensor::InsertSliceOp::create(b, loc, dqTile, grads.dq, offsets,
                                           qSizes, unit);

  // dK[b,hk,j,d] += Σ_{g,i} dS[b,hk,g,i,j]·Q[b,hk,g,i,d].
  Value dk = contract(ds, qTile, grads.dk, overRows, 2,
                      /*skipZeroLhs=*/false);
  return {dq, dk, dv};
}

Value FlashBackward::finish(Value grad, double factor, bool unrotate,
                            RopePositions positions, RankedTensorType type) {
  auto gradType = cast<RankedTensorType>(grad.getType());
  if (factor == 1.0 && !unrotate && type.getElementType().isF32())
    return grad.getType() == type
               ? grad
               : tensor::CastOp::create(b, loc, type, grad).getResult();
  Type scaledType = unrotate ? b.getF32Type() : type.getElementType();
  Value init = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, grad), scaledType);
  AffineMap id = AffineMap::getMultiDimIdentityMap(gradType.getRank(), ctx);
  Value scaled = buildGeneric(
      b, loc, grad, init, {id, id},
      SmallVector<utils::IteratorType>(gradType.getRank(), kParallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = args[0];
        if (factor != 1.0)
          x = arith::MulFOp::create(nb, nl, x, f32(factor));
        linalg::YieldOp::create(nb, nl, fromF32(nb, nl, x, scaledType));
      })[0];
  if (unrotate)
    scaled = buildRope(b, loc, scaled, problem.rope, positions,
                       type.getElementType(), /*inverse=*/true);
  if (scaled.getType() != type)
    scaled = tensor::CastOp::create(b, loc, type, scaled);
  return scaled;
}

/// tucker.flash_backward → recomputing loops over key and query tiles.
struct FlashBackwardToLinalg : OpRewritePattern<FlashBackwardOp> {
  FlashBackwardToLinalg(MLIRContext *ctx, int64_t queryTile, int64_t keyTile)
      : OpRewritePattern(ctx), queryTile(queryTile), keyTile(keyTile) {}

  LogicalResult matchAndRewrite(FlashBackwardOp op,
                                PatternRewriter &rewriter) const override {
    FlashProblem problem{op.getQ(),
                         op.getK(),
                         op.getV(),
                         op.getLengths(),
                         op.getOut(),
                         op.getCausal(),
                         op.getEffectiveScale(),
                         op.getRopeAttr()};
    std::string reason;
    if (failed(checkLowerable(problem, queryTile, keyTile, reason)))
      return rewriter.notifyMatchFailure(op, reason);
    FlashBackward lowering(rewriter, op, problem, queryTile, keyTile);
    rewriter.replaceOp(op, lowering.build());
    return success();
  }

private:
  int64_t queryTile, keyTile;
};

} // namespace

void mlir::tucker::flash_to_linalg::populateFlashBackwardToLinalgPatterns(
    RewritePatternSet &patterns, int64_t queryTile, int64_t keyTile) {
  patterns.add<FlashBackwardToLinalg>(patterns.getContext(), queryTile,
                                      keyTile);
}
