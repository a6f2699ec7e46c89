//===- FlashToLinalg.cpp - tucker.flash to tiled linalg loops -------------===//
//
// --tucker-flash-to-linalg: tucker.flash becomes the flash-attention
// algorithm on tensors (online softmax over key tiles, no Nq×Nk matrix), and
// tucker.rope (and a flash's `rope`) elementwise linalg ops. The CPU
// reference path: everything is upstream linalg/tensor/scf/arith/math, so the
// upstream bufferization and lowering passes take it to LLVM.
//
// GQA: q [B, Hq, Nq, D] is expanded to [B, Hkv, G, Nq, D] with G = Hq / Hkv,
// which makes query head h = hk·G + g; its kv head h / G = hk is then a plain
// loop index shared by the indexing maps of q (b, hk, g, i, d) and of k and v
// (b, hk, j, d): no head loop, no repeated K/V. Every tile op keeps batch and
// both head dims as parallel loops (one K/V tile serves all G query heads of a
// group, as latent MQA wants), and the result is collapsed back to
// [B, Hq, Nq, Dv].
//
// Lengths: a `lengths` operand gives sequence b its key count
// L_b = clamp(lengths[b], 0, Nk), computed once as an index tensor [B] with
// its min and max. The key loop ends at the largest L (a decode cache that
// is mostly empty is not read past it); tiles that every row of every
// sequence sees whole go unmasked, the others mask per sequence: row i sees
// column j iff j <= i + queryStart − Nq + L_b − keyStart (causal) or
// j < L_b − keyStart (not causal). Rope rotates query m of sequence b at
// m + L_b − Nq.
//
//===----------------------------------------------------------------------===//

#include "FlashLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <cmath>

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERFLASHTOLINALGPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_linalg;

namespace {

constexpr auto kParallel = utils::IteratorType::parallel;
constexpr auto kReduction = utils::IteratorType::reduction;

/// The running state of the online softmax of one query tile.
struct SoftmaxState {
  Value rowMax; // m [B, Hkv, G, tq], log2 domain (scores · scale · log2 e)
  Value rowSum; // l [B, Hkv, G, tq]
  Value acc;    // O [B, Hkv, G, tq, Dv], f32, not yet divided by l
};

/// Builds the lowering of one tucker.flash. Index and f32 constants are
/// created once, before the op, and reused inside the loops.
class FlashForward : FlashLoweringBase {
public:
  FlashForward(PatternRewriter &b, FlashOp op, const FlashProblem &problem,
               int64_t queryTile, int64_t keyTile)
      : FlashLoweringBase(b, op, problem, queryTile, keyTile), op(op) {}

  /// The replacements of the op's results: the output, then the
  /// log-sum-exp when the op has one.
  SmallVector<Value> build();

private:
  using TileBody = function_ref<SmallVector<Value>(
      Value start, OpFoldResult extent, ValueRange iterArgs)>;
  /// The tiles of `tile` at lower, lower + tile, ... below `upper` of a dim
  /// of `total` (`lower` a multiple of `tile`): the tiles that end within
  /// `total` in one scf.for whose body sees the static extent `tile`, the
  /// last, shorter one in a second scf.for (at most one iteration) that sees
  /// its extent; `body` yields the next iter args. Returns the final ones.
  SmallVector<Value> tileLoops(OpFoldResult lower, OpFoldResult upper,
                               OpFoldResult total, int64_t tile,
                               ValueRange inits, TileBody body);

  /// The whole query tile of `rows` rows at `queryStart`, inserted into
  /// `result` (and its log-sum-exp into `lse` when not null); returns both.
  std::pair<Value, Value> queryStep(Value queryStart, OpFoldResult rows,
                                    Value result, Value lse);

  /// The loop over key tiles in [lower, upper) (step keyTile), masked
  /// by `maskLimit` unless it is null.
  SoftmaxState keyLoop(Value qTile, OpFoldResult rows, OpFoldResult lower,
                       OpFoldResult upper, SoftmaxState state,
                       OpFoldResult maskLimit);
  /// One key tile of `cols` keys at `keyStart`: S = Q·Kᵀ, the mask (masked
  /// tiles only: query row i of sequence b sees key column j iff
  /// j <= [i +] maskLimit [+ L_b] − keyStart, i when causal, L_b with
  /// lengths), m and l updated, O rescaled by exp2(m_old − m_new),
  /// P = exp2(S·c − m), O += P·V.
  SoftmaxState keyStep(Value qTile, OpFoldResult rows, Value keyStart,
                       OpFoldResult cols, SoftmaxState state,
                       OpFoldResult maskLimit);

