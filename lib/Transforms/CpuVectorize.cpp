//===- CpuVectorize.cpp - Register-tiled vector code for linalg -----------===//
//
// --tucker-cpu-vectorize (Passes.td has the contract): every linalg op on
// tensors whose maps are projected permutations is tiled (scf::tileUsingSCF)
// to a vector-sized tile, the loops whose extent the tile does not divide
// are peeled (scf::peelForLoopAndSimplifyBounds) and what they leave is
// tiled by 1 along the dims still dynamic, so that every tile is static;
// linalg::vectorize turns the tiles into vector ops, and the upstream vector
// patterns take those to FMAs, loads and stores of one register row:
// reductions of products become vector.contract, n-D vectors are unrolled
// to rows, the accumulator rows move out of the reduction loop
// (hoistLoopInvariantSubsets) and the contractions become outer products,
// then vector.fma. f32 exp and exp2 become the upstream polynomial
// approximation (vectorizable; libm's are scalar calls).
//
// The tile of an op: one dim is the vector dim (the loop that is innermost
// in most of the op's operands, weighted by rank, a parallel one on ties),
// tiled by a few registers' worth of lanes; an op with reductions along a
// parallel vector dim also gets a row dim (a parallel dim of the output that
// an input with the vector dim lacks, so that one vector of that input
// serves every row) tiled by the register rows; every other dim is tiled by
// 1, reductions innermost. A matmul thus becomes the register-blocked
// kernel: per reduction step, one row of B (vector loads), one broadcast
// element of A per row, rows × vectors FMAs into accumulators that stay in
// registers for the whole reduction.
//
//===----------------------------------------------------------------------===//

#include "tucker/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/VectorInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/TargetParser/Host.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERCPUVECTORIZEPASS
#include "tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

/// Marks the tiles that are to be vectorized.
constexpr StringLiteral kTileMarker = "__tucker_vector_tile";

/// The registers of the target.
struct Target {
  int64_t lanes;     // f32 lanes of one vector register
  int64_t registers; // vector registers
};

Target hostTarget() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](StringRef name) {
    auto it = features.find(name);
    return it != features.end() && it->second;
  };
  if (has("avx512f"))
    return {16, 32};
  if (has("avx"))
    return {8, 16};
  return {4, 16};
}

Target targetFor(int64_t vectorBits) {
  if (vectorBits <= 0)
    return hostTarget();
  int64_t lanes = std::max<int64_t>(vectorBits / 32, 1);
  return {lanes, vectorBits >= 512 ? 32 : 16};
}

/// How an op is tiled: a tile size per loop (0: untiled), the order of the
/// tile loops, and which loops need peeling.
struct TilePlan {
  SmallVector<int64_t> tiles;
  SmallVector<int64_t> order;
  SmallVector<bool> peel;
};

/// Whether the body only holds ops the vectorizer turns into vector ops.
bool hasVectorizableBody(linalg::LinalgOp op) {
  for (Operation &inner : op.getBlock()->without_terminator()) {
    if (inner.getNumRegions() != 0)
      return false;
    if (!isa<arith::ArithDialect, math::MathDialect>(inner.getDialect()) &&
        !isa<linalg::IndexOp>(inner))
      return false;
  }
  return true;
}

bool isVectorElementType(Type type) {
  return isa<FloatType, IntegerType, IndexType>(type);
}

/// The largest tile that divides a static `extent` among `limit`, `limit`
/// minus a few, and the powers of two below; `extent` itself when it fits.
int64_t staticTile(int64_t extent, int64_t limit, int64_t floor) {
  if (extent <= limit)
    return extent;
  for (int64_t t = limit; t >= floor; --t)
    if (extent % t == 0)
      return t;
  return limit;
}

