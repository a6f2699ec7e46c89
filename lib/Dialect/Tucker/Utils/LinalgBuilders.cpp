//===- LinalgBuilders.cpp - linalg building blocks of the rewrites --------===//

#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tucker;

/// Sizes of `value`, with `tensor.dim` for the dynamic ones.
static SmallVector<OpFoldResult> mixedSizes(OpBuilder &b, Location loc,
                                            Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

static Value castTo(OpBuilder &b, Location loc, Value scalar, Type type) {
  Type from = scalar.getType();
  if (from == type)
    return scalar;
  if (from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, type, scalar);
  return arith::TruncFOp::create(b, loc, type, scalar);
}

/// An elementwise conversion of `input` to `elementType`.
static Value buildConvert(OpBuilder &b, Location loc, Value input,
                          Type elementType) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getElementType() == elementType)
    return input;
  Value init = tensor::EmptyOp::create(b, loc, mixedSizes(b, loc, input),
                                       elementType);
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), input, init,
             ArrayRef<AffineMap>{id, id}, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl,
                                       castTo(nb, nl, args[0], elementType));
             })
      .getResult(0);
}

Value mlir::tucker::buildEinsum(OpBuilder &b, Location loc, StringRef spec,
                                ValueRange inputs, Type resultElementType) {
  auto [lhs, result] = spec.split("->");
  SmallVector<StringRef> operands;
  lhs.split(operands, ',');
  assert(operands.size() == inputs.size() && "one spec term per input");

  // Loop dims: the result's letters first (parallel), then the summed ones.
  std::string letters = result.str();
  for (StringRef term : operands)
    for (char c : term)
      if (letters.find(c) == std::string::npos)
        letters.push_back(c);
  MLIRContext *ctx = b.getContext();
  auto mapFor = [&](StringRef term) {
    SmallVector<AffineExpr> exprs;
    for (char c : term)
      exprs.push_back(getAffineDimExpr(letters.find(c), ctx));
    return AffineMap::get(letters.size(), 0, exprs, ctx);
  };

  SmallVector<OpFoldResult> sizes;
  for (char c : result) {
    for (auto [term, input] : llvm::zip(operands, inputs)) {
      size_t pos = term.find(c);
      if (pos != StringRef::npos) {
        sizes.push_back(tensor::getMixedSize(b, loc, input, pos));
        break;
      }
    }
  }
  assert(sizes.size() == result.size() && "every result letter has an input");

  Type f32 = b.getF32Type();
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value init = tensor::EmptyOp::create(b, loc, sizes, f32);
  init = linalg::FillOp::create(b, loc, zero, init).getResult(0);

  SmallVector<AffineMap> maps;
  for (StringRef term : operands)
    maps.push_back(mapFor(term));
  maps.push_back(mapFor(result));
  SmallVector<utils::IteratorType> iterators;
  for (size_t i = 0; i < letters.size(); ++i)
    iterators.push_back(i < result.size() ? utils::IteratorType::parallel
                                          : utils::IteratorType::reduction);
  Value sum =
      linalg::GenericOp::create(
          b, loc, init.getType(), inputs, init, maps, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value product = castTo(nb, nl, args[0], f32);
            for (Value arg : args.drop_front().drop_back())
              product = arith::MulFOp::create(nb, nl, product,
                                              castTo(nb, nl, arg, f32));
            linalg::YieldOp::create(
                nb, nl, arith::AddFOp::create(nb, nl, args.back(), product)
                            .getResult());
          })
          .getResult(0);
  return buildConvert(b, loc, sum, resultElementType);
}

Value mlir::tucker::buildTranspose(OpBuilder &b, Location loc, Value input,
                                   ArrayRef<int64_t> perm) {
  SmallVector<OpFoldResult> sizes = mixedSizes(b, loc, input), permuted;
  for (int64_t dim : perm)
    permuted.push_back(sizes[dim]);
  Value init = tensor::EmptyOp::create(
      b, loc, permuted, cast<ShapedType>(input.getType()).getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, perm).getResult()[0];
}

