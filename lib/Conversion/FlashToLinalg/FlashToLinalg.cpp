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

#include "FlashToLinalgUtils.h"

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

/// The size of dim `dim` of the first of `candidates` where it is static,
/// else a tensor.dim of the first candidate.
OpFoldResult sizeOf(OpBuilder &b, Location loc,
                    ArrayRef<std::pair<Value, int64_t>> candidates) {
  for (auto [value, dim] : candidates) {
    int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(dim);
    if (!ShapedType::isDynamic(size))
      return b.getIndexAttr(size);
  }
  auto [value, dim] = candidates.front();
  return tensor::getMixedSize(b, loc, value, dim);
}

/// The tile size used along a dim of `total`: `tile`, or `total` when it is
/// static and smaller (a short sequence gets one static tile).
int64_t effectiveTile(OpFoldResult total, int64_t tile) {
  std::optional<int64_t> size = getConstantIntValue(total);
  if (size && *size > 0 && *size < tile)
    return *size;
  return tile;
}

/// The running state of the online softmax of one query tile.
struct SoftmaxState {
  Value rowMax; // m [B, Hkv, G, tq], log2 domain (scores · scale · log2 e)
  Value rowSum; // l [B, Hkv, G, tq]
  Value acc;    // O [B, Hkv, G, tq, Dv], f32, not yet divided by l
};

/// Builds the lowering of one tucker.flash. Index and f32 constants are
/// created once, before the op, and reused inside the loops.
class FlashLowering {
public:
  FlashLowering(PatternRewriter &b, FlashOp op, int64_t requestedQueryTile,
                int64_t requestedKeyTile);

  /// The replacement of the op's result.
  Value build();

private:
  // Constants and index arithmetic (folded when static).
  Value index(int64_t value);
  Value f32(double value);
  Value value(OpFoldResult ofr) {
    if (std::optional<int64_t> c = getConstantIntValue(ofr))
      return index(*c);
    return cast<Value>(ofr);
  }
  OpFoldResult add(OpFoldResult x, OpFoldResult y);
  OpFoldResult sub(OpFoldResult x, OpFoldResult y);
  OpFoldResult attr(int64_t value) { return b.getIndexAttr(value); }
  /// `tensor` cast to the static sizes among `sizes` where its type has
  /// dynamic ones (unchanged when nothing is gained).
  Value refine(Value tensor, ArrayRef<OpFoldResult> sizes);
  /// The softmax scale times log2(e): exp(s·x) = exp2(s·log2(e)·x).
  double log2Scale() { return op.getEffectiveScale() * M_LOG2E; }

  /// Extent of the tile at `start` of a dim of `total` cut in tiles of
  /// `tile`: the static `tile` when `total` is a static multiple of it, else
  /// min(tile, total − start) (the tail tile is shorter).
  OpFoldResult tileExtent(OpFoldResult total, int64_t tile, Value start);

  /// [B, Hkv, G, rows].
  SmallVector<OpFoldResult> rowShape(OpFoldResult rows) {
    return {batch, attr(kvHeads), attr(group), rows};
  }
  /// A new f32 tensor of `shape` filled with `fill`.
  Value filled(ArrayRef<OpFoldResult> shape, double fill);

  /// The whole query tile at `queryStart`, inserted into `result`.
  Value queryStep(Value queryStart, Value result);
  /// keyCounts, fewestKeys and mostKeys from a lengths operand.
  void countKeys(Value lengths);
  /// Positions [B, Nq] of the queries under rope with lengths: m + L_b − Nq.
  Value queryPositions();