/// Whether the pass takes `op`: linalg on buffers with projected
/// permutation maps, float results and an arith/math body.
bool isCandidate(linalg::LinalgOp op) {
  if (op.getNumLoops() == 0 || op.getNumDpsInits() == 0 ||
      !op.hasPureBufferSemantics())
    return false;
  if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return map.isProjectedPermutation(/*allowZeroInResults=*/false);
      }))
    return false;
  for (Value init : op.getDpsInits())
    if (!isa<FloatType>(getElementTypeOrSelf(init.getType())))
      return false;
  for (OpOperand &operand : op->getOpOperands())
    if (!isVectorElementType(getElementTypeOrSelf(operand.get().getType())))
      return false;
  return hasVectorizableBody(op);
}

/// The innermost dim of `map`'s results (a projected permutation), or -1.
int64_t innermostDim(AffineMap map) {
  if (map.getNumResults() == 0)
    return -1;
  return cast<AffineDimExpr>(map.getResults().back()).getPosition();
}

/// For a product of two inputs (linalg::inferContractionDims): the
/// output's innermost dim, which is the vector dim of its register tile,
/// when it is one of the product's m or n dims; else -1.
int64_t productVectorDim(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return -1;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims))
    return -1;
  int64_t inner =
      innermostDim(op.getMatchingIndexingMap(op.getDpsInitOperand(0)));
  if (inner < 0 || (!llvm::is_contained(dims->m, inner) &&
                    !llvm::is_contained(dims->n, inner)))
    return -1;
  return inner;
}

