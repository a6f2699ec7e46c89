//===- KernelEmitter.h - Builders for Hopper kernel bodies ------*- C++ -*-===//
//
// Internal to --tucker-flash-to-gpu. `KernelEmitter` wraps an OpBuilder with
// the pieces a warp-specialized Hopper kernel is written from: i32/f32
// arithmetic (constants hoisted to the kernel's entry block), structured
// control flow with results, shared-memory pointers, mbarriers, TMA loads,
// wgmma descriptors and instructions (shared-memory A and B, and the
// register-A form through inline PTX), quad shuffles, ftz exp2 and 16-bit
// packing. Each helper emits exactly the op form that
// docs/gpu-notes.md records as working with MLIR 22 / ptxas 13.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_KERNELEMITTER_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_KERNELEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::tucker::flash_to_gpu {

class KernelEmitter {
public:
  /// Emits at `builder`'s insertion point; constants go to the start of
  /// `constantBlock` (the kernel's entry block).
  KernelEmitter(OpBuilder &builder, Location loc, Block *constantBlock);

  OpBuilder &builder() { return b; }
  Location loc() const { return location; }
  MLIRContext *context() { return b.getContext(); }

  // Types.
  Type i1() { return b.getI1Type(); }
  Type i32() { return b.getI32Type(); }
  Type i64() { return b.getI64Type(); }
  Type f32() { return b.getF32Type(); }
  Type sharedPtr(); // !llvm.ptr<3>
  Type globalPtr(); // !llvm.ptr
  /// `!llvm.struct<(f32 × n)>`: a wgmma accumulator fragment.
  Type accumulatorType(int64_t n);

  // Constants (hoisted, cached).
  Value i32(int64_t value);
  Value i64(int64_t value);
  Value f32(float value);

  // i32/i64 integer arithmetic (type of the operands).
  Value add(Value a, Value c);
  Value sub(Value a, Value c);
  Value mul(Value a, Value c);
  Value udiv(Value a, Value c);
  Value urem(Value a, Value c);
  Value andi(Value a, Value c);
  Value ori(Value a, Value c);
  Value shrui(Value a, Value c);
  Value minui(Value a, Value c);
  Value cmp(arith::CmpIPredicate pred, Value a, Value c);
  Value select(Value cond, Value a, Value c);
  Value zext64(Value a);

  // f32 arithmetic.
  Value fadd(Value a, Value c);
  Value fsub(Value a, Value c);
  Value fmul(Value a, Value c);
  Value fdiv(Value a, Value c);
  Value fmax(Value a, Value c);
  Value fma(Value a, Value c, Value d);
  /// 2^x as one `ex2.approx.ftz.f32` (math.exp2 lowers to the non-ftz form,
  /// which ptxas wraps in a denormal fix-up).
  Value exp2Ftz(Value x);
  /// log2(x) by lg2.approx (relative error about 2^-22).
  Value log2Approx(Value x);

  // Special registers.
  Value threadIdX();
  Value blockIdX();
  Value blockIdY();
  Value blockIdZ();
  Value gridDimX();
  Value gridDimY();
  Value gridDimZ();

  // Structured control flow.
  void ifThen(Value cond, llvm::function_ref<void()> thenBody);
  SmallVector<Value>
  ifThenElse(Value cond, TypeRange types,
             llvm::function_ref<SmallVector<Value>()> thenBody,
             llvm::function_ref<SmallVector<Value>()> elseBody);
  /// scf.for over i32 [lb, ub) step 1 with loop-carried `inits`; `body`
  /// returns the values to yield.
  SmallVector<Value> forLoop(
      Value lb, Value ub, ValueRange inits,
      llvm::function_ref<SmallVector<Value>(Value iv, ValueRange args)> body);

  // Shared memory.
  /// Declares the dynamic shared memory symbol once per module (call with
  /// the builder at module scope).
  static void declareSharedMemory(OpBuilder &builder, Location loc,
                                  StringRef name);
  /// Sets the 1024-aligned base of dynamic shared memory (`@name` rounded
  /// up at run time) and the descriptor base `base >> 4`.
  void initSharedBase(StringRef name);
  Value sharedBase() const { return base; }
  /// `base + offset` (constant bytes).
  Value sharedAt(int64_t offset);
  /// `base + offset` (i32 bytes).
  Value sharedAt(Value offset);

  // mbarriers (shared::cta pointers).
  void mbarrierInit(Value bar, int64_t count);
  void mbarrierInitFence();
  void mbarrierArriveExpectTx(Value bar, int64_t bytes);
  void mbarrierArrive(Value bar);
  void mbarrierWait(Value bar, Value parity);

  /// TMA: box at `coords` (innermost first) of the tensor map behind
  /// `tensorMap` into shared memory `dst`, completing on `bar`.
  void tmaLoad(Value dst, Value tensorMap, ValueRange coords, Value bar);

  // Named barriers (bar.sync / bar.arrive: the .aligned forms, every
  // participating warp at the same instruction).
  void namedBarrierSync(Value id, int64_t threads);
  /// barrier.sync without .aligned: for threads that reach the barrier from
  /// different instructions (code generated once per warpgroup).
  void namedBarrierSyncUnaligned(Value id, int64_t threads);
  void namedBarrierArrive(Value id, int64_t threads);

  /// A wgmma shared-memory matrix descriptor: the constant `bits` plus the
  /// run-time descriptor base (`base >> 4`) plus `offsetUnits` (i32, 16-byte
  /// units). The address and LBO fields live in the low word, which is
  /// computed in i32; the constant high word (SBO, swizzle) is attached with
  /// a 2 × i32 → i64 bitcast. (A 64-bit add of the whole constant was
  /// miscompiled by ptxas 13.0: docs/gpu-notes.md, pitfall 12.)
  Value wgmmaDescriptor(uint64_t bits, Value offsetUnits);
  static uint64_t descriptorBits(int64_t lbo, int64_t sbo, bool swizzle128);

  /// One m64nNk16 wgmma with A and B in shared memory (A K-major, B K-major
  /// when `bKMajor`, else MN-major); `acc` is null for the first of a chain
  /// (scale-d 0).
  Value wgmmaSS(Value acc, Type accType, int64_t n, Value descA, Value descB,
                NVVM::WGMMATypes abType, bool bKMajor);
  /// One m64nNk16 wgmma with A from 4 registers (16-bit pairs) and B
  /// MN-major in shared memory, accumulating into `acc` (N/2 f32 values):
  /// no NVVM op exists for the register-A form, so this is inline PTX.
  SmallVector<Value> wgmmaRS(ArrayRef<Value> acc, ArrayRef<Value> aRegs,
                             Value descB, int64_t n, StringRef abType);
  void wgmmaFence();
  void wgmmaCommit();
  void wgmmaWait(int64_t pending);
  SmallVector<Value> unpack(Value structValue, int64_t n);

  /// Butterfly shuffle within the warp (`shfl.sync.bfly`, full mask).
  Value shuffleXor(Value v, int64_t offset);
  /// (lo, hi) f32 → two 16-bit floats in an i32, `lo` in the low half
  /// (one cvt.rn.{bf16x2,f16x2}.f32).
  Value pack2(Value lo, Value hi, Type halfType);

private:
  OpBuilder &b;
  Location location;
  Block *constantBlock;
  llvm::DenseMap<std::pair<Attribute, Type>, Value> constants;
  Value base;   // !llvm.ptr<3>, 1024-aligned
  Value descLo; // i32, base >> 4

  Value constant(Attribute attr, Type type);
};

} // namespace mlir::tucker::flash_to_gpu

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_KERNELEMITTER_H
