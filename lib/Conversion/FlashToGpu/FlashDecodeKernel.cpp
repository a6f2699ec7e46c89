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
//    many as fill the GPU; each split ends in an unnormalized partial
//    result (O in f32, the row max and sum);
//  * the two consumer warpgroups share the 64 rows and take alternate key
//    tiles of the split, each with its own online softmax: while one runs
//    its softmax, the other's wgmma runs, and each holds one ring slot at a
//    time, so a 4-slot ring keeps the producer two tiles ahead (the ring
//    has an even number of slots: a slot's previous tile is then the same
//    warpgroup's, whose full-barrier phase has completed); at the end they
//    merge through shared memory;
//  * given arrival counters (static batch and Nq: a zeroed persistent
//    buffer, one counter per query tile), the CTA that finishes a query
//    tile last merges the partials of all its splits and writes the output
//    (a tile's only split writes it at once), so one launch does the whole
//    decode; without them (dynamic shapes) the combine kernel below merges
//    the partials in a second launch.
//
// Per tile a consumer waits for the slot, computes S = Q·Kᵀ (SS-wgmma),
// masks it when the tile crosses the sequence end or the causal diagonal,
// updates (m, l), rescales O and adds P·V (RS-wgmma, P from registers),
// then releases the slot. Producer, tensor maps, masking and rope are those
// of FlashKernel.cpp; so is the zeroing of the V rows past the sequence end
// in the tile that holds it, here by the warpgroup that takes the tile.
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
                      const FlashKernelArgs &args, StringRef ropeFrequencies)
      : e(e), spec(spec), t(spec), ropeFrequencies(ropeFrequencies),
        tmapQ(args.tmapQ), tmapK(args.tmapK), tmapV(args.tmapV), out(args.out),
        oPartial(args.oPartial), stats(args.stats), lengths(args.lengths),
        nq(args.nq), nkAll(args.nk), tilesPerSplit(args.tilesPerSplit),
        counters(args.counters) {
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
  Value tmapQ, tmapK, tmapV, out, oPartial, stats, lengths, nq, nkAll,
      tilesPerSplit, counters;
  Value nk;      // keys of this CTA's sequence
  Value endTile; // spec.lengths: the key tile holding L (lengthTile)
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
  SmallVector<Value> mergeWarpgroups(ValueRange res);
  void mergeIfLast();
  void mergeRow(Value gRow, Value outRow, Value partials, Value lane);
};

} // namespace

void DecodeKernelBuilder::build() {
  awaitPriorGrids(e, spec);
  tid = e.threadIdX();
  nk = sequenceKeys(e, spec, lengths, e.blockIdZ(), nkAll);
  if (spec.lengths)
    endTile = lengthTile(e, nk, nkAll, t.blockN);
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
        // After the rotation, as in FlashKernel.cpp; one warpgroup of the CTA
        // takes this tile, so barrier 4 is its own.
        if (spec.lengths)
          e.ifThen(e.cmp(Pred::eq, tile, endTile), [&] {
            zeroTileRows(e, t.v, e.mul(stage, e.i32(t.vStageBytes)),
                         t.vChunkBytes, t.valueChunks,
                         e.sub(nk, e.mul(tile, e.i32(t.blockN))), t.blockN,
                         wgTid, 128);
            fenceProxyAsync(e);
            e.namedBarrierSync(e.i32(4), 128);
          });
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
  if (spec.rope()) {
    // With an odd tile count warpgroup 1 rotated one tile fewer: it passes
    // its own rotation barrier once more, so that both warpgroups have
    // passed as many barriers when they meet on barrier 1 below
    // (compute-sanitizer's racecheck pairs barrier passes by count; without
    // this it reports the merge's stores and loads, which barrier 1 orders:
    // docs/reliability.md).
    Value most = e.udiv(e.add(w.nt, e.i32(1)), e.i32(2));
    e.ifThen(e.cmp(Pred::ult, mine, most), [&] {
      e.namedBarrierSync(e.add(wg, e.i32(2)), 128);
    });
  }
  if (spec.lengths) {
    // The same for the zeroing barrier: the warpgroup that did not take
    // the tile holding L passes barrier 5 once.
    Value local = e.sub(endTile, w.first);
    Value taken = e.cmp(Pred::ult, local, w.nt);
    Value notMine = e.cmp(Pred::ne, e.andi(local, e.i32(1)), wg);
    e.ifThen(arith::AndIOp::create(e.builder(), e.loc(), taken, notMine),
             [&] { e.namedBarrierSync(e.i32(5), 128); });
  }
  SmallVector<Value> fin = mergeWarpgroups(res);
  ArrayRef<Value> o = ArrayRef<Value>(fin).take_front(nacc);
  ArrayRef<Value> m = ArrayRef<Value>(fin).slice(nacc, 2);
  ArrayRef<Value> l = ArrayRef<Value>(fin).slice(nacc + 2, 2);
  OpBuilder &b = e.builder();
  Value null = LLVM::ZeroOp::create(b, e.loc(), e.globalPtr());
  Value given =
      LLVM::ICmpOp::create(b, e.loc(), LLVM::ICmpPredicate::ne, counters, null);
  Value oneSplit = e.cmp(Pred::eq, w.splits, e.i32(1));
  // Warpgroup 0 holds the CTA's result: the output itself when it is the
  // tile's only split and the kernel merges, else the split's partial.
  e.ifThen(e.cmp(Pred::eq, wg, e.i32(0)), [&] {
    e.ifThenElse(
        arith::AndIOp::create(b, e.loc(), given, oneSplit), {},
        [&] {
          storeOutput(e, spec, o, l, w, rows, out, nq, t2, /*column0=*/0,
                      halfType);
          return SmallVector<Value>{};
        },
        [&] {
          storePartial(e, spec, o, m, l, w, rows, oPartial, stats, nq, t2,
                       /*column0=*/0, w.split, w.splits, /*withStats=*/true);
          return SmallVector<Value>{};
        });
  });
  Value several = e.cmp(Pred::ugt, w.splits, e.i32(1));
  e.ifThen(arith::AndIOp::create(b, e.loc(), given, several),
           [&] { mergeIfLast(); });
}