/// Packs the inputs of a product in which its vector dim is not innermost
/// (a weight stored [N, K] for x·Wᵀ): a transposed copy with that dim last,
/// which the product then reads through the permuted map, so that its
/// register tile loads whole rows. The copy costs one pass over the input
/// per call, against the product's |M| passes over it.
void packProductInputs(RewriterBase &rewriter, linalg::GenericOp op) {
  int64_t vectorDim = productVectorDim(op);
  if (vectorDim < 0)
    return;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool changed = false;
  Location loc = op.getLoc();
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = maps[input->getOperandNumber()];
    std::optional<unsigned> pos =
        map.getResultPosition(rewriter.getAffineDimExpr(vectorDim));
    if (!pos || *pos + 1 == map.getNumResults())
      continue;
    auto type = dyn_cast<MemRefType>(input->get().getType());
    if (!type)
      continue;
    // The source dims in their new order: the vector dim moves last.
    SmallVector<int64_t> perm;
    for (unsigned d = 0; d < map.getNumResults(); ++d)
      if (d != *pos)
        perm.push_back(d);
    perm.push_back(*pos);
    rewriter.setInsertionPoint(op);
    SmallVector<OpFoldResult> sizes =
        memref::getMixedSizes(rewriter, loc, input->get());
    SmallVector<OpFoldResult> packedSizes;
    for (int64_t d : perm)
      packedSizes.push_back(sizes[d]);
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamic;
    dispatchIndexOpFoldResults(packedSizes, dynamic, shape);
    auto packed = memref::AllocOp::create(
        rewriter, loc, MemRefType::get(shape, type.getElementType()), dynamic,
        rewriter.getI64IntegerAttr(64));
    linalg::TransposeOp::create(rewriter, loc, input->get(), packed, perm);
    rewriter.setInsertionPointAfter(op);
    memref::DeallocOp::create(rewriter, loc, packed);
    SmallVector<AffineExpr> results;
    for (int64_t d : perm)
      results.push_back(map.getResult(d));
    maps[input->getOperandNumber()] =
        AffineMap::get(map.getNumDims(), 0, results, op.getContext());
    rewriter.modifyOpInPlace(op, [&] { input->set(packed); });
    changed = true;
  }
  if (changed)
    rewriter.modifyOpInPlace(op, [&] {
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
}

std::optional<TilePlan> planTiles(linalg::LinalgOp op, const Target &target) {
  if (!isCandidate(op))
    return std::nullopt;
  int64_t loops = op.getNumLoops();

  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto isParallel = [&](int64_t d) {
    return iterators[d] == utils::IteratorType::parallel;
  };

  // The vector dim: a product's output innermost dim; for other ops, the
  // dim innermost in most operands, weighted by their rank.
  int64_t vectorDim = productVectorDim(op);
  if (vectorDim < 0) {
    SmallVector<int64_t> score(loops, 0);
    for (AffineMap map : op.getIndexingMapsArray())
      if (int64_t d = innermostDim(map); d >= 0)
        score[d] += map.getNumResults();
    for (int64_t d = 0; d < loops; ++d) {
      if (score[d] == 0)
        continue;
      if (vectorDim < 0 || score[d] > score[vectorDim] ||
          (score[d] == score[vectorDim] &&
           (isParallel(d) || !isParallel(vectorDim))))
        vectorDim = d;
    }
  }
  if (vectorDim < 0)
    return std::nullopt;
  // A 16-bit operand that has the vector dim but not innermost would move
  // with a stride: the vector lowering gathers it element by element, a
  // loop of dynamic-index inserts that LLVM 22's x86 backend cannot select
  // for bf16 vectors at -O1 and -O2. Such ops (bf16 transposes, the packing
  // copies above) stay scalar loops.
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    Type element = getElementTypeOrSelf(operand.get().getType());
    if (element.isIntOrFloat() && element.getIntOrFloatBitWidth() == 16 &&
        map.isFunctionOfDim(vectorDim) && innermostDim(map) != vectorDim)
      return std::nullopt;
  }

  bool hasReduction = llvm::any_of(iterators, [](utils::IteratorType t) {
    return t == utils::IteratorType::reduction;
  });
  bool registerBlocked = hasReduction && isParallel(vectorDim);

  // The row dim of a register-blocked tile: a parallel dim of the output,
  // read by some input, and absent from an input that has the vector dim.
  int64_t rowDim = -1;
  if (registerBlocked) {
    AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    for (AffineExpr expr : out.getResults()) {
      int64_t d = cast<AffineDimExpr>(expr).getPosition();
      if (d == vectorDim || !isParallel(d) || ranges[d] == 1)
        continue;
      bool reused = false, read = false;
      for (OpOperand *input : op.getDpsInputOperands()) {
        AffineMap map = op.getMatchingIndexingMap(input);
        bool hasRow = map.isFunctionOfDim(d);
        read |= hasRow;
        reused |= !hasRow && map.isFunctionOfDim(vectorDim);
      }
      if (reused && read)
        rowDim = d;
    }
  }

  // Vector tile: two registers' lanes per row for register-blocked tiles
  // (rows × 2 accumulators), four for the others.
  int64_t lanes = target.lanes;
  int64_t vectorTile = registerBlocked ? 2 * lanes : 4 * lanes;
  int64_t rowTile = target.registers >= 32 ? 8 : 6;

  TilePlan plan;
  plan.tiles.assign(loops, 1);
  plan.peel.assign(loops, false);
  auto setTile = [&](int64_t d, int64_t limit, int64_t floor) {
    if (ShapedType::isDynamic(ranges[d])) {
      plan.tiles[d] = limit;
      plan.peel[d] = limit > 1;
      return;
    }
    int64_t t = staticTile(ranges[d], limit, floor);
    plan.tiles[d] = t;
    plan.peel[d] = ranges[d] % t != 0;
  };
  setTile(vectorDim, vectorTile, lanes);
  if (rowDim >= 0)
    setTile(rowDim, rowTile, rowTile / 2);
  // Dims of extent 1 need no loop.
  for (int64_t d = 0; d < loops; ++d)
    if (ranges[d] == 1)
      plan.tiles[d] = 0;

  // Loop order: parallel dims, the row dim, the vector dim (when parallel),
  // then the reductions.
  for (int64_t d = 0; d < loops; ++d)
    if (isParallel(d) && d != rowDim && d != vectorDim)
      plan.order.push_back(d);
  if (rowDim >= 0)
    plan.order.push_back(rowDim);
  if (isParallel(vectorDim))
    plan.order.push_back(vectorDim);
  for (int64_t d = 0; d < loops; ++d)
    if (!isParallel(d) && d != vectorDim)
      plan.order.push_back(d);
  if (!isParallel(vectorDim))
    plan.order.push_back(vectorDim);
  return plan;
}

