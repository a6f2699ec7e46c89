//===- LinalgBuilders.h - linalg building blocks of the rewrites -*- C++ -*-===//
//
// Small builders shared by the tucker rewrites: einsum-style contractions
// accumulated in f32, transposes, RMS norms, biases and identity factors, all
// as linalg ops on tensors.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_DIALECT_TUCKER_UTILS_LINALGBUILDERS_H
#define TUCKER_DIALECT_TUCKER_UTILS_LINALGBUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::tucker {

/// Einstein summation: `spec` such as "bnk,kj->bnj" names one letter per
/// dim of each input and of the result. Inputs are multiplied and summed
/// over the letters missing from the result, in f32; the result has element
/// type `resultElementType`.
Value buildEinsum(OpBuilder &b, Location loc, StringRef spec,
                  ValueRange inputs, Type resultElementType);

/// `input` with its dims permuted: result dim i is input dim `perm[i]`.
Value buildTranspose(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> perm);

/// The n×n identity, built by a linalg.generic (no n² constant).
Value buildIdentity(OpBuilder &b, Location loc, int64_t n, Type elementType);

/// Whether `value` is an identity matrix: a constant one or the generic that
/// buildIdentity makes.
bool isIdentityMatrix(Value value);

/// Divides the first `width` entries of the last dim by their RMS
/// (`sqrt(mean(z²) + epsilon)`, computed in f32); other entries pass.
Value buildRmsNormPrefix(OpBuilder &b, Location loc, Value input,
                         double epsilon, int64_t width);

/// `input + bias`, the 1-D bias broadcast over all but the last dim.
Value buildAddBias(OpBuilder &b, Location loc, Value input, Value bias);

/// `input` with one more entry along the static dim `dim`: the new
/// entries are `fill`, or `slice` when given (input's shape without `dim`;
/// a rank-reduced insert).
Value buildAppend(OpBuilder &b, Location loc, Value input, int64_t dim,
                  double fill, Value slice = Value());

/// Entries `[offset, offset + size)` of the last dim.
Value buildSliceLastDim(OpBuilder &b, Location loc, Value input,
                        int64_t offset, int64_t size);

/// Splits the last dim into `[size / inner, inner]`.
Value buildSplitLastDim(OpBuilder &b, Location loc, Value input,
                        int64_t inner);

/// Merges the last two dims.
Value buildMergeLastDims(OpBuilder &b, Location loc, Value input);

/// Inserts the second dim of size 1: `[A, ...] -> [A, 1, ...]`.
Value buildInsertUnitDim1(OpBuilder &b, Location loc, Value input);

/// Whether `value` is a constant whose entries are all zero.
bool isZeroConstant(Value value);

} // namespace mlir::tucker

#endif // TUCKER_DIALECT_TUCKER_UTILS_LINALGBUILDERS_H