/// The two warpgroups' (O, m, l) merged into warpgroup 0's registers, as
/// one more step of the online softmax: warpgroup 1 leaves its values in
/// shared memory (O in the ring, free once both are past their last tile;
/// m and l in the Q tile, past the word mergeIfLast uses), fragment by
/// fragment, so that thread t of warpgroup 0 finds the same rows and
/// columns at index t. Warpgroup 1's return values are not meaningful.
SmallVector<Value> DecodeKernelBuilder::mergeWarpgroups(ValueRange res) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type f32 = e.f32();
  // O takes nacc · 512 B = 256 · Dv B, no more than two slots of 64-key V
  // tiles (8 KB per 64 columns each); m and l 2 KB of the 8 KB or more of Q.
  assert(nacc * 512 <= t.full - t.k && "the ring cannot hold O");
  assert(16 + 4 * 512 <= t.qkChunks * t.qChunkBytes && "Q tile too small");
  auto slot = [&](int64_t base, int64_t x) {
    return e.sharedAt(e.add(e.mul(wgTid, e.i32(4)), e.i32(base + x * 512)));
  };
  auto oSlot = [&](int64_t x) { return slot(t.k, x); };
  auto mlSlot = [&](int64_t x) { return slot(t.q + 16, x); };
  Value barrierId = e.i32(1);
  e.namedBarrierSyncUnaligned(barrierId, 256);
  e.ifThen(e.cmp(Pred::eq, wg, e.i32(1)), [&] {
    for (int64_t x = 0; x < nacc; ++x)
      LLVM::StoreOp::create(b, loc, res[x], oSlot(x), /*alignment=*/4);
    for (int64_t x = 0; x < 4; ++x)
      LLVM::StoreOp::create(b, loc, res[nacc + x], mlSlot(x), /*alignment=*/4);
  });
  e.namedBarrierSyncUnaligned(barrierId, 256);
  auto load = [&](Value ptr) {
    return LLVM::LoadOp::create(b, loc, f32, ptr, /*alignment=*/4).getResult();
  };
  Value scale = e.f32(spec.scaleLog2e);
  SmallVector<Value> mNew, alpha0, alpha1;
  for (int64_t r = 0; r < 2; ++r) {
    Value m0 = res[nacc + r], m1 = load(mlSlot(r));
    Value m = e.fmax(m0, m1);
    mNew.push_back(m);
    // (m_w − M)·s, not an FMA: see the combine kernel.
    alpha0.push_back(e.exp2Ftz(e.fmul(e.fsub(m0, m), scale)));
    alpha1.push_back(e.exp2Ftz(e.fmul(e.fsub(m1, m), scale)));
  }
  SmallVector<Value> merged;
  for (int64_t x = 0; x < nacc; ++x)
    merged.push_back(e.fma(load(oSlot(x)), alpha1[rowOf(x)],
                           e.fmul(res[x], alpha0[rowOf(x)])));
  merged.append(mNew);
  for (int64_t r = 0; r < 2; ++r)
    merged.push_back(e.fma(load(mlSlot(2 + r)), alpha1[r],
                           e.fmul(res[nacc + 2 + r], alpha0[r])));
  return merged;
}

