//===- FlashBackwardAux.cpp - Kernels beside the flash backward -----------===//
//
// The SIMT kernels around the main flash backward kernel
// (FlashBackwardKernel.h, FlashBackwardAux.h):
//
//  * prep: one warp per query row r: delta[r] = Σ_d O[r, d]·dO[r, d] in f32
//    (each lane loads a contiguous run of 16-bit elements of both rows,
//    then a butterfly reduction), and dqAccum[r, :] zeroed;
//  * finish: dst[i] = scale·Σ_s src[s·count + i] in the element type (dq
//    from dqAccum, one part; dk, dv from the partials of head splits), 4
//    elements per thread (16-byte loads, one 8-byte store);
//  * zero: 16-byte zero stores (dk and dv when there is no query row).
//
//===----------------------------------------------------------------------===//

#include "FlashBackwardAux.h"
#include "FlashBackwardKernel.h"
#include "KernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

namespace {

/// How the 32 lanes of a warp cover a row of `width` elements: lane l takes
/// `vector` consecutive elements at l·vector + s·32·vector for each step s;
/// `exact` when the steps cover the row without running past it.
struct LaneColumns {
  int64_t vector, steps;
  bool exact;

  LaneColumns(int64_t width, int64_t widest) {
    vector = 1;
    while (vector < widest && width % (64 * vector) == 0)
      vector *= 2;
    steps = (width + 32 * vector - 1) / (32 * vector);
    exact = width % (32 * vector) == 0;
  }
};

Type halfTypeOf(OpBuilder &b, const FlashKernelSpec &spec) {
  return spec.element == FlashElement::BF16 ? Type(b.getBF16Type())
                                            : Type(b.getF16Type());
}

/// `count` elements of `type` at element `index` (i64) of `base`, as a
/// vector when count > 1.
Value loadAt(KernelEmitter &e, Type type, int64_t count, Value base,
             Value index) {
  OpBuilder &b = e.builder();
  Value ptr = LLVM::GEPOp::create(b, e.loc(), e.globalPtr(), type, base,
                                  ValueRange{index});
  Type loaded = count == 1 ? type : VectorType::get({count}, type);
  unsigned bytes = count * type.getIntOrFloatBitWidth() / 8;
  return LLVM::LoadOp::create(b, e.loc(), loaded, ptr, bytes).getResult();
}

void storeAt(KernelEmitter &e, Value value, Type elementType, Value base,
             Value index) {
  OpBuilder &b = e.builder();
  Value ptr = LLVM::GEPOp::create(b, e.loc(), e.globalPtr(), elementType, base,
                                  ValueRange{index});
  unsigned bytes = elementType.getIntOrFloatBitWidth() / 8;
  if (auto vector = dyn_cast<VectorType>(value.getType()))
    bytes *= vector.getNumElements();
  LLVM::StoreOp::create(b, e.loc(), value, ptr, bytes);
}

/// a·c + d as llvm.intr.fma (one fma.rn.f32; math.fma would become a
/// libdevice call where no toolkit is found).
Value fmaF32(KernelEmitter &e, Value a, Value c, Value d) {
  return LLVM::FMAOp::create(e.builder(), e.loc(), a, c, d);
}

/// The elements of `value` (a scalar or a vector) as f32 scalars.
SmallVector<Value> toF32(KernelEmitter &e, Value value) {
  OpBuilder &b = e.builder();
  auto vector = dyn_cast<VectorType>(value.getType());
  if (!vector)
    return {arith::ExtFOp::create(b, e.loc(), e.f32(), value)};
  SmallVector<Value> out;
  for (int64_t i = 0; i < vector.getNumElements(); ++i) {
    Value x = vector::ExtractOp::create(b, e.loc(), value, i);
    out.push_back(arith::ExtFOp::create(b, e.loc(), e.f32(), x));
  }
  return out;
}

/// Prep: args (o, dO, delta, dqAccum, counters, rows); see
/// FlashBackwardKernel.h.
void buildPrep(KernelEmitter &e, const FlashKernelSpec &spec, ValueRange args) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value o = args[0], dO = args[1], delta = args[2], dqAccum = args[3],
        counters = args[4], rows = args[5];
  Type half = halfTypeOf(b, spec);
  Value tid = e.threadIdX();
  Value lane = e.urem(tid, e.i32(32));
  Value row = e.add(e.mul(e.blockIdX(), e.i32(kBackwardPrepRows)),
                    e.udiv(tid, e.i32(32)));
  // The whole warp takes the branch or not: the shuffles see every lane.
  e.ifThen(e.cmp(Pred::ult, row, rows), [&] {
    Value row64 = e.zext64(row);
    Value lane64 = e.zext64(lane);
    // Σ O·dO over the lane's columns (up to 16 bytes of each per step).
    LaneColumns cols(spec.valueDim, /*widest=*/8);
    Value rowBase = e.mul(row64, e.i64(spec.valueDim));
    Value sum = e.f32(0.0f);
    for (int64_t s = 0; s < cols.steps; ++s) {
      Value col =
          e.add(e.mul(lane64, e.i64(cols.vector)), e.i64(s * 32 * cols.vector));
      Value inRange =
          cols.exact ? Value() : e.cmp(Pred::ult, col, e.i64(spec.valueDim));
      Value index =
          e.add(rowBase, inRange ? e.select(inRange, col, e.i64(0)) : col);
      SmallVector<Value> os = toF32(e, loadAt(e, half, cols.vector, o, index));
      SmallVector<Value> ds = toF32(e, loadAt(e, half, cols.vector, dO, index));
      Value part = sum;
      for (auto [x, y] : llvm::zip(os, ds))
        part = fmaF32(e, x, y, part);
      sum = inRange ? e.select(inRange, part, sum) : part;
    }
    for (int64_t offset = 16; offset >= 1; offset /= 2)
      sum = e.fadd(sum, e.shuffleXor(sum, offset));
    e.ifThen(e.cmp(Pred::eq, lane, e.i32(0)), [&] {
      storeAt(e, sum, e.f32(), delta, row64);
      if (spec.orderedDq)
        storeAt(e, e.i32(0), e.i32(), counters, row64);
    });

    // dqAccum[row, :] = 0 (up to 16 bytes per lane and step).
    LaneColumns zeros(spec.qkDim, /*widest=*/4);
    Type zeroType = zeros.vector == 1
                        ? e.f32()
                        : Type(VectorType::get({zeros.vector}, e.f32()));
    Value zero =
        zeros.vector == 1
            ? e.f32(0.0f)
            : arith::ConstantOp::create(
                  b, loc,
                  DenseElementsAttr::get(cast<ShapedType>(zeroType), 0.0f))
                  .getResult();
    Value accBase = e.mul(row64, e.i64(spec.qkDim));
    for (int64_t s = 0; s < zeros.steps; ++s) {
      Value col = e.add(e.mul(lane64, e.i64(zeros.vector)),
                        e.i64(s * 32 * zeros.vector));
      auto store = [&] {
        storeAt(e, zero, e.f32(), dqAccum, e.add(accBase, col));
      };
      if (zeros.exact)
        store();
      else
        e.ifThen(e.cmp(Pred::ult, col, e.i64(spec.qkDim)), store);
    }
  });
  gpu::ReturnOp::create(b, loc);
}

