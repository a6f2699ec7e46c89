//===- FlashDecodeKernel.cpp - Split-KV decode kernel and its combine -----===//
//
// Decode (few queries, a long cache) is bound by the bytes of the cache, not
// by math: the kernel must keep every SM streaming K/V. So:
//
//  * the M tile is 64 rows: the query heads of one kv head times the few
//    positions (headsPerTile heads × rowsPerHead positions), so one K/V tile
//    serves every head of the group;
//  * the key sequence of each (tile, kv head, batch) is split across CTAs
//    (grid x = query tiles × splits, tiles_per_split keys tiles each), as
//    many as fill the GPU; each split ends in unnormalized partial results
//    (O in f32, the row max and sum) that the combine kernel merges;
//  * the two consumer warpgroups share the 64 rows and take alternate key
//    tiles of the split, each with its own online softmax and its own
//    partial result: while one runs its softmax, the other's wgmma runs,
//    and each holds one ring slot at a time, so a 4-slot ring keeps the
//    producer two tiles ahead.
//
// Per tile a consumer waits for the slot, computes S = Q·Kᵀ (SS-wgmma),
// masks it when the tile crosses the sequence end or the causal diagonal,
// updates (m, l), rescales O and adds P·V (RS-wgmma, P from registers),
// then releases the slot. Producer, tensor maps, masking and rope are those
// of FlashKernel.cpp.
//
//===----------------------------------------------------------------------===//

#include "FlashKernelParts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

namespace {

class DecodeKernelBuilder {
public:
  DecodeKernelBuilder(KernelEmitter &e, const FlashKernelSpec &spec,
                      ValueRange args, StringRef ropeFrequencies)
      : e(e), spec(spec), t(spec), ropeFrequencies(ropeFrequencies),
        tmapQ(args[0]), tmapK(args[1]), tmapV(args[2]), oPartial(args[4]),
        stats(args[5]), lengths(args[6]), nq(args[7]), nkAll(args[8]),
        tilesPerSplit(args[9]) {
    ns = t.blockN / 2;
    nacc = spec.valueDim / 2;
    bool bf16 = spec.element == FlashElement::BF16;
    halfType =
        bf16 ? Type(e.builder().getBF16Type()) : Type(e.builder().getF16Type());
  }

  void build();

private:
  KernelEmitter &e;
  const FlashKernelSpec &spec;
  FlashTiling t;
  StringRef ropeFrequencies;
  Value tmapQ, tmapK, tmapV, oPartial, stats, lengths, nq, nkAll,
      tilesPerSplit;
  Value nk; // keys of this CTA's sequence
  int64_t ns, nacc;
  Type halfType;

  TileWork w;
  Value tid, wg, wgTid, t2;
  ThreadRows rows;

  Value barrier(int64_t base, Value stage) {
    return e.sharedAt(e.add(e.mul(stage, e.i32(8)), e.i32(base)));
  }
  Value stageOf(Value i) { return e.urem(i, e.i32(t.stages)); }
  Value phaseOf(Value i) {
    return e.andi(e.udiv(i, e.i32(t.stages)), e.i32(1));
  }

  void consumer();
};

} // namespace

void DecodeKernelBuilder::build() {
  tid = e.threadIdX();
  nk = sequenceKeys(e, spec, lengths, e.blockIdZ(), nkAll);
  w = tileWork(e, spec, t, nq, nk, tilesPerSplit);

  wg = e.udiv(tid, e.i32(128));
  // One warpgroup consumes each tile.
  runRoles(e, spec, t, w, tmapQ, tmapK, tmapV, 128, [&] {
    wgTid = e.urem(tid, e.i32(128));
    Value warp = e.udiv(wgTid, e.i32(32));
    Value lane = e.urem(wgTid, e.i32(32));
    t2 = e.mul(e.urem(lane, e.i32(4)), e.i32(2));
    // Both warpgroups hold the same 64 rows.
    Value r0 = e.add(e.mul(warp, e.i32(16)), e.udiv(lane, e.i32(4)));
    rows = threadRows(e, spec, w, r0, nq, nk);
    consumer();
  });
  gpu::ReturnOp::create(e.builder(), e.loc());
}

