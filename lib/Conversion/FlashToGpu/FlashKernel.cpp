//===- FlashKernel.cpp - The Hopper flash-attention kernel body -----------===//
//
// Generates the warp-specialized forward kernel of docs/gpu-notes.md ("the
// final kernel as a recipe", v4; v5 with ping-pong) for one FlashKernelSpec:
//
//  * 384 threads: warpgroups 0 and 1 consume (64 query rows each,
//    setmaxnreg 240), warpgroup 2 produces (setmaxnreg 24; one thread issues
//    every TMA load);
//  * Q (128 rows) lands once on its own mbarrier; K/V tiles stream through a
//    ring of `stages` slots with a full barrier (producer's arrive.expect_tx
//    + TMA bytes) and an empty barrier (256 consumer arrivals) per slot;
//  * per consumer: S = Q·Kᵀ by SS-wgmma (K-major B), online softmax on the
//    accumulator fragments (row max/sum reduced over lane quads, exp2 with
//    scale·log2(e) folded, ex2.approx.ftz), P kept in registers as the A
//    operand of O += P·V (RS-wgmma through inline PTX, MN-major V); S(j+1)
//    and P(j)·V(j) are in flight while softmax(j+1) runs, P is packed to
//    16 bits only after the wgmma group drained (ptxas C7513);
//  * causal: query tiles launched longest first, key tiles past the
//    diagonal skipped, only tiles crossing the diagonal or the sequence end
//    masked; rows and keys past N are masked / not stored (TMA zero-fills
//    out-of-range rows).
//
// Tensor maps are 4-D (innermost first): (D, N, heads, batch), so GQA reads
// kv head h / (Hq / Hkv) by coordinate and nothing is flattened.
//
//===----------------------------------------------------------------------===//

#include "FlashKernelSpec.h"
#include "KernelEmitter.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

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
                     ValueRange args)
      : e(e), spec(spec), t(spec), tmapQ(args[0]), tmapK(args[1]),
        tmapV(args[2]), out(args[3]), nq(args[4]), nk(args[5]) {
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
  Value tmapQ, tmapK, tmapV, out, nq, nk;
  int64_t ns, np, nacc;
  NVVM::WGMMATypes abType;
  Type halfType;

  // Work item of the CTA: positions n0 .. n0 + rowsPerHead - 1 of query
  // heads headBase .. headBase + headsPerTile - 1 (all reading kvHead).
  Value n0, headBase, kvHead, batch, nt, nfull;
  // Consumer thread: its two rows' query position and head; the last key
  // each row may see (causal: position + Nk - Nq).
  Value wg, qDescOff, t2;
  SmallVector<Value> qpos, qhead, keyLimit;
  Value scaleLog2e, negScaleLog2e;

  Value barrier(int64_t base, Value stage) {
    return e.sharedAt(e.add(e.mul(stage, e.i32(8)), e.i32(base)));
  }
  std::pair<Value, Value> stagePhase(Value j) {
    Value stage = e.urem(j, e.i32(t.stages));
    Value phase = e.andi(e.udiv(j, e.i32(t.stages)), e.i32(1));
    return {stage, phase};
  }

  void initBarriers();
  void producer();
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

  // Ping-pong of the two consumer warpgroups (named barriers 1 and 2).
  void pingPongStart();
  void pingPongWait();
  void pingPongPass(bool last);
};

} // namespace

