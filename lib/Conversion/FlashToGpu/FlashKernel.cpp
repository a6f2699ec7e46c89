//===- FlashKernel.cpp - The Hopper flash-attention kernel body -----------===//
//
// Generates the warp-specialized forward kernel of docs/gpu-notes.md ("the
// final kernel as a recipe", v4; v5 with ping-pong) for one FlashKernelSpec:
//
//  * C consumer warpgroups of 64 query rows each (C = 2: setmaxnreg 240;
//    C = 3 for narrow heads: 160) and a producer warpgroup after them
//    (setmaxnreg 24; one thread issues every TMA load);
//  * Q (64·C rows) lands once on its own mbarrier; K/V tiles stream through
//    a ring of `stages` slots with a full barrier (producer's arrive.expect_tx
//    + TMA bytes) and an empty barrier (128·C consumer arrivals) per slot;
//  * per consumer: S = Q·Kᵀ by SS-wgmma (K-major B), online softmax on the
//    accumulator fragments (row max/sum reduced over lane quads, exp2 with
//    scale·log2(e) folded, ex2.approx.ftz), P kept in registers as the A
//    operand of O += P·V (RS-wgmma through inline PTX, MN-major V); S(j+1)
//    and P(j)·V(j) are in flight while softmax(j+1) runs, P is packed to
//    16 bits only after the wgmma group drained (ptxas C7513);
//  * causal: query tiles launched longest first, key tiles past the
//    diagonal skipped, only tiles crossing the diagonal or the sequence end
//    masked; rows and keys past N are masked / not stored (TMA zero-fills
//    out-of-range rows);
//  * lengths: the V rows past the sequence end L of the tile that holds it
//    are zeroed in shared memory before P·V reads them (P = 0 times a NaN
//    or Inf in the cache would reach O).
//
// Tensor maps are 4-D (innermost first): (D, N, heads, batch), so GQA reads
// kv head h / (Hq / Hkv) by coordinate and nothing is flattened.
//
//===----------------------------------------------------------------------===//

#include "FlashKernelParts.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

namespace {

/// Online-softmax state of one consumer thread (its two rows).
struct RowState {
  SmallVector<Value> o; // Dv/2 f32 accumulator values
  SmallVector<Value> m; // running max per row (raw scores)
  SmallVector<Value> l; // running sum per row (this thread's columns only)
};

/// Result of the softmax of one S tile.
struct SoftmaxResult {
  SmallVector<Value> p; // f32 probabilities, or packed 16-bit pairs
  SmallVector<Value> m, l, alpha;
};

class FlashKernelBuilder {
public:
  FlashKernelBuilder(KernelEmitter &e, const FlashKernelSpec &spec,
                     const FlashKernelArgs &args, StringRef ropeFrequencies)
      : e(e), spec(spec), t(spec), ropeFrequencies(ropeFrequencies),
        tmapQ(args.tmapQ), tmapK(args.tmapK), tmapV(args.tmapV), out(args.out),
        lengths(args.lengths), nq(args.nq), nk(args.nk), lseOut(args.lse) {
    ns = t.blockN / 2;
    np = t.blockN / 4;
    nacc = spec.valueDim / 2;
    bool bf16 = spec.element == FlashElement::BF16;
    abType = bf16 ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
    halfType =
        bf16 ? Type(e.builder().getBF16Type()) : Type(e.builder().getF16Type());
  }

  void build();

private:
  KernelEmitter &e;
  const FlashKernelSpec &spec;
  FlashTiling t;
  StringRef ropeFrequencies; // global of the rope frequencies, if any
  Value tmapQ, tmapK, tmapV, out, lengths, nq, nk;
  Value endTile; // spec.lengths: the key tile holding L (lengthTile)
  Value lseOut; // f32 [B, Hq, Nq] when the spec writes the log-sum-exp
  int64_t ns, np, nacc;
  NVVM::WGMMATypes abType;
  Type halfType;

  TileWork w; // the CTA's queries and key tiles
  // Consumer thread.
  Value tid, wg, wgTid, qDescOff, t2;
  ThreadRows rows;
  Value scaleLog2e, negScaleLog2e;

  Value barrier(int64_t base, Value stage) {
    return e.sharedAt(e.add(e.mul(stage, e.i32(8)), e.i32(base)));
  }
  std::pair<Value, Value> stagePhase(Value j) {
    Value stage = e.urem(j, e.i32(t.stages));
    Value phase = e.andi(e.udiv(j, e.i32(t.stages)), e.i32(1));
    return {stage, phase};
  }