  /// The loop over key tiles in [lower, upper) (step keyTile), masked
  /// by `maskLimit` unless it is null.
  SoftmaxState keyLoop(Value qTile, OpFoldResult rows, OpFoldResult lower,
                       OpFoldResult upper, SoftmaxState state,
                       OpFoldResult maskLimit);
  /// One key tile at `keyStart`: S = Q·Kᵀ, the mask (masked tiles only:
  /// query row i of sequence b sees key column j iff j <= [i +] maskLimit
  /// [+ L_b] − keyStart, i when causal, L_b with lengths), m and l updated,
  /// O rescaled by exp2(m_old − m_new), P = exp2(S·c − m), O += P·V.
  SoftmaxState keyStep(Value qTile, OpFoldResult rows, Value keyStart,
                       SoftmaxState state, OpFoldResult maskLimit);
  /// In the body of a tile op whose loop 3 is the query row i and loop
  /// `keyDim` the key column j: whether i sees j in a masked tile whose limit
  /// is `limit` (see keyStep); `keyCount` is L_b, null without lengths.
  Value seesKey(OpBuilder &nb, Location nl, unsigned keyDim, Value limit,
                Value keyCount);

  PatternRewriter &b;
  Location loc;
  MLIRContext *ctx;
  OpBuilder::InsertPoint top;
  DenseMap<int64_t, Value> indexConstants;
  DenseMap<uint64_t, Value> f32Constants;

  FlashOp op;
  Type elementType;
  int64_t kvHeads, group, qkDim, valueDim;
  OpFoldResult batch, querySeq, keySeq;
  // Per-sequence key counts L_b (index [B]) with lengths, else null; their
  // min and max (Nk without lengths), and those minus Nq.
  Value keyCounts;
  OpFoldResult fewestKeys, mostKeys, fewestDiag, mostDiag;
  int64_t queryTile, keyTile;
  Value q5, k, v; // q as [B, Hkv, G, Nq, D]; k, v (rotated by rope)
};

FlashLowering::FlashLowering(PatternRewriter &b, FlashOp op,
                             int64_t requestedQueryTile,
                             int64_t requestedKeyTile)
    : b(b), loc(op.getLoc()), ctx(b.getContext()), op(op) {
  // Everything goes before the op; constants too, at this point, which
  // precedes every op built afterwards (loops are inserted once their bodies
  // are built).
  b.setInsertionPoint(op);
  top = b.saveInsertionPoint();
  RankedTensorType qType = op.getQ().getType();
  elementType = qType.getElementType();
  kvHeads = op.getK().getType().getDimSize(1);
  group = qType.getDimSize(1) / kvHeads;
  qkDim = qType.getDimSize(3);
  valueDim = op.getV().getType().getDimSize(3);
  Value q = op.getQ(), result = op.getResult();
  k = op.getK();
  v = op.getV();
  batch = sizeOf(b, loc, {{q, 0}, {k, 0}, {v, 0}, {result, 0}});
  querySeq = sizeOf(b, loc, {{q, 2}, {result, 2}});
  keySeq = sizeOf(b, loc, {{k, 2}, {v, 2}});
  if (Value lengths = op.getLengths()) {
    countKeys(lengths);
  } else {
    fewestKeys = mostKeys = keySeq;
    fewestDiag = mostDiag = sub(keySeq, querySeq);
  }
  // Operand types as static as the sizes known from all operands (so that
  // the reshapes below see consistent types).
  q = refine(q, {batch, attr(kvHeads * group), querySeq, attr(qkDim)});
  k = refine(k, {batch, attr(kvHeads), keySeq, attr(qkDim)});
  v = refine(v, {batch, attr(kvHeads), keySeq, attr(valueDim)});
  queryTile = effectiveTile(querySeq, requestedQueryTile);
  keyTile = effectiveTile(keySeq, requestedKeyTile);

  // RoPE first, as elementwise ops: q at positions m + L − Nq, k at n, both
  // kept in f32 for the products.
  if (RopeAttr rope = op.getRopeAttr()) {
    RopePositions queryPos = keyCounts
                                 ? RopePositions{queryPositions(), Value()}
                                 : RopePositions{Value(), value(fewestDiag)};
    q = buildRope(b, loc, q, rope, queryPos, b.getF32Type());
    k = buildRope(b, loc, k, rope, RopePositions{}, b.getF32Type());
  }

  // q [B, Hq, Nq, D] → [B, Hkv, G, Nq, D]: query head h = hk·G + g.
  SmallVector<OpFoldResult> q5Shape = {batch, attr(kvHeads), attr(group),
                                       querySeq, attr(qkDim)};
  SmallVector<int64_t> q5Static;
  SmallVector<Value> q5Dynamic;
  dispatchIndexOpFoldResults(q5Shape, q5Dynamic, q5Static);
  q5 = tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get(
          q5Static, cast<RankedTensorType>(q.getType()).getElementType()),
      q, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}, q5Shape);
}