void FlashKernelBuilder::build() {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value tid = e.threadIdX();
  Value bx = e.blockIdX();
  headBase = spec.headsPerTile == 1
                 ? e.blockIdY()
                 : e.mul(e.blockIdY(), e.i32(spec.headsPerTile));
  batch = e.blockIdZ();
  if (spec.causal) // longest query tiles first
    bx = e.sub(e.sub(e.gridDimX(), e.i32(1)), bx);
  int64_t rows = spec.rowsPerHead();
  n0 = e.mul(bx, e.i32(rows));
  kvHead = spec.groupSize == 1 ? headBase
                               : e.udiv(headBase, e.i32(spec.groupSize));
  scaleLog2e = e.f32(spec.scaleLog2e);
  negScaleLog2e = e.f32(-spec.scaleLog2e);

  // Tiles to visit (nt) and leading tiles that need no mask (nfull).
  int64_t bn = t.blockN;
  nt = e.udiv(e.add(nk, e.i32(bn - 1)), e.i32(bn));
  nfull = e.udiv(nk, e.i32(bn));
  if (spec.causal) {
    // Query position p sees keys up to p + Nk - Nq (signed: rows with
    // p + Nk - Nq < 0 see none and come out 0).
    Value offset = e.sub(nk, nq);
    Value lastPos = e.sub(e.minui(e.add(n0, e.i32(rows)), nq), e.i32(1));
    Value lastKey = e.add(lastPos, offset);
    Value none = e.cmp(Pred::slt, lastKey, e.i32(0));
    nt = e.minui(nt, e.select(none, e.i32(0),
                              e.add(e.udiv(lastKey, e.i32(bn)), e.i32(1))));
    // Tile j needs no mask iff its last key bn·j + bn − 1 <= n0 + offset.
    Value firstLimit = e.add(e.add(n0, offset), e.i32(1));
    Value noneFull = e.cmp(Pred::sle, firstLimit, e.i32(0));
    nfull = e.minui(nfull, e.select(noneFull, e.i32(0),
                                    e.udiv(firstLimit, e.i32(bn))));
  }
  // At least one (then fully masked) tile, so every row ends with l = 0 or
  // a real sum and the schedule needs no empty case.
  nt = e.select(e.cmp(Pred::eq, nt, e.i32(0)), e.i32(1), nt);

  e.initSharedBase(kSharedMemorySymbol);
  e.ifThen(e.cmp(Pred::eq, tid, e.i32(0)), [&] { initBarriers(); });
  gpu::BarrierOp::create(b, loc);

  wg = e.udiv(tid, e.i32(128));
  Value isProducer = e.cmp(Pred::eq, wg, e.i32(FlashTiling::kConsumers));
  // setmaxnreg takes effect only with each role in one branch of a single
  // if (docs/gpu-notes.md, pitfall 13).
  auto roles = scf::IfOp::create(b, loc, isProducer, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(roles.thenBlock());
    NVVM::SetMaxRegisterOp::create(b, loc, 24,
                                   NVVM::SetMaxRegisterAction::decrease);
    e.ifThen(e.cmp(Pred::eq, tid, e.i32(128 * FlashTiling::kConsumers)),
             [&] { producer(); });
    b.setInsertionPointToStart(roles.elseBlock());
    NVVM::SetMaxRegisterOp::create(b, loc, 240,
                                   NVVM::SetMaxRegisterAction::increase);
    Value wgTid = e.urem(tid, e.i32(128));
    Value warp = e.udiv(wgTid, e.i32(32));
    Value lane = e.urem(wgTid, e.i32(32));
    Value g = e.udiv(lane, e.i32(4));
    t2 = e.mul(e.urem(lane, e.i32(4)), e.i32(2));
    // Rows r (of 128) are (head r / rows, position n0 + r % rows).
    Value r0 = e.add(e.add(e.mul(wg, e.i32(64)), e.mul(warp, e.i32(16))), g);
    Value offset = e.sub(nk, nq);
    for (Value r : {r0, e.add(r0, e.i32(8))}) {
      Value pos = e.add(n0, rows == 128 ? r : e.urem(r, e.i32(rows)));
      qpos.push_back(pos);
      qhead.push_back(rows == 128 ? headBase
                                  : e.add(headBase, e.udiv(r, e.i32(rows))));
      keyLimit.push_back(e.add(pos, offset));
    }
    // This warpgroup's 64 Q rows: 64 · 128 B into every chunk.
    qDescOff = e.mul(wg, e.i32(64 * FlashTiling::kRowBytes / 16));
    consumer();
  }
  gpu::ReturnOp::create(b, loc);
}