Value mlir::tucker::buildIdentity(OpBuilder &b, Location loc, int64_t n,
                                  Type elementType) {
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{n, n},
                                       elementType);
  AffineMap id = b.getMultiDimIdentityMap(2);
  SmallVector<utils::IteratorType> iterators(2, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{}, init, ArrayRef<AffineMap>{id},
             iterators,
             [&](OpBuilder &nb, Location nl, ValueRange) {
               Value row = linalg::IndexOp::create(nb, nl, 0);
               Value col = linalg::IndexOp::create(nb, nl, 1);
               Value diag = arith::CmpIOp::create(
                   nb, nl, arith::CmpIPredicate::eq, row, col);
               Value one = arith::ConstantOp::create(
                   nb, nl, nb.getFloatAttr(elementType, 1.0));
               Value zero = arith::ConstantOp::create(
                   nb, nl, nb.getFloatAttr(elementType, 0.0));
               linalg::YieldOp::create(
                   nb, nl,
                   arith::SelectOp::create(nb, nl, diag, one, zero).getResult());
             })
      .getResult(0);
}

/// Whether `value` is `linalg.index dim`.
static bool isIndex(Value value, int64_t dim) {
  auto index = value.getDefiningOp<linalg::IndexOp>();
  return index && static_cast<int64_t>(index.getDim()) == dim;
}

bool mlir::tucker::isIdentityMatrix(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      type.getDimSize(0) != type.getDimSize(1))
    return false;
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense))) {
    int64_t n = type.getDimSize(0);
    auto values = dense.getValues<APFloat>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (values[i * n + j].convertToDouble() != (i == j ? 1.0 : 0.0))
          return false;
    return true;
  }
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 0 ||
      !generic.getIndexingMapsArray()[0].isIdentity())
    return false;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  // buildIdentity(1): the folders of linalg.index over a unit dim leave 1.
  if (type.getDimSize(0) == 1)
    return matchPattern(yield.getOperand(0), m_OneFloat());
  auto select = yield.getOperand(0).getDefiningOp<arith::SelectOp>();
  if (!select)
    return false;
  auto cmp = select.getCondition().getDefiningOp<arith::CmpIOp>();
  return cmp && cmp.getPredicate() == arith::CmpIPredicate::eq &&
         ((isIndex(cmp.getLhs(), 0) && isIndex(cmp.getRhs(), 1)) ||
          (isIndex(cmp.getLhs(), 1) && isIndex(cmp.getRhs(), 0))) &&
         matchPattern(select.getTrueValue(), m_OneFloat()) &&
         matchPattern(select.getFalseValue(), m_AnyZeroFloat());
}

Value mlir::tucker::buildRmsNormPrefix(OpBuilder &b, Location loc,
                                       Value input, double epsilon,
                                       int64_t width) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  Type f32 = b.getF32Type();

  // Sum of squares over the normalized prefix, per row.
  Value prefix = buildSliceLastDim(b, loc, input, 0, width);
  SmallVector<OpFoldResult> rowSizes = mixedSizes(b, loc, input);
  rowSizes.pop_back();
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value sumInit = tensor::EmptyOp::create(b, loc, rowSizes, f32);
  sumInit = linalg::FillOp::create(b, loc, zero, sumInit).getResult(0);
  AffineMap full = b.getMultiDimIdentityMap(rank);
  AffineMap row = full.dropResult(rank - 1);
  SmallVector<utils::IteratorType> reduceIters(rank,
                                               utils::IteratorType::parallel);
  reduceIters.back() = utils::IteratorType::reduction;
  Value sumSq =
      linalg::GenericOp::create(
          b, loc, sumInit.getType(), prefix, sumInit,
          ArrayRef<AffineMap>{full, row}, reduceIters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value z = castTo(nb, nl, args[0], f32);
            Value sq = arith::MulFOp::create(nb, nl, z, z);
            linalg::YieldOp::create(
                nb, nl, arith::AddFOp::create(nb, nl, args[1], sq).getResult());
          })
          .getResult(0);

  Value init = tensor::EmptyOp::create(b, loc, mixedSizes(b, loc, input),
                                       type.getElementType());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{input, sumSq}, init,
             ArrayRef<AffineMap>{full, row, full}, iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value z = castTo(nb, nl, args[0], f32);
               Value mean = arith::DivFOp::create(
                   nb, nl, args[1],
                   arith::ConstantOp::create(
                       nb, nl, nb.getF32FloatAttr(double(width))));
               Value eps = arith::ConstantOp::create(
                   nb, nl, nb.getF32FloatAttr(epsilon));
               Value inv = math::RsqrtOp::create(
                   nb, nl, arith::AddFOp::create(nb, nl, mean, eps));
               Value scaled = arith::MulFOp::create(nb, nl, z, inv);
               Value idx = linalg::IndexOp::create(nb, nl, rank - 1);
               Value limit = arith::ConstantIndexOp::create(nb, nl, width);
               Value inPrefix = arith::CmpIOp::create(
                   nb, nl, arith::CmpIPredicate::ult, idx, limit);
               Value out = arith::SelectOp::create(nb, nl, inPrefix, scaled, z);
               linalg::YieldOp::create(
                   nb, nl, castTo(nb, nl, out, type.getElementType()));
             })
      .getResult(0);
}

