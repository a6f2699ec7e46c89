//===- MergeProducts.cpp - One product for contractions sharing an input --===//
//
// --tucker-merge-products (Passes.td has the contract): contractions that
// read one tensor A the same way, each against its own B, become one
// contraction against the B's side by side, whose column slices
// (ColumnSlice.h) replace their results. A is read once: in a Tucker layer
// x·U2, x·U3 and x·Ũ3 are three GEMMs over x, each bound by reading x.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERMERGEPRODUCTSPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

/// One product of a group, and the cast merged along with it.
struct Member {
  linalg::LinalgOp op;
  linalg::GenericOp cast; // its result's only user, an elementwise cast
  int64_t width;          // its size along the merged dim
};

/// The loop dim a merge concatenates: innermost in B and in the result,
/// not read by A.
std::optional<unsigned> mergedDim(linalg::LinalgOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto innermost = [](AffineMap map) -> std::optional<unsigned> {
    if (map.getNumResults() == 0)
      return std::nullopt;
    if (auto d = dyn_cast<AffineDimExpr>(map.getResults().back()))
      return d.getPosition();
    return std::nullopt;
  };
  std::optional<unsigned> b = innermost(maps[1]), c = innermost(maps[2]);
  if (!b || b != c || maps[0].isFunctionOfDim(*b))
    return std::nullopt;
  return b;
}

/// A two-input contraction on tensors with a zero-filled init, projected
/// permutation maps and a static B.
bool isCandidate(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return false;
  if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return map.isProjectedPermutation(/*allowZeroInResults=*/false);
      }))
    return false;
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return false;
  auto b = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  return b && b.hasStaticShape() && mergedDim(op);
}

/// An all-parallel one-input generic with identity maps: the cast of a
/// product to its storage type.
linalg::GenericOp castOf(Value result) {
  if (!result.hasOneUse())
    return nullptr;
  auto generic = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return nullptr;
  Block *body = generic.getBody();
  if (body->getOperations().size() != 2)
    return nullptr;
  Operation &op = body->front();
  if (!isa<arith::TruncFOp, arith::ExtFOp>(op) ||
      op.getOperand(0) != body->getArgument(0))
    return nullptr;
  return generic;
}

/// Whether `use` reads a column slice without a copy (ColumnSlice.h).
bool readsSliceInPlace(OpOperand &use) {
  Operation *user = use.getOwner();
  if (isa<tucker::FlashOp>(user))
    return use.getOperandNumber() < 3; // q, k, v: TMA
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(user))
    return llvm::all_of(expand->getUses(), [](OpOperand &u) {
      return isa<tucker::FlashOp>(u.getOwner()) && u.getOperandNumber() < 3;
    });
  auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
  return linalgOp && linalgOp.getNumDpsInputs() == 2 &&
         linalgOp.isDpsInput(&use) &&
         linalg::isaContractionOpInterface(linalgOp);
}

/// `op` as a member of a merge, or nothing when a slice of its result would
/// have to be copied.
std::optional<Member> memberOf(linalg::LinalgOp op) {
  Member m{op, castOf(op->getResult(0)), 0};
  Value read = m.cast ? m.cast->getResult(0) : op->getResult(0);
  if (read.use_empty() || !llvm::all_of(read.getUses(), readsSliceInPlace))
    return std::nullopt;
  m.width = op.getStaticLoopRanges()[*mergedDim(op)];
  return m;
}

bool sameRegion(Operation *a, Operation *b) {
  return OperationEquivalence::isRegionEquivalentTo(
      &a->getRegion(0), &b->getRegion(0),
      OperationEquivalence::IgnoreLocations);
}