Value FlashLowering::index(int64_t value) {
  Value &cached = indexConstants[value];
  if (!cached) {
    OpBuilder::InsertionGuard guard(b);
    b.restoreInsertionPoint(top);
    cached = arith::ConstantIndexOp::create(b, loc, value);
  }
  return cached;
}

Value FlashLowering::f32(double value) {
  Value &cached = f32Constants[llvm::bit_cast<uint64_t>(value)];
  if (!cached) {
    OpBuilder::InsertionGuard guard(b);
    b.restoreInsertionPoint(top);
    cached = f32Constant(b, loc, value);
  }
  return cached;
}

OpFoldResult FlashLowering::add(OpFoldResult x, OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return attr(*cx + *cy);
  if (cy && *cy == 0)
    return x;
  if (cx && *cx == 0)
    return y;
  return arith::AddIOp::create(b, loc, value(x), value(y)).getResult();
}

OpFoldResult FlashLowering::sub(OpFoldResult x, OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return attr(*cx - *cy);
  if (cy && *cy == 0)
    return x;
  return arith::SubIOp::create(b, loc, value(x), value(y)).getResult();
}

Value FlashLowering::refine(Value tensor, ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamic;
  dispatchIndexOpFoldResults(sizes, dynamic, shape);
  if (ArrayRef<int64_t>(shape) == type.getShape())
    return tensor;
  return tensor::CastOp::create(b, loc, type.clone(shape), tensor);
}

OpFoldResult FlashLowering::tileExtent(OpFoldResult total, int64_t tile,
                                       Value start) {
  std::optional<int64_t> size = getConstantIntValue(total);
  if (size && *size % tile == 0)
    return attr(tile);
  return arith::MinSIOp::create(b, loc, value(sub(total, start)), index(tile))
      .getResult();
}

Value FlashLowering::filled(ArrayRef<OpFoldResult> shape, double fill) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  return linalg::FillOp::create(b, loc, ValueRange{f32(fill)},
                                ValueRange{empty})
      .getResult(0);
}

void FlashLowering::countKeys(Value lengths) {
  AffineMap id1 = AffineMap::getMultiDimIdentityMap(1, ctx);
  Value nk = value(keySeq);
  lengths = refine(lengths, {batch});
  keyCounts = buildGeneric(
      b, loc, lengths,
      tensor::EmptyOp::create(b, loc, ArrayRef<OpFoldResult>{batch},
                              b.getIndexType())
          .getResult(),
      {id1, id1}, {kParallel},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value count =
            arith::IndexCastOp::create(nb, nl, nb.getIndexType(), args[0]);
        count = arith::MaxSIOp::create(nb, nl, count, index(0));
        linalg::YieldOp::create(
            nb, nl, arith::MinSIOp::create(nb, nl, count, nk).getResult());
      })[0];
  // min and max over the batch, into 0-d tensors (Nk and 0 when B = 0).
  auto scalarOf = [&](Value init) {
    Value empty =
        tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getIndexType());
    return linalg::FillOp::create(b, loc, ValueRange{init}, ValueRange{empty})
        .getResult(0);
  };
  AffineMap toScalar = AffineMap::get(1, 0, {}, ctx);
  SmallVector<Value> bounds = buildGeneric(
      b, loc, keyCounts, ValueRange{scalarOf(nk), scalarOf(index(0))},
      {id1, toScalar, toScalar}, {kReduction},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::MinSIOp::create(nb, nl, args[1], args[0]),
                       arith::MaxSIOp::create(nb, nl, args[2], args[0])});
      });
  fewestKeys = tensor::ExtractOp::create(b, loc, bounds[0]).getResult();
  mostKeys = tensor::ExtractOp::create(b, loc, bounds[1]).getResult();
  fewestDiag = sub(fewestKeys, querySeq);
  mostDiag = sub(mostKeys, querySeq);
}