  FlashOp op;
  // k as [B, Hkv, D, Nk]: a key tile is then [D, tk] with the keys
  // contiguous, as the vector dim of S = Q·Kᵀ wants them.
  Value kT;
};

SmallVector<Value> FlashForward::tileLoops(OpFoldResult lower,
                                           OpFoldResult upper,
                                           OpFoldResult total, int64_t tile,
                                           ValueRange inits, TileBody body) {
  std::optional<int64_t> staticTotal = getConstantIntValue(total);
  auto loop = [&](OpFoldResult from, OpFoldResult to, bool whole,
                  ValueRange args) {
    auto forOp = scf::ForOp::create(
        b, loc, value(from), value(to), index(tile), args,
        [&](OpBuilder &nb, Location nl, Value start, ValueRange iterArgs) {
          // scf.for builds its body with the builder it was given.
          assert(&nb == &b && "expected the body on the rewriter");
          // The short tile starts at ⌊total / tile⌋·tile.
          OpFoldResult extent = whole         ? attr(tile)
                                : staticTotal ? attr(*staticTotal % tile)
                                              : tileExtent(total, tile, start);
          scf::YieldOp::create(nb, nl, body(start, extent, iterArgs));
        });
    return SmallVector<Value>(forOp.getResults());
  };
  if (staticTotal && *staticTotal % tile == 0)
    return loop(lower, upper, /*whole=*/true, inits);
  // Tiles that start below ⌊total / tile⌋·tile end within total.
  OpFoldResult wholeEnd =
      staticTotal
          ? attr(*staticTotal / tile * tile)
          : OpFoldResult(
                arith::MulIOp::create(
                    b, loc,
                    arith::DivUIOp::create(b, loc, value(total), index(tile)),
                    index(tile))
                    .getResult());
  // split = max(lower, min(upper, wholeEnd)), folded where static.
  auto fold = [&](OpFoldResult x, OpFoldResult y, bool isMax) -> OpFoldResult {
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    if (cx && cy)
      return attr(isMax ? std::max(*cx, *cy) : std::min(*cx, *cy));
    if (isMax)
      return arith::MaxSIOp::create(b, loc, value(x), value(y)).getResult();
    return arith::MinSIOp::create(b, loc, value(x), value(y)).getResult();
  };
  OpFoldResult split = fold(lower, fold(upper, wholeEnd, false), true);
  SmallVector<Value> args = loop(lower, split, /*whole=*/true, inits);
  return loop(split, upper, /*whole=*/false, args);
}

SmallVector<Value> FlashForward::build() {
  SmallVector<OpFoldResult> resultShape = {batch, attr(kvHeads), attr(group),
                                           querySeq, attr(valueDim)};
  SmallVector<Value> inits = {
      tensor::EmptyOp::create(b, loc, resultShape, elementType)};
  Value lse = op.getLse();
  if (lse)
    inits.push_back(
        tensor::EmptyOp::create(b, loc, rowShape(querySeq), b.getF32Type()));

  // Kᵀ, once.
  SmallVector<OpFoldResult> kTShape = {batch, attr(kvHeads), attr(qkDim),
                                       keySeq};
  Value kTInit = tensor::EmptyOp::create(
      b, loc, kTShape, cast<RankedTensorType>(k.getType()).getElementType());
  kT = linalg::TransposeOp::create(b, loc, k, kTInit,
                                   ArrayRef<int64_t>{0, 1, 3, 2})
           .getResult()[0];

  SmallVector<Value> final =
      tileLoops(attr(0), querySeq, querySeq, queryTile, inits,
                [&](Value queryStart, OpFoldResult rows, ValueRange iterArgs) {
                  auto [out, rowLse] = queryStep(queryStart, rows, iterArgs[0],
                                                 lse ? iterArgs[1] : Value());
                  SmallVector<Value> yields = {out};
                  if (rowLse)
                    yields.push_back(rowLse);
                  return yields;
                });
  SmallVector<Value> results = {
      collapseHeads(final[0], op.getResult().getType())};
  if (lse)
    results.push_back(collapseHeads(final[1], lse.getType()));
  return results;
}

std::pair<Value, Value> FlashForward::queryStep(Value queryStart,
                                                OpFoldResult rows, Value result,
                                                Value lse) {
  // Q tile [B, Hkv, G, tq, D].
  SmallVector<OpFoldResult> offsets(5, attr(0));
  offsets[3] = queryStart;
  SmallVector<OpFoldResult> unit(5, attr(1));
  SmallVector<OpFoldResult> qSizes = rowShape(rows);
  qSizes.push_back(attr(qkDim));
  Value qTile =
      tensor::ExtractSliceOp::create(b, loc, q5, offsets, qSizes, unit);

  // m = −inf, l = 0, O = 0.
  SmallVector<OpFoldResult> accShape = rowShape(rows);
  accShape.push_back(attr(valueDim));
  SoftmaxState state{filled(rowShape(rows), -INFINITY),
                     filled(rowShape(rows), 0.0), filled(accShape, 0.0)};

  // Query row i of the tile sees the keys n <= queryStart + i + L − Nq
  // (causal) or n < L, with L = Nk or the sequence's key count L_b.
  if (!op.getCausal() && !keyCounts) {
    state = keyLoop(qTile, rows, attr(0), keySeq, state, OpFoldResult());
  } else {
    // The last row of the longest sequence bounds the loop: tiles past it
    // are skipped. Tiles that the first row of every sequence sees whole
    // need no mask: [0, full) goes unmasked, [full, end) masked. With
    // Nq > L, early rows see no key at all (the loops may be empty) and give
    // zeros.
    // maskLimit is the mask's limit without L_b: queryStart + Nk − Nq
    // (causal), queryStart − Nq (causal, lengths) or −1 (lengths).
    Value end, firstSeen;
    OpFoldResult maskLimit = attr(-1);
    if (op.getCausal()) {
      OpFoldResult rowLimit = add(queryStart, fewestDiag);
      OpFoldResult lastLimit = keyCounts ? add(queryStart, mostDiag) : rowLimit;
      end = arith::MinSIOp::create(b, loc, value(add(lastLimit, rows)),
                                   value(keySeq));
      firstSeen = value(add(rowLimit, attr(1)));
      maskLimit = keyCounts ? sub(queryStart, querySeq) : rowLimit;
    } else {
      end = value(mostKeys);
      firstSeen = value(fewestKeys);
    }
    Value tile = index(keyTile);
    Value wholeTiles = arith::MulIOp::create(
        b, loc,
        arith::DivSIOp::create(
            b, loc, arith::MaxSIOp::create(b, loc, firstSeen, index(0)), tile),
        tile);
    Value seesAll = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                          firstSeen, value(keySeq));
    Value full =
        arith::SelectOp::create(b, loc, seesAll, value(keySeq), wholeTiles);
    state = keyLoop(qTile, rows, attr(0), full, state, OpFoldResult());
    state = keyLoop(qTile, rows, full, end, state, maskLimit);
  }

