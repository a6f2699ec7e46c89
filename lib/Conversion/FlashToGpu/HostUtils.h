//===- HostUtils.h - Host-side pieces of the flash launchers ----*- C++ -*-===//
//
// Internal to --tucker-flash-to-gpu. What the launchers of the forward
// (FlashHost.cpp) and backward (FlashBackwardHost.cpp) kernels build alike:
// buffer types, TMA tensor maps, device pointers, and index arithmetic that
// folds static shapes to constants.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_HOSTUTILS_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_HOSTUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <algorithm>

namespace mlir::tucker::flash_to_gpu {

/// The identity-layout memref of a ranked tensor type.
MemRefType bufferType(Type tensorType);

/// Tensor map of one [B, H, N, D] buffer: 4-D (D, N, heads, batch)
/// innermost first, box (64, rows, heads, 1), 128-byte swizzle, 128-byte L2
/// promotion, out-of-range elements read as zero; as the !llvm.ptr a kernel
/// takes (nvgpu.tma.create.descriptor, which copies it to device memory).
/// `index` gives index constants.
Value createTensorMap(OpBuilder &b, Location loc, Value buffer, int64_t rows,
                      int64_t heads, llvm::function_ref<Value(int64_t)> index);

/// Size of `dim` of `buffer` as an index (constant when static).
Value dimOf(OpBuilder &b, Location loc, Value buffer, int64_t dim,
            llvm::function_ref<Value(int64_t)> index);

/// The device address of a buffer's first element as an !llvm.ptr.
Value pointerOf(OpBuilder &b, Location loc, Value buffer);

/// `value` as a constant when it is one.
OpFoldResult fold(Value value);

/// Index constants of a launcher, each created once at the start of the
/// builder's block (callable where an index function is taken).
class IndexConstants {
public:
  IndexConstants(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  Value operator()(int64_t value) {
    Value &c = constants[value];
    if (!c) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(b.getBlock());
      c = arith::ConstantIndexOp::create(b, loc, value);
    }
    return c;
  }

private:
  OpBuilder &b;
  Location loc;
  llvm::DenseMap<int64_t, Value> constants;
};

/// Index arithmetic of a launch on OpFoldResults: static shapes give
/// constants computed here, dynamic ones arith ops; `value` materializes a
/// result (constants once each, from `index` when given).
struct IndexMath {
  IndexMath(OpBuilder &b, Location loc,
            llvm::function_ref<Value(int64_t)> index = nullptr)
      : b(b), loc(loc), index(index) {}
  OpBuilder &b;
  Location loc;
  llvm::function_ref<Value(int64_t)> index;
  llvm::DenseMap<int64_t, Value> constants, i32Constants;

  OpFoldResult c(int64_t v) { return b.getIndexAttr(v); }
  Value value(OpFoldResult x) {
    std::optional<int64_t> v = getConstantIntValue(x);
    if (!v)
      return cast<Value>(x);
    if (index)
      return index(*v);
    Value &constant = constants[*v];
    if (!constant)
      constant = arith::ConstantIndexOp::create(b, loc, *v);
    return constant;
  }
  template <typename Op>
  OpFoldResult apply(OpFoldResult x, OpFoldResult y,
                     llvm::function_ref<int64_t(int64_t, int64_t)> fold) {
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    if (cx && cy)
      return c(fold(*cx, *cy));
    return Op::create(b, loc, value(x), value(y)).getResult();
  }
  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    if (isConstantIntValue(y, 1))
      return x;
    if (isConstantIntValue(x, 1))
      return y;
    return apply<arith::MulIOp>(x, y,
                                [](int64_t a, int64_t c) { return a * c; });
  }
  OpFoldResult ceilDiv(OpFoldResult x, OpFoldResult y) {
    return apply<arith::CeilDivUIOp>(
        x, y, [](int64_t a, int64_t c) { return (a + c - 1) / c; });
  }
  OpFoldResult max(OpFoldResult x, OpFoldResult y) {
    return apply<arith::MaxUIOp>(
        x, y, [](int64_t a, int64_t c) { return std::max(a, c); });
  }
  OpFoldResult min(OpFoldResult x, OpFoldResult y) {
    return apply<arith::MinUIOp>(
        x, y, [](int64_t a, int64_t c) { return std::min(a, c); });
  }
  Value i32(OpFoldResult x) {
    std::optional<int64_t> v = getConstantIntValue(x);
    if (!v)
      return arith::IndexCastOp::create(b, loc, b.getI32Type(), value(x));
    Value &constant = i32Constants[*v];
    if (!constant)
      constant = arith::ConstantIntOp::create(b, loc, b.getI32Type(), *v);
    return constant;
  }
};

} // namespace mlir::tucker::flash_to_gpu

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_HOSTUTILS_H
