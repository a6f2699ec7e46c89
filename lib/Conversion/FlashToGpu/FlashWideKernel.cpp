//===- FlashWideKernel.cpp - The split-O Hopper flash kernel --------------===//
//
// Heads wider than 256 (absorbed MLA: Dqk = 576, Dv = 512) do not fit the
// 128-row kernel: O alone would be Dv/2 f32 registers per thread. This
// kernel keeps 64 query rows per CTA and splits the work of each pair of
// key tiles between the two consumer warpgroups:
//
//   warpgroup w computes S_w = Q·K_wᵀ for tile 2p + w (SS-wgmma, Q and the
//   tile in shared memory), and owns O[:, its half of Dv];
//   both publish their row maxima, agree on the new maximum, turn S_w into
//   P_w (exp2 with the folded scale), and publish P_w as packed wgmma A
//   fragments plus their per-thread row sums;
//   each then runs O_half += P_a·V_a[:, half] + P_b·V_b[:, half] by
//   RS-wgmma, P of the other warpgroup read back from shared memory in the
//   same fragment order (no layout change, no proxy fence for the reads).
//
// Two named-barrier rendezvous per pair (after the maxima, after P), by
// non-aligned barrier.sync: each warpgroup's code is generated on its own,
// so the two reach barrier 1 from different instructions. With rope, each
// warpgroup rotates the rope columns of its K tile in shared memory and
// passes its own barrier (2 + w) after it, in every pair. With lengths, in
// the pair whose tile holds the sequence end L, each warpgroup zeroes the V
// rows past L of its own value columns after the second rendezvous (both S
// are complete by then) and passes its own barrier (4 + w). The producer
// warpgroup streams K (and V unless it is a slice of K) through a ring of 2
// or 4 tiles; with a shared latent the P fragments live in the K chunk V
// does not read (the rope columns), so 576/512 fits with 64-key tiles.
// Tensor maps, ABI and masking are those of FlashKernel.cpp.
//
//===----------------------------------------------------------------------===//

#include "FlashKernelParts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

namespace {

class WideKernelBuilder {
public:
  WideKernelBuilder(KernelEmitter &e, const FlashKernelSpec &spec,
                    const FlashKernelArgs &args, StringRef ropeFrequencies)
      : e(e), spec(spec), t(spec), ropeFrequencies(ropeFrequencies),
        tmapQ(args.tmapQ), tmapK(args.tmapK), tmapV(args.tmapV), out(args.out),
        oPartial(args.oPartial), stats(args.stats), lengths(args.lengths),
        nq(args.nq), nk(args.nk), tilesPerSplit(args.tilesPerSplit) {
    ns = t.blockN / 2;
    np = t.blockN / 4;
    bool bf16 = spec.element == FlashElement::BF16;
    halfType =
        bf16 ? Type(e.builder().getBF16Type()) : Type(e.builder().getF16Type());
  }

  void build();

private:
  KernelEmitter &e;
  const FlashKernelSpec &spec;
  FlashTiling t;
  StringRef ropeFrequencies; // global of the rope frequencies, if any
  Value tmapQ, tmapK, tmapV, out, oPartial, stats, lengths, nq, nk,
      tilesPerSplit;
  Value endTile; // spec.lengths: the key tile holding L (lengthTile)
  int64_t ns, np;
  Type halfType;

  TileWork w;
  Value tid, wgTid, t2, quadLead;
  ThreadRows rows;
  Value rowInTile[2];

  Value barrier(int64_t base, Value stage) {
    return e.sharedAt(e.add(e.mul(stage, e.i32(8)), e.i32(base)));
  }
  Value stageOf(Value j) { return e.urem(j, e.i32(t.stages)); }
  Value phaseOf(Value j) {
    return e.andi(e.udiv(j, e.i32(t.stages)), e.i32(1));
  }
  /// Shared address of 4-byte element `index` of the region at `base` (+
  /// run-time bytes `extra`).
  Value word(int64_t base, Value extra, Value index) {
    Value off = e.add(e.i32(base), e.mul(index, e.i32(4)));
    return e.sharedAt(extra ? e.add(off, extra) : off);
  }
  void storeWord(Value addr, Value v) {
    LLVM::StoreOp::create(e.builder(), e.loc(), v, addr, /*alignment=*/4);
  }
  Value loadWord(Type type, Value addr) {
    return LLVM::LoadOp::create(e.builder(), e.loc(), type, addr,
                                /*alignment=*/4);
  }