Value FlashLowering::queryPositions() {
  Value nq = value(querySeq);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<OpFoldResult>{batch, querySeq}, b.getIndexType());
  return buildGeneric(
      b, loc, keyCounts, init,
      {dimsMap(ctx, 2, {0}), AffineMap::getMultiDimIdentityMap(2, ctx)},
      {kParallel, kParallel}, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value m = linalg::IndexOp::create(nb, nl, 1);
        Value shift = arith::SubIOp::create(nb, nl, args[0], nq);
        linalg::YieldOp::create(
            nb, nl, arith::AddIOp::create(nb, nl, m, shift).getResult());
      })[0];
}

Value FlashLowering::build() {
  SmallVector<OpFoldResult> resultShape = {batch, attr(kvHeads), attr(group),
                                           querySeq, attr(valueDim)};
  Value init = tensor::EmptyOp::create(b, loc, resultShape, elementType);
  auto loop = scf::ForOp::create(
      b, loc, index(0), value(querySeq), index(queryTile), ValueRange{init},
      [&](OpBuilder &nb, Location nl, Value queryStart, ValueRange iterArgs) {
        // scf.for builds its body with the builder it was given.
        assert(&nb == &b && "expected the body on the rewriter");
        scf::YieldOp::create(nb, nl, queryStep(queryStart, iterArgs[0]));
      });
  Value out = tensor::CollapseShapeOp::create(
      b, loc, loop.getResult(0),
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
  if (out.getType() != op.getType())
    out = tensor::CastOp::create(b, loc, op.getType(), out);
  return out;
}

Value FlashLowering::queryStep(Value queryStart, Value result) {
  OpFoldResult rows = tileExtent(querySeq, queryTile, queryStart);

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
  return tensor::InsertSliceOp::create(b, loc, out, result, offsets, accShape,
                                       unit);
}

SoftmaxState FlashLowering::keyLoop(Value qTile, OpFoldResult rows,
                                    OpFoldResult lower, OpFoldResult upper,
                                    SoftmaxState state,
                                    OpFoldResult maskLimit) {
  auto loop = scf::ForOp::create(
      b, loc, value(lower), value(upper), index(keyTile),
      ValueRange{state.rowMax, state.rowSum, state.acc},
      [&](OpBuilder &nb, Location nl, Value keyStart, ValueRange iterArgs) {
        assert(&nb == &b && "expected the body on the rewriter");
        SoftmaxState next =
            keyStep(qTile, rows, keyStart,
                    {iterArgs[0], iterArgs[1], iterArgs[2]}, maskLimit);
        scf::YieldOp::create(nb, nl,
                             ValueRange{next.rowMax, next.rowSum, next.acc});
      });
  return {loop.getResult(0), loop.getResult(1), loop.getResult(2)};
}

SoftmaxState FlashLowering::keyStep(Value qTile, OpFoldResult rows,
                                    Value keyStart, SoftmaxState state,
                                    OpFoldResult maskLimit) {
  OpFoldResult cols = tileExtent(keySeq, keyTile, keyStart);

  // K and V tiles [B, Hkv, tk, D] and [B, Hkv, tk, Dv].
  SmallVector<OpFoldResult> kvOffsets(4, attr(0));
  kvOffsets[2] = keyStart;
  SmallVector<OpFoldResult> unit(4, attr(1));
  Value kTile = tensor::ExtractSliceOp::create(
      b, loc, k, kvOffsets,
      SmallVector<OpFoldResult>{batch, attr(kvHeads), cols, attr(qkDim)}, unit);
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

  // S[b,hk,g,i,j] = Σ_d Q[b,hk,g,i,d]·K[b,hk,j,d], in f32.
  SmallVector<OpFoldResult> scoreShape = rowShape(rows);
  scoreShape.push_back(cols);
  Value scores = buildGeneric(
      b, loc, ValueRange{qTile, kTile}, filled(scoreShape, 0.0),
      {dimsMap(ctx, 6, {0, 1, 2, 3, 5}), dimsMap(ctx, 6, {0, 1, 4, 5}),
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
  // skipped, so the output never depends on keys it does not see.
  auto maskedMultiplyAdd = [&](OpBuilder &nb, Location nl, ValueRange args) {
    Value prod = arith::MulFOp::create(nb, nl, toF32(nb, nl, args[0]),
                                       toF32(nb, nl, args[1]));
    Value old = args.back();
    Value sum = arith::AddFOp::create(nb, nl, old, prod);
    Value seen = seesKey(nb, nl, 5, limit, keyCounts ? args[2] : Value());
    linalg::YieldOp::create(
        nb, nl, arith::SelectOp::create(nb, nl, seen, sum, old).getResult());
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

Value FlashLowering::seesKey(OpBuilder &nb, Location nl, unsigned keyDim,
                             Value limit, Value keyCount) {
  Value i = op.getCausal() ? linalg::IndexOp::create(nb, nl, 3) : Value();
  Value j = linalg::IndexOp::create(nb, nl, keyDim);
  Value last = limit;
  if (i)
    last = arith::AddIOp::create(nb, nl, i, last);
  if (keyCount)
    last = arith::AddIOp::create(nb, nl, last, keyCount);
  return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sle, j, last);
}

/// tucker.flash → online-softmax loops over query and key tiles.
struct FlashToLinalg : OpRewritePattern<FlashOp> {
  FlashToLinalg(MLIRContext *ctx, int64_t queryTile, int64_t keyTile)
      : OpRewritePattern(ctx), queryTile(queryTile), keyTile(keyTile) {}

  LogicalResult matchAndRewrite(FlashOp op,
                                PatternRewriter &rewriter) const override {
    if (queryTile <= 0 || keyTile <= 0)
      return rewriter.notifyMatchFailure(op, "tile sizes must be positive");
    RankedTensorType qType = op.getQ().getType(), kType = op.getK().getType(),
                     vType = op.getV().getType();
    for (RankedTensorType type : {qType, kType, vType})
      if (type.getRank() != 4 || ShapedType::isDynamic(type.getDimSize(1)) ||
          ShapedType::isDynamic(type.getDimSize(3)))
        return rewriter.notifyMatchFailure(
            op, "expects q, k, v [B, H, N, D] with static H and D (a "
                "verified op)");
    int64_t heads = qType.getDimSize(1), kvHeads = kType.getDimSize(1);
    if (kvHeads <= 0 || heads % kvHeads != 0)
      return rewriter.notifyMatchFailure(
          op, "query heads are not a multiple of key/value heads");
    if (RopeAttr rope = op.getRopeAttr();
        rope && rope.getEnd() > qType.getDimSize(3))
      return rewriter.notifyMatchFailure(op, "rope rotates dims beyond Dqk");
    if (!(op.getEffectiveScale() > 0.0))
      return rewriter.notifyMatchFailure(op, "scale must be positive");

    FlashLowering lowering(rewriter, op, queryTile, keyTile);
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
    target.addIllegalOp<FlashOp, RopeOp>();
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
  populateRopeToLinalgPatterns(patterns);
}