/// Finish: args (src, dst, count); see FlashBackwardKernel.h.
void buildFinish(KernelEmitter &e, const FlashKernelSpec &spec, ValueRange args,
                 int64_t parts, float scale) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value src = args[0], dst = args[1], count = args[2];
  Type half = halfTypeOf(b, spec);
  constexpr int64_t per = kBackwardFinishPerThread;
  Value thread =
      e.add(e.mul(e.zext64(e.blockIdX()), e.i64(kBackwardAuxThreads)),
            e.zext64(e.threadIdX()));
  Value first = e.mul(thread, e.i64(per));
  Value count64 = e.zext64(count);
  // Σ over the parts, in order, of `n` elements at `index`.
  auto sum = [&](int64_t n, Value index) {
    Value total;
    for (int64_t s = 0; s < parts; ++s) {
      Value at = s == 0 ? index : e.add(index, e.mul(count64, e.i64(s)));
      Value part = loadAt(e, e.f32(), n, src, at);
      total = s == 0 ? part
                     : arith::AddFOp::create(b, loc, total, part).getResult();
    }
    return total;
  };
  Value end = e.add(first, e.i64(per));
  Value whole = e.cmp(Pred::ule, end, count64);
  auto vectorType = VectorType::get({per}, e.f32());
  Value scales = arith::ConstantOp::create(
                     b, loc, DenseElementsAttr::get(vectorType, scale))
                     .getResult();
  e.ifThen(whole, [&] {
    Value acc = sum(per, first);
    Value scaled = arith::MulFOp::create(b, loc, acc, scales);
    Value narrow =
        arith::TruncFOp::create(b, loc, VectorType::get({per}, half), scaled);
    storeAt(e, narrow, half, dst, first);
  });
  // The last thread of a count that is no multiple of `per`.
  Value partial =
      e.andi(e.cmp(Pred::ult, first, count64), e.cmp(Pred::ugt, end, count64));
  e.ifThen(partial, [&] {
    for (int64_t i = 0; i < per; ++i) {
      Value index = e.add(first, e.i64(i));
      e.ifThen(e.cmp(Pred::ult, index, count64), [&] {
        Value acc = sum(1, index);
        Value value =
            arith::TruncFOp::create(b, loc, half, e.fmul(acc, e.f32(scale)));
        storeAt(e, value, half, dst, index);
      });
    }
  });
  gpu::ReturnOp::create(b, loc);
}

