//===- FlashKernelParts.cpp - Pieces shared by the flash kernels ----------===//

#include "FlashKernelParts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

#include <limits>

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

TileWork mlir::tucker::flash_to_gpu::tileWork(KernelEmitter &e,
                                              const FlashKernelSpec &spec,
                                              const FlashTiling &t, Value nq,
                                              Value nk, Value tilesPerSplit) {
  TileWork w;
  Value bx = e.blockIdX();
  w.headBase = spec.headsPerTile == 1
                   ? e.blockIdY()
                   : e.mul(e.blockIdY(), e.i32(spec.headsPerTile));
  w.batch = e.blockIdZ();
  int64_t rows = spec.rowsPerHead();
  if (spec.decode) {
    // Grid x enumerates (query tile, split), the splits of a tile adjacent.
    Value qTiles = e.udiv(e.add(nq, e.i32(rows - 1)), e.i32(rows));
    w.splits = e.udiv(e.gridDimX(), qTiles);
    w.split = e.urem(bx, w.splits);
    bx = e.udiv(bx, w.splits);
  } else if (spec.causal) { // longest query tiles first
    bx = e.sub(e.sub(e.gridDimX(), e.i32(1)), bx);
  }
  w.n0 = e.mul(bx, e.i32(rows));
  w.kvHead = spec.groupSize == 1 ? w.headBase
                                 : e.udiv(w.headBase, e.i32(spec.groupSize));

  int64_t bn = t.blockN;
  w.nt = e.udiv(e.add(nk, e.i32(bn - 1)), e.i32(bn));
  w.nfull = e.udiv(nk, e.i32(bn));
  if (spec.causal) {
    // Query position p sees keys up to p + Nk - Nq (signed: rows with
    // p + Nk - Nq < 0 see none and come out 0).
    Value offset = e.sub(nk, nq);
    Value lastPos = e.sub(e.minui(e.add(w.n0, e.i32(rows)), nq), e.i32(1));
    Value lastKey = e.add(lastPos, offset);
    Value none = e.cmp(Pred::slt, lastKey, e.i32(0));
    w.nt = e.minui(w.nt, e.select(none, e.i32(0),
                                  e.add(e.udiv(lastKey, e.i32(bn)), e.i32(1))));
    // Tile j needs no mask iff its last key bn·j + bn − 1 <= n0 + offset.
    Value firstLimit = e.add(e.add(w.n0, offset), e.i32(1));
    Value noneFull = e.cmp(Pred::sle, firstLimit, e.i32(0));
    w.nfull = e.minui(w.nfull, e.select(noneFull, e.i32(0),
                                        e.udiv(firstLimit, e.i32(bn))));
  }
  if (spec.decode) {
    // This split's tiles: [first, min(nt, first + tilesPerSplit)).
    w.first = e.mul(w.split, tilesPerSplit);
    Value end = e.minui(w.nt, e.add(w.first, tilesPerSplit));
    w.nt = e.select(e.cmp(Pred::ugt, end, w.first), e.sub(end, w.first),
                    e.i32(0));
    return w;
  }
  // At least one (then fully masked) tile, so every row ends with l = 0 or
  // a real sum and the schedules need no empty case.
  w.first = e.i32(0);
  w.nt = e.select(e.cmp(Pred::eq, w.nt, e.i32(0)), e.i32(1), w.nt);
  return w;
}

void mlir::tucker::flash_to_gpu::awaitPriorGrids(KernelEmitter &e,
                                                 const FlashKernelSpec &spec) {
  if (!spec.decode)
    return;
  NVVM::GriddepcontrolOp::create(e.builder(), e.loc(),
                                 NVVM::GridDepActionKind::wait);
  NVVM::GriddepcontrolOp::create(e.builder(), e.loc(),
                                 NVVM::GridDepActionKind::launch_dependents);
}