  // O / l in the element type; a row that saw no key (l = 0) gives 0.
  AffineMap id5 = AffineMap::getMultiDimIdentityMap(5, ctx);
  Value out = tensor::EmptyOp::create(b, loc, accShape, elementType);
  out = buildGeneric(
      b, loc, ValueRange{state.acc, state.rowSum}, out,
      {id5, dimsMap(ctx, 5, {0, 1, 2, 3}), id5},
      SmallVector<utils::IteratorType>(5, kParallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value empty = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                            args[1], f32(0.0));
        Value denom = arith::SelectOp::create(nb, nl, empty, f32(1.0), args[1]);
        Value ratio = arith::DivFOp::create(nb, nl, args[0], denom);
        linalg::YieldOp::create(nb, nl, fromF32(nb, nl, ratio, elementType));
      })[0];
  out = tensor::InsertSliceOp::create(b, loc, out, result, offsets, accShape,
                                      unit);
  if (!lse)
    return {out, Value()};

  // lse = ln(Σ exp(s·x)) = ln(2^m · l) = (m + log2 l)·ln 2, −inf where l = 0.
  AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  Value tileLse = buildGeneric(
      b, loc, ValueRange{state.rowMax, state.rowSum},
      tensor::EmptyOp::create(b, loc, rowShape(rows), b.getF32Type())
          .getResult(),
      {id4, id4, id4}, SmallVector<utils::IteratorType>(4, kParallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value empty = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                            args[1], f32(0.0));
        Value log2Sum = math::Log2Op::create(nb, nl, args[1]);
        Value sum = arith::AddFOp::create(nb, nl, args[0], log2Sum);
        Value natural = arith::MulFOp::create(nb, nl, sum, f32(M_LN2));
        linalg::YieldOp::create(
            nb, nl,
            arith::SelectOp::create(nb, nl, empty, f32(-INFINITY), natural)
                .getResult());
      })[0];
  SmallVector<OpFoldResult> rowOffsets(4, attr(0));
  rowOffsets[3] = queryStart;
  lse = tensor::InsertSliceOp::create(b, loc, tileLse, lse, rowOffsets,
                                      rowShape(rows),
                                      SmallVector<OpFoldResult>(4, attr(1)));
  return {out, lse};
}