  void rotateQuery();
  void rotateKeyTile(Value stage, Value tile);
  void clearPastLength(Value stage, Value tile);
  void consumer();
  RowState overlapped(RowState st);
  SmallVector<Value> issueQK(Value stage);
  SmallVector<Value> issuePV(Value stage, ArrayRef<Value> o,
                             ArrayRef<Value> pRegs);
  SoftmaxResult softmax(ArrayRef<Value> s, ArrayRef<Value> mOld,
                        ArrayRef<Value> lOld, bool masked, Value tile,
                        bool pack);
  SmallVector<Value> packP(ArrayRef<Value> p);
  void epilogue(const RowState &st);

  // Ping-pong of the consumer warpgroups (named barriers 1 .. C).
  void pingPongStart();
  void pingPongWait();
  void pingPongPass(bool last);
};

} // namespace

void FlashKernelBuilder::build() {
  tid = e.threadIdX();
  Value cacheKeys = nk;
  nk = sequenceKeys(e, spec, lengths, e.blockIdZ(), nk);
  if (spec.lengths)
    endTile = lengthTile(e, nk, cacheKeys, t.blockN);
  w = tileWork(e, spec, t, nq, nk, /*tilesPerSplit=*/Value());
  scaleLog2e = e.f32(spec.scaleLog2e);
  negScaleLog2e = e.f32(-spec.scaleLog2e);

  wg = e.udiv(tid, e.i32(128));
  runRoles(e, spec, t, w, tmapQ, tmapK, tmapV, 128 * t.consumers,
           [&] {
             wgTid = e.urem(tid, e.i32(128));
             Value warp = e.udiv(wgTid, e.i32(32));
             Value lane = e.urem(wgTid, e.i32(32));
             Value g = e.udiv(lane, e.i32(4));
             t2 = e.mul(e.urem(lane, e.i32(4)), e.i32(2));
             Value r0 = e.add(
                 e.add(e.mul(wg, e.i32(64)), e.mul(warp, e.i32(16))), g);
             rows = threadRows(e, spec, w, r0, nq, nk);
             // This warpgroup's 64 Q rows: 64 · 128 B into every chunk.
             qDescOff = e.mul(wg, e.i32(64 * FlashTiling::kRowBytes / 16));
             consumer();
           });
  gpu::ReturnOp::create(e.builder(), e.loc());
}

void FlashKernelBuilder::rotateQuery() {
  // This warpgroup's 64 rows (rows 64·wg + r of the tile; 64 is a multiple
  // of the 8-row swizzle period) at positions p + Nk − Nq.
  int64_t rows = spec.rowsPerHead();
  Value offset = e.sub(nk, nq);
  Value rowBytes = e.mul(wg, e.i32(64 * FlashTiling::kRowBytes));
  rotateRows(e, spec, ropeFrequencies, t.q, rowBytes, t.qChunkBytes, 64, wgTid,
             128, halfType, [&](Value r) {
               Value row = e.add(e.mul(wg, e.i32(64)), r);
               if (rows != t.blockM)
                 row = e.urem(row, e.i32(rows));
               return e.add(e.add(w.n0, row), offset);
             });
  fenceProxyAsync(e);
  e.namedBarrierSync(e.add(wg, e.i32(t.consumers + 1)), 128);
}

void FlashKernelBuilder::rotateKeyTile(Value stage, Value tile) {
  // All consumer warpgroups share the tile's rows.
  int64_t threads = 128 * t.consumers;
  rotateRows(e, spec, ropeFrequencies, t.k,
             e.mul(stage, e.i32(t.kStageBytes)), t.kChunkBytes, t.blockN, tid,
             threads, halfType, [&](Value r) {
               return e.add(e.mul(tile, e.i32(t.blockN)), r);
             });
  fenceProxyAsync(e);
  e.namedBarrierSync(e.i32(2 * t.consumers + 1), threads);
}

void FlashKernelBuilder::clearPastLength(Value stage, Value tile) {
  // All consumer warpgroups read the tile's V rows. After the rotation: a
  // rope pair may join a V column and a column outside V (v read from k).
  if (!spec.lengths)
    return;
  int64_t threads = 128 * t.consumers;
  e.ifThen(e.cmp(Pred::eq, tile, endTile), [&] {
    zeroTileRows(e, t.v, e.mul(stage, e.i32(t.vStageBytes)), t.vChunkBytes,
                 t.valueChunks, e.sub(nk, e.mul(tile, e.i32(t.blockN))),
                 t.blockN, tid, threads);
    fenceProxyAsync(e);
    e.namedBarrierSync(e.i32(2 * t.consumers + 2), threads);
  });
}