Value mlir::tucker::flash_to_gpu::sequenceKeys(KernelEmitter &e,
                                               const FlashKernelSpec &spec,
                                               Value lengths, Value batch,
                                               Value nk) {
  if (!spec.lengths)
    return nk;
  OpBuilder &b = e.builder();
  Value ptr = LLVM::GEPOp::create(b, e.loc(), e.globalPtr(), e.i32(), lengths,
                                  ValueRange{batch});
  Value length = LLVM::LoadOp::create(b, e.loc(), e.i32(), ptr,
                                      /*alignment=*/4);
  Value nonNegative = e.select(e.cmp(Pred::slt, length, e.i32(0)), e.i32(0),
                               length);
  return e.select(e.cmp(Pred::sgt, nonNegative, nk), nk, nonNegative);
}

void mlir::tucker::flash_to_gpu::produceTiles(KernelEmitter &e,
                                              const FlashKernelSpec &spec,
                                              const FlashTiling &t,
                                              const TileWork &w, Value tmapQ,
                                              Value tmapK, Value tmapV) {
  // The Q box is (64, rowsPerHead, headsPerTile): blockM rows of 128 B per
  // chunk, head-major, the same smem image as a blockM-row box.
  Value qBar = e.sharedAt(t.qFull);
  e.mbarrierArriveExpectTx(qBar, t.qkChunks * t.qChunkBytes);
  for (int64_t c = 0; c < t.qkChunks; ++c)
    e.tmaLoad(e.sharedAt(t.q + c * t.qChunkBytes), tmapQ,
              {e.i32(FlashTiling::kChunk * c), w.n0, w.headBase, w.batch},
              qBar);
  e.forLoop(e.i32(0), w.nt, {}, [&](Value i, ValueRange) {
    Value stage = e.urem(i, e.i32(t.stages));
    Value round = e.udiv(i, e.i32(t.stages));
    Value parity = e.andi(e.sub(round, e.i32(1)), e.i32(1));
    auto slot = [&](int64_t base) {
      return e.sharedAt(e.add(e.mul(stage, e.i32(8)), e.i32(base)));
    };
    e.ifThen(e.cmp(Pred::uge, i, e.i32(t.stages)),
             [&] { e.mbarrierWait(slot(t.empty), parity); });
    Value full = slot(t.full);
    e.mbarrierArriveExpectTx(full, t.kStageBytes +
                                       (spec.valueFromKey ? 0 : t.vStageBytes));
    Value row = e.mul(e.add(w.first, i), e.i32(t.blockN));
    Value kOff = e.mul(stage, e.i32(t.kStageBytes));
    for (int64_t c = 0; c < t.qkChunks; ++c)
      e.tmaLoad(e.sharedAt(e.add(kOff, e.i32(t.k + c * t.kChunkBytes))), tmapK,
                {e.i32(FlashTiling::kChunk * c), row, w.kvHead, w.batch}, full);
    if (!spec.valueFromKey) { // else P·V reads V out of the K tile
      Value vOff = e.mul(stage, e.i32(t.vStageBytes));
      for (int64_t c = 0; c < t.valueChunks; ++c)
        e.tmaLoad(e.sharedAt(e.add(vOff, e.i32(t.v + c * t.vChunkBytes))),
                  tmapV,
                  {e.i32(FlashTiling::kChunk * c), row, w.kvHead, w.batch},
                  full);
    }
    return SmallVector<Value>{};
  });
}