/// Tiles `op` as `plan` says and peels the loops that need it; marks the
/// tiled ops.
LogicalResult tileAndPeel(RewriterBase &rewriter, linalg::LinalgOp op,
                          const TilePlan &plan) {
  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(op->getContext(), plan.tiles));
  options.setInterchange(plan.order);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  for (Operation *t : tiled->tiledOps)
    t->setAttr(kTileMarker, rewriter.getUnitAttr());
  rewriter.eraseOp(op);

  // The loops follow the order, one per tiled dim.
  SmallVector<scf::ForOp> toPeel;
  unsigned next = 0;
  for (int64_t d : plan.order) {
    if (plan.tiles[d] == 0)
      continue;
    if (next >= tiled->loops.size())
      break;
    auto loop = dyn_cast<scf::ForOp>(tiled->loops[next++].getOperation());
    if (loop && plan.peel[d])
      toPeel.push_back(loop);
  }
  // Innermost first: the outer peel then copies peeled inner loops.
  for (scf::ForOp loop : llvm::reverse(toPeel)) {
    scf::ForOp partial;
    rewriter.setInsertionPoint(loop);
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, loop, partial);
  }
  return success();
}

/// Tiles a marked op that still has dynamic dims by 1 along them.
LogicalResult tileDynamicByOne(RewriterBase &rewriter, linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<int64_t> tiles;
  for (int64_t r : ranges)
    tiles.push_back(ShapedType::isDynamic(r) ? 1 : 0);
  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(op->getContext(), tiles));
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  for (Operation *t : tiled->tiledOps)
    t->setAttr(kTileMarker, rewriter.getUnitAttr());
  rewriter.eraseOp(op);
  return success();
}

/// `shape` with every dim 1 but the innermost one larger than 1.
SmallVector<int64_t> keepInnermost(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> native(shape.size(), 1);
  for (int64_t d = shape.size() - 1; d >= 0; --d)
    if (shape[d] > 1) {
      native[d] = shape[d];
      break;
    }
  return native;
}

/// Unrolls n-D vectors to rows: every dim 1 but the innermost (for a
/// contraction, the innermost dim of its accumulator).
std::optional<SmallVector<int64_t>> rowShape(Operation *op) {
  if (auto contract = dyn_cast<vector::ContractionOp>(op)) {
    std::optional<SmallVector<int64_t>> shape = contract.getShapeForUnroll();
    AffineMap accMap = contract.getIndexingMapsArray()[2];
    if (!shape || accMap.getNumResults() == 0)
      return std::nullopt;
    unsigned keep =
        cast<AffineDimExpr>(accMap.getResults().back()).getPosition();
    // A dot product (one accumulator lane) is left whole.
    if ((*shape)[keep] == 1)
      return std::nullopt;
    SmallVector<int64_t> native(shape->size(), 1);
    native[keep] = (*shape)[keep];
    if (native == *shape)
      return std::nullopt;
    return native;
  }
  auto unrollable = dyn_cast<VectorUnrollOpInterface>(op);
  if (!unrollable)
    return std::nullopt;
  std::optional<SmallVector<int64_t>> shape = unrollable.getShapeForUnroll();
  if (!shape || shape->size() < 2)
    return std::nullopt;
  SmallVector<int64_t> native = keepInnermost(*shape);
  if (native == *shape)
    return std::nullopt;
  return native;
}

