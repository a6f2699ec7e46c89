//===- ColumnSlice.h - Slices the GPU lowerings read in place ---*- C++ -*-===//
//
// A `tensor.extract_slice` that keeps every dim whole but the last, of which
// it takes a run of columns, is a row-major view with its source's row
// pitch: cuBLASLt (a leading dimension) and TMA (a row stride) read it where
// it lies. --tucker-merge-products makes such slices (the columns of one
// merged product), --tucker-gemm-to-runtime and --tucker-flash-to-gpu read
// them without a copy.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_CONVERSION_COLUMNSLICE_H
#define TUCKER_CONVERSION_COLUMNSLICE_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <optional>

namespace mlir::tucker {

/// The first column of `slice` when it is a column slice: unit strides, the
/// source's rank, every dim but the last whole (its static size, or
/// tensor.dim of the source), a static offset in the last.
inline std::optional<int64_t> columnSliceOffset(tensor::ExtractSliceOp slice) {
  auto source = slice.getSourceType();
  int64_t rank = source.getRank();
  if (rank == 0 || slice.getResultType().getRank() != rank)
    return std::nullopt;
  ArrayRef<int64_t> offsets = slice.getStaticOffsets();
  SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
  auto whole = [&](int64_t d) {
    if (std::optional<int64_t> size = getConstantIntValue(sizes[d]))
      return *size == source.getDimSize(d);
    auto dim = cast<Value>(sizes[d]).getDefiningOp<tensor::DimOp>();
    return dim && dim.getSource() == slice.getSource() &&
           getConstantIntValue(dim.getIndex()) == d;
  };
  for (int64_t d = 0; d < rank; ++d) {
    if (slice.getStaticStrides()[d] != 1)
      return std::nullopt;
    if (d + 1 < rank && (offsets[d] != 0 || !whole(d)))
      return std::nullopt;
  }
  if (ShapedType::isDynamic(offsets[rank - 1]))
    return std::nullopt;
  return offsets[rank - 1];
}

/// The column slice `value` is, if it is one.
inline tensor::ExtractSliceOp columnSliceOf(Value value) {
  auto slice = value.getDefiningOp<tensor::ExtractSliceOp>();
  return slice && columnSliceOffset(slice) ? slice : nullptr;
}

} // namespace mlir::tucker

#endif // TUCKER_CONVERSION_COLUMNSLICE_H