void mlir::tucker::flash_to_gpu::runRoles(
    KernelEmitter &e, const FlashKernelSpec &spec, const FlashTiling &t,
    const TileWork &w, Value tmapQ, Value tmapK, Value tmapV,
    int64_t emptyArrivals, llvm::function_ref<void()> consumer) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value tid = e.threadIdX();
  e.initSharedBase(kSharedMemorySymbol);
  e.ifThen(e.cmp(Pred::eq, tid, e.i32(0)), [&] {
    for (int64_t s = 0; s < t.stages; ++s) {
      e.mbarrierInit(e.sharedAt(t.full + 8 * s), 1);
      e.mbarrierInit(e.sharedAt(t.empty + 8 * s), emptyArrivals);
    }
    e.mbarrierInit(e.sharedAt(t.qFull), 1);
    e.mbarrierInitFence();
  });
  gpu::BarrierOp::create(b, loc);
  Value wg = e.udiv(tid, e.i32(128));
  // setmaxnreg takes effect only with each role in one branch of a single
  // if (docs/gpu-notes.md, pitfall 13).
  auto roles = scf::IfOp::create(
      b, loc, e.cmp(Pred::eq, wg, e.i32(t.consumers)),
      /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(roles.thenBlock());
  NVVM::SetMaxRegisterOp::create(b, loc, 24,
                                 NVVM::SetMaxRegisterAction::decrease);
  e.ifThen(e.cmp(Pred::eq, tid, e.i32(128 * t.consumers)),
           [&] { produceTiles(e, spec, t, w, tmapQ, tmapK, tmapV); });
  b.setInsertionPointToStart(roles.elseBlock());
  // The register file (64 K) less the producer's 24 per thread, shared by
  // the consumers in multiples of 8: 240 for two, 160 for three.
  int64_t consumerRegisters = (65536 / 128 - 24) / t.consumers / 8 * 8;
  NVVM::SetMaxRegisterOp::create(b, loc, consumerRegisters,
                                 NVVM::SetMaxRegisterAction::increase);
  consumer();
}

SmallVector<Value> mlir::tucker::flash_to_gpu::scoresOfTile(
    KernelEmitter &e, const FlashKernelSpec &spec, const FlashTiling &t,
    Value stage) {
  // A = Q (K-major), B = the K tile (K-major): 128-byte swizzle, 8-row groups
  // 1024 B apart (SBO); a k16 step is 32 B inside a 64-wide chunk.
  uint64_t kMajor = KernelEmitter::descriptorBits(16, 1024, true);
  Value kBase = e.mul(stage, e.i32(t.kStageBytes / 16));
  Type accType = e.accumulatorType(t.blockN / 2);
  NVVM::WGMMATypes abType = spec.element == FlashElement::BF16
                                ? NVVM::WGMMATypes::bf16
                                : NVVM::WGMMATypes::f16;
  Value acc;
  e.wgmmaFence();
  for (int64_t kk = 0; kk < spec.qkDim / 16; ++kk) {
    int64_t chunk = kk / 4, within = kk % 4;
    int64_t qOff = t.q + chunk * t.qChunkBytes + within * 32;
    int64_t kOff = t.k + chunk * t.kChunkBytes + within * 32;
    Value da = e.wgmmaDescriptor(kMajor + (qOff >> 4), e.i32(0));
    Value db = e.wgmmaDescriptor(kMajor + (kOff >> 4), kBase);
    acc = e.wgmmaSS(acc, accType, t.blockN, da, db, abType, /*bKMajor=*/true);
  }
  e.wgmmaCommit();
  e.wgmmaWait(0);
  return e.unpack(acc, t.blockN / 2);
}

ThreadRows mlir::tucker::flash_to_gpu::threadRows(KernelEmitter &e,
                                                  const FlashKernelSpec &spec,
                                                  const TileWork &w, Value r0,
                                                  Value nq, Value nk) {
  // Rows r of the M tile are (head r / rows, position n0 + r % rows).
  int64_t rows = spec.rowsPerHead();
  bool oneHead = rows == spec.blockM();
  ThreadRows out;
  Value offset = e.sub(nk, nq);
  for (Value r : {r0, e.add(r0, e.i32(8))}) {
    Value pos = e.add(w.n0, oneHead ? r : e.urem(r, e.i32(rows)));
    out.pos.push_back(pos);
    out.head.push_back(oneHead ? w.headBase
                               : e.add(w.headBase, e.udiv(r, e.i32(rows))));
    out.keyLimit.push_back(e.add(pos, offset));
  }
  return out;
}

void mlir::tucker::flash_to_gpu::maskScores(KernelEmitter &e,
                                            const FlashKernelSpec &spec,
                                            int64_t blockN,
                                            MutableArrayRef<Value> s,
                                            Value tile, Value t2, Value nk,
                                            const ThreadRows &rows) {
  Value col0 = e.add(e.mul(tile, e.i32(blockN)), t2);
  Value negInf = e.f32(-std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < int64_t(s.size()); ++i) {
    Value col = e.add(col0, e.i32(8 * (i / 4) + (i % 2)));
    Value bad = e.cmp(Pred::sge, col, nk);
    if (spec.causal)
      bad = e.ori(bad, e.cmp(Pred::sgt, col, rows.keyLimit[rowOf(i)]));
    s[i] = e.select(bad, negInf, s[i]);
  }
}