void DecodeKernelBuilder::consumer() {
  Type f32 = e.f32();
  Value scale = e.f32(spec.scaleLog2e);
  Value negScale = e.f32(-spec.scaleLog2e);
  e.mbarrierWait(e.sharedAt(t.qFull), e.i32(0));
  if (spec.rope()) {
    // Each warpgroup rotates 32 of the 64 Q rows, at positions p + Nk − Nq.
    int64_t rowsPerHead = spec.rowsPerHead();
    Value offset = e.sub(nk, nq);
    Value firstRow = e.mul(wg, e.i32(32));
    rotateRows(e, spec, ropeFrequencies, t.q,
               e.mul(firstRow, e.i32(FlashTiling::kRowBytes)), t.qChunkBytes,
               32, wgTid, 128, halfType, [&](Value r) {
                 Value row = e.add(firstRow, r);
                 if (rowsPerHead != t.blockM)
                   row = e.urem(row, e.i32(rowsPerHead));
                 return e.add(e.add(w.n0, row), offset);
               });
    fenceProxyAsync(e);
    e.namedBarrierSync(e.i32(1), 256);
  }

  // Warpgroup wg takes local tiles wg, wg + 2, ...: (nt − wg + 1) / 2 of
  // them. Carried: O, m, l.
  Value mine = e.udiv(e.add(e.sub(w.nt, wg), e.i32(1)), e.i32(2));
  mine = e.select(e.cmp(Pred::ugt, wg, w.nt), e.i32(0), mine);
  SmallVector<Value> init(nacc, e.f32(0.0f));
  init.append(2, e.f32(-1.0e30f)); // finite: fully masked rows keep alpha 1
  init.append(2, e.f32(0.0f));
  SmallVector<Value> res = e.forLoop(
      e.i32(0), mine, init, [&](Value k, ValueRange args) {
        SmallVector<Value> all(args.begin(), args.end());
        ArrayRef<Value> o = ArrayRef<Value>(all).take_front(nacc);
        ArrayRef<Value> mOld = ArrayRef<Value>(all).slice(nacc, 2);
        ArrayRef<Value> lOld = ArrayRef<Value>(all).slice(nacc + 2, 2);
        Value i = e.add(e.mul(k, e.i32(2)), wg);
        Value tile = e.add(w.first, i);
        Value stage = stageOf(i);
        e.mbarrierWait(barrier(t.full, stage), phaseOf(i));
        if (spec.rope()) {
          rotateRows(e, spec, ropeFrequencies, t.k,
                     e.mul(stage, e.i32(t.kStageBytes)), t.kChunkBytes,
                     t.blockN, wgTid, 128, halfType, [&](Value r) {
                       return e.add(e.mul(tile, e.i32(t.blockN)), r);
                     });
          fenceProxyAsync(e);
          e.namedBarrierSync(e.add(wg, e.i32(2)), 128);
        }
        SmallVector<Value> sv = scoresOfTile(e, spec, t, stage);
        SmallVector<Type> sTypes(ns, f32);
        SmallVector<Value> s = e.ifThenElse(
            e.cmp(Pred::uge, tile, w.nfull), sTypes,
            [&] {
              SmallVector<Value> masked(sv);
              maskScores(e, spec, t.blockN, masked, tile, t2, nk, rows);
              return masked;
            },
            [&] { return sv; });

        SmallVector<Value> tileMax = rowReduce(e, s, /*max=*/true, true);
        SmallVector<Value> mNew, alpha, negM;
        for (int64_t r = 0; r < 2; ++r) {
          Value m = e.fmax(mOld[r], tileMax[r]);
          mNew.push_back(m);
          alpha.push_back(e.exp2Ftz(e.fmul(e.fsub(mOld[r], m), scale)));
          negM.push_back(e.fmul(m, negScale));
        }
        SmallVector<Value> p;
        for (int64_t x = 0; x < ns; ++x)
          p.push_back(e.exp2Ftz(e.fma(s[x], scale, negM[rowOf(x)])));
        SmallVector<Value> sums = rowReduce(e, p, /*max=*/false, false);
        SmallVector<Value> next;
        for (int64_t x = 0; x < nacc; ++x)
          next.push_back(e.fmul(o[x], alpha[rowOf(x)]));
        e.wgmmaFence();
        next = accumulatePV(e, spec, next, packPairs(e, p, halfType),
                            t.blockN, t.v, t.vChunkBytes,
                            e.mul(stage, e.i32(t.vStageBytes / 16)));
        e.wgmmaCommit();
        e.wgmmaWait(0);
        e.mbarrierArrive(barrier(t.empty, stage));
        next.append(mNew);
        for (int64_t r = 0; r < 2; ++r)
          next.push_back(e.fma(lOld[r], alpha[r], sums[r]));
        return next;
      });
  ArrayRef<Value> fin(res);
  Value partial = e.add(e.mul(w.split, e.i32(2)), wg);
  Value partials = e.mul(w.splits, e.i32(2));
  storePartial(e, spec, fin.take_front(nacc), fin.slice(nacc, 2),
               fin.slice(nacc + 2, 2), w, rows, oPartial, stats, nq, t2,
               /*column0=*/0, partial, partials, /*withStats=*/true);
}

//===----------------------------------------------------------------------===//
// Combine
//===----------------------------------------------------------------------===//