void FlashKernelBuilder::consumer() {
  e.mbarrierWait(e.sharedAt(t.qFull), e.i32(0));
  if (spec.rope())
    rotateQuery();
  RowState st;
  st.o.assign(nacc, e.f32(0.0f));
  // m starts finite: a fully masked row then gets p = 0 and alpha = 1.
  st.m.assign(2, e.f32(-1.0e30f));
  st.l.assign(2, e.f32(0.0f));
  epilogue(overlapped(st));
}

//===----------------------------------------------------------------------===//
// wgmma batches
//===----------------------------------------------------------------------===//

SmallVector<Value> FlashKernelBuilder::issueQK(Value stage) {
  // A = Q (K-major; LBO unused), B = K tile (K-major): 128-byte swizzle,
  // 8-row groups 1024 B apart (SBO). k16 step = 32 B inside a 64-wide chunk.
  uint64_t kMajor = KernelEmitter::descriptorBits(16, 1024, true);
  Value kBase = e.mul(stage, e.i32(t.kStageBytes / 16));
  Type accType = e.accumulatorType(ns);
  Value acc;
  // A partial last chunk (Dqk % 64 != 0) is zero-filled past Dqk and its
  // k-steps there are skipped.
  for (int64_t kk = 0; kk < spec.qkDim / 16; ++kk) {
    int64_t chunk = kk / 4, within = kk % 4;
    int64_t qOff = t.q + chunk * t.qChunkBytes + within * 32;
    int64_t kOff = t.k + chunk * t.kChunkBytes + within * 32;
    Value da = e.wgmmaDescriptor(kMajor + (qOff >> 4), qDescOff);
    Value db = e.wgmmaDescriptor(kMajor + (kOff >> 4), kBase);
    acc = e.wgmmaSS(acc, accType, t.blockN, da, db, abType, /*bKMajor=*/true);
  }
  return e.unpack(acc, ns);
}

SmallVector<Value> FlashKernelBuilder::issuePV(Value stage, ArrayRef<Value> o,
                                               ArrayRef<Value> pRegs) {
  return accumulatePV(e, spec, o, pRegs, t.blockN, t.v, t.vChunkBytes,
                      e.mul(stage, e.i32(t.vStageBytes / 16)));
}

//===----------------------------------------------------------------------===//
// Softmax on the accumulator fragments
//===----------------------------------------------------------------------===//

SoftmaxResult FlashKernelBuilder::softmax(ArrayRef<Value> sIn,
                                          ArrayRef<Value> mOld,
                                          ArrayRef<Value> lOld, bool masked,
                                          Value tile, bool pack) {
  SmallVector<Value> s(sIn);
  if (masked) // key >= Nk, and (causal) key > position + Nk - Nq
    maskScores(e, spec, t.blockN, s, tile, t2, nk, rows);
  SoftmaxResult r;
  SmallVector<Value> negMs;
  SmallVector<Value> tileMax = rowReduce(e, s, /*max=*/true, /*quad=*/true);
  for (int64_t row = 0; row < 2; ++row) {
    Value mNew = e.fmax(mOld[row], tileMax[row]);
    r.m.push_back(mNew);
    r.alpha.push_back(e.exp2Ftz(e.fmul(e.fsub(mOld[row], mNew), scaleLog2e)));
    negMs.push_back(e.fmul(mNew, negScaleLog2e));
  }
  SmallVector<Value> p;
  for (int64_t i = 0; i < ns; ++i)
    p.push_back(e.exp2Ftz(e.fma(s[i], scaleLog2e, negMs[rowOf(i)])));
  SmallVector<Value> sums = rowReduce(e, p, /*max=*/false, /*quad=*/false);
  for (int64_t row = 0; row < 2; ++row)
    r.l.push_back(e.fma(lOld[row], r.alpha[row], sums[row]));
  r.p = pack ? packP(p) : p;
  return r;
}

SmallVector<Value> FlashKernelBuilder::packP(ArrayRef<Value> p) {
  return packPairs(e, p, halfType);
}

//===----------------------------------------------------------------------===//
// Ping-pong
//===----------------------------------------------------------------------===//