SmallVector<Value> mlir::tucker::flash_to_gpu::rowReduce(KernelEmitter &e,
                                                         ArrayRef<Value> values,
                                                         bool max, bool quad) {
  SmallVector<Value> out;
  for (int64_t row = 0; row < 2; ++row) {
    Value acc;
    for (int64_t i = 0; i < int64_t(values.size()); ++i) {
      if (rowOf(i) != row)
        continue;
      acc = !acc ? values[i] : max ? e.fmax(acc, values[i])
                                   : e.fadd(acc, values[i]);
    }
    if (quad)
      for (int64_t off : {1, 2}) {
        Value other = e.shuffleXor(acc, off);
        acc = max ? e.fmax(acc, other) : e.fadd(acc, other);
      }
    out.push_back(acc);
  }
  return out;
}

SmallVector<Value> mlir::tucker::flash_to_gpu::packPairs(KernelEmitter &e,
                                                         ArrayRef<Value> values,
                                                         Type halfType) {
  SmallVector<Value> regs;
  for (size_t i = 0; i + 1 < values.size(); i += 2)
    regs.push_back(e.pack2(values[i], values[i + 1], halfType));
  return regs;
}

SmallVector<Value> mlir::tucker::flash_to_gpu::accumulatePV(
    KernelEmitter &e, const FlashKernelSpec &spec, ArrayRef<Value> o,
    ArrayRef<Value> pRegs, int64_t blockN, int64_t vBase, int64_t chunkBytes,
    Value stageUnits) {
  // B = V tile, MN-major ([keys][d]): 8 keys of 128 B per core group, groups
  // 1024 B apart (SBO), 64-column chunks one chunk apart (LBO).
  uint64_t mnMajor = KernelEmitter::descriptorBits(chunkBytes, 1024, true);
  StringRef ptxType = spec.element == FlashElement::BF16 ? "bf16" : "f16";
  SmallVector<Value> acc(o);
  for (int64_t kk = 0; kk < blockN / 16; ++kk) {
    int64_t vOff = vBase + kk * 16 * FlashTiling::kRowBytes;
    Value db = e.wgmmaDescriptor(mnMajor + (vOff >> 4), stageUnits);
    acc = e.wgmmaRS(acc, pRegs.slice(4 * kk, 4), db, 2 * int64_t(o.size()),
                    ptxType);
  }
  return acc;
}

Value mlir::tucker::flash_to_gpu::outputRow(KernelEmitter &e,
                                            const FlashKernelSpec &spec,
                                            Value batch, Value head, Value pos,
                                            Value heads, Value nq) {
  if (spec.outputTransposed) // [B, Nq, Hq, Dv]
    return e.add(e.mul(e.add(e.mul(batch, nq), pos), heads), head);
  return e.add(e.mul(e.add(e.mul(batch, heads), head), nq), pos);
}