Value mlir::tucker::buildAddBias(OpBuilder &b, Location loc, Value input,
                                 Value bias) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  Type f32 = b.getF32Type();
  Value init = tensor::EmptyOp::create(b, loc, mixedSizes(b, loc, input),
                                       type.getElementType());
  AffineMap full = b.getMultiDimIdentityMap(rank);
  AffineMap last = AffineMap::get(rank, 0, b.getAffineDimExpr(rank - 1));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{input, bias}, init,
             ArrayRef<AffineMap>{full, last, full}, iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value sum = arith::AddFOp::create(
                   nb, nl, castTo(nb, nl, args[0], f32),
                   castTo(nb, nl, args[1], f32));
               linalg::YieldOp::create(
                   nb, nl, castTo(nb, nl, sum, type.getElementType()));
             })
      .getResult(0);
}

Value mlir::tucker::buildAppend(OpBuilder &b, Location loc, Value input,
                                int64_t dim, double fill, Value slice) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> sizes = mixedSizes(b, loc, input);
  sizes[dim] = b.getIndexAttr(type.getDimSize(dim) + 1);
  Value init = tensor::EmptyOp::create(b, loc, sizes, type.getElementType());
  Value value = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type.getElementType(), fill));
  init = linalg::FillOp::create(b, loc, value, init).getResult(0);
  SmallVector<OpFoldResult> zeros(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(type.getRank(), b.getIndexAttr(1));
  Value out = tensor::InsertSliceOp::create(b, loc, input, init, zeros,
                                            mixedSizes(b, loc, input), ones);
  if (!slice)
    return out;
  // The new entries: `slice` with a unit dim at `dim`.
  SmallVector<OpFoldResult> offsets = zeros;
  offsets[dim] = b.getIndexAttr(type.getDimSize(dim));
  SmallVector<OpFoldResult> sliceSizes = mixedSizes(b, loc, input);
  sliceSizes[dim] = b.getIndexAttr(1);
  return tensor::InsertSliceOp::create(b, loc, slice, out, offsets, sliceSizes,
                                       ones);
}

Value mlir::tucker::buildSliceLastDim(OpBuilder &b, Location loc, Value input,
                                      int64_t offset, int64_t size) {
  auto type = cast<RankedTensorType>(input.getType());
  if (offset == 0 && type.getShape().back() == size)
    return input;
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  offsets.back() = b.getIndexAttr(offset);
  SmallVector<OpFoldResult> sizes = mixedSizes(b, loc, input);
  sizes.back() = b.getIndexAttr(size);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, input, offsets, sizes, strides);
}

Value mlir::tucker::buildSplitLastDim(OpBuilder &b, Location loc, Value input,
                                      int64_t inner) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  int64_t outer = shape.back() / inner;
  shape.back() = outer;
  shape.push_back(inner);
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t i = 0; i < rank - 1; ++i)
    reassoc.push_back({i});
  reassoc.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> outSizes = mixedSizes(b, loc, input);
  outSizes.back() = b.getIndexAttr(outer);
  outSizes.push_back(b.getIndexAttr(inner));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input,
      reassoc, outSizes);
}

Value mlir::tucker::buildMergeLastDims(OpBuilder &b, Location loc,
                                       Value input) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t i = 0; i < rank - 2; ++i)
    reassoc.push_back({i});
  reassoc.push_back({rank - 2, rank - 1});
  return tensor::CollapseShapeOp::create(b, loc, input, reassoc);
}

Value mlir::tucker::buildInsertUnitDim1(OpBuilder &b, Location loc,
                                        Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + 1, 1);
  SmallVector<ReassociationIndices> reassoc = {{0, 1}};
  for (int64_t i = 1; i < rank; ++i)
    reassoc.push_back({i + 1});
  SmallVector<OpFoldResult> outSizes = mixedSizes(b, loc, input);
  outSizes.insert(outSizes.begin() + 1, b.getIndexAttr(1));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), input,
      reassoc, outSizes);
}

bool mlir::tucker::isZeroConstant(Value value) {
  DenseElementsAttr dense;
  if (!matchPattern(value, m_Constant(&dense)))
    return false;
  return llvm::all_of(dense.getValues<APFloat>(),
                      [](const APFloat &v) { return v.isZero(); });
}