namespace {

/// One warp per output row: M = max of the partial maxima, then
/// O = Σ_p 2^((m_p − M)·s) O_p / Σ_p 2^((m_p − M)·s) l_p (0 when the sum
/// is 0: a row that saw no key), lanes striding over the Dv columns.
void buildCombine(KernelEmitter &e, const FlashKernelSpec &spec,
                  ValueRange args) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type f32 = e.f32();
  Value oPartial = args[0], stats = args[1], out = args[2], rowCount = args[3],
        partials = args[4], heads = args[5], nq = args[6];
  Type halfType = spec.element == FlashElement::BF16 ? Type(b.getBF16Type())
                                                     : Type(b.getF16Type());
  Value tid = e.threadIdX();
  Value lane = e.urem(tid, e.i32(32));
  Value row = e.add(e.mul(e.blockIdX(), e.i32(kCombineThreads / 32)),
                    e.udiv(tid, e.i32(32)));
  Value scale = e.f32(spec.scaleLog2e);
  auto ptrType = e.globalPtr();
  auto load = [&](Value base, Value index) {
    Value ptr = LLVM::GEPOp::create(b, loc, ptrType, f32, base,
                                    ValueRange{index});
    return LLVM::LoadOp::create(b, loc, f32, ptr, /*alignment=*/4)
        .getResult();
  };
  int64_t perLane = (spec.valueDim + 31) / 32;
  e.ifThen(e.cmp(Pred::ult, row, rowCount), [&] {
    Value first = e.zext64(e.mul(row, partials));
    auto slotOf = [&](Value p) { return e.add(first, e.zext64(p)); };
    Value m = e.forLoop(e.i32(0), partials, {e.f32(-1.0e30f)},
                        [&](Value p, ValueRange acc) {
                          Value mp = load(stats, e.mul(slotOf(p), e.i64(2)));
                          return SmallVector<Value>{e.fmax(acc[0], mp)};
                        })[0];
    SmallVector<Value> init(perLane, e.f32(0.0f));
    init.push_back(e.f32(0.0f)); // the weighted sum of the l_p
    SmallVector<Value> acc = e.forLoop(
        e.i32(0), partials, init, [&](Value p, ValueRange in) {
          Value slot = slotOf(p);
          Value mp = load(stats, e.mul(slot, e.i64(2)));
          Value lp = load(stats, e.add(e.mul(slot, e.i64(2)), e.i64(1)));
          // (m_p − M)·s, not m_p·s − M·s: an FMA keeps the rounding error
          // of M·s, 2^-24 of 1e30 for a row without keys, and 2^(that) is
          // infinite.
          Value weight = e.exp2Ftz(e.fmul(e.fsub(mp, m), scale));
          SmallVector<Value> next;
          Value base = e.mul(slot, e.i64(spec.valueDim));
          for (int64_t c = 0; c < perLane; ++c) {
            Value col = e.add(e.zext64(lane), e.i64(32 * c));
            Value inRange = e.cmp(Pred::ult, col, e.i64(spec.valueDim));
            Value safe = e.select(inRange, col, e.i64(0));
            next.push_back(e.fma(weight, load(oPartial, e.add(base, safe)),
                                 in[c]));
          }
          next.push_back(e.fma(weight, lp, in[perLane]));
          return next;
        });
    Value sum = acc[perLane];
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                        sum, e.f32(0.0f));
    Value inv = e.select(empty, e.f32(0.0f), e.fdiv(e.f32(1.0f), sum));
    // row = (b · heads + head) · nq + pos.
    Value pos = e.urem(row, nq);
    Value bh = e.udiv(row, nq);
    Value outRow = outputRow(e, spec, e.udiv(bh, heads), e.urem(bh, heads),
                             pos, heads, nq);
    Value outBase = e.mul(e.zext64(outRow), e.i64(spec.valueDim));
    for (int64_t c = 0; c < perLane; ++c) {
      Value col = e.add(e.zext64(lane), e.i64(32 * c));
      e.ifThen(e.cmp(Pred::ult, col, e.i64(spec.valueDim)), [&] {
        Value value = arith::TruncFOp::create(b, loc, halfType,
                                              e.fmul(acc[c], inv));
        Value ptr = LLVM::GEPOp::create(b, loc, ptrType, halfType, out,
                                        ValueRange{e.add(outBase, col)});
        LLVM::StoreOp::create(b, loc, value, ptr, /*alignment=*/2);
      });
    }
  });
  gpu::ReturnOp::create(b, loc);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashDecodeKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  return createFlashKernelFunc(
      builder, loc, module, spec, name,
      [&](KernelEmitter &e, ValueRange args, StringRef frequencies) {
        DecodeKernelBuilder(e, spec, args, frequencies).build();
      });
}

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashCombineKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  MLIRContext *ctx = builder.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i32 = builder.getI32Type();
  auto type =
      builder.getFunctionType({ptr, ptr, ptr, i32, i32, i32, i32}, {});
  auto func = gpu::GPUFuncOp::create(builder, loc, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  int32_t threads = kCombineThreads;
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({threads, 1, 1}));
  Block &entry = func.getBody().front();
  builder.setInsertionPointToEnd(&entry);
  KernelEmitter emitter(builder, loc, &entry);
  buildCombine(emitter, spec, entry.getArguments());
  return func;
}