/// Whether `op` can join the group `first` leads: the same A, maps,
/// iterators, body and types, the same loop sizes but the merged dim's, a
/// cast like first's (or none like it), and a B defined before `first`.
bool joins(Member first, Member m, DominanceInfo &dom) {
  linalg::LinalgOp a = first.op, b = m.op;
  if (a->getName() != b->getName() ||
      a.getDpsInputs()[0] != b.getDpsInputs()[0] ||
      a.getIndexingMapsArray() != b.getIndexingMapsArray() ||
      a.getIteratorTypesArray() != b.getIteratorTypesArray() ||
      getElementTypeOrSelf(a.getDpsInputs()[1].getType()) !=
          getElementTypeOrSelf(b.getDpsInputs()[1].getType()) ||
      getElementTypeOrSelf(a->getResult(0).getType()) !=
          getElementTypeOrSelf(b->getResult(0).getType()) ||
      !sameRegion(a, b))
    return false;
  unsigned merged = *mergedDim(a);
  AffineMap aMap = a.getIndexingMapsArray()[0];
  SmallVector<int64_t> sa = a.getStaticLoopRanges(),
                       sb = b.getStaticLoopRanges();
  for (unsigned d = 0; d < sa.size(); ++d) {
    if (d == merged || aMap.isFunctionOfDim(d)) // A's dims: one tensor
      continue;
    if (ShapedType::isDynamic(sa[d]) || sa[d] != sb[d])
      return false;
  }
  if (bool(first.cast) != bool(m.cast) ||
      (m.cast && (getElementTypeOrSelf(first.cast->getResult(0).getType()) !=
                      getElementTypeOrSelf(m.cast->getResult(0).getType()) ||
                  !sameRegion(first.cast, m.cast))))
    return false;
  return dom.properlyDominates(b.getDpsInputs()[1], a);
}

/// Elements of a tensor (a large number when a dim is dynamic).
int64_t elementsOf(Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return type.hasStaticShape() ? type.getNumElements() : int64_t(1) << 40;
}

/// `b` as a constant concatenatedConstant can lay side by side with others:
/// dense, not a splat, whole bytes per element.
DenseElementsAttr foldableConstant(Value b) {
  DenseElementsAttr attr;
  if (!matchPattern(b, m_Constant(&attr)) || attr.isSplat() ||
      attr.getElementType().getIntOrFloatBitWidth() % 8 != 0)
    return nullptr;
  return attr;
}

/// Whether the B copies cost less than the A reads the merge saves (when
/// every B is a dense constant they are concatenated at compile time: no
/// copy; one that is not makes tensor.concat copy them all).
bool pays(ArrayRef<Member> group) {
  if (llvm::all_of(group, [](Member m) {
        return foldableConstant(m.op.getDpsInputs()[1]) != nullptr;
      }))
    return true;
  int64_t copied = 0;
  for (Member m : group)
    copied += 2 * elementsOf(m.op.getDpsInputs()[1]);
  linalg::LinalgOp lead = group.front().op;
  int64_t saved =
      (int64_t(group.size()) - 1) * elementsOf(lead.getDpsInputs()[0]);
  return copied < saved;
}

/// The B's side by side along their last dim as one constant, when every
/// one is a (non-splat) dense constant: weights embedded in the module
/// (`tucker.from_torch`, `tucker.compress`) are then concatenated once, at
/// compile time, instead of by copy kernels on every call.
Value concatenatedConstant(RewriterBase &rewriter, Location loc,
                           ArrayRef<Value> bs, RankedTensorType type) {
  SmallVector<DenseElementsAttr> attrs;
  for (Value b : bs) {
    DenseElementsAttr attr = foldableConstant(b);
    if (!attr)
      return nullptr;
    attrs.push_back(attr);
  }
  unsigned bits = type.getElementTypeBitWidth();
  int64_t rows = type.getNumElements() / type.getShape().back();
  SmallVector<char> bytes;
  bytes.reserve(type.getNumElements() * bits / 8);
  for (int64_t r = 0; r < rows; ++r)
    for (DenseElementsAttr attr : attrs) {
      int64_t row = attr.getType().getShape().back() * bits / 8;
      ArrayRef<char> raw = attr.getRawData();
      bytes.append(raw.begin() + r * row, raw.begin() + (r + 1) * row);
    }
  return arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::getFromRawBuffer(type, bytes));
}

