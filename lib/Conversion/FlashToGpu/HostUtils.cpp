//===- HostUtils.cpp - Host-side pieces of the flash launchers ------------===//

#include "HostUtils.h"
#include "FlashKernelSpec.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "tucker/Conversion/ColumnSlice.h"

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

MemRefType mlir::tucker::flash_to_gpu::bufferType(Type tensorType) {
  auto type = cast<RankedTensorType>(tensorType);
  return MemRefType::get(type.getShape(), type.getElementType());
}

Value mlir::tucker::flash_to_gpu::createTensorMap(
    OpBuilder &b, Location loc, Value buffer, int64_t rows, int64_t heads,
    llvm::function_ref<Value(int64_t)> index) {
  auto type = cast<MemRefType>(buffer.getType());
  Type element = type.getElementType();
  auto unranked = UnrankedMemRefType::get(element, /*memorySpace=*/0);
  Value cast = memref::CastOp::create(b, loc, unranked, buffer);
  auto box =
      MemRefType::get({1, heads, rows, FlashTiling::kChunk}, element,
                      MemRefLayoutAttrInterface(), b.getI64IntegerAttr(3));
  auto mapType = nvgpu::TensorMapDescriptorType::get(
      b.getContext(), box, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_128B,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
  SmallVector<Value> boxSizes;
  for (int64_t size : box.getShape())
    boxSizes.push_back(index(size));
  Value map =
      nvgpu::TmaCreateDescriptorOp::create(b, loc, mapType, cast, boxSizes);
  // The kernel takes the map as a pointer (a tensormap-typed gpu.func
  // parameter does not legalize in MLIR 22); after --convert-nvgpu-to-nvvm
  // both sides are !llvm.ptr and the cast folds away.
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  return UnrealizedConversionCastOp::create(b, loc, ptr, map).getResult(0);
}

Value mlir::tucker::flash_to_gpu::dimOf(
    OpBuilder &b, Location loc, Value buffer, int64_t dim,
    llvm::function_ref<Value(int64_t)> index) {
  int64_t size = cast<MemRefType>(buffer.getType()).getDimSize(dim);
  if (!ShapedType::isDynamic(size))
    return index(size);
  return memref::DimOp::create(b, loc, buffer, index(dim));
}

Value mlir::tucker::flash_to_gpu::pointerOf(OpBuilder &b, Location loc,
                                            Value buffer) {
  Value index = firstElementAddress(b, loc, buffer);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
}

OpFoldResult mlir::tucker::flash_to_gpu::fold(Value value) {
  if (std::optional<int64_t> c = getConstantIntValue(value))
    return IntegerAttr::get(IndexType::get(value.getContext()), *c);
  return value;
}