void FlashKernelBuilder::initBarriers() {
  for (int64_t s = 0; s < t.stages; ++s) {
    e.mbarrierInit(e.sharedAt(t.full + 8 * s), 1);
    e.mbarrierInit(e.sharedAt(t.empty + 8 * s), 128 * FlashTiling::kConsumers);
  }
  e.mbarrierInit(e.sharedAt(t.qFull), 1);
  e.mbarrierInitFence();
}

void FlashKernelBuilder::producer() {
  // The Q box is (64, rowsPerHead, headsPerTile): 128 rows of 128 B per
  // chunk, head-major, the same smem image as a 128-row box.
  Value qBar = e.sharedAt(t.qFull);
  e.mbarrierArriveExpectTx(qBar, t.qkChunks * t.qChunkBytes);
  for (int64_t c = 0; c < t.qkChunks; ++c)
    e.tmaLoad(e.sharedAt(t.q + c * t.qChunkBytes), tmapQ,
              {e.i32(FlashTiling::kChunk * c), n0, headBase, batch}, qBar);

  e.forLoop(e.i32(0), nt, {}, [&](Value j, ValueRange) {
    Value stage = e.urem(j, e.i32(t.stages));
    Value round = e.udiv(j, e.i32(t.stages));
    Value parity = e.andi(e.sub(round, e.i32(1)), e.i32(1));
    e.ifThen(e.cmp(Pred::uge, j, e.i32(t.stages)),
             [&] { e.mbarrierWait(barrier(t.empty, stage), parity); });
    Value full = barrier(t.full, stage);
    e.mbarrierArriveExpectTx(full, t.kStageBytes +
                                       (spec.valueFromKey ? 0 : t.vStageBytes));
    Value row = e.mul(j, e.i32(t.blockN));
    Value kOff = e.mul(stage, e.i32(t.kStageBytes));
    for (int64_t c = 0; c < t.qkChunks; ++c)
      e.tmaLoad(e.sharedAt(e.add(kOff, e.i32(t.k + c * t.kChunkBytes))), tmapK,
                {e.i32(FlashTiling::kChunk * c), row, kvHead, batch}, full);
    if (spec.valueFromKey) // P·V reads V out of the K tile
      return SmallVector<Value>{};
    Value vOff = e.mul(stage, e.i32(t.vStageBytes));
    for (int64_t c = 0; c < t.valueChunks; ++c)
      e.tmaLoad(e.sharedAt(e.add(vOff, e.i32(t.v + c * t.vChunkBytes))), tmapV,
                {e.i32(FlashTiling::kChunk * c), row, kvHead, batch}, full);
    return SmallVector<Value>{};
  });
}

void FlashKernelBuilder::consumer() {
  e.mbarrierWait(e.sharedAt(t.qFull), e.i32(0));
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
  // B = V tile, MN-major ([keys][d]): 8 keys of 128 B per core group, groups
  // 1024 B apart (SBO), 64-column chunks one chunk apart (LBO).
  uint64_t mnMajor = KernelEmitter::descriptorBits(t.vChunkBytes, 1024, true);
  Value vBase = e.mul(stage, e.i32(t.vStageBytes / 16));
  StringRef ptxType = spec.element == FlashElement::BF16 ? "bf16" : "f16";
  SmallVector<Value> acc(o);
  for (int64_t kk = 0; kk < t.blockN / 16; ++kk) {
    int64_t vOff = t.v + kk * 16 * FlashTiling::kRowBytes;
    Value db = e.wgmmaDescriptor(mnMajor + (vOff >> 4), vBase);
    acc = e.wgmmaRS(acc, pRegs.slice(4 * kk, 4), db, spec.valueDim, ptxType);
  }
  return acc;
}

//===----------------------------------------------------------------------===//
// Softmax on the accumulator fragments
//===----------------------------------------------------------------------===//

// Fragment layout of an m64nN f32 accumulator: value i of a thread (lane l of
// warp w in the warpgroup, g = l / 4, t = l % 4) sits at row
// 16w + g + 8·((i / 2) % 2) and column 8·(i / 4) + 2t + i % 2.
static int64_t rowOf(int64_t i) { return (i / 2) % 2; }

