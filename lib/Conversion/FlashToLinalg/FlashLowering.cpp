//===- FlashLowering.cpp - What the flash lowerings share -----------------===//

#include "FlashLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_linalg;

static constexpr auto kParallel = utils::IteratorType::parallel;
static constexpr auto kReduction = utils::IteratorType::reduction;

/// The size of dim `dim` of the first of `candidates` where it is static,
/// else a tensor.dim of the first candidate.
static OpFoldResult sizeOf(OpBuilder &b, Location loc,
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
static int64_t effectiveTile(OpFoldResult total, int64_t tile) {
  std::optional<int64_t> size = getConstantIntValue(total);
  if (size && *size > 0 && *size < tile)
    return *size;
  return tile;
}

LogicalResult flash_to_linalg::checkLowerable(const FlashProblem &problem,
                                              int64_t queryTile,
                                              int64_t keyTile,
                                              std::string &reason) {
  if (queryTile <= 0 || keyTile <= 0) {
    reason = "tile sizes must be positive";
    return failure();
  }
  auto qType = cast<RankedTensorType>(problem.q.getType());
  auto kType = cast<RankedTensorType>(problem.k.getType());
  auto vType = cast<RankedTensorType>(problem.v.getType());
  for (RankedTensorType type : {qType, kType, vType})
    if (type.getRank() != 4 || ShapedType::isDynamic(type.getDimSize(1)) ||
        ShapedType::isDynamic(type.getDimSize(3))) {
      reason = "expects q, k, v [B, H, N, D] with static H and D (a verified "
               "op)";
      return failure();
    }
  int64_t heads = qType.getDimSize(1), kvHeads = kType.getDimSize(1);
  if (kvHeads <= 0 || heads % kvHeads != 0) {
    reason = "query heads are not a multiple of key/value heads";
    return failure();
  }
  if (problem.rope && problem.rope.getEnd() > qType.getDimSize(3)) {
    reason = "rope rotates dims beyond Dqk";
    return failure();
  }
  if (!(problem.scale > 0.0)) {
    reason = "scale must be positive";
    return failure();
  }
  return success();
}

FlashLoweringBase::FlashLoweringBase(PatternRewriter &b, Operation *op,
                                     const FlashProblem &problem,
                                     int64_t requestedQueryTile,
                                     int64_t requestedKeyTile)
    : b(b), loc(op->getLoc()), ctx(b.getContext()), problem(problem) {
  // Everything goes before the op; constants too, at this point, which
  // precedes every op built afterwards (loops are inserted once their bodies
  // are built).
  b.setInsertionPoint(op);
  top = b.saveInsertionPoint();
  Value q = problem.q, result = problem.out;
  k = problem.k;
  v = problem.v;
  auto qType = cast<RankedTensorType>(q.getType());
  elementType = qType.getElementType();
  kvHeads = cast<RankedTensorType>(k.getType()).getDimSize(1);
  group = qType.getDimSize(1) / kvHeads;
  qkDim = qType.getDimSize(3);
  valueDim = cast<RankedTensorType>(v.getType()).getDimSize(3);
  batch = sizeOf(b, loc, {{q, 0}, {k, 0}, {v, 0}, {result, 0}});
  querySeq = sizeOf(b, loc, {{q, 2}, {result, 2}});
  keySeq = sizeOf(b, loc, {{k, 2}, {v, 2}});
  if (problem.lengths) {
    countKeys(problem.lengths);
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
  if (RopeAttr rope = problem.rope) {
    queryRope = keyCounts ? RopePositions{queryPositions(), Value()}
                          : RopePositions{Value(), value(fewestDiag)};
    q = buildRope(b, loc, q, rope, queryRope, b.getF32Type());
    k = buildRope(b, loc, k, rope, RopePositions{}, b.getF32Type());
  }

  // q [B, Hq, Nq, D] → [B, Hkv, G, Nq, D]: query head h = hk·G + g.
  q5 = expandHeads(q, {querySeq, attr(qkDim)});
}

Value FlashLoweringBase::expandHeads(Value tensor,
                                     ArrayRef<OpFoldResult> shape) {
  SmallVector<OpFoldResult> expanded = {batch, attr(kvHeads), attr(group)};
  expanded.append(shape.begin(), shape.end());
  SmallVector<int64_t> staticShape;
  SmallVector<Value> dynamic;
  dispatchIndexOpFoldResults(expanded, dynamic, staticShape);
  SmallVector<ReassociationIndices> groups = {{0}, {1, 2}};
  for (int64_t d = 3, e = expanded.size(); d < e; ++d)
    groups.push_back({d});
  auto type = cast<RankedTensorType>(tensor.getType());
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(staticShape, type.getElementType()), tensor,
      groups, expanded);
}

Value FlashLoweringBase::collapseHeads(Value tensor, Type type) {
  int64_t rank = cast<RankedTensorType>(tensor.getType()).getRank();
  SmallVector<ReassociationIndices> groups = {{0}, {1, 2}};
  for (int64_t d = 3; d < rank; ++d)
    groups.push_back({d});
  Value collapsed = tensor::CollapseShapeOp::create(b, loc, tensor, groups);
  if (collapsed.getType() != type)
    collapsed = tensor::CastOp::create(b, loc, type, collapsed);
  return collapsed;
}

Value FlashLoweringBase::value(OpFoldResult ofr) {
  if (std::optional<int64_t> c = getConstantIntValue(ofr))
    return index(*c);
  return cast<Value>(ofr);
}

double FlashLoweringBase::log2Scale() const { return problem.scale * M_LOG2E; }

Value FlashLoweringBase::index(int64_t value) {
  Value &cached = indexConstants[value];
  if (!cached) {
    OpBuilder::InsertionGuard guard(b);
    b.restoreInsertionPoint(top);
    cached = arith::ConstantIndexOp::create(b, loc, value);
  }
  return cached;
}

Value FlashLoweringBase::f32(double value) {
  Value &cached = f32Constants[llvm::bit_cast<uint64_t>(value)];
  if (!cached) {
    OpBuilder::InsertionGuard guard(b);
    b.restoreInsertionPoint(top);
    cached = f32Constant(b, loc, value);
  }
  return cached;
}

OpFoldResult FlashLoweringBase::add(OpFoldResult x, OpFoldResult y) {
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

OpFoldResult FlashLoweringBase::sub(OpFoldResult x, OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return attr(*cx - *cy);
  if (cy && *cy == 0)
    return x;
  return arith::SubIOp::create(b, loc, value(x), value(y)).getResult();
}

Value FlashLoweringBase::refine(Value tensor, ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamic;
  dispatchIndexOpFoldResults(sizes, dynamic, shape);
  if (ArrayRef<int64_t>(shape) == type.getShape())
    return tensor;
  return tensor::CastOp::create(b, loc, type.clone(shape), tensor);
}

OpFoldResult FlashLoweringBase::tileExtent(OpFoldResult total, int64_t tile,
                                           Value start) {
  std::optional<int64_t> size = getConstantIntValue(total);
  if (size && *size % tile == 0)
    return attr(tile);
  return arith::MinSIOp::create(b, loc, value(sub(total, start)), index(tile))
      .getResult();
}

Value FlashLoweringBase::filled(ArrayRef<OpFoldResult> shape, double fill) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  return linalg::FillOp::create(b, loc, ValueRange{f32(fill)},
                                ValueRange{empty})
      .getResult(0);
}

void FlashLoweringBase::countKeys(Value lengths) {
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

Value FlashLoweringBase::queryPositions() {
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

Value FlashLoweringBase::seesKey(OpBuilder &nb, Location nl, unsigned keyDim,
                                 Value limit, Value keyCount) {
  Value i = problem.causal ? linalg::IndexOp::create(nb, nl, 3) : Value();
  Value j = linalg::IndexOp::create(nb, nl, keyDim);
  Value last = limit;
  if (i)
    last = arith::AddIOp::create(nb, nl, i, last);
  if (keyCount)
    last = arith::AddIOp::create(nb, nl, last, keyCount);
  return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sle, j, last);
}