/// After warpgroup 0 stored the CTA's partial (the tile has several
/// splits): thread 0 counts the CTA in on its query tile's counter (a
/// gpu-scope release: barrier, fence, atomic add); the CTA that brings the
/// count to `splits` (acquire: fence) resets the counter for the next launch
/// and merges the tile's rows, a warp per row (mergeRow).
void DecodeKernelBuilder::mergeIfLast() {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type i32 = e.i32();
  Value barrierId = e.i32(1);
  e.namedBarrierSyncUnaligned(barrierId, 256);
  // The Q tile is free now (every wgmma that read it has completed): its
  // first word tells the consumers whether this CTA merges.
  Value flag = e.sharedAt(t.q);
  int64_t rows = spec.rowsPerHead();
  Value qTiles = e.udiv(e.add(nq, e.i32(rows - 1)), e.i32(rows));
  e.ifThen(e.cmp(Pred::eq, tid, e.i32(0)), [&] {
    // Counter of (batch, head tile, query tile).
    Value tile = e.udiv(w.n0, e.i32(rows));
    Value index = e.add(
        e.mul(e.add(e.mul(w.batch, e.gridDimY()), e.blockIdY()), qTiles), tile);
    Value counter = LLVM::GEPOp::create(b, loc, e.globalPtr(), i32, counters,
                                        ValueRange{index});
    fenceGpu(e);
    Value before = LLVM::AtomicRMWOp::create(
        b, loc, LLVM::AtomicBinOp::add, counter, e.i32(1),
        LLVM::AtomicOrdering::monotonic, "device");
    Value last = e.cmp(Pred::eq, before, e.sub(w.splits, e.i32(1)));
    e.ifThen(last, [&] {
      fenceGpu(e);
      LLVM::StoreOp::create(b, loc, e.i32(0), counter, /*alignment=*/4);
    });
    LLVM::StoreOp::create(b, loc, arith::ExtUIOp::create(b, loc, i32, last),
                          flag, /*alignment=*/4);
  });
  e.namedBarrierSyncUnaligned(barrierId, 256);
  Value merge =
      e.cmp(Pred::ne, LLVM::LoadOp::create(b, loc, i32, flag, 4), e.i32(0));
  e.ifThen(merge, [&] {
    // The tile's rows with a query: headsPerTile heads × `real` positions,
    // enumerated densely so that the 8 warps share them evenly.
    Value real = e.minui(e.i32(rows), e.sub(nq, w.n0));
    Value count = e.mul(real, e.i32(spec.headsPerTile));
    Value warp = e.udiv(tid, e.i32(32));
    Value lane = e.urem(tid, e.i32(32));
    Value mine = e.select(e.cmp(Pred::ugt, count, warp),
                          e.udiv(e.add(e.sub(count, warp), e.i32(7)), e.i32(8)),
                          e.i32(0));
    Value heads = e.mul(e.gridDimY(), e.i32(spec.headsPerTile));
    Value partials = w.splits;
    e.forLoop(e.i32(0), mine, {}, [&](Value k, ValueRange) {
      Value i = e.add(warp, e.mul(k, e.i32(8)));
      Value head = e.add(w.headBase, e.udiv(i, real));
      Value pos = e.add(w.n0, e.urem(i, real));
      Value gRow = e.add(e.mul(e.add(e.mul(w.batch, heads), head), nq), pos);
      mergeRow(gRow, outputRow(e, spec, w.batch, head, pos, heads, nq),
               partials, lane);
      return SmallVector<Value>{};
    });
  });
}

