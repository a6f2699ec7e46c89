//===- KernelEmitter.cpp - Builders for Hopper kernel bodies --------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;

KernelEmitter::KernelEmitter(OpBuilder &builder, Location loc,
                             Block *constantBlock)
    : b(builder), location(loc), constantBlock(constantBlock) {}

Type KernelEmitter::sharedPtr() {
  return LLVM::LLVMPointerType::get(context(), /*addressSpace=*/3);
}
Type KernelEmitter::globalPtr() {
  return LLVM::LLVMPointerType::get(context());
}

Type KernelEmitter::accumulatorType(int64_t n) {
  return LLVM::LLVMStructType::getLiteral(context(),
                                          SmallVector<Type>(n, f32()));
}

//===----------------------------------------------------------------------===//
// Constants and arithmetic
//===----------------------------------------------------------------------===//

Value KernelEmitter::constant(Attribute attr, Type type) {
  auto key = std::make_pair(attr, type);
  auto it = constants.find(key);
  if (it != constants.end())
    return it->second;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(constantBlock);
  Value value =
      arith::ConstantOp::create(b, location, cast<TypedAttr>(attr)).getResult();
  constants[key] = value;
  return value;
}

Value KernelEmitter::i32(int64_t value) {
  return constant(b.getI32IntegerAttr(int32_t(uint32_t(uint64_t(value)))),
                  i32());
}
Value KernelEmitter::i64(int64_t value) {
  return constant(b.getI64IntegerAttr(value), i64());
}
Value KernelEmitter::f32(float value) {
  return constant(b.getF32FloatAttr(value), f32());
}

Value KernelEmitter::add(Value a, Value c) {
  return arith::AddIOp::create(b, location, a, c);
}
Value KernelEmitter::sub(Value a, Value c) {
  return arith::SubIOp::create(b, location, a, c);
}
Value KernelEmitter::mul(Value a, Value c) {
  return arith::MulIOp::create(b, location, a, c);
}
Value KernelEmitter::udiv(Value a, Value c) {
  return arith::DivUIOp::create(b, location, a, c);
}
Value KernelEmitter::urem(Value a, Value c) {
  return arith::RemUIOp::create(b, location, a, c);
}
Value KernelEmitter::andi(Value a, Value c) {
  return arith::AndIOp::create(b, location, a, c);
}
Value KernelEmitter::ori(Value a, Value c) {
  return arith::OrIOp::create(b, location, a, c);
}
Value KernelEmitter::shrui(Value a, Value c) {
  return arith::ShRUIOp::create(b, location, a, c);
}
Value KernelEmitter::minui(Value a, Value c) {
  return arith::MinUIOp::create(b, location, a, c);
}
Value KernelEmitter::cmp(arith::CmpIPredicate pred, Value a, Value c) {
  return arith::CmpIOp::create(b, location, pred, a, c);
}
Value KernelEmitter::select(Value cond, Value a, Value c) {
  return arith::SelectOp::create(b, location, cond, a, c);
}
Value KernelEmitter::zext64(Value a) {
  return arith::ExtUIOp::create(b, location, i64(), a);
}

Value KernelEmitter::fadd(Value a, Value c) {
  return arith::AddFOp::create(b, location, a, c);
}
Value KernelEmitter::fsub(Value a, Value c) {
  return arith::SubFOp::create(b, location, a, c);
}
Value KernelEmitter::fmul(Value a, Value c) {
  return arith::MulFOp::create(b, location, a, c);
}
Value KernelEmitter::fdiv(Value a, Value c) {
  return arith::DivFOp::create(b, location, a, c);
}
Value KernelEmitter::fmax(Value a, Value c) {
  return arith::MaxNumFOp::create(b, location, a, c);
}
Value KernelEmitter::fma(Value a, Value c, Value d) {
  return math::FmaOp::create(b, location, a, c, d);
}
Value KernelEmitter::exp2Ftz(Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, location, f32(), b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
             ValueRange{x})
      .getResult(0);
}

Value KernelEmitter::log2Approx(Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, location, f32(), b.getStringAttr("llvm.nvvm.lg2.approx.f"),
             ValueRange{x})
      .getResult(0);
}

