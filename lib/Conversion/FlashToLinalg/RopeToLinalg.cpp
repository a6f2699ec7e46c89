//===- RopeToLinalg.cpp - tucker.rope to linalg ---------------------------===//
//
// The rotary embedding as linalg ops, shared by tucker.rope and the `rope`
// attribute of tucker.flash, and the helpers both lowerings use.
//
// One elementwise linalg.generic over loops `(b, h, n, r, s, j)` (block r,
// side s of a pair, frequency j) computes every rotated pair: the element
// and its partner are affine in the loops, `offset + r·stride + s·width/2 + j`
// and side `1 − s` (style half: dim j pairs with j + width/2), or
// `offset + r·stride + 2j + s` (style interleaved: 2j pairs with 2j + 1), so
// the generic reads x directly through its indexing maps (no gather) and
// yields `x·cos − partner·sin` on side 0, `x·cos + partner·sin` on side 1,
// into `[B, H, N, repeat, 2, width/2]` (or `[…, width/2, 2]`), which is
// collapsed and inserted over the rotated dims (one insert per block when
// the stride leaves gaps); the other dims pass through. The angles
// `pos · theta^(-2j/width)` are computed once per position in f64 (exact
// integer positions, frequencies as an f64 constant, so that long sequences
// keep their accuracy) into an f32 `cos`/`sin` table that every head reads.
//
//===----------------------------------------------------------------------===//

#include "FlashToLinalgUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_linalg;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

Value flash_to_linalg::toF32(OpBuilder &b, Location loc, Value value) {
  Type f32 = b.getF32Type();
  if (value.getType() == f32)
    return value;
  return arith::ExtFOp::create(b, loc, f32, value);
}

Value flash_to_linalg::fromF32(OpBuilder &b, Location loc, Value value,
                               Type type) {
  if (value.getType() == type)
    return value;
  return arith::TruncFOp::create(b, loc, type, value);
}

Value flash_to_linalg::f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value flash_to_linalg::filledF32(OpBuilder &b, Location loc,
                                 ArrayRef<OpFoldResult> shape, double value) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  Value fill = f32Constant(b, loc, value);
  return linalg::FillOp::create(b, loc, ValueRange{fill}, ValueRange{empty})
      .getResult(0);
}

AffineMap flash_to_linalg::dimsMap(MLIRContext *ctx, unsigned numDims,
                                   ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned dim : dims)
    exprs.push_back(getAffineDimExpr(dim, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

SmallVector<Value>
flash_to_linalg::buildGeneric(OpBuilder &b, Location loc, ValueRange ins,
                              ValueRange outs, ArrayRef<AffineMap> maps,
                              ArrayRef<utils::IteratorType> iterators,
                              BodyFn body) {
  auto generic = linalg::GenericOp::create(b, loc, outs.getTypes(), ins, outs,
                                           maps, iterators, body);
  return SmallVector<Value>(generic.getResults());
}

//===----------------------------------------------------------------------===//
// Rotation
//===----------------------------------------------------------------------===//

/// An integer or index scalar as f64 (signless integers read as signed).
static Value intToF64(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isIndex())
    value = arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
  return arith::SIToFPOp::create(b, loc, b.getF64Type(), value);
}

/// The size of dim `dim` of the first of `candidates` where it is static,
/// else a tensor.dim of the first candidate.
static OpFoldResult
staticSizeOr(OpBuilder &b, Location loc,
             ArrayRef<std::pair<Value, int64_t>> candidates) {
  for (auto [value, dim] : candidates) {
    int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(dim);
    if (!ShapedType::isDynamic(size))
      return b.getIndexAttr(size);
  }
  auto [value, dim] = candidates.front();
  return tensor::getMixedSize(b, loc, value, dim);
}

/// `x` converted elementwise to `type` (x itself when it already has it).
static Value convertElements(OpBuilder &b, Location loc, Value x, Type type) {
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getElementType() == type)
    return x;
  MLIRContext *ctx = b.getContext();
  unsigned rank = xType.getRank();
  Value init =
      tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, x), type);
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  return buildGeneric(
      b, loc, x, init, {id, id},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = toF32(nb, nl, args[0]);
        linalg::YieldOp::create(nb, nl, fromF32(nb, nl, v, type));
      })[0];
}