  void consumer(int64_t wg);
};

} // namespace

void WideKernelBuilder::build() {
  awaitPriorGrids(e, spec);
  tid = e.threadIdX();
  Value cacheKeys = nk;
  nk = sequenceKeys(e, spec, lengths, e.blockIdZ(), nk);
  if (spec.lengths)
    endTile = lengthTile(e, nk, cacheKeys, t.blockN);
  w = tileWork(e, spec, t, nq, nk, tilesPerSplit);

  Value wg = e.udiv(tid, e.i32(128));
  runRoles(e, spec, t, w, tmapQ, tmapK, tmapV, 256, [&] {
    OpBuilder &b = e.builder();
    wgTid = e.urem(tid, e.i32(128));
    Value warp = e.udiv(wgTid, e.i32(32));
    Value lane = e.urem(wgTid, e.i32(32));
    Value g = e.udiv(lane, e.i32(4));
    t2 = e.mul(e.urem(lane, e.i32(4)), e.i32(2));
    quadLead = e.cmp(Pred::eq, e.urem(lane, e.i32(4)), e.i32(0));
    // Both warpgroups hold the same 64 rows.
    rowInTile[0] = e.add(e.mul(warp, e.i32(16)), g);
    rowInTile[1] = e.add(rowInTile[0], e.i32(8));
    rows = threadRows(e, spec, w, rowInTile[0], nq, nk);
    // Each warpgroup's code is generated for its own value columns.
    auto split = scf::IfOp::create(b, e.loc(), e.cmp(Pred::eq, wg, e.i32(0)),
                                   /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(split.thenBlock());
    consumer(0);
    b.setInsertionPointToStart(split.elseBlock());
    consumer(1);
  });
  gpu::ReturnOp::create(e.builder(), e.loc());
}

void WideKernelBuilder::consumer(int64_t wg) {
  auto [column0, width] = wideValueColumns(spec, wg);
  int64_t nacc = width / 2;
  Type f32 = e.f32(), i32 = e.i32();
  Value scale = e.f32(spec.scaleLog2e);
  Value negScale = e.f32(-spec.scaleLog2e);
  Value negInf = e.f32(-std::numeric_limits<float>::infinity());
  Value mine = e.i32(wg), other = e.i32(1 - wg);
  e.mbarrierWait(e.sharedAt(t.qFull), e.i32(0));
  if (spec.rope()) {
    // Both warpgroups read all 64 Q rows: each rotates 32 of them.
    int64_t rowsPerHead = spec.rowsPerHead();
    Value offset = e.sub(nk, nq);
    rotateRows(e, spec, ropeFrequencies, t.q,
               e.i32(wg * 32 * FlashTiling::kRowBytes), t.qChunkBytes, 32,
               wgTid, 128, halfType, [&](Value r) {
                 Value row = e.add(e.i32(wg * 32), r);
                 if (rowsPerHead != t.blockM)
                   row = e.urem(row, e.i32(rowsPerHead));
                 return e.add(e.add(w.n0, row), offset);
               });
    fenceProxyAsync(e);
    e.namedBarrierSyncUnaligned(e.i32(1), 256);
  }

  // Per pair p: tiles a = 2p (warpgroup 0) and b = 2p + 1 (warpgroup 1, when
  // b < nt), counted from w.first. Carried: O (this warpgroup's columns),
  // m, l.
  Value pairs = e.udiv(e.add(w.nt, e.i32(1)), e.i32(2));
  Value endLocal = spec.lengths ? e.sub(endTile, w.first) : Value();
  SmallVector<Value> init(nacc, e.f32(0.0f));
  init.append(2, e.f32(-1.0e30f)); // finite: fully masked rows keep alpha 1
  init.append(2, e.f32(0.0f));
  SmallVector<Value> res = e.forLoop(
      e.i32(0), pairs, init, [&](Value p, ValueRange args) {
        SmallVector<Value> all(args.begin(), args.end());
        ArrayRef<Value> o = ArrayRef<Value>(all).take_front(nacc);
        ArrayRef<Value> mOld = ArrayRef<Value>(all).slice(nacc, 2);
        ArrayRef<Value> lOld = ArrayRef<Value>(all).slice(nacc + 2, 2);
        Value tileA = e.mul(p, e.i32(2));
        Value tileB = e.add(tileA, e.i32(1));
        Value myTile = wg == 0 ? tileA : tileB;
        Value myKeyTile = e.add(w.first, myTile);
        Value haveB = e.cmp(Pred::ult, tileB, w.nt);
        Value haveMine = wg == 0 ? e.cmp(Pred::ult, tileA, w.nt) : haveB;

        // S of this warpgroup's tile (-inf when it has none).
        SmallVector<Type> sTypes(ns, f32);
        SmallVector<Value> s = e.ifThenElse(
            haveMine, sTypes,
            [&] {
              Value stage = stageOf(myTile);
              e.mbarrierWait(barrier(t.full, stage), phaseOf(myTile));
              if (spec.rope()) { // this warpgroup's tile, by its 128 threads
                rotateRows(e, spec, ropeFrequencies, t.k,
                           e.mul(stage, e.i32(t.kStageBytes)), t.kChunkBytes,
                           t.blockN, wgTid, 128, halfType, [&](Value r) {
                             return e.add(e.mul(myKeyTile, e.i32(t.blockN)),
                                          r);
                           });
                fenceProxyAsync(e);
                e.namedBarrierSync(e.i32(2 + wg), 128);
              }
              SmallVector<Value> sv = scoresOfTile(e, spec, t, stage);
              return e.ifThenElse(
                  e.cmp(Pred::uge, myKeyTile, w.nfull), sTypes,
                  [&] {
                    SmallVector<Value> masked(sv);
                    maskScores(e, spec, t.blockN, masked, myKeyTile, t2, nk,
                               rows);
                    return masked;
                  },
                  [&] { return sv; });
            },
            [&] {
              // Without a tile, still the barrier that ends a rotation:
              // racecheck pairs barriers by how many each thread has
              // passed, not by id, and took the exchanges below for races
              // when one warpgroup skipped it (docs/reliability.md).
              if (spec.rope())
                e.namedBarrierSync(e.i32(2 + wg), 128);
              return SmallVector<Value>(ns, negInf);
            });

        // Publish the row maxima, agree on the new maximum.
        SmallVector<Value> tileMax = rowReduce(e, s, /*max=*/true, true);
        e.ifThen(quadLead, [&] {
          for (int64_t r = 0; r < 2; ++r)
            storeWord(word(t.rowMax, Value(),
                           e.add(e.mul(mine, e.i32(64)), rowInTile[r])),
                      tileMax[r]);
        });
        e.namedBarrierSyncUnaligned(e.i32(1), 256);
        SmallVector<Value> mNew, alpha, negM;
        for (int64_t r = 0; r < 2; ++r) {
          Value theirs = loadWord(
              f32, word(t.rowMax, Value(),
                        e.add(e.mul(other, e.i32(64)), rowInTile[r])));
          Value m = e.fmax(mOld[r], e.fmax(tileMax[r], theirs));
          mNew.push_back(m);
          alpha.push_back(e.exp2Ftz(e.fmul(e.fsub(mOld[r], m), scale)));
          negM.push_back(e.fmul(m, negScale));
        }

        // P of this tile: publish the packed fragments and the row sums.
        SmallVector<Value> pf;
        for (int64_t i = 0; i < ns; ++i)
          pf.push_back(e.exp2Ftz(e.fma(s[i], scale, negM[rowOf(i)])));
        SmallVector<Value> mySum = rowReduce(e, pf, /*max=*/false, false);
        SmallVector<Value> myP = packPairs(e, pf, halfType);
        Value myStageBytes =
            e.mul(stageOf(myTile), e.i32(t.exchangeStage));
        Value theirStageBytes =
            e.mul(stageOf(wg == 0 ? tileB : tileA), e.i32(t.exchangeStage));
        for (int64_t i = 0; i < np; ++i)
          storeWord(word(t.exchange + wg * t.exchangeWg, myStageBytes,
                         e.add(e.mul(e.i32(i), e.i32(128)), wgTid)),
                    myP[i]);
        for (int64_t r = 0; r < 2; ++r)
          storeWord(word(t.rowSum + wg * 1024, Value(),
                         e.add(e.mul(e.i32(r), e.i32(128)), wgTid)),
                    mySum[r]);
        e.namedBarrierSyncUnaligned(e.i32(1), 256);

        SmallVector<Value> theirSum;
        for (int64_t r = 0; r < 2; ++r)
          theirSum.push_back(loadWord(
              f32, word(t.rowSum + (1 - wg) * 1024, Value(),
                        e.add(e.mul(e.i32(r), e.i32(128)), wgTid))));
        SmallVector<Value> next;
        for (int64_t i = 0; i < nacc; ++i)
          next.push_back(e.fmul(o[i], alpha[rowOf(i)]));

        // O_half += P_a·V_a + P_b·V_b (V columns column0 .. + width).
        auto vAt = [&](Value tile) {
          return e.mul(stageOf(tile), e.i32(t.vStageBytes / 16));
        };
        int64_t vBase = t.v + (column0 / FlashTiling::kChunk) * t.vChunkBytes;
        auto theirP = [&]() {
          SmallVector<Value> regs;
          for (int64_t i = 0; i < np; ++i)
            regs.push_back(loadWord(
                i32, word(t.exchange + (1 - wg) * t.exchangeWg,
                          theirStageBytes,
                          e.add(e.mul(e.i32(i), e.i32(128)), wgTid))));
          return regs;
        };
        if (spec.lengths) {
          // Both S of the pair are complete: if one of its tiles holds L,
          // this warpgroup zeroes the V rows past L in its value columns,
          // which only its own P·V below reads.
          Value taken = e.cmp(Pred::ult, endLocal, w.nt);
          Value thisPair = e.cmp(Pred::eq, e.udiv(endLocal, e.i32(2)), p);
          Value clear =
              arith::AndIOp::create(e.builder(), e.loc(), taken, thisPair);
          int64_t chunks =
              (width + FlashTiling::kChunk - 1) / FlashTiling::kChunk;
          e.ifThen(clear, [&] {
            zeroTileRows(e, vBase,
                         e.mul(stageOf(endLocal), e.i32(t.vStageBytes)),
                         t.vChunkBytes, chunks,
                         e.sub(nk, e.mul(endTile, e.i32(t.blockN))), t.blockN,
                         wgTid, 128);
            fenceProxyAsync(e);
            e.namedBarrierSync(e.i32(4 + wg), 128);
          });
        }
        SmallVector<Type> oTypes(nacc, f32);
        e.wgmmaFence();
        if (wg == 0) {
          next = accumulatePV(e, spec, next, myP, t.blockN, vBase,
                              t.vChunkBytes, vAt(tileA));
          next = e.ifThenElse(
              haveB, oTypes,
              [&] {
                return accumulatePV(e, spec, next, theirP(), t.blockN, vBase,
                                    t.vChunkBytes, vAt(tileB));
              },
              [&] { return next; });
        } else {
          next = accumulatePV(e, spec, next, theirP(), t.blockN, vBase,
                              t.vChunkBytes, vAt(tileA));
          next = e.ifThenElse(
              haveB, oTypes,
              [&] {
                return accumulatePV(e, spec, next, myP, t.blockN, vBase,
                                    t.vChunkBytes, vAt(tileB));
              },
              [&] { return next; });
        }
        e.wgmmaCommit();
        e.wgmmaWait(0);
        // The P fragments may sit in a K chunk the next TMA load rewrites:
        // order the generic writes before it.
        NVVM::FenceProxyOp::create(
            e.builder(), e.loc(), NVVM::ProxyKind::async_shared,
            NVVM::SharedSpaceAttr::get(e.context(),
                                       NVVM::SharedSpace::shared_cta));
        e.mbarrierArrive(barrier(t.empty, stageOf(tileA)));
        e.ifThen(haveB, [&] { e.mbarrierArrive(barrier(t.empty, stageOf(tileB))); });

        next.append(mNew);
        for (int64_t r = 0; r < 2; ++r)
          next.push_back(e.fadd(e.fma(lOld[r], alpha[r], mySum[r]),
                                theirSum[r]));
        return next;
      });
  ArrayRef<Value> fin(res);
  if (spec.decode) // one partial per split; both warpgroups hold (m, l)
    storePartial(e, spec, fin.take_front(nacc), fin.slice(nacc, 2),
                 fin.slice(nacc + 2, 2), w, rows, oPartial, stats, nq, t2,
                 column0, w.split, w.splits, /*withStats=*/wg == 0);
  else
    storeOutput(e, spec, fin.take_front(nacc), fin.slice(nacc + 2, 2), w,
                rows, out, nq, t2, column0, halfType);
}

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashWideKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  return createFlashKernelFunc(
      builder, loc, module, spec, name,
      [&](KernelEmitter &e, const FlashKernelArgs &args,
          StringRef frequencies) {
        WideKernelBuilder(e, spec, args, frequencies).build();
      });
}