// The consumers issue in a ring: warpgroup w waits on named barrier w + 1
// (its 128 threads) for the previous one's arrival (128 more) and passes the
// turn to warpgroup (w + 1) mod C.

void FlashKernelBuilder::pingPongStart() {
  if (!spec.pingPong)
    return;
  // The last warpgroup lets warpgroup 0 issue first.
  e.ifThen(e.cmp(Pred::eq, wg, e.i32(t.consumers - 1)),
           [&] { e.namedBarrierArrive(e.i32(1), 256); });
}

void FlashKernelBuilder::pingPongWait() {
  if (spec.pingPong)
    e.namedBarrierSync(e.add(wg, e.i32(1)), 256);
}

void FlashKernelBuilder::pingPongPass(bool last) {
  if (!spec.pingPong)
    return;
  Value id = e.add(e.urem(e.add(wg, e.i32(1)), e.i32(t.consumers)), e.i32(1));
  if (!last) {
    e.namedBarrierArrive(id, 256);
    return;
  }
  // The last warpgroup's last batch: warpgroup 0 does not wait again.
  e.ifThen(e.cmp(Pred::ne, wg, e.i32(t.consumers - 1)),
           [&] { e.namedBarrierArrive(id, 256); });
}

//===----------------------------------------------------------------------===//
// The consumer schedule
//===----------------------------------------------------------------------===//

RowState FlashKernelBuilder::overlapped(RowState st) {
  // S0 = Q·K0ᵀ; softmax(S0) -> P0
  // for j in 1 .. nt-1:
  //   issue S_j = Q·K_jᵀ; issue O += P_{j-1}·V_{j-1}
  //   wait S_j (wait_group 1); softmax(S_j) in f32 while P·V runs
  //   wait P·V (wait_group 0); release slot j-1; O *= alpha; pack P_j
  // O += P_last·V_last; release.
  // Tile j is masked iff j >= nfull.
  Type f32 = e.f32(), i32 = e.i32();
  pingPongStart();
  auto [stage0, phase0] = stagePhase(e.i32(0));
  e.mbarrierWait(barrier(t.full, stage0), phase0);
  if (spec.rope())
    rotateKeyTile(stage0, e.i32(0));
  clearPastLength(stage0, e.i32(0));
  pingPongWait();
  e.wgmmaFence();
  SmallVector<Value> s0 = issueQK(stage0);
  e.wgmmaCommit();
  pingPongPass(false);
  e.wgmmaWait(0);

  SmallVector<Type> proTypes(np, i32);
  proTypes.append(4, f32);
  auto prologue = [&](bool masked) {
    SoftmaxResult r = softmax(s0, st.m, st.l, masked, e.i32(0), /*pack=*/true);
    SmallVector<Value> values(r.p);
    values.append(r.m);
    values.append(r.l);
    return values;
  };
  SmallVector<Value> pro = e.ifThenElse(
      e.cmp(Pred::eq, w.nfull, e.i32(0)), proTypes,
      [&] { return prologue(true); }, [&] { return prologue(false); });

  // Steady state, carried: O, m, l, P_{j-1}.
  SmallVector<Value> carried(st.o);
  carried.append(pro.begin() + np, pro.end()); // m, l
  carried.append(pro.begin(), pro.begin() + np);
  SmallVector<Value> loop =
      e.forLoop(e.i32(1), w.nt, carried, [&](Value j, ValueRange args) {
        SmallVector<Value> allValues(args.begin(), args.end());
        ArrayRef<Value> all(allValues);
        ArrayRef<Value> oIn = all.take_front(nacc);
        ArrayRef<Value> mIn = all.slice(nacc, 2), lIn = all.slice(nacc + 2, 2);
        ArrayRef<Value> pPrev = all.drop_front(nacc + 4);
        auto [stage, phase] = stagePhase(j);
        Value jm1 = e.sub(j, e.i32(1));
        Value prevStage = e.urem(jm1, e.i32(t.stages));
        e.mbarrierWait(barrier(t.full, stage), phase);
        if (spec.rope())
          rotateKeyTile(stage, j);
        clearPastLength(stage, j);
        pingPongWait();
        e.wgmmaFence();
        SmallVector<Value> s = issueQK(stage);
        e.wgmmaCommit();
        SmallVector<Value> oPV = issuePV(prevStage, oIn, pPrev);
        e.wgmmaCommit();
        pingPongPass(false);
        e.wgmmaWait(1);
        // Softmax in f32 while P(j-1)·V(j-1) runs; the 16-bit P(j) registers
        // (the next wgmma's A operand) are written only after wait_group 0,
        // else ptxas serializes every wgmma (C7513).
        SmallVector<Type> smTypes(ns + 6, f32);
        auto step = [&](bool masked) {
          SoftmaxResult r = softmax(s, mIn, lIn, masked, j, /*pack=*/false);
          SmallVector<Value> values(r.p);
          values.append(r.m);
          values.append(r.l);
          values.append(r.alpha);
          return values;
        };
        SmallVector<Value> sm = e.ifThenElse(
            e.cmp(Pred::uge, j, w.nfull), smTypes, [&] { return step(true); },
            [&] { return step(false); });
        ArrayRef<Value> smv(sm);
        ArrayRef<Value> pF = smv.take_front(ns);
        ArrayRef<Value> alpha = smv.slice(ns + 4, 2);
        e.wgmmaWait(0);
        e.mbarrierArrive(barrier(t.empty, prevStage));
        SmallVector<Value> next;
        for (int64_t i = 0; i < nacc; ++i)
          next.push_back(e.fmul(oPV[i], alpha[rowOf(i)]));
        next.append(smv.begin() + ns, smv.begin() + ns + 4); // m, l
        SmallVector<Value> pNew = packP(pF);
        next.append(pNew);
        return next;
      });

  ArrayRef<Value> res(loop);
  Value lastStage = e.urem(e.sub(w.nt, e.i32(1)), e.i32(t.stages));
  pingPongWait();
  e.wgmmaFence();
  RowState fin;
  fin.o = issuePV(lastStage, res.take_front(nacc), res.drop_front(nacc + 4));
  e.wgmmaCommit();
  pingPongPass(/*last=*/true);
  e.wgmmaWait(0);
  e.mbarrierArrive(barrier(t.empty, lastStage));
  fin.m.assign(res.begin() + nacc, res.begin() + nacc + 2);
  fin.l.assign(res.begin() + nacc + 2, res.begin() + nacc + 4);
  return fin;
}