void mlir::tucker::flash_to_gpu::storeOutput(
    KernelEmitter &e, const FlashKernelSpec &spec, ArrayRef<Value> o,
    ArrayRef<Value> l, const TileWork &w, const ThreadRows &rows, Value out,
    Value nq, Value t2, int64_t column0, Type halfType) {
  OpBuilder &b = e.builder();
  SmallVector<Value> inv;
  for (int64_t row = 0; row < 2; ++row) {
    Value sum = l[row];
    for (int64_t off : {1, 2})
      sum = e.fadd(sum, e.shuffleXor(sum, off));
    Value empty = arith::CmpFOp::create(b, e.loc(), arith::CmpFPredicate::OEQ,
                                        sum, e.f32(0.0f));
    inv.push_back(e.select(empty, e.f32(0.0f), e.fdiv(e.f32(1.0f), sum)));
  }
  SmallVector<Value> scaled;
  for (int64_t i = 0; i < int64_t(o.size()); ++i)
    scaled.push_back(e.fmul(o[i], inv[rowOf(i)]));
  // Register 2·jn + r = row r, columns 8jn + 2t.
  SmallVector<Value> regs = packPairs(e, scaled, halfType);
  Value heads = spec.headsPerTile == 1
                    ? e.gridDimY()
                    : e.mul(e.gridDimY(), e.i32(spec.headsPerTile));
  auto ptrType = e.globalPtr();
  for (int64_t row = 0; row < 2; ++row) {
    e.ifThen(e.cmp(Pred::slt, rows.pos[row], nq), [&] {
      Value rowIndex = e.zext64(outputRow(e, spec, w.batch, rows.head[row],
                                          rows.pos[row], heads, nq));
      Value rowBase = e.add(e.mul(rowIndex, e.i64(spec.valueDim)),
                            e.zext64(e.add(t2, e.i32(column0))));
      for (int64_t jn = 0; jn < int64_t(o.size()) / 4; ++jn) {
        Value index = e.add(rowBase, e.i64(8 * jn));
        Value ptr = LLVM::GEPOp::create(b, e.loc(), ptrType, halfType, out,
                                        ValueRange{index});
        LLVM::StoreOp::create(b, e.loc(), regs[2 * jn + row], ptr,
                              /*alignment=*/4);
      }
    });
  }
}

void mlir::tucker::flash_to_gpu::storePartial(
    KernelEmitter &e, const FlashKernelSpec &spec, ArrayRef<Value> o,
    ArrayRef<Value> m, ArrayRef<Value> l, const TileWork &w,
    const ThreadRows &rows, Value oPartial, Value stats, Value nq, Value t2,
    int64_t column0, Value partial, Value partials, bool withStats) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type f32 = e.f32();
  Type pairType = VectorType::get({2}, f32);
  Value heads = spec.headsPerTile == 1
                    ? e.gridDimY()
                    : e.mul(e.gridDimY(), e.i32(spec.headsPerTile));
  auto ptrType = e.globalPtr();
  for (int64_t row = 0; row < 2; ++row) {
    Value sum = l[row];
    for (int64_t off : {1, 2})
      sum = e.fadd(sum, e.shuffleXor(sum, off));
    e.ifThen(e.cmp(Pred::slt, rows.pos[row], nq), [&] {
      Value bh = e.add(e.mul(w.batch, heads), rows.head[row]);
      Value r = e.add(e.mul(bh, nq), rows.pos[row]);
      Value slot = e.zext64(e.add(e.mul(r, partials), partial));
      Value rowBase = e.add(e.mul(slot, e.i64(spec.valueDim)),
                            e.zext64(e.add(t2, e.i32(column0))));
      // Register 4·jn + 2·row + {0, 1}: row `row`, columns 8jn + t2 + {0, 1}.
      for (int64_t jn = 0; jn < int64_t(o.size()) / 4; ++jn) {
        Value pair = LLVM::UndefOp::create(b, loc, pairType);
        for (int64_t k = 0; k < 2; ++k)
          pair = LLVM::InsertElementOp::create(b, loc, pair,
                                               o[4 * jn + 2 * row + k],
                                               e.i32(k));
        Value ptr = LLVM::GEPOp::create(b, loc, ptrType, f32, oPartial,
                                        ValueRange{e.add(rowBase,
                                                         e.i64(8 * jn))});
        LLVM::StoreOp::create(b, loc, pair, ptr, /*alignment=*/8);
      }
      if (!withStats)
        return;
      e.ifThen(e.cmp(Pred::eq, t2, e.i32(0)), [&] {
        Value pair = LLVM::UndefOp::create(b, loc, pairType);
        pair = LLVM::InsertElementOp::create(b, loc, pair, m[row], e.i32(0));
        pair = LLVM::InsertElementOp::create(b, loc, pair, sum, e.i32(1));
        Value ptr = LLVM::GEPOp::create(b, loc, ptrType, f32, stats,
                                        ValueRange{e.mul(slot, e.i64(2))});
        LLVM::StoreOp::create(b, loc, pair, ptr, /*alignment=*/8);
      });
    });
  }
}