SoftmaxResult FlashKernelBuilder::softmax(ArrayRef<Value> sIn,
                                          ArrayRef<Value> mOld,
                                          ArrayRef<Value> lOld, bool masked,
                                          Value tile, bool pack) {
  SmallVector<Value> s(sIn);
  if (masked) {
    // key >= Nk, and (causal) key > position + Nk - Nq.
    Value col0 = e.add(e.mul(tile, e.i32(t.blockN)), t2);
    Value negInf = e.f32(-std::numeric_limits<float>::infinity());
    for (int64_t i = 0; i < ns; ++i) {
      Value col = e.add(col0, e.i32(8 * (i / 4) + (i % 2)));
      Value bad = e.cmp(Pred::sge, col, nk);
      if (spec.causal)
        bad = e.ori(bad, e.cmp(Pred::sgt, col, keyLimit[rowOf(i)]));
      s[i] = e.select(bad, negInf, s[i]);
    }
  }
  SoftmaxResult r;
  SmallVector<Value> negMs;
  for (int64_t row = 0; row < 2; ++row) {
    Value mx;
    for (int64_t i = 0; i < ns; ++i)
      if (rowOf(i) == row)
        mx = mx ? e.fmax(mx, s[i]) : s[i];
    for (int64_t off : {1, 2})
      mx = e.fmax(mx, e.shuffleXor(mx, off));
    Value mNew = e.fmax(mOld[row], mx);
    r.m.push_back(mNew);
    r.alpha.push_back(e.exp2Ftz(e.fmul(e.fsub(mOld[row], mNew), scaleLog2e)));
    negMs.push_back(e.fmul(mNew, negScaleLog2e));
  }
  SmallVector<Value> p;
  for (int64_t i = 0; i < ns; ++i)
    p.push_back(e.exp2Ftz(e.fma(s[i], scaleLog2e, negMs[rowOf(i)])));
  for (int64_t row = 0; row < 2; ++row) {
    Value sum;
    for (int64_t i = 0; i < ns; ++i)
      if (rowOf(i) == row)
        sum = sum ? e.fadd(sum, p[i]) : p[i];
    r.l.push_back(e.fma(lOld[row], r.alpha[row], sum));
  }
  r.p = pack ? packP(p) : p;
  return r;
}

SmallVector<Value> FlashKernelBuilder::packP(ArrayRef<Value> p) {
  // A-fragment register r of k-step kk is (p[8kk + 2r], p[8kk + 2r + 1]):
  // exactly the accumulator order, so no shuffles.
  SmallVector<Value> regs;
  for (size_t i = 0; i + 1 < p.size(); i += 2)
    regs.push_back(e.pack2(p[i], p[i + 1], halfType));
  return regs;
}

//===----------------------------------------------------------------------===//
// Ping-pong
//===----------------------------------------------------------------------===//

void FlashKernelBuilder::pingPongStart() {
  if (!spec.pingPong)
    return;
  // Warpgroup 1 lets warpgroup 0 issue first.
  e.ifThen(e.cmp(Pred::eq, wg, e.i32(1)),
           [&] { e.namedBarrierArrive(e.i32(1), 256); });
}

void FlashKernelBuilder::pingPongWait() {
  if (spec.pingPong)
    e.namedBarrierSync(e.add(wg, e.i32(1)), 256);
}

