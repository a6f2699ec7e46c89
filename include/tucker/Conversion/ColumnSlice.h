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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
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

/// The strided view of `sourceBuffer` (the identity-layout buffer of the
/// slice's source) that `slice` is.
inline Value columnSliceView(OpBuilder &b, Location loc,
                             tensor::ExtractSliceOp slice, Value sourceBuffer) {
  auto type = memref::SubViewOp::inferResultType(
      cast<MemRefType>(sourceBuffer.getType()), slice.getStaticOffsets(),
      slice.getStaticSizes(), slice.getStaticStrides());
  return memref::SubViewOp::create(b, loc, type, sourceBuffer,
                                   slice.getMixedOffsets(),
                                   slice.getMixedSizes(),
                                   slice.getMixedStrides());
}

/// The address (an index) of `buffer`'s first element: its aligned pointer,
/// plus its offset when it is a view.
inline Value firstElementAddress(OpBuilder &b, Location loc, Value buffer) {
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getLayout().isIdentity())
    return address;
  Value offset =
      memref::ExtractStridedMetadataOp::create(b, loc, buffer).getOffset();
  Value bytes = arith::MulIOp::create(
      b, loc, offset,
      arith::ConstantIndexOp::create(b, loc, type.getElementTypeBitWidth() / 8));
  return arith::AddIOp::create(b, loc, address, bytes);
}

} // namespace mlir::tucker

#endif // TUCKER_CONVERSION_COLUMNSLICE_H
