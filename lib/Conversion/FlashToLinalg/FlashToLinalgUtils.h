//===- FlashToLinalgUtils.h - Helpers of the flash lowering -----*- C++ -*-===//
//
// Small builders shared by the tucker.flash and tucker.rope lowerings: f32
// conversions, filled tensors, linalg.generic with all-parallel loops, and the
// rotary embedding itself (used by both tucker.rope and a flash's `rope`).
// Private to lib/Conversion/FlashToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOLINALG_FLASHTOLINALGUTILS_H
#define TUCKER_LIB_CONVERSION_FLASHTOLINALG_FLASHTOLINALGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"

namespace mlir::tucker::flash_to_linalg {

using BodyFn = function_ref<void(OpBuilder &, Location, ValueRange)>;

/// `value` as f32 (extf from f16/bf16, unchanged when already f32).
Value toF32(OpBuilder &b, Location loc, Value value);

/// f32 `value` as `type` (truncf to f16/bf16, unchanged for f32).
Value fromF32(OpBuilder &b, Location loc, Value value, Type type);

/// An f32 constant.
Value f32Constant(OpBuilder &b, Location loc, double value);

/// A new f32 tensor of `shape` filled with `value`.
Value filledF32(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> shape,
                double value);

/// `map` as an affine map over `numDims` loops.
AffineMap dimsMap(MLIRContext *ctx, unsigned numDims, ArrayRef<unsigned> dims);

/// A linalg.generic with the given maps and iterators whose results have the
/// types of `outs`; returns its results.
SmallVector<Value> buildGeneric(OpBuilder &b, Location loc, ValueRange ins,
                                ValueRange outs, ArrayRef<AffineMap> maps,
                                ArrayRef<utils::IteratorType> iterators,
                                BodyFn body);

/// Where the positions of a rotation come from: an integer tensor `[N]` or
/// `[B, N]` (any signless integer or index type), or, when `positions` is
/// null, the sequence index `n` plus `offset` (an index; null means 0).
struct RopePositions {
  Value positions;
  Value offset;
};

/// Rotates the last dim of `x` (`[B, H, N, D]`) as `rope` describes, at the
/// given positions, as linalg ops: a `cos`/`sin` table of `[N, width/2]`
/// (`[B, N, width/2]` for per-batch positions) computed in f64 and stored in
/// f32, and one elementwise linalg.generic over the rotated pairs, read
/// from `x` through affine indexing maps. Computes in f32; the result has
/// element type `resultType` and the shape of `x`. `inverse` rotates by the
/// opposite angles (the transpose of the rotation: what takes a gradient
/// with respect to rotated vectors back to the vectors before rotation).
Value buildRope(OpBuilder &b, Location loc, Value x, RopeAttr rope,
                RopePositions positions, Type resultType, bool inverse = false);

/// Adds the tucker.rope lowering.
void populateRopeToLinalgPatterns(RewritePatternSet &patterns);

} // namespace mlir::tucker::flash_to_linalg

#endif // TUCKER_LIB_CONVERSION_FLASHTOLINALG_FLASHTOLINALGUTILS_H