/// `index` as a base value plus a constant: a constant (null base), an
/// affine.apply of `x + c` or `c + x` with one operand, or itself plus 0.
std::pair<Value, int64_t> baseAndOffset(Value index) {
  if (std::optional<int64_t> c = getConstantIntValue(index))
    return {Value(), *c};
  auto apply = index.getDefiningOp<affine::AffineApplyOp>();
  if (!apply || apply.getMapOperands().size() != 1)
    return {index, 0};
  auto sum = dyn_cast<AffineBinaryOpExpr>(apply.getAffineMap().getResult(0));
  if (!sum || sum.getKind() != AffineExprKind::Add)
    return {index, 0};
  AffineExpr lhs = sum.getLHS(), rhs = sum.getRHS();
  if (isa<AffineConstantExpr>(lhs))
    std::swap(lhs, rhs);
  auto c = dyn_cast<AffineConstantExpr>(rhs);
  if (!c || !isa<AffineDimExpr, AffineSymbolExpr>(lhs))
    return {index, 0};
  return {apply.getMapOperands()[0], c.getValue()};
}

/// Whether two transfers of the same vector type into the same tensor touch
/// disjoint elements: along some dim of the tensor their indices are one
/// base plus constants at least the vector's extent along that dim apart.
bool provablyDisjoint(vector::TransferWriteOp a, vector::TransferWriteOp b) {
  AffineMap map = a.getPermutationMap();
  SmallVector<int64_t> extent(a.getIndices().size(), 1);
  for (auto [v, expr] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(expr))
      extent[d.getPosition()] = a.getVectorType().getDimSize(v);
  for (auto [d, ia, ib] : llvm::enumerate(a.getIndices(), b.getIndices())) {
    auto [baseA, offA] = baseAndOffset(ia);
    auto [baseB, offB] = baseAndOffset(ib);
    if (baseA == baseB && std::abs(offA - offB) >= extent[d])
      return true;
  }
  return false;
}

/// The memref a transfer reads or writes, through subviews and casts.
Value rootMemref(Value memref) {
  while (Operation *def = memref.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      memref = view.getViewSource();
    else if (auto cast = dyn_cast<memref::CastOp>(def))
      memref = cast.getSource();
    else
      break;
  }
  return memref;
}

