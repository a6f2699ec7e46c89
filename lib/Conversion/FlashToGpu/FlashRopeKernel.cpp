//===- FlashRopeKernel.cpp - RoPE applied before a prefill flash kernel ---===//
//
// A prefill flash kernel that rotates on the fly rotates every K tile once
// per query tile that reads it: Nq / blockM times the work of rotating K
// once, with the consumers stalled meanwhile (0.3x of the unrotated kernel,
// docs/perf.md). So for prefill the launcher first runs this kernel on q
// and on k, writing rotated copies, and the flash kernel reads those.
// Decode kernels keep rotating on the fly: each K tile is read once there.
//
// One CTA of 128 threads covers kRopeRows rows of one head of one sequence;
// each thread takes columns of those rows: an unrotated column is copied,
// the first column of a rotated pair (half style: column j of the block,
// paired with j + width/2; interleaved: the even column of (2j, 2j + 1))
// writes both rotated values, the second column of a pair does nothing.
// Angles as in rotateRows (f64, reduced modulo 2π).
//
//===----------------------------------------------------------------------===//

#include "FlashKernelParts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

namespace {

/// Body of the kernel; arguments as buildFlashRopeKernel documents.
void buildRotate(KernelEmitter &e, const FlashKernelSpec &spec,
                 StringRef frequencies, ValueRange args) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value src = args[0], dst = args[1], lengths = args[2], n = args[3],
        nq = args[4], nk = args[5], query = args[6], headStride = args[7],
        rowStride = args[8];
  Type halfType = spec.element == FlashElement::BF16 ? Type(b.getBF16Type())
                                                     : Type(b.getF16Type());
  int64_t width = spec.qkDim, half = spec.ropeWidth / 2;
  Value batch = e.blockIdZ(), head = e.blockIdY();
  Value heads = e.gridDimY();
  Value row0 = e.mul(e.blockIdX(), e.i32(kRopeRows));
  // Queries sit at p + L − Nq (L: this sequence's keys), keys at p.
  Value keys = sequenceKeys(e, spec, lengths, batch, nk);
  Value shift = e.select(e.cmp(Pred::ne, query, e.i32(0)), e.sub(keys, nq),
                         e.i32(0));
  auto globalPtr = LLVM::LLVMPointerType::get(e.context(), 1);
  Value table = LLVM::AddressOfOp::create(b, loc, globalPtr, frequencies);
  auto ptrType = e.globalPtr();
  // dst is [B, H, N, D]; src has the same batch stride and its own head
  // and row strides.
  Value batchBase = e.mul(e.zext64(e.mul(batch, heads)),
                          e.mul(e.zext64(n), e.i64(width)));
  Value dstBase = e.add(batchBase, e.zext64(e.mul(e.mul(head, n),
                                                  e.i32(width))));
  Value srcBase = e.add(batchBase, e.mul(e.zext64(head), e.zext64(headStride)));
  auto element = [&](Value base, Value start, Value rowElems, Value row,
                     Value col) {
    Value index = e.add(e.add(start, e.mul(e.zext64(row), rowElems)),
                        e.zext64(col));
    return LLVM::GEPOp::create(b, loc, ptrType, halfType, base,
                               ValueRange{index})
        .getResult();
  };
  Value srcRow = e.zext64(rowStride), dstRow = e.i64(width);
  auto load = [&](Value row, Value col) {
    return LLVM::LoadOp::create(b, loc, halfType,
                                element(src, srcBase, srcRow, row, col),
                                /*alignment=*/2)
        .getResult();
  };
  auto store = [&](Value value, Value row, Value col) {
    LLVM::StoreOp::create(b, loc, value,
                          element(dst, dstBase, dstRow, row, col),
                          /*alignment=*/2);
  };
  int64_t items = kRopeRows * width;
  e.forLoop(e.i32(0), e.i32((items + 127) / 128), {}, [&](Value k,
                                                           ValueRange) {
    Value item = e.add(e.threadIdX(), e.mul(k, e.i32(128)));
    Value row = e.add(row0, e.udiv(item, e.i32(width)));
    Value col = e.urem(item, e.i32(width));
    Value inRange = arith::AndIOp::create(
        b, loc, e.cmp(Pred::ult, item, e.i32(items)),
        e.cmp(Pred::ult, row, n));
    e.ifThen(inRange, [&] {
      // Which rotated block the column falls in (unsigned: a column before
      // the offset wraps to a huge block index).
      Value rel = e.sub(col, e.i32(spec.ropeOffset));
      Value block = e.udiv(rel, e.i32(spec.ropeStride));
      Value within = e.urem(rel, e.i32(spec.ropeStride));
      Value rotated = arith::AndIOp::create(
          b, loc, e.cmp(Pred::ult, block, e.i32(spec.ropeRepeat)),
          e.cmp(Pred::ult, within, e.i32(spec.ropeWidth)));
      Value first, j, partner;
      if (spec.ropeInterleaved) {
        first = e.cmp(Pred::eq, e.andi(within, e.i32(1)), e.i32(0));
        j = e.udiv(within, e.i32(2));
        partner = e.add(col, e.i32(1));
      } else {
        first = e.cmp(Pred::ult, within, e.i32(half));
        j = within;
        partner = e.add(col, e.i32(half));
      }
      auto ifOp = scf::IfOp::create(b, loc, rotated, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      e.ifThen(first, [&] {
        auto [c, s] = ropeCosSin(e, table, j, e.add(row, shift));
        Value a = arith::ExtFOp::create(b, loc, e.f32(), load(row, col));
        Value p = arith::ExtFOp::create(b, loc, e.f32(), load(row, partner));
        // (a, p) -> (a·cos − p·sin, p·cos + a·sin)
        Value na = e.fsub(e.fmul(a, c), e.fmul(p, s));
        Value np = e.fma(a, s, e.fmul(p, c));
        store(arith::TruncFOp::create(b, loc, halfType, na), row, col);
        store(arith::TruncFOp::create(b, loc, halfType, np), row, partner);
      });
      b.setInsertionPointToStart(ifOp.elseBlock());
      store(load(row, col), row, col);
    });
    return SmallVector<Value>{};
  });
  gpu::ReturnOp::create(b, loc);
}

} // namespace

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashRopeKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  std::string frequencies = (name + "_freq").str();
  declareRopeFrequencies(builder, loc, module, spec, frequencies);
  builder.setInsertionPointToEnd(module.getBody());
  MLIRContext *ctx = builder.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i32 = builder.getI32Type();
  auto type = builder.getFunctionType(
      {ptr, ptr, ptr, i32, i32, i32, i32, i32, i32}, {});
  auto func = gpu::GPUFuncOp::create(builder, loc, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({128, 1, 1}));
  Block &entry = func.getBody().front();
  builder.setInsertionPointToEnd(&entry);
  KernelEmitter emitter(builder, loc, &entry);
  buildRotate(emitter, spec, frequencies, entry.getArguments());
  return func;
}