Value KernelEmitter::threadIdX() {
  return NVVM::ThreadIdXOp::create(b, location, i32());
}
Value KernelEmitter::blockIdX() {
  return NVVM::BlockIdXOp::create(b, location, i32());
}
Value KernelEmitter::blockIdY() {
  return NVVM::BlockIdYOp::create(b, location, i32());
}
Value KernelEmitter::blockIdZ() {
  return NVVM::BlockIdZOp::create(b, location, i32());
}
Value KernelEmitter::gridDimX() {
  return NVVM::GridDimXOp::create(b, location, i32());
}
Value KernelEmitter::gridDimY() {
  return NVVM::GridDimYOp::create(b, location, i32());
}

Value KernelEmitter::gridDimZ() {
  return NVVM::GridDimZOp::create(b, location, i32());
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

void KernelEmitter::ifThen(Value cond, llvm::function_ref<void()> thenBody) {
  auto op = scf::IfOp::create(b, location, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(op.thenBlock());
  thenBody();
}

SmallVector<Value>
KernelEmitter::ifThenElse(Value cond, TypeRange types,
                          llvm::function_ref<SmallVector<Value>()> thenBody,
                          llvm::function_ref<SmallVector<Value>()> elseBody) {
  auto op = scf::IfOp::create(b, location, types, cond, /*addThenBlock=*/true,
                              /*addElseBlock=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(op.thenBlock());
    SmallVector<Value> values = thenBody();
    scf::YieldOp::create(b, location, values);
    b.setInsertionPointToStart(op.elseBlock());
    values = elseBody();
    scf::YieldOp::create(b, location, values);
  }
  return SmallVector<Value>(op.getResults());
}

SmallVector<Value> KernelEmitter::forLoop(
    Value lb, Value ub, ValueRange inits,
    llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto op = scf::ForOp::create(
      b, location, lb, ub, i32(1), inits,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange args) {
        SmallVector<Value> values = body(iv, args);
        scf::YieldOp::create(nested, loc, values);
      });
  return SmallVector<Value>(op.getResults());
}

//===----------------------------------------------------------------------===//
// Shared memory, mbarriers, TMA
//===----------------------------------------------------------------------===//

void KernelEmitter::declareSharedMemory(OpBuilder &builder, Location loc,
                                        StringRef name) {
  // Alignment 16, not 1024: with 1024 LLVM trusts the declaration and folds
  // the run-time rounding away (docs/gpu-notes.md, pitfall 4).
  auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), 0);
  LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/false,
                         LLVM::Linkage::External, name, Attribute(),
                         /*alignment=*/16, /*addrSpace=*/3);
}

void KernelEmitter::initSharedBase(StringRef name) {
  Value raw = LLVM::AddressOfOp::create(b, location, sharedPtr(), name);
  Value rawInt = LLVM::PtrToIntOp::create(b, location, i32(), raw);
  Value pad = andi(sub(i32(0), rawInt), i32(1023));
  base = LLVM::GEPOp::create(b, location, sharedPtr(), b.getI8Type(), raw,
                             ValueRange{pad});
  descLo = shrui(add(rawInt, pad), i32(4));
}

Value KernelEmitter::sharedAt(int64_t offset) {
  if (offset == 0)
    return base;
  return LLVM::GEPOp::create(b, location, sharedPtr(), b.getI8Type(), base,
                             ArrayRef<LLVM::GEPArg>{int32_t(offset)});
}

Value KernelEmitter::sharedAt(Value offset) {
  return LLVM::GEPOp::create(b, location, sharedPtr(), b.getI8Type(), base,
                             ValueRange{offset});
}

void KernelEmitter::mbarrierInit(Value bar, int64_t count) {
  NVVM::MBarrierInitOp::create(b, location, bar, i32(count),
                               /*predicate=*/Value());
}
void KernelEmitter::mbarrierInitFence() {
  NVVM::FenceMbarrierInitOp::create(b, location);
}
void KernelEmitter::mbarrierArriveExpectTx(Value bar, int64_t bytes) {
  NVVM::MBarrierArriveExpectTxOp::create(b, location, /*res=*/Type(), bar,
                                         i32(bytes), NVVM::MemScopeKind::CTA,
                                         /*relaxed=*/false,
                                         /*predicate=*/Value());
}
void KernelEmitter::mbarrierArrive(Value bar) {
  NVVM::MBarrierArriveOp::create(b, location, /*res=*/Type(), bar,
                                 /*count=*/Value());
}
void KernelEmitter::mbarrierWait(Value bar, Value parity) {
  // Our own loop rather than NVVM::MBarrierTryWaitParityOp: its PTX retries
  // with `bra.uni`, which promises ptxas the branch is the same for the
  // whole warp, while try_wait's predicate is per thread and PTX does not
  // promise all lanes see the phase complete at once. A plain `bra` makes no
  // such promise (same code on the H100: no change in speed).
  Value address = LLVM::PtrToIntOp::create(b, location, i32(), bar);
  LLVM::InlineAsmOp::create(
      b, location, /*res=*/TypeRange(), ValueRange{address, parity},
      "{\n.reg .pred p;\nwait:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1, 10000000;\n"
      "@!p bra wait;\n}",
      "r,r", /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(context(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
}

void KernelEmitter::tmaLoad(Value dst, Value tensorMap, ValueRange coords,
                            Value bar) {
  // The destination is shared::cluster (address space 7): the .shared::cta
  // form needs PTX 8.6 and crashes the NVPTX backend at +ptx80
  // (docs/gpu-notes.md, pitfall 3). A CTA is its own cluster.
  auto clusterPtr = LLVM::LLVMPointerType::get(context(), 7);
  Value dst7 = LLVM::AddrSpaceCastOp::create(b, location, clusterPtr, dst);
  NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
      b, location, dst7, tensorMap, coords, bar, /*im2colOffsets=*/ValueRange{},
      /*multicastMask=*/Value(), /*l2CacheHint=*/Value(),
      NVVM::TMALoadMode::TILE, /*isCTAOnly=*/false, /*group=*/nullptr,
      /*predicate=*/Value());
}

void KernelEmitter::namedBarrierSync(Value id, int64_t threads) {
  NVVM::BarrierOp::create(b, location, /*res=*/Type(), id, i32(threads),
                          /*reductionOp=*/nullptr,
                          /*reductionPredicate=*/Value());
}
void KernelEmitter::namedBarrierSyncUnaligned(Value id, int64_t threads) {
  LLVM::InlineAsmOp::create(
      b, location, /*res=*/TypeRange(), ValueRange{id, i32(threads)},
      "barrier.sync $0, $1;", "r,r", /*has_side_effects=*/true,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(context(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
}
void KernelEmitter::namedBarrierArrive(Value id, int64_t threads) {
  NVVM::BarrierArriveOp::create(b, location, id, i32(threads));
}

//===----------------------------------------------------------------------===//
// wgmma
//===----------------------------------------------------------------------===//

uint64_t KernelEmitter::descriptorBits(int64_t lbo, int64_t sbo,
                                       bool swizzle128) {
  uint64_t bits = 0;
  bits |= uint64_t((lbo >> 4) & 0x3FFF) << 16;
  bits |= uint64_t((sbo >> 4) & 0x3FFF) << 32;
  if (swizzle128)
    bits |= uint64_t(1) << 62;
  return bits;
}

Value KernelEmitter::wgmmaDescriptor(uint64_t bits, Value offsetUnits) {
  Value lo = add(descLo, offsetUnits);
  lo = add(lo, i32(int64_t(bits & 0xFFFFFFFFu)));
  Value hi = i32(int64_t(bits >> 32));
  auto v2i32 = VectorType::get({2}, i32());
  auto v1i64 = VectorType::get({1}, i64());
  Value pair =
      vector::FromElementsOp::create(b, location, v2i32, ValueRange{lo, hi});
  Value wide = vector::BitCastOp::create(b, location, v1i64, pair);
  return vector::ExtractOp::create(b, location, wide, ArrayRef<int64_t>{0});
}

Value KernelEmitter::wgmmaSS(Value acc, Type accType, int64_t n, Value descA,
                             Value descB, NVVM::WGMMATypes abType,
                             bool bKMajor) {
  auto scaleOut = acc ? NVVM::WGMMAScaleOut::one : NVVM::WGMMAScaleOut::zero;
  if (!acc)
    acc = LLVM::PoisonOp::create(b, location, accType);
  return NVVM::WgmmaMmaAsyncOp::create(
      b, location, accType, acc, descA, descB,
      NVVM::MMAShapeAttr::get(context(), 64, n, 16), abType, abType,
      NVVM::WGMMATypes::f32, scaleOut, NVVM::WGMMAScaleIn::one,
      NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row,
      bKMajor ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      /*satfinite=*/nullptr);
}

SmallVector<Value> KernelEmitter::wgmmaRS(ArrayRef<Value> acc,
                                          ArrayRef<Value> aRegs, Value descB,
                                          int64_t n, StringRef abType) {
  int64_t nacc = n / 2;
  assert(int64_t(acc.size()) == nacc && aRegs.size() == 4);
  // {$0..$nacc-1} outputs tied to inputs nacc..2nacc-1, A = 4 b32
  // registers, B = descriptor; scale-d by predicate p = 1 (accumulate),
  // scale-a = scale-b = 1, trans-b = 1 (B is MN-major).
  std::string dlist, constraints;
  for (int64_t i = 0; i < nacc; ++i) {
    dlist += (i ? ", $" : "$") + std::to_string(i);
    constraints += "=f,";
  }
  for (int64_t i = 0; i < nacc; ++i)
    constraints += std::to_string(i) + ",";
  constraints += "r,r,r,r,l";
  int64_t a0 = 2 * nacc;
  std::string asmString = llvm::formatv(
      "{{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n{0}k16.f32.{1}.{1} {{{2}}, "
      "{{${3}, ${4}, ${5}, ${6}}, ${7}, p, 1, 1, 1;\n}",
      n, abType, dlist, a0, a0 + 1, a0 + 2, a0 + 3, a0 + 4);
  SmallVector<Value> operands(acc);
  operands.append(aRegs.begin(), aRegs.end());
  operands.push_back(descB);
  auto asmOp = LLVM::InlineAsmOp::create(
      b, location, accumulatorType(nacc), operands, asmString, constraints,
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(context(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
  return unpack(asmOp.getResult(0), nacc);
}

void KernelEmitter::wgmmaFence() {
  NVVM::WgmmaFenceAlignedOp::create(b, location);
}
void KernelEmitter::wgmmaCommit() {
  NVVM::WgmmaGroupSyncAlignedOp::create(b, location);
}
void KernelEmitter::wgmmaWait(int64_t pending) {
  NVVM::WgmmaWaitGroupSyncOp::create(b, location, pending);
}

SmallVector<Value> KernelEmitter::unpack(Value structValue, int64_t n) {
  SmallVector<Value> values;
  values.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    values.push_back(LLVM::ExtractValueOp::create(b, location, structValue,
                                                  ArrayRef<int64_t>{i}));
  return values;
}

//===----------------------------------------------------------------------===//
// Shuffles and packing
//===----------------------------------------------------------------------===//

Value KernelEmitter::shuffleXor(Value v, int64_t offset) {
  return NVVM::ShflOp::create(b, location, v.getType(), i32(-1), v, i32(offset),
                              i32(31), NVVM::ShflKind::bfly,
                              /*return_value_and_is_valid=*/UnitAttr());
}

Value KernelEmitter::pack2(Value lo, Value hi, Type halfType) {
  auto v2f32 = VectorType::get({2}, f32());
  auto v2half = VectorType::get({2}, halfType);
  auto v1i32 = VectorType::get({1}, i32());
  Value pair =
      vector::FromElementsOp::create(b, location, v2f32, ValueRange{lo, hi});
  Value narrow = arith::TruncFOp::create(b, location, v2half, pair);
  Value word = vector::BitCastOp::create(b, location, v1i32, narrow);
  return vector::ExtractOp::create(b, location, word, ArrayRef<int64_t>{0});
}
