//===- RaiseBuild.cpp - recognized operands as the tensors tucker ops take
//-===//
//
// A recognized operand is a base tensor read at an index over leaves; the
// tucker op wants it in its own layout (x [B, N, d], weights [in, out],
// flash heads [B, H, N, D]). materialize() emits the cheapest exact
// re-layout: nothing, a reshape, a transpose, or a copying linalg.generic
// over the leaves followed by a collapse.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::raise;

/// Σ index[i]·stride_i for a row-major `shape`.
static Lin linearIndex(ArrayRef<Lin> index, ArrayRef<int64_t> shape) {
  Lin l;
  int64_t stride = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    l = l + index[i].scaled(stride);
    stride *= shape[i];
  }
  return l;
}

/// `base` reshaped row-major to `shape`: one expand or collapse when the
/// dims regroup, else a collapse to one dim and an expand.
static Value reshape(OpBuilder &b, Location loc, Value base,
                     ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(base.getType());
  auto target = RankedTensorType::get(shape, type.getElementType());
  if (target.getRank() != type.getRank()) {
    bool expand = target.getRank() > type.getRank();
    if (auto groups = getReassociationIndicesForReshape(
            expand ? type : target, expand ? target : type)) {
      if (expand)
        return tensor::ExpandShapeOp::create(b, loc, target, base, *groups);
      return tensor::CollapseShapeOp::create(b, loc, target, base, *groups);
    }
  }
  auto all = [](int64_t rank) {
    ReassociationIndices group;
    for (int64_t i = 0; i < rank; ++i)
      group.push_back(i);
    return SmallVector<ReassociationIndices>{group};
  };
  Value flat = base;
  if (type.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(b, loc, base, all(type.getRank()));
  if (target.getRank() == 1)
    return flat;
  return tensor::ExpandShapeOp::create(b, loc, target, flat,
                                       all(target.getRank()));
}

namespace {
/// The leaf space of a target layout: each target dim's leaves, most
/// significant first; a target dim of size one without leaves gets a unit
/// loop of its own.
struct LeafSpace {
  static constexpr Dim kUnit = ~0u;
  SmallVector<Dim> order;
  SmallVector<int64_t> shape;
  SmallVector<ReassociationIndices> groups;
};
} // namespace

static FailureOr<LeafSpace> leafSpace(Evaluator &ev, ArrayRef<Lin> access,
                                      ArrayRef<int64_t> shape,
                                      ArrayRef<Lin> index) {
  LeafSpace space;
  llvm::DenseSet<Dim> seen;
  for (auto [l, size] : llvm::zip(index, shape)) {
    int64_t extent;
    if (!ev.dims.isMixedRadix(l, extent) || extent != size)
      return failure();
    SmallVector<std::pair<int64_t, Dim>> digits;
    for (auto [d, c] : l.terms)
      digits.push_back({c, d});
    llvm::sort(digits, [](auto &x, auto &y) { return x.first > y.first; });
    ReassociationIndices group;
    for (auto [c, d] : digits) {
      if (!seen.insert(d).second)
        return failure();
      group.push_back(space.order.size());
      space.order.push_back(d);
      space.shape.push_back(ev.dims.size(d));
    }
    if (group.empty()) {
      group.push_back(space.order.size());
      space.order.push_back(LeafSpace::kUnit);
      space.shape.push_back(1);
    }
    space.groups.push_back(group);
  }
  for (const Lin &l : access)
    for (auto [d, c] : l.terms)
      if (!seen.contains(d))
        return failure();
  return space;
}

LogicalResult mlir::tucker::raise::checkLayout(Evaluator &ev,
                                               ArrayRef<Lin> access,
                                               ArrayRef<int64_t> shape,
                                               ArrayRef<Lin> index) {
  SmallVector<Lin> a, i;
  for (const Lin &l : access)
    a.push_back(ev.normalize(l));
  for (const Lin &l : index)
    i.push_back(ev.normalize(l));
  return success(succeeded(leafSpace(ev, a, shape, i)));
}

FailureOr<Value> mlir::tucker::raise::materialize(OpBuilder &b, Location loc,
                                                  Evaluator &ev, Value base,
                                                  ArrayRef<Lin> accessIn,
                                                  ArrayRef<int64_t> shape,
                                                  ArrayRef<Lin> indexIn) {
  auto baseType = cast<RankedTensorType>(base.getType());
  if (!baseType.hasStaticShape())
    return failure();
  SmallVector<Lin> access, index;
  for (const Lin &l : accessIn)
    access.push_back(ev.normalize(l));
  for (const Lin &l : indexIn)
    index.push_back(ev.normalize(l));
  FailureOr<LeafSpace> space = leafSpace(ev, access, shape, index);
  if (failed(space))
    return failure();
  ArrayRef<Dim> order = space->order;
  ArrayRef<int64_t> leafShape = space->shape;

  if (baseType.getShape() == shape && access == index)
    return base;
  if (baseType.getNumElements() == ShapedType::getNumElements(shape) &&
      ev.normalize(linearIndex(access, baseType.getShape())) ==
          ev.normalize(linearIndex(index, shape)))
    return reshape(b, loc, base, shape);
  if (static_cast<size_t>(baseType.getRank()) == shape.size()) {
    SmallVector<int64_t> perm;
    for (const Lin &l : index) {
      auto it = llvm::find(access, l);
      if (it == access.end())
        break;
      perm.push_back(it - access.begin());
    }
    if (perm.size() == shape.size() && isPermutationVector(perm))
      return buildTranspose(b, loc, base, perm);
  }

  // A copy over the leaf space, then a collapse into the target dims.
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> reads;
  for (const Lin &l : access) {
    AffineExpr e = getAffineConstantExpr(l.constant, ctx);
    for (auto [d, c] : l.terms)
      e = e + getAffineDimExpr(llvm::find(order, d) - order.begin(), ctx) * c;
    reads.push_back(e);
  }
  unsigned rank = order.size();
  AffineMap readMap = AffineMap::get(rank, 0, reads, ctx);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  Value init =
      tensor::EmptyOp::create(b, loc, leafShape, baseType.getElementType());
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  Value copy = linalg::GenericOp::create(
                   b, loc, init.getType(), base, init,
                   ArrayRef<AffineMap>{readMap, id}, iterators,
                   [](OpBuilder &nb, Location nl, ValueRange args) {
                     linalg::YieldOp::create(nb, nl, args[0]);
                   })
                   .getResult(0);
  if (leafShape.size() == shape.size())
    return copy;
  return tensor::CollapseShapeOp::create(
             b, loc, RankedTensorType::get(shape, baseType.getElementType()),
             copy, space->groups)
      .getResult();
}