SoftmaxState FlashForward::keyLoop(Value qTile, OpFoldResult rows,
                                   OpFoldResult lower, OpFoldResult upper,
                                   SoftmaxState state, OpFoldResult maskLimit) {
  SmallVector<Value> final =
      tileLoops(lower, upper, keySeq, keyTile,
                ValueRange{state.rowMax, state.rowSum, state.acc},
                [&](Value keyStart, OpFoldResult cols, ValueRange iterArgs) {
                  SoftmaxState next = keyStep(
                      qTile, rows, keyStart, cols,
                      {iterArgs[0], iterArgs[1], iterArgs[2]}, maskLimit);
                  return SmallVector<Value>{next.rowMax, next.rowSum, next.acc};
                });
  return {final[0], final[1], final[2]};
}

SoftmaxState FlashForward::keyStep(Value qTile, OpFoldResult rows,
                                   Value keyStart, OpFoldResult cols,
                                   SoftmaxState state, OpFoldResult maskLimit) {
  // Kᵀ and V tiles [B, Hkv, D, tk] and [B, Hkv, tk, Dv].
  SmallVector<OpFoldResult> kvOffsets(4, attr(0));
  kvOffsets[2] = keyStart;
  SmallVector<OpFoldResult> unit(4, attr(1));
  SmallVector<OpFoldResult> kTOffsets(4, attr(0));
  kTOffsets[3] = keyStart;
  Value kTile = tensor::ExtractSliceOp::create(
      b, loc, kT, kTOffsets,
      SmallVector<OpFoldResult>{batch, attr(kvHeads), attr(qkDim), cols}, unit);
  Value vTile = tensor::ExtractSliceOp::create(
      b, loc, v, kvOffsets,
      SmallVector<OpFoldResult>{batch, attr(kvHeads), cols, attr(valueDim)},
      unit);

  // Loops (b, hk, g, i, j) over the score tile, (.., d) for contractions.
  AffineMap tileId = AffineMap::getMultiDimIdentityMap(5, ctx);
  AffineMap tileRow = dimsMap(ctx, 5, {0, 1, 2, 3});
  SmallVector<utils::IteratorType> allParallel(5, kParallel);
  SmallVector<utils::IteratorType> rowReduce = {kParallel, kParallel, kParallel,
                                                kParallel, kReduction};
  SmallVector<utils::IteratorType> contract = {
      kParallel, kParallel, kParallel, kParallel, kParallel, kReduction};
  auto multiplyAdd = [&](OpBuilder &nb, Location nl, ValueRange args) {
    Value lhs = toF32(nb, nl, args[0]);
    Value rhs = toF32(nb, nl, args[1]);
    Value prod = arith::MulFOp::create(nb, nl, lhs, rhs);
    linalg::YieldOp::create(
        nb, nl, arith::AddFOp::create(nb, nl, args[2], prod).getResult());
  };

  // S[b,hk,g,i,j] = Σ_d Q[b,hk,g,i,d]·Kᵀ[b,hk,d,j], in f32.
  SmallVector<OpFoldResult> scoreShape = rowShape(rows);
  scoreShape.push_back(cols);
  Value scores = buildGeneric(
      b, loc, ValueRange{qTile, kTile}, filled(scoreShape, 0.0),
      {dimsMap(ctx, 6, {0, 1, 2, 3, 5}), dimsMap(ctx, 6, {0, 1, 5, 4}),
       dimsMap(ctx, 6, {0, 1, 2, 3, 4})},
      contract, multiplyAdd)[0];

  // Masked tiles: −inf where row i does not see column j. With lengths the
  // bodies read L_b from keyCounts (its loop dim 0 is the batch).
  bool masked = static_cast<bool>(maskLimit);
  Value limit = masked ? value(sub(maskLimit, keyStart)) : Value();
  if (masked) {
    SmallVector<Value> counts;
    SmallVector<AffineMap> maps;
    if (keyCounts) {
      counts.push_back(keyCounts);
      maps.push_back(dimsMap(ctx, 5, {0}));
    }
    maps.push_back(tileId);
    scores = buildGeneric(
        b, loc, counts, scores, maps, allParallel,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value seen =
              seesKey(nb, nl, 4, limit, keyCounts ? args.front() : Value());
          linalg::YieldOp::create(
              nb, nl,
              arith::SelectOp::create(nb, nl, seen, args.back(), f32(-INFINITY))
                  .getResult());
        })[0];
  }

  // Row max of the raw scores (c > 0, so max(S·c) = max(S)·c).
  Value tileMax = buildGeneric(
      b, loc, scores, filled(rowShape(rows), -INFINITY), {tileId, tileRow},
      rowReduce, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(
            nb, nl,
            arith::MaximumFOp::create(nb, nl, args[0], args[1]).getResult());
      })[0];

  // Per row: m_new = max(m_old, max·c); the shift is m_new, or 0 while the
  // row has seen no key (m_new = −inf; this avoids −inf − (−inf) = NaN);
  // alpha = exp2(m_old − shift) rescales l and O (0 on the first tile that
  // the row sees). m and l are updated in place (outs), so that the loop
  // carries them in the same buffers after bufferization.
  Value c = f32(log2Scale());
  AffineMap rowId = AffineMap::getMultiDimIdentityMap(4, ctx);
  Value shiftInit =
      tensor::EmptyOp::create(b, loc, rowShape(rows), b.getF32Type());
  Value alphaInit =
      tensor::EmptyOp::create(b, loc, rowShape(rows), b.getF32Type());
  SmallVector<Value> stats = buildGeneric(
      b, loc, ValueRange{tileMax},
      ValueRange{state.rowMax, shiftInit, alphaInit, state.rowSum},
      SmallVector<AffineMap>(5, rowId),
      SmallVector<utils::IteratorType>(4, kParallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value oldMax = args[1];
        Value scaled = arith::MulFOp::create(nb, nl, args[0], c);
        Value newMax = arith::MaximumFOp::create(nb, nl, oldMax, scaled);
        Value none = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                           newMax, f32(-INFINITY));
        Value shift = arith::SelectOp::create(nb, nl, none, f32(0.0), newMax);
        Value alpha = math::Exp2Op::create(
            nb, nl, arith::SubFOp::create(nb, nl, oldMax, shift));
        Value sum = arith::MulFOp::create(nb, nl, args[4], alpha);
        linalg::YieldOp::create(nb, nl, ValueRange{newMax, shift, alpha, sum});
      });
  Value newMax = stats[0], shift = stats[1], alpha = stats[2];

  // P = exp2(S·c − shift).
  Value probs = buildGeneric(
      b, loc, ValueRange{scores, shift},
      tensor::EmptyOp::create(b, loc, scoreShape, b.getF32Type()).getResult(),
      {tileId, tileRow, tileId}, allParallel,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value scaled = arith::MulFOp::create(nb, nl, args[0], c);
        Value exponent = arith::SubFOp::create(nb, nl, scaled, args[1]);
        linalg::YieldOp::create(
            nb, nl, math::Exp2Op::create(nb, nl, exponent).getResult());
      })[0];

  // l_new = alpha·l_old + Σ_j P.
  Value newSum = buildGeneric(
      b, loc, probs, stats[3], {tileId, tileRow}, rowReduce,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(
            nb, nl,
            arith::AddFOp::create(nb, nl, args[1], args[0]).getResult());
      })[0];

  // O = alpha·O, then O += P·V.
  Value acc = buildGeneric(
      b, loc, alpha, state.acc, {tileRow, tileId}, allParallel,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(
            nb, nl,
            arith::MulFOp::create(nb, nl, args[1], args[0]).getResult());
      })[0];
  // In a masked tile a masked key must add nothing, not even 0·NaN or
  // 0·Inf of its value (a cache past L_b may hold anything): its product is
  // replaced by 0 (the select never reads it), so the output never depends
  // on keys it does not see.
  auto maskedMultiplyAdd = [&](OpBuilder &nb, Location nl, ValueRange args) {
    Value prod = arith::MulFOp::create(nb, nl, toF32(nb, nl, args[0]),
                                       toF32(nb, nl, args[1]));
    Value seen = seesKey(nb, nl, 5, limit, keyCounts ? args[2] : Value());
    // The product or 0, then the sum: the body stays an add reduction
    // (what the vectorizer takes).
    Value term = arith::SelectOp::create(nb, nl, seen, prod, f32(0.0));
    linalg::YieldOp::create(
        nb, nl, arith::AddFOp::create(nb, nl, args.back(), term).getResult());
  };
  SmallVector<Value> pvIns = {probs, vTile};
  SmallVector<AffineMap> pvMaps = {dimsMap(ctx, 6, {0, 1, 2, 3, 5}),
                                   dimsMap(ctx, 6, {0, 1, 5, 4})};
  if (masked && keyCounts) {
    pvIns.push_back(keyCounts);
    pvMaps.push_back(dimsMap(ctx, 6, {0}));
  }
  pvMaps.push_back(dimsMap(ctx, 6, {0, 1, 2, 3, 4}));
  acc =
      buildGeneric(b, loc, pvIns, acc, pvMaps, contract,
                   masked ? BodyFn(maskedMultiplyAdd) : BodyFn(multiplyAdd))[0];
  return {newMax, newSum, acc};
}