/// Replaces the group by one product (and one cast) at its first member,
/// and each member's result by a column slice.
void merge(RewriterBase &rewriter, ArrayRef<Member> group) {
  Member first = group.front();
  linalg::LinalgOp lead = first.op;
  SmallVector<Location> locs;
  for (Member m : group)
    locs.push_back(m.op.getLoc());
  Location loc = rewriter.getFusedLoc(locs);
  rewriter.setInsertionPoint(lead);

  SmallVector<Value> bs;
  int64_t total = 0;
  for (Member m : group) {
    bs.push_back(m.op.getDpsInputs()[1]);
    total += m.width;
  }
  auto bType = cast<RankedTensorType>(bs.front().getType());
  SmallVector<int64_t> bShape(bType.getShape());
  bShape.back() = total;
  Value concat = concatenatedConstant(
      rewriter, loc, bs, RankedTensorType::get(bShape, bType.getElementType()));
  if (!concat)
    concat = tensor::ConcatOp::create(rewriter, loc, bType.getRank() - 1, bs);

  // The merged result's sizes: the lead's, the last one the sum.
  auto fill = lead.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, fill.getResult(0));
  sizes.back() = rewriter.getIndexAttr(total);
  auto widened = [&](Value like) {
    auto type = cast<RankedTensorType>(like.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = total;
    return RankedTensorType::get(shape, type.getElementType());
  };
  auto initLike = [&](Value like) {
    return tensor::EmptyOp::create(rewriter, loc, sizes,
                                   getElementTypeOrSelf(like.getType()))
        .getResult();
  };
  Value init =
      linalg::FillOp::create(rewriter, loc, fill.getInputs()[0],
                             initLike(lead->getResult(0)))
          .getResult(0);
  Value product =
      clone(rewriter, lead, {widened(lead->getResult(0))},
            {lead.getDpsInputs()[0], concat, init})
          ->getResult(0);
  Value merged = product;
  if (first.cast)
    merged = clone(rewriter, first.cast, {widened(first.cast->getResult(0))},
                   {product, initLike(first.cast->getResult(0))})
                 ->getResult(0);

  int64_t column = 0;
  for (Member m : group) {
    Operation *replaced = m.cast ? m.cast.getOperation() : m.op.getOperation();
    auto type = cast<RankedTensorType>(replaced->getResult(0).getType());
    SmallVector<OpFoldResult> offsets(type.getRank(),
                                      rewriter.getIndexAttr(0));
    offsets.back() = rewriter.getIndexAttr(column);
    SmallVector<OpFoldResult> sliceSizes = sizes;
    sliceSizes.back() = rewriter.getIndexAttr(m.width);
    SmallVector<OpFoldResult> strides(type.getRank(),
                                      rewriter.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, type, merged, offsets, sliceSizes, strides);
    rewriter.replaceOp(replaced, slice);
    if (m.cast)
      rewriter.eraseOp(m.op);
    column += m.width;
  }
}

struct TuckerMergeProductsPass
    : tucker::impl::TuckerMergeProductsPassBase<TuckerMergeProductsPass> {
  void runOnOperation() override {
    DominanceInfo &dom = getAnalysis<DominanceInfo>();
    SmallVector<SmallVector<Member>> groups;
    getOperation()->walk([&](Block *block) {
      if (block->getParentOp()->getParentOfType<gpu::GPUModuleOp>())
        return;
      SmallVector<SmallVector<Member>> open;
      for (Operation &op : *block) {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
        if (!linalgOp || !isCandidate(linalgOp))
          continue;
        std::optional<Member> m = memberOf(linalgOp);
        if (!m)
          continue;
        auto it = llvm::find_if(open, [&](const SmallVector<Member> &g) {
          return joins(g.front(), *m, dom);
        });
        if (it != open.end())
          it->push_back(*m);
        else
          open.push_back({*m});
      }
      for (SmallVector<Member> &g : open)
        if (g.size() > 1 && pays(g))
          groups.push_back(std::move(g));
    });
    IRRewriter rewriter(&getContext());
    for (ArrayRef<Member> g : groups)
      merge(rewriter, g);
  }
};

} // namespace