/// Zero: args (dst, count); see FlashBackwardAux.h.
void buildZero(KernelEmitter &e, ValueRange args) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value dst = args[0], count = args[1];
  Value unit =
      e.add(e.mul(e.blockIdX(), e.i32(kBackwardAuxThreads)), e.threadIdX());
  auto vectorType = VectorType::get({4}, e.i32());
  Value zero = arith::ConstantOp::create(
                   b, loc, DenseElementsAttr::get(vectorType, int32_t(0)))
                   .getResult();
  e.ifThen(e.cmp(Pred::ult, unit, count), [&] {
    storeAt(e, zero, e.i32(), dst, e.mul(e.zext64(unit), e.i64(4)));
  });
  gpu::ReturnOp::create(b, loc);
}

/// A kernel `name` at the end of `module` with `args` and a block of
/// kBackwardAuxThreads threads, its body from `body`.
gpu::GPUFuncOp
createAuxKernel(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
                StringRef name, TypeRange args,
                llvm::function_ref<void(KernelEmitter &, ValueRange)> body) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(builder, loc, name,
                                     builder.getFunctionType(args, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  int32_t threads = kBackwardAuxThreads;
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({threads, 1, 1}));
  Block &entry = func.getBody().front();
  builder.setInsertionPointToEnd(&entry);
  KernelEmitter emitter(builder, loc, &entry);
  body(emitter, entry.getArguments());
  return func;
}

} // namespace

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashBackwardPrepKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  Type ptr = LLVM::LLVMPointerType::get(builder.getContext());
  return createAuxKernel(
      builder, loc, module, name,
      {ptr, ptr, ptr, ptr, ptr, builder.getI32Type()},
      [&](KernelEmitter &e, ValueRange args) { buildPrep(e, spec, args); });
}

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashBackwardFinishKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name, int64_t parts, float scale) {
  Type ptr = LLVM::LLVMPointerType::get(builder.getContext());
  return createAuxKernel(builder, loc, module, name,
                         {ptr, ptr, builder.getI32Type()},
                         [&](KernelEmitter &e, ValueRange args) {
                           buildFinish(e, spec, args, parts, scale);
                         });
}

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashBackwardZeroKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name) {
  Type ptr = LLVM::LLVMPointerType::get(builder.getContext());
  return createAuxKernel(
      builder, loc, module, name, {ptr, builder.getI32Type()},
      [&](KernelEmitter &e, ValueRange args) { buildZero(e, args); });
}