/// tucker.flash → online-softmax loops over query and key tiles.
struct FlashToLinalg : OpRewritePattern<FlashOp> {
  FlashToLinalg(MLIRContext *ctx, int64_t queryTile, int64_t keyTile)
      : OpRewritePattern(ctx), queryTile(queryTile), keyTile(keyTile) {}

  LogicalResult matchAndRewrite(FlashOp op,
                                PatternRewriter &rewriter) const override {
    FlashProblem problem{op.getQ(),
                         op.getK(),
                         op.getV(),
                         op.getLengths(),
                         op.getResult(),
                         op.getCausal(),
                         op.getEffectiveScale(),
                         op.getRopeAttr()};
    std::string reason;
    if (failed(checkLowerable(problem, queryTile, keyTile, reason)))
      return rewriter.notifyMatchFailure(op, reason);
    FlashForward lowering(rewriter, op, problem, queryTile, keyTile);
    rewriter.replaceOp(op, lowering.build());
    return success();
  }

private:
  int64_t queryTile, keyTile;
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct TuckerFlashToLinalgPass
    : tucker::impl::TuckerFlashToLinalgPassBase<TuckerFlashToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    Operation *root = getOperation();
    if (queryTile <= 0 || keyTile <= 0) {
      root->emitError() << "--tucker-flash-to-linalg needs positive tile "
                           "sizes, got query-tile="
                        << int64_t(queryTile)
                        << " key-tile=" << int64_t(keyTile);
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    populateFlashToLinalgPatterns(patterns, queryTile, keyTile);
    ConversionTarget target(*ctx);
    target.addIllegalOp<FlashOp, FlashBackwardOp, RopeOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(root, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::tucker::populateFlashToLinalgPatterns(RewritePatternSet &patterns,
                                                 int64_t queryTile,
                                                 int64_t keyTile) {
  patterns.add<FlashToLinalg>(patterns.getContext(), queryTile, keyTile);
  populateFlashBackwardToLinalgPatterns(patterns, queryTile, keyTile);
  populateRopeToLinalgPatterns(patterns);
}