void mlir::tucker::flash_to_gpu::declareRopeFrequencies(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  int64_t half = spec.ropeWidth / 2;
  SmallVector<double> freqs;
  for (int64_t j = 0; j < half; ++j)
    freqs.push_back(
        1.0 / std::pow(spec.ropeTheta, 2.0 * double(j) / double(spec.ropeWidth)));
  Type f64 = builder.getF64Type();
  auto value = DenseElementsAttr::get(RankedTensorType::get({half}, f64),
                                      ArrayRef<double>(freqs));
  LLVM::GlobalOp::create(builder, loc, LLVM::LLVMArrayType::get(f64, half),
                         /*isConstant=*/true, LLVM::Linkage::Internal, name,
                         value, /*alignment=*/8, /*addrSpace=*/1);
}

void mlir::tucker::flash_to_gpu::fenceProxyAsync(KernelEmitter &e) {
  NVVM::FenceProxyOp::create(
      e.builder(), e.loc(), NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(e.context(), NVVM::SharedSpace::shared_cta));
}

std::pair<Value, Value>
mlir::tucker::flash_to_gpu::loadPairFromL2(KernelEmitter &e, Value ptr) {
  OpBuilder &b = e.builder();
  Type f32 = e.f32();
  auto pairType =
      LLVM::LLVMStructType::getLiteral(e.context(), ArrayRef<Type>{f32, f32});
  // Side effects: LLVM would otherwise hoist it above a barrier.
  Value pair =
      LLVM::InlineAsmOp::create(
          b, e.loc(), pairType, ValueRange{ptr},
          "ld.global.cg.v2.f32 {$0, $1}, [$2];", "=f,=f,l",
          /*has_side_effects=*/true, /*is_align_stack=*/false,
          LLVM::tailcallkind::TailCallKind::None,
          LLVM::AsmDialectAttr::get(e.context(), LLVM::AsmDialect::AD_ATT),
          /*operand_attrs=*/ArrayAttr())
          .getResult(0);
  return {LLVM::ExtractValueOp::create(b, e.loc(), pair, 0),
          LLVM::ExtractValueOp::create(b, e.loc(), pair, 1)};
}

void mlir::tucker::flash_to_gpu::fenceGpu(KernelEmitter &e) {
  LLVM::FenceOp::create(e.builder(), e.loc(), LLVM::AtomicOrdering::acq_rel,
                        "device");
}

std::pair<Value, Value>
mlir::tucker::flash_to_gpu::ropeCosSin(KernelEmitter &e, Value table, Value j,
                                       Value position) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type f64 = b.getF64Type();
  auto globalPtr = LLVM::LLVMPointerType::get(e.context(), 1);
  // angle = position · freq_j in f64, reduced to [-π, π].
  Value freqPtr =
      LLVM::GEPOp::create(b, loc, globalPtr, f64, table, ValueRange{j});
  Value freq = LLVM::LoadOp::create(b, loc, f64, freqPtr, /*alignment=*/8);
  Value pos = arith::SIToFPOp::create(b, loc, f64, position);
  Value angle = arith::MulFOp::create(b, loc, pos, freq);
  Value turns = math::RoundEvenOp::create(
      b, loc,
      arith::MulFOp::create(
          b, loc, angle,
          arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.5 / M_PI))));
  Value reduced = math::FmaOp::create(
      b, loc, arith::NegFOp::create(b, loc, turns),
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(2.0 * M_PI)), angle);
  Value r32 = arith::TruncFOp::create(b, loc, e.f32(), reduced);
  auto intrinsic = [&](StringRef name) {
    return LLVM::CallIntrinsicOp::create(b, loc, e.f32(), b.getStringAttr(name),
                                         ValueRange{r32})
        .getResult(0);
  };
  return {intrinsic("llvm.nvvm.cos.approx.ftz.f"),
          intrinsic("llvm.nvvm.sin.approx.ftz.f")};
}