Value flash_to_linalg::buildRope(OpBuilder &b, Location loc, Value x,
                                 RopeAttr rope, RopePositions pos,
                                 Type resultType, bool inverse) {
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t dim = xType.getDimSize(3);
  int64_t width = rope.getWidth(), half = width / 2;
  int64_t repeat = rope.getRepeat(), offset = rope.getOffset();
  bool interleaved = rope.getStyle() == RopeStyle::Interleaved;
  double theta = rope.getTheta().convertToDouble();
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  auto parallel = utils::IteratorType::parallel;

  // Sizes of x: [B, H, N] (maybe dynamic) and the rotated span.
  bool batched = pos.positions &&
                 cast<RankedTensorType>(pos.positions.getType()).getRank() == 2;
  SmallVector<std::pair<Value, int64_t>> batchCandidates = {{x, 0}};
  SmallVector<std::pair<Value, int64_t>> seqCandidates = {{x, 2}};
  if (pos.positions) {
    batchCandidates.push_back({pos.positions, 0});
    seqCandidates.push_back({pos.positions, batched ? 1 : 0});
  }
  OpFoldResult batch = staticSizeOr(b, loc, batchCandidates);
  OpFoldResult heads = tensor::getMixedSize(b, loc, x, 1);
  OpFoldResult seq = staticSizeOr(b, loc, seqCandidates);

  // cos/sin table [(B,) N, half]: angle = pos · theta^(-2j/width) in f64.
  SmallVector<double> freqs;
  for (int64_t j = 0; j < half; ++j)
    freqs.push_back(1.0 / std::pow(theta, 2.0 * double(j) / double(width)));
  auto freqType = RankedTensorType::get({half}, f64);
  Value freq = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(freqType, ArrayRef<double>(freqs)));
  SmallVector<OpFoldResult> tableShape;
  if (batched)
    tableShape.push_back(batch);
  tableShape.append({seq, b.getIndexAttr(half)});
  unsigned tableRank = tableShape.size();
  Value cosInit = tensor::EmptyOp::create(b, loc, tableShape, f32);
  Value sinInit = tensor::EmptyOp::create(b, loc, tableShape, f32);
  SmallVector<Value> tableIns;
  SmallVector<AffineMap> tableMaps;
  if (pos.positions) {
    tableIns.push_back(pos.positions);
    tableMaps.push_back(batched ? dimsMap(ctx, 3, {0, 1})
                                : dimsMap(ctx, 2, {0}));
  }
  tableIns.push_back(freq);
  tableMaps.push_back(dimsMap(ctx, tableRank, {tableRank - 1}));
  AffineMap tableId = AffineMap::getMultiDimIdentityMap(tableRank, ctx);
  tableMaps.append({tableId, tableId});
  SmallVector<Value> table = buildGeneric(
      b, loc, tableIns, ValueRange{cosInit, sinInit}, tableMaps,
      SmallVector<utils::IteratorType>(tableRank, parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value position;
        if (pos.positions) {
          position = args[0];
        } else {
          position = linalg::IndexOp::create(nb, nl, tableRank - 2);
          if (pos.offset)
            position = arith::AddIOp::create(nb, nl, position, pos.offset);
        }
        Value angle = arith::MulFOp::create(nb, nl, intToF64(nb, nl, position),
                                            args[pos.positions ? 1 : 0]);
        Value cosine = math::CosOp::create(nb, nl, angle);
        Value sine = math::SinOp::create(nb, nl, angle);
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::TruncFOp::create(nb, nl, f32, cosine),
                       arith::TruncFOp::create(nb, nl, f32, sine)});
      });

  // Loops (b, h, n, r, s, j): block r, side s of the pair, frequency j. The
  // element and its partner (side 1 − s) are affine in them:
  //   half:        offset + r·stride + s·width/2 + j
  //   interleaved: offset + r·stride + 2j + s
  // The result is [B, H, N, repeat, 2, half] (half) or
  // [B, H, N, repeat, half, 2] (interleaved), i.e. blocks in dim order.
  int64_t stride = rope.getStrideOrWidth();
  AffineExpr d[6];
  bindDims(ctx, d[0], d[1], d[2], d[3], d[4], d[5]);
  auto dimOf = [&](AffineExpr side) {
    AffineExpr inBlock = interleaved ? d[5] * 2 + side : side * half + d[5];
    return AffineMap::get(
        6, 0, {d[0], d[1], d[2], offset + d[3] * stride + inBlock}, ctx);
  };
  AffineMap selfMap = simplifyAffineMap(dimOf(d[4]));
  AffineMap partnerMap = simplifyAffineMap(dimOf(1 - d[4]));
  AffineMap angleMap =
      batched ? dimsMap(ctx, 6, {0, 2, 5}) : dimsMap(ctx, 6, {2, 5});
  AffineMap outMap = interleaved ? dimsMap(ctx, 6, {0, 1, 2, 3, 5, 4})
                                 : AffineMap::getMultiDimIdentityMap(6, ctx);
  SmallVector<OpFoldResult> pairShape = {batch, heads, seq,
                                         b.getIndexAttr(repeat)};
  if (interleaved)
    pairShape.append({b.getIndexAttr(half), b.getIndexAttr(2)});
  else
    pairShape.append({b.getIndexAttr(2), b.getIndexAttr(half)});
  Value pairsInit = tensor::EmptyOp::create(b, loc, pairShape, resultType);
  Value pairs = buildGeneric(
      b, loc, ValueRange{x, x, table[0], table[1]}, pairsInit,
      {selfMap, partnerMap, angleMap, angleMap, outMap},
      SmallVector<utils::IteratorType>(6, parallel),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value self = toF32(nb, nl, args[0]);
        Value partner = toF32(nb, nl, args[1]);
        Value selfCos = arith::MulFOp::create(nb, nl, self, args[2]);
        Value partnerSin = arith::MulFOp::create(nb, nl, partner, args[3]);
        Value side = linalg::IndexOp::create(nb, nl, 4);
        Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
        Value first =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, side, zero);
        // First of a pair: x·cos − partner·sin; second: x·cos + partner·sin
        // (the signs swap for the inverse rotation).
        Value minus = arith::SubFOp::create(nb, nl, selfCos, partnerSin);
        Value plus = arith::AddFOp::create(nb, nl, selfCos, partnerSin);
        Value value = inverse
                          ? arith::SelectOp::create(nb, nl, first, plus, minus)
                          : arith::SelectOp::create(nb, nl, first, minus, plus);
        linalg::YieldOp::create(nb, nl, fromF32(nb, nl, value, resultType));
      })[0];

  // Back into [B, H, N, D]: the rotated blocks replace their dims, the
  // others pass through (converted to the result type).
  auto pairsType = cast<RankedTensorType>(pairs.getType());
  SmallVector<int64_t> outerShape(pairsType.getShape().take_front(3));
  SmallVector<OpFoldResult> outer = {batch, heads, seq};
  SmallVector<OpFoldResult> unit4(4, b.getIndexAttr(1));
  if (stride == width) {
    // Adjacent blocks: one span [offset, offset + repeat·width).
    SmallVector<int64_t> spanShape = outerShape;
    spanShape.push_back(repeat * width);
    Value span = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(spanShape, resultType), pairs,
        SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4, 5}});
    if (offset == 0 && repeat * width == dim)
      return span;
    SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
    offsets[3] = b.getIndexAttr(offset);
    SmallVector<OpFoldResult> sizes = outer;
    sizes.push_back(b.getIndexAttr(repeat * width));
    return tensor::InsertSliceOp::create(b, loc, span,
                                         convertElements(b, loc, x, resultType),
                                         offsets, sizes, unit4);
  }
  // Blocks with gaps (per-head partial rotation): one insert per block.
  SmallVector<int64_t> blockShape = outerShape;
  blockShape.append({repeat, width});
  Value blocks = tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(blockShape, resultType), pairs,
      SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3}, {4, 5}});
  Value result = convertElements(b, loc, x, resultType);
  SmallVector<OpFoldResult> blockSizes = outer;
  blockSizes.append({b.getIndexAttr(1), b.getIndexAttr(width)});
  SmallVector<OpFoldResult> sizes = outer;
  sizes.push_back(b.getIndexAttr(width));
  SmallVector<int64_t> oneBlockShape = outerShape;
  oneBlockShape.push_back(width);
  auto oneBlockType = RankedTensorType::get(oneBlockShape, resultType);
  for (int64_t r = 0; r < repeat; ++r) {
    SmallVector<OpFoldResult> blockOffsets(5, b.getIndexAttr(0));
    blockOffsets[3] = b.getIndexAttr(r);
    Value block = tensor::ExtractSliceOp::create(
        b, loc, oneBlockType, blocks, blockOffsets, blockSizes,
        SmallVector<OpFoldResult>(5, b.getIndexAttr(1)));
    SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
    offsets[3] = b.getIndexAttr(offset + r * stride);
    result = tensor::InsertSliceOp::create(b, loc, block, result, offsets,
                                           sizes, unit4);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// tucker.rope
//===----------------------------------------------------------------------===//

namespace {
/// tucker.rope → the rotation of buildRope, in the element type of x.
struct RopeToLinalg : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getX().getType();
    if (type.getRank() != 4 || ShapedType::isDynamic(type.getDimSize(3)))
      return rewriter.notifyMatchFailure(
          op, "expects x [B, H, N, D] with a static D (a verified op)");
    RopeAttr rope = op.getRope();
    if (rope.getEnd() > type.getDimSize(3))
      return rewriter.notifyMatchFailure(
          op, "rope rotates dims beyond the last dim of x");
    Value result = buildRope(rewriter, op.getLoc(), op.getX(), rope,
                             RopePositions{op.getPositions(), Value()},
                             type.getElementType());
    if (result.getType() != op.getType())
      result =
          tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void flash_to_linalg::populateRopeToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RopeToLinalg>(patterns.getContext());
}
