//===- FlashLowering.h - What the flash lowerings share ---------*- C++ -*-===//
//
// The setup shared by the lowerings of tucker.flash and
// tucker.flash_backward: the sizes of q, k, v (static where any operand
// knows them), the per-sequence key counts of a `lengths` operand, the
// rotation of q and k by `rope`, q as [B, Hkv, G, Nq, D], cached constants,
// index arithmetic that folds when static, and the mask of a score tile.
// Private to lib/Conversion/FlashToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOLINALG_FLASHLOWERING_H
#define TUCKER_LIB_CONVERSION_FLASHTOLINALG_FLASHLOWERING_H

#include "FlashToLinalgUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::tucker::flash_to_linalg {

/// What a flash lowering reads: the forward operands and attributes (of a
/// tucker.flash, or those a tucker.flash_backward repeats), and the output
/// whose sizes complete the operands'.
struct FlashProblem {
  Value q, k, v, lengths, out;
  bool causal;
  double scale;
  RopeAttr rope;
};

/// Checks what the lowerings assume of a verified op; the reason otherwise.
LogicalResult checkLowerable(const FlashProblem &problem, int64_t queryTile,
                             int64_t keyTile, std::string &reason);

class FlashLoweringBase {
protected:
  FlashLoweringBase(PatternRewriter &b, Operation *op,
                    const FlashProblem &problem, int64_t requestedQueryTile,
                    int64_t requestedKeyTile);

  // Constants and index arithmetic (folded when static).
  Value index(int64_t value);
  Value f32(double value);
  Value value(OpFoldResult ofr);
  OpFoldResult add(OpFoldResult x, OpFoldResult y);
  OpFoldResult sub(OpFoldResult x, OpFoldResult y);
  OpFoldResult attr(int64_t value) { return b.getIndexAttr(value); }
  /// `tensor` cast to the static sizes among `sizes` where its type has
  /// dynamic ones (unchanged when nothing is gained).
  Value refine(Value tensor, ArrayRef<OpFoldResult> sizes);
  /// The softmax scale times log2(e): exp(s·x) = exp2(s·log2(e)·x).
  double log2Scale() const;

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
  /// `tensor` ([B, Hq, …]) expanded to [B, Hkv, G, …].
  Value expandHeads(Value tensor, ArrayRef<OpFoldResult> shape);
  /// `tensor` ([B, Hkv, G, …]) collapsed to [B, Hq, …] of type `type`.
  Value collapseHeads(Value tensor, Type type);

  /// In the body of a tile op whose loop 3 is the query row i and loop
  /// `keyDim` the key column j: whether i sees j in a tile whose mask limit
  /// is `limit` (query row i of sequence b sees key column j iff
  /// j <= [i +] limit [+ L_b], i when causal, L_b with lengths); `keyCount`
  /// is L_b, null without lengths.
  Value seesKey(OpBuilder &nb, Location nl, unsigned keyDim, Value limit,
                Value keyCount);

  PatternRewriter &b;
  Location loc;
  MLIRContext *ctx;
  OpBuilder::InsertPoint top;
  llvm::DenseMap<int64_t, Value> indexConstants;
  llvm::DenseMap<uint64_t, Value> f32Constants;

  FlashProblem problem;
  Type elementType;
  int64_t kvHeads, group, qkDim, valueDim;
  OpFoldResult batch, querySeq, keySeq;
  // Per-sequence key counts L_b (index [B]) with lengths, else null; their
  // min and max (Nk without lengths), and those minus Nq.
  Value keyCounts;
  OpFoldResult fewestKeys, mostKeys, fewestDiag, mostDiag;
  int64_t queryTile, keyTile;
  // q as [B, Hkv, G, Nq, D]; k, v; q and k rotated (in f32) under rope.
  Value q5, k, v;
  // Positions of the queries under rope: per sequence [B, Nq] with lengths
  // (m + L_b − Nq), else the offset Nk − Nq of m.
  RopePositions queryRope;

private:
  /// keyCounts, fewestKeys and mostKeys from a lengths operand.
  void countKeys(Value lengths);
  /// Positions [B, Nq] of the queries under rope with lengths: m + L_b − Nq.
  Value queryPositions();
};

/// Adds the tucker.flash_backward lowering.
void populateFlashBackwardToLinalgPatterns(RewritePatternSet &patterns,
                                           int64_t queryTile, int64_t keyTile);

} // namespace mlir::tucker::flash_to_linalg

#endif // TUCKER_LIB_CONVERSION_FLASHTOLINALG_FLASHLOWERING_H