/// One warp merges the `partials` partial results of row `gRow` into output
/// row `outRow`: O = Σ 2^((m_p − M)·s) O_p / Σ 2^((m_p − M)·s) l_p with
/// M = max m_p (0 when the sum is 0, a row that saw no key), as the combine
/// kernel does, but in one pass: lanes take column pairs, and the partials
/// go 8 at a time, their loads issued together, the running maximum and
/// sums rescaled per group, so a few splits cost one round trip to L2.
void DecodeKernelBuilder::mergeRow(Value gRow, Value outRow, Value partials,
                                   Value lane) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type f32 = e.f32();
  auto ptrType = e.globalPtr();
  constexpr int64_t kGroup = 8;
  Value scale = e.f32(spec.scaleLog2e);
  Value first = e.zext64(e.mul(gRow, partials));
  Value lastPartial = e.sub(partials, e.i32(1));
  // Column pairs 2·lane + 64·c.
  int64_t pairs = (spec.valueDim + 63) / 64;
  SmallVector<Value> cols, safeCols;
  for (int64_t c = 0; c < pairs; ++c) {
    Value col = e.add(e.zext64(e.mul(lane, e.i32(2))), e.i64(64 * c));
    cols.push_back(col);
    safeCols.push_back(
        spec.valueDim % 64 == 0
            ? col
            : e.select(e.cmp(Pred::ult, col, e.i64(spec.valueDim)), col,
                       e.i64(0)));
  }
  // Carried: the O pairs, Σ w·l, M.
  SmallVector<Value> init(2 * pairs + 1, e.f32(0.0f));
  init.push_back(e.f32(-1.0e30f));
  Value groups = e.udiv(e.add(partials, e.i32(kGroup - 1)), e.i32(kGroup));
  SmallVector<Value> acc =
      e.forLoop(e.i32(0), groups, init, [&](Value g, ValueRange in) {
        SmallVector<Value> valid, m, l, o;
        for (int64_t u = 0; u < kGroup; ++u) {
          Value p = e.add(e.mul(g, e.i32(kGroup)), e.i32(u));
          valid.push_back(e.cmp(Pred::ult, p, partials));
          Value slot =
              e.add(first, e.zext64(e.select(valid.back(), p, lastPartial)));
          auto [mp, lp] = loadPairFromL2(
              e, LLVM::GEPOp::create(b, loc, ptrType, f32, stats,
                                     ValueRange{e.mul(slot, e.i64(2))}));
          m.push_back(mp);
          l.push_back(lp);
          Value base = e.mul(slot, e.i64(spec.valueDim));
          for (int64_t c = 0; c < pairs; ++c) {
            auto [o0, o1] = loadPairFromL2(
                e, LLVM::GEPOp::create(b, loc, ptrType, f32, oPartial,
                                       ValueRange{e.add(base, safeCols[c])}));
            o.append({o0, o1});
          }
        }
        Value mOld = in[2 * pairs + 1];
        Value mNew = mOld;
        for (int64_t u = 0; u < kGroup; ++u)
          mNew = e.select(valid[u], e.fmax(mNew, m[u]), mNew);
        // (m − M)·s, not an FMA: see the combine kernel.
        auto weightOf = [&](Value mp) {
          return e.exp2Ftz(e.fmul(e.fsub(mp, mNew), scale));
        };
        Value alpha = weightOf(mOld);
        SmallVector<Value> next;
        for (int64_t x = 0; x <= 2 * pairs; ++x)
          next.push_back(e.fmul(in[x], alpha));
        for (int64_t u = 0; u < kGroup; ++u) {
          Value weight = e.select(valid[u], weightOf(m[u]), e.f32(0.0f));
          for (int64_t x = 0; x < 2 * pairs; ++x)
            next[x] = e.fma(weight, o[2 * pairs * u + x], next[x]);
          next[2 * pairs] = e.fma(weight, l[u], next[2 * pairs]);
        }
        next.push_back(mNew);
        return next;
      });
  Value sum = acc[2 * pairs];
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum,
                                      e.f32(0.0f));
  Value inv = e.select(empty, e.f32(0.0f), e.fdiv(e.f32(1.0f), sum));
  Value outBase = e.mul(e.zext64(outRow), e.i64(spec.valueDim));
  for (int64_t c = 0; c < pairs; ++c) {
    auto store = [&] {
      Value packed = e.pack2(e.fmul(acc[2 * c], inv),
                             e.fmul(acc[2 * c + 1], inv), halfType);
      Value ptr = LLVM::GEPOp::create(b, loc, ptrType, halfType, out,
                                      ValueRange{e.add(outBase, cols[c])});
      LLVM::StoreOp::create(b, loc, packed, ptr, /*alignment=*/4);
    };
    if (spec.valueDim % 64 == 0)
      store();
    else
      e.ifThen(e.cmp(Pred::ult, cols[c], e.i64(spec.valueDim)), store);
  }
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
      [&](KernelEmitter &e, const FlashKernelArgs &args,
          StringRef frequencies) {
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