//===----------------------------------------------------------------------===//
// Epilogue
//===----------------------------------------------------------------------===//

void FlashKernelBuilder::epilogue(const RowState &st) {
  storeOutput(e, spec, st.o, st.l, w, rows, out, nq, t2, /*column0=*/0,
              halfType);
  if (!lseOut)
    return;
  // lse = ln Σ exp(scale·s) = (m·scale·log2 e + log2 l)·ln 2, with m the
  // row max of the raw scores (the same in every thread of the quad) and l
  // the quad's sum; −inf where no key was seen (l = 0).
  OpBuilder &b = e.builder();
  Value heads = spec.headsPerTile == 1
                    ? e.gridDimY()
                    : e.mul(e.gridDimY(), e.i32(spec.headsPerTile));
  for (int64_t row = 0; row < 2; ++row) {
    Value sum = st.l[row];
    for (int64_t off : {1, 2})
      sum = e.fadd(sum, e.shuffleXor(sum, off));
    Value log2Sum = e.fma(st.m[row], scaleLog2e, e.log2Approx(sum));
    Value empty = arith::CmpFOp::create(b, e.loc(), arith::CmpFPredicate::OEQ,
                                        sum, e.f32(0.0f));
    Value lse = e.select(empty, e.f32(-std::numeric_limits<float>::infinity()),
                         e.fmul(log2Sum, e.f32(float(M_LN2))));
    Value inRange = e.cmp(Pred::slt, rows.pos[row], nq);
    Value first = e.cmp(Pred::eq, t2, e.i32(0));
    e.ifThen(arith::AndIOp::create(b, e.loc(), inRange, first), [&] {
      Value index = e.zext64(
          e.add(e.mul(e.add(e.mul(w.batch, heads), rows.head[row]), nq),
                rows.pos[row]));
      Value ptr = LLVM::GEPOp::create(b, e.loc(), e.globalPtr(), e.f32(),
                                      lseOut, ValueRange{index});
      LLVM::StoreOp::create(b, e.loc(), lse, ptr, /*alignment=*/4);
    });
  }
}

//===----------------------------------------------------------------------===//
// Entry
//===----------------------------------------------------------------------===//

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  return createFlashKernelFunc(
      builder, loc, module, spec, name,
      [&](KernelEmitter &e, const FlashKernelArgs &args,
          StringRef frequencies) {
        FlashKernelBuilder(e, spec, args, frequencies).build();
      });
}