void mlir::tucker::flash_to_gpu::rotateRows(
    KernelEmitter &e, const FlashKernelSpec &spec, StringRef frequencies,
    int64_t tileBase, Value tileExtra, int64_t chunkBytes, int64_t rowCount,
    Value thread, int64_t threads, Type halfType,
    llvm::function_ref<Value(Value row)> position) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  int64_t half = spec.ropeWidth / 2;
  int64_t pairs = half * spec.ropeRepeat; // per row
  int64_t items = rowCount * pairs;
  int64_t rounds = (items + threads - 1) / threads;
  auto globalPtr = LLVM::LLVMPointerType::get(e.context(), 1);
  Value table = LLVM::AddressOfOp::create(b, loc, globalPtr, frequencies);
  // Byte offset of element (row, col) in the swizzled tile.
  auto at = [&](Value row, Value col) {
    Value chunk = e.shrui(col, e.i32(6));
    Value within = e.andi(col, e.i32(63));
    Value granule = arith::XOrIOp::create(b, loc, e.shrui(within, e.i32(3)),
                                          e.andi(row, e.i32(7)));
    Value off = e.add(e.mul(chunk, e.i32(chunkBytes)), e.mul(row, e.i32(128)));
    off = e.add(off, e.mul(granule, e.i32(16)));
    off = e.add(off, e.mul(e.andi(within, e.i32(7)), e.i32(2)));
    off = e.add(off, e.i32(tileBase));
    return e.sharedAt(tileExtra ? e.add(off, tileExtra) : off);
  };
  e.forLoop(e.i32(0), e.i32(rounds), {}, [&](Value k, ValueRange) {
    Value item = e.add(thread, e.mul(k, e.i32(threads)));
    e.ifThen(e.cmp(Pred::ult, item, e.i32(items)), [&] {
      Value row = e.udiv(item, e.i32(pairs));
      Value pair = e.urem(item, e.i32(pairs));
      Value block = e.udiv(pair, e.i32(half));
      Value j = e.urem(pair, e.i32(half));
      Value start = e.add(e.i32(spec.ropeOffset),
                          e.mul(block, e.i32(spec.ropeStride)));
      Value colA, colB;
      if (spec.ropeInterleaved) {
        colA = e.add(start, e.mul(j, e.i32(2)));
        colB = e.add(colA, e.i32(1));
      } else {
        colA = e.add(start, j);
        colB = e.add(colA, e.i32(half));
      }
      auto [c, sn] = ropeCosSin(e, table, j, position(row));
      Value pa = at(row, colA), pb = at(row, colB);
      Value a = arith::ExtFOp::create(
          b, loc, e.f32(), LLVM::LoadOp::create(b, loc, halfType, pa, 2).getResult());
      Value cc = arith::ExtFOp::create(
          b, loc, e.f32(), LLVM::LoadOp::create(b, loc, halfType, pb, 2).getResult());
      // (a, c) -> (a·cos − c·sin, c·cos + a·sin)
      Value na = e.fsub(e.fmul(a, c), e.fmul(cc, sn));
      Value nc = e.fma(a, sn, e.fmul(cc, c));
      LLVM::StoreOp::create(b, loc,
                            arith::TruncFOp::create(b, loc, halfType, na), pa,
                            2);
      LLVM::StoreOp::create(b, loc,
                            arith::TruncFOp::create(b, loc, halfType, nc), pb,
                            2);
    });
    return SmallVector<Value>{};
  });
}

Value mlir::tucker::flash_to_gpu::lengthTile(KernelEmitter &e, Value keys,
                                             Value cacheKeys, int64_t blockN) {
  return e.select(e.cmp(Pred::ult, keys, cacheKeys),
                  e.udiv(keys, e.i32(blockN)), e.i32(-1));
}