void FlashKernelBuilder::pingPongPass(bool last) {
  if (!spec.pingPong)
    return;
  Value id = e.sub(e.i32(2), wg);
  if (!last) {
    e.namedBarrierArrive(id, 256);
    return;
  }
  // Warpgroup 1's last batch: warpgroup 0 does not wait again.
  e.ifThen(e.cmp(Pred::eq, wg, e.i32(0)),
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
      e.cmp(Pred::eq, nfull, e.i32(0)), proTypes,
      [&] { return prologue(true); }, [&] { return prologue(false); });

  // Steady state, carried: O, m, l, P_{j-1}.
  SmallVector<Value> carried(st.o);
  carried.append(pro.begin() + np, pro.end()); // m, l
  carried.append(pro.begin(), pro.begin() + np);
  SmallVector<Value> loop =
      e.forLoop(e.i32(1), nt, carried, [&](Value j, ValueRange args) {
        SmallVector<Value> allValues(args.begin(), args.end());
        ArrayRef<Value> all(allValues);
        ArrayRef<Value> oIn = all.take_front(nacc);
        ArrayRef<Value> mIn = all.slice(nacc, 2), lIn = all.slice(nacc + 2, 2);
        ArrayRef<Value> pPrev = all.drop_front(nacc + 4);
        auto [stage, phase] = stagePhase(j);
        Value jm1 = e.sub(j, e.i32(1));
        Value prevStage = e.urem(jm1, e.i32(t.stages));
        e.mbarrierWait(barrier(t.full, stage), phase);
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
            e.cmp(Pred::uge, j, nfull), smTypes, [&] { return step(true); },
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
  Value lastStage = e.urem(e.sub(nt, e.i32(1)), e.i32(t.stages));
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
  OpBuilder &b = e.builder();
  // Finish the row sums over the quad, O /= l (0 for a row that saw no
  // key), 16-bit pairs straight to global memory for positions < Nq.
  SmallVector<Value> inv;
  for (int64_t row = 0; row < 2; ++row) {
    Value l = st.l[row];
    for (int64_t off : {1, 2})
      l = e.fadd(l, e.shuffleXor(l, off));
    Value empty = arith::CmpFOp::create(b, e.loc(), arith::CmpFPredicate::OEQ,
                                        l, e.f32(0.0f));
    inv.push_back(e.select(empty, e.f32(0.0f), e.fdiv(e.f32(1.0f), l)));
  }
  SmallVector<Value> o;
  for (int64_t i = 0; i < nacc; ++i)
    o.push_back(e.fmul(st.o[i], inv[rowOf(i)]));
  SmallVector<Value> regs = packP(o); // reg 2·jn + r = row r, columns 8jn + 2t
  Value heads = spec.headsPerTile == 1
                    ? e.gridDimY()
                    : e.mul(e.gridDimY(), e.i32(spec.headsPerTile));
  auto ptrType = e.globalPtr();
  for (int64_t row = 0; row < 2; ++row) {
    e.ifThen(e.cmp(Pred::slt, qpos[row], nq), [&] {
      Value bh = e.add(e.mul(batch, heads), qhead[row]);
      Value rowIndex = e.zext64(e.add(e.mul(bh, nq), qpos[row]));
      Value rowBase =
          e.add(e.mul(rowIndex, e.i64(spec.valueDim)), e.zext64(t2));
      for (int64_t jn = 0; jn < nacc / 4; ++jn) {
        Value index = e.add(rowBase, e.i64(8 * jn));
        Value ptr = LLVM::GEPOp::create(b, e.loc(), ptrType, halfType, out,
                                        ValueRange{index});
        LLVM::StoreOp::create(b, e.loc(), regs[2 * jn + row], ptr,
                              /*alignment=*/4);
      }
    });
  }
}

//===----------------------------------------------------------------------===//
// Entry
//===----------------------------------------------------------------------===//

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  MLIRContext *ctx = builder.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  // A !nvgpu.tensormap.descriptor parameter does not legalize in MLIR 22:
  // tensor maps come in as pointers to the 128-byte CUtensorMap in global
  // memory (docs/gpu-notes.md, "Measured with this toolchain", item 1).
  Type i32 = builder.getI32Type();
  auto type = builder.getFunctionType({ptr, ptr, ptr, ptr, i32, i32}, {});
  auto func = gpu::GPUFuncOp::create(builder, loc, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  int32_t threads = FlashTiling::kThreads;
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({threads, 1, 1}));
  // setmaxnreg needs a register cap at entry: .maxntid + .minnctapersm 1.
  func->setAttr("nvvm.maxntid", builder.getDenseI32ArrayAttr({threads, 1, 1}));
  func->setAttr("nvvm.minctasm", builder.getI32IntegerAttr(1));

  Block &entry = func.getBody().front();
  builder.setInsertionPointToEnd(&entry);
  KernelEmitter emitter(builder, loc, &entry);
  FlashKernelBuilder kernel(emitter, spec, entry.getArguments());
  kernel.build();
  return func;
}