/// Moves the accumulators of a reduction loop into registers: where the
/// body reads vectors of a memref defined outside the loop at loop-invariant
/// indices and writes them back, updated, at the same indices, and nothing
/// else in the loop touches that memref or writes any memory, the reads
/// move before the loop, the vectors travel as iter_args and the writes
/// move after it. The pairs must be provably disjoint (the rows of one
/// register tile). Upstream's hoistRedundantVectorTransfers refuses
/// transfers on views and any other use of the memref in the function, and
/// hoistLoopInvariantSubsets (tensors) asks a Presburger solver about every
/// pair of subsets.
void hoistAccumulators(RewriterBase &rewriter, scf::ForOp loop) {
  Block *body = loop.getBody();
  SmallVector<vector::TransferWriteOp> writes;
  bool ok = true;
  loop.walk([&](Operation *op) {
    if (op == loop.getOperation())
      return WalkResult::advance();
    auto write = dyn_cast<vector::TransferWriteOp>(op);
    if (write && write->getBlock() == body && !write.getMask() &&
        isa<MemRefType>(write.getBase().getType()) &&
        loop.isDefinedOutsideOfLoop(write.getBase()) &&
        llvm::all_of(write.getIndices(), [&](Value index) {
          return loop.isDefinedOutsideOfLoop(index);
        })) {
      writes.push_back(write);
      return WalkResult::advance();
    }
    // Any other write (or an op with unknown effects) keeps everything.
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if ((!effects && !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()) ||
        (effects && effects.hasEffect<MemoryEffects::Write>())) {
      ok = false;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!ok || writes.empty())
    return;

  // Per written memref: its reads in the loop, each the match of a write.
  SmallVector<std::pair<vector::TransferReadOp, vector::TransferWriteOp>> pairs;
  llvm::SmallDenseSet<Value> roots;
  for (vector::TransferWriteOp w : writes)
    roots.insert(rootMemref(w.getBase()));
  SmallVector<vector::TransferReadOp> reads;
  loop.walk([&](vector::TransferReadOp read) {
    if (roots.contains(rootMemref(read.getBase())))
      reads.push_back(read);
  });
  for (vector::TransferReadOp read : reads) {
    auto match = llvm::find_if(writes, [&](vector::TransferWriteOp w) {
      return w.getBase() == read.getBase() &&
             w.getIndices() == read.getIndices() &&
             w.getVectorType() == read.getVectorType() &&
             w.getPermutationMap() == read.getPermutationMap() &&
             w.getInBounds() == read.getInBounds();
    });
    if (read->getBlock() != body || read.getMask() || match == writes.end() ||
        !read->isBeforeInBlock(*match) ||
        llvm::any_of(pairs, [&](auto &p) { return p.second == *match; }))
      return;
    pairs.emplace_back(read, *match);
  }
  if (pairs.size() != writes.size())
    return;
  for (unsigned a = 0; a < writes.size(); ++a)
    for (unsigned b = a + 1; b < writes.size(); ++b)
      if (rootMemref(writes[a].getBase()) == rootMemref(writes[b].getBase()) &&
          (writes[a].getBase() != writes[b].getBase() ||
           !provablyDisjoint(writes[a], writes[b])))
        return;

  // Reads before the loop, the vectors as iter_args, writes after it.
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> inits;
  for (auto &[read, write] : pairs)
    inits.push_back(rewriter.clone(*read)->getResult(0));
  FailureOr<LoopLikeOpInterface> replaced =
      cast<LoopLikeOpInterface>(loop.getOperation())
          .replaceWithAdditionalYields(
              rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
              [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                SmallVector<Value> vectors;
                for (auto &[read, write] : pairs)
                  vectors.push_back(write.getVector());
                return vectors;
              });
  if (failed(replaced))
    return;
  auto newLoop = cast<scf::ForOp>(replaced->getOperation());
  unsigned first = newLoop.getNumRegionIterArgs() - pairs.size();
  rewriter.setInsertionPointAfter(newLoop);
  for (auto [k, pair] : llvm::enumerate(pairs)) {
    auto [read, write] = pair;
    rewriter.replaceOp(read, newLoop.getRegionIterArgs()[first + k]);
    vector::TransferWriteOp::create(
        rewriter, write.getLoc(), newLoop.getResult(first + k), write.getBase(),
        write.getIndices(), write.getPermutationMapAttr(),
        write.getInBoundsAttr());
    rewriter.eraseOp(write);
  }
}

/// A contraction whose parallel dims all have extent 1 (a dot product of
/// two vectors, as a tile that reduces along its vector dim leaves it):
/// the product of the operands flattened, then one horizontal sum into the
/// accumulator. (The outer-product lowering would make it a chain of
/// scalar FMAs, and for some operand layouts not terminate with the
/// canonicalizations.) Both operands must read every reduction dim, in the
/// same order.
LogicalResult dotToReduction(RewriterBase &rewriter, vector::ContractionOp op) {
  if (op.getKind() != vector::CombiningKind::ADD)
    return failure();
  Type elementType = getElementTypeOrSelf(op.getAccType());
  if (!isa<FloatType>(elementType))
    return failure();
  std::optional<SmallVector<int64_t>> shape = op.getShapeForUnroll();
  if (!shape)
    return failure();
  SmallVector<vector::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> reductions;
  int64_t elements = 1;
  for (auto [d, t] : llvm::enumerate(iterators)) {
    if (t == vector::IteratorType::parallel) {
      if ((*shape)[d] != 1)
        return failure();
    } else {
      reductions.push_back(d);
      elements *= (*shape)[d];
    }
  }
  auto readsAllInOrder = [&](AffineMap map) {
    SmallVector<unsigned> seen;
    for (AffineExpr e : map.getResults())
      if (auto d = dyn_cast<AffineDimExpr>(e);
          d && iterators[d.getPosition()] == vector::IteratorType::reduction)
        seen.push_back(d.getPosition());
    return seen == reductions;
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (reductions.empty() || !readsAllInOrder(maps[0]) ||
      !readsAllInOrder(maps[1]))
    return failure();

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto flat = VectorType::get({elements}, elementType);
  auto flatten = [&](Value v) -> Value {
    auto type = cast<VectorType>(v.getType());
    Value cast = vector::ShapeCastOp::create(
        rewriter, loc, VectorType::get({elements}, type.getElementType()), v);
    if (type.getElementType() != elementType)
      cast = arith::ExtFOp::create(rewriter, loc, flat, cast);
    return cast;
  };
  Value product = arith::MulFOp::create(rewriter, loc, flatten(op.getLhs()),
                                        flatten(op.getRhs()));
  Value acc = op.getAcc();
  if (auto accType = dyn_cast<VectorType>(acc.getType())) {
    acc = vector::ShapeCastOp::create(rewriter, loc,
                                      VectorType::get({1}, elementType), acc);
    acc = vector::ExtractOp::create(rewriter, loc, acc, ArrayRef<int64_t>{0});
  }
  Value sum = vector::ReductionOp::create(
      rewriter, loc, vector::CombiningKind::ADD, product, acc);
  if (auto accType = dyn_cast<VectorType>(op.getAccType()))
    sum = vector::BroadcastOp::create(rewriter, loc, accType, sum);
  rewriter.replaceOp(op, sum);
  return success();
}

struct TuckerCpuVectorizePass
    : tucker::impl::TuckerCpuVectorizePassBase<TuckerCpuVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    Target target = targetFor(vectorBits);
    IRRewriter rewriter(ctx);

    // 0. Products read their weights in rows of the vector dim.
    SmallVector<linalg::GenericOp> generics;
    func.walk([&](linalg::GenericOp op) {
      if (isCandidate(op))
        generics.push_back(op);
    });
    for (linalg::GenericOp op : generics)
      packProductInputs(rewriter, op);

    // 1. Tile and peel.
    SmallVector<std::pair<linalg::LinalgOp, TilePlan>> planned;
    func.walk([&](linalg::LinalgOp op) {
      if (std::optional<TilePlan> plan = planTiles(op, target))
        planned.emplace_back(op, std::move(*plan));
    });
    for (auto &[op, plan] : planned)
      (void)tileAndPeel(rewriter, op, plan);
    if (failed(cleanup(func)))
      return signalPassFailure();

    // 2. What peeling left dynamic: tiles of 1 along those dims.
    SmallVector<linalg::LinalgOp> dynamicTiles;
    func.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kTileMarker) && op.hasDynamicShape())
        dynamicTiles.push_back(op);
    });
    for (linalg::LinalgOp op : dynamicTiles)
      (void)tileDynamicByOne(rewriter, op);
    if (!dynamicTiles.empty() && failed(cleanup(func)))
      return signalPassFailure();

    // 3. Static tiles to vector ops.
    SmallVector<linalg::LinalgOp> tiles;
    func.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kTileMarker))
        tiles.push_back(op);
    });
    for (linalg::LinalgOp op : tiles) {
      op->removeAttr(kTileMarker);
      if (op.hasDynamicShape())
        continue;
      // Tiling offsets linalg.index by the tile's position with
      // affine.apply, which the vectorizer does not take: arith instead.
      SmallVector<affine::AffineApplyOp> applies;
      op->walk([&](affine::AffineApplyOp apply) { applies.push_back(apply); });
      for (affine::AffineApplyOp apply : applies) {
        rewriter.setInsertionPoint(apply);
        std::optional<SmallVector<Value, 8>> expanded = affine::expandAffineMap(
            rewriter, apply.getLoc(), apply.getAffineMap(),
            llvm::to_vector_of<Value, 8>(apply.getMapOperands()));
        if (expanded)
          rewriter.replaceOp(apply, *expanded);
      }
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> result =
          linalg::vectorize(rewriter, op);
      if (succeeded(result))
        rewriter.eraseOp(op);
    }

    // 4. Products as contractions, n-D vectors unrolled to rows, unit dims
    //    dropped. (The greedy rewrites may stop at their iteration limit:
    //    what they leave is still valid, only less folded.)
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorReductionToContractPatterns(patterns);
      // Casts (bf16 operands) before their broadcasts, so that the products
      // of broadcast operands still form contractions.
      vector::populateSinkVectorOpsPatterns(patterns);
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      addCanonicalizations(patterns);
      (void)applyPatternsGreedily(func, std::move(patterns));
    }
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorUnrollPatterns(
          patterns, vector::UnrollVectorOptions().setNativeShapeFn(rowShape));
      (void)applyPatternsGreedily(func, std::move(patterns));
    }
    {
      RewritePatternSet patterns(ctx);
      vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
      vector::populateVectorTransferDropUnitDimsPatterns(patterns);
      vector::populateDropUnitDimWithShapeCastPatterns(patterns);
      addCanonicalizations(patterns);
      (void)applyPatternsGreedily(func, std::move(patterns));
    }

    // 5. Accumulators out of their reduction loops, innermost loops first.
    if (failed(cleanup(func)))
      return signalPassFailure();
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops) {
      // Index arithmetic and views first (the accumulators' addresses),
      // nothing that reads or writes memory.
      auto loopLike = cast<LoopLikeOpInterface>(loop.getOperation());
      moveLoopInvariantCode(
          loopLike.getLoopRegions(),
          [&](Value value, Region *) {
            return loopLike.isDefinedOutsideOfLoop(value);
          },
          [&](Operation *op, Region *) {
            return isPure(op) && op->getNumRegions() == 0 &&
                   (isa<ViewLikeOpInterface>(op) ||
                    llvm::all_of(op->getResultTypes(), [](Type type) {
                      return type.isIntOrIndex();
                    }));
          },
          [&](Operation *op, Region *) { loopLike.moveOutOfLoop(op); });
      hoistAccumulators(rewriter, loop);
    }

    // 6. Contractions to FMAs (dot products to horizontal sums),
    //    reductions to horizontal reductions, the rest of the vector ops to
    //    what the LLVM conversion takes; exp.
    SmallVector<vector::ContractionOp> contractions;
    func.walk([&](vector::ContractionOp op) { contractions.push_back(op); });
    for (vector::ContractionOp op : contractions)
      (void)dotToReduction(rewriter, op);
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorContractLoweringPatterns(
          patterns, vector::VectorContractLowering::OuterProduct);
      vector::populateVectorOuterProductLoweringPatterns(patterns);
      vector::populateVectorMultiReductionLoweringPatterns(
          patterns, vector::VectorMultiReductionLowering::InnerReduction);
      vector::populateVectorBroadcastLoweringPatterns(patterns);
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
      // (Transposes and shape casts are left to convert-vector-to-llvm:
      // their lowerings and the canonicalizations undo each other.)
      math::populateExpansionPatterns(patterns, {"exp2"});
      populateMathPolynomialApproximationPatterns(
          patterns, [](StringRef name) { return name == "math.exp"; });
      addCanonicalizations(patterns);
      (void)applyPatternsGreedily(func, std::move(patterns));
    }
    if (failed(cleanup(func)))
      return signalPassFailure();
  }

  /// Canonicalization patterns of the ops the rewrites touch.
  void addCanonicalizations(RewritePatternSet &patterns) {
    MLIRContext *ctx = patterns.getContext();
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, ctx);
  }

  LogicalResult cleanup(func::FuncOp func) {
    OpPassManager pm(func::FuncOp::getOperationName());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    return runPipeline(pm, func);
  }
};

} // namespace