void mlir::tucker::flash_to_gpu::zeroTileRows(KernelEmitter &e,
                                              int64_t tileBase, Value tileExtra,
                                              int64_t chunkBytes,
                                              int64_t chunks, Value firstRow,
                                              int64_t rowCount, Value thread,
                                              int64_t threads) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  // Granule g (16 B) of a chunk is row g / 8: the thread's granules are
  // thread + k · threads, those from row firstRow on are stored. Unrolled:
  // no loop state next to the live accumulators.
  int64_t granules = rowCount * (FlashTiling::kRowBytes / 16);
  Value first = e.mul(firstRow, e.i32(FlashTiling::kRowBytes / 16));
  Value base =
      e.add(e.add(tileExtra, e.i32(tileBase)), e.mul(thread, e.i32(16)));
  Value zero = LLVM::ZeroOp::create(b, loc, VectorType::get({4}, e.i32()));
  for (int64_t k = 0; k * threads < granules; ++k) {
    Value g = k == 0 ? thread : e.add(thread, e.i32(k * threads));
    Value store = e.cmp(Pred::uge, g, first);
    if ((k + 1) * threads > granules)
      store = arith::AndIOp::create(b, loc, store,
                                    e.cmp(Pred::ult, g, e.i32(granules)));
    e.ifThen(store, [&] {
      for (int64_t c = 0; c < chunks; ++c)
        LLVM::StoreOp::create(
            b, loc, zero,
            e.sharedAt(e.add(base, e.i32(16 * k * threads + c * chunkBytes))),
            /*alignment=*/16);
    });
  }
}

SmallVector<Type> FlashKernelArgs::types(MLIRContext *ctx,
                                         const FlashKernelSpec &spec) {
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = IntegerType::get(ctx, 32);
  SmallVector<Type> types{ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i32};
  if (spec.mergesSplits())
    types.push_back(ptr);
  if (spec.lse)
    types.push_back(ptr);
  return types;
}

FlashKernelArgs FlashKernelArgs::unpack(ValueRange args,
                                        const FlashKernelSpec &spec) {
  FlashKernelArgs a;
  a.tmapQ = args[0];
  a.tmapK = args[1];
  a.tmapV = args[2];
  a.out = args[3];
  a.oPartial = args[4];
  a.stats = args[5];
  a.lengths = args[6];
  a.nq = args[7];
  a.nk = args[8];
  a.tilesPerSplit = args[9];
  unsigned next = 10;
  if (spec.mergesSplits())
    a.counters = args[next++];
  if (spec.lse)
    a.lse = args[next++];
  assert(next == args.size() && "arguments of another spec");
  return a;
}

SmallVector<Value> FlashKernelArgs::pack(const FlashKernelSpec &spec) const {
  SmallVector<Value> args{tmapQ, tmapK,   tmapV, out, oPartial,
                          stats, lengths, nq,    nk,  tilesPerSplit};
  if (spec.mergesSplits())
    args.push_back(counters);
  if (spec.lse)
    args.push_back(lse);
  return args;
}

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::createFlashKernelFunc(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name,
    llvm::function_ref<void(KernelEmitter &, const FlashKernelArgs &,
                            StringRef)>
        body) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  // A !nvgpu.tensormap.descriptor parameter does not legalize in MLIR 22:
  // tensor maps come in as pointers to the 128-byte CUtensorMap in global
  // memory (docs/gpu-notes.md, "Measured with this toolchain", item 1).
  auto type = builder.getFunctionType(
      FlashKernelArgs::types(builder.getContext(), spec), {});
  auto func = gpu::GPUFuncOp::create(builder, loc, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  int32_t threads = spec.threads();
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({threads, 1, 1}));
  // setmaxnreg needs a register cap at entry: .maxntid + .minnctapersm 1.
  func->setAttr("nvvm.maxntid", builder.getDenseI32ArrayAttr({threads, 1, 1}));
  func->setAttr("nvvm.minctasm", builder.getI32IntegerAttr(1));
  std::string frequencies;
  if (spec.rope()) {
    frequencies = (name + "_rope_freq").str();
    declareRopeFrequencies(builder, loc, module, spec, frequencies);
  }
  Block &entry = func.getBody().front();
  builder.setInsertionPointToEnd(&entry);
  KernelEmitter emitter(builder, loc, &entry);
  body(emitter, FlashKernelArgs::unpack(entry.getArguments(), spec),
       frequencies);
  return func;
}
