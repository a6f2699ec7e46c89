//===- FlashBackwardKernel.cpp - The main flash backward kernel -----------===//
//
// buildFlashBackwardKernel (FlashBackwardKernel.h): one CTA per key tile of
// kBackwardKeys keys of one kv head, warp-specialized as the forward:
//
//  * a producer warpgroup (setmaxnreg 24) whose first thread loads the
//    CTA's K and V tiles once (kvFull; only K when V is columns of it, a
//    shared latent), then streams (Q, dO) tiles of
//    kBackwardQueries rows through a two-slot ring (full / empty barriers)
//    for every query head of the group and every query tile that sees the
//    keys (causal: from the first tile that reaches them);
//  * two consumer warpgroups (240 registers), warpgroup w owning keys
//    64w .. 64w + 63 of the tile. Per (Q, dO) tile, transposed so that the
//    keys are the M dimension and dK, dV accumulate in registers:
//      Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ (SS-wgmma, K-major operands),
//      Pᵀ = exp2(Sᵀ·scale·log2e − lse·log2e), masked to 0,
//      dSᵀ = Pᵀ∘(dPᵀ − delta), masked to 0 (NaN in hidden keys never
//      reaches it),
//      dV += Pᵀ·dO and dK += dSᵀ·Q (RS-wgmma: Pᵀ and dSᵀ packed in registers
//      are the A fragments, dO and Q MN-major),
//      dS written transposed to shared memory (K-major [queries][keys]),
//      and dQ += dS·K (SS-wgmma, K MN-major) added to dqAccum: with Dqk 128
//      warpgroup w takes columns 64w .. 64w + 63 over all 128 keys, with
//      Dqk 64 all columns over its own 64 keys. The adds are f32 atomics,
//      or, with spec.orderedDq, plain loads and stores in a fixed order
//      (addDqOrdered);
//  * dK·scale and dV stored in the element type for keys < Nk.
//
// Keys at or past the sequence's length (lengths) are zeroed in the K tile
// before dQ reads it, so a cache holding NaN or Inf there changes nothing.
//
//===----------------------------------------------------------------------===//

#include "FlashBackwardKernel.h"
#include "FlashKernelParts.h"
#include "KernelEmitter.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker::flash_to_gpu;
using Pred = arith::CmpIPredicate;

std::string mlir::tucker::flash_to_gpu::unsupportedBackwardReason(
    const FlashKernelSpec &s) {
  if (s.rope())
    return "rope applied by the flash";
  if (s.decode || s.outputTransposed || s.headsPerTile != 1)
    return "a decode, transposed-output or packed-heads schedule";
  if (s.qkDim % 64 || s.valueDim % 64 || s.qkDim > 128 || s.valueDim > 128)
    return "head widths other than 64 and 128";
  return "";
}

SmallVector<Type> FlashBackwardArgs::types(MLIRContext *ctx) {
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  SmallVector<Type> types(11, ptr);
  types.append({i32, i32});
  return types;
}

FlashBackwardArgs FlashBackwardArgs::unpack(ValueRange args) {
  FlashBackwardArgs a;
  a.tmapQ = args[0];
  a.tmapK = args[1];
  a.tmapV = args[2];
  a.tmapDO = args[3];
  a.lse = args[4];
  a.delta = args[5];
  a.dqAccum = args[6];
  a.counters = args[7];
  a.dk = args[8];
  a.dv = args[9];
  a.lengths = args[10];
  a.nq = args[11];
  a.nk = args[12];
  return a;
}

SmallVector<Value> FlashBackwardArgs::pack() const {
  return {tmapQ,    tmapK, tmapV, tmapDO,  lse, delta, dqAccum,
          counters, dk,    dv,    lengths, nq,  nk};
}

namespace {
/// (x, y) as a vector<2xf32>, for one 8-byte store.
Value f32Pair(KernelEmitter &e, Value x, Value y) {
  OpBuilder &b = e.builder();
  Value pair =
      LLVM::PoisonOp::create(b, e.loc(), VectorType::get({2}, e.f32()));
  pair = LLVM::InsertElementOp::create(b, e.loc(), pair, x, e.i32(0));
  return LLVM::InsertElementOp::create(b, e.loc(), pair, y, e.i32(1));
}

/// Shared memory map of the main kernel (bytes from the 1024-aligned base;
/// every tile 128-byte swizzled, 64-column chunks of 128-byte rows).
struct BackwardTiling {
  static constexpr int64_t kStages = 2; // Q/dO ring slots
  int64_t qkChunks, valueChunks;
  int64_t q, qStageBytes;      // Q ring: slot s at q + s · qStageBytes
  int64_t dO, dOStageBytes;    // dO ring
  int64_t k, v;                // the CTA's K and V tiles
  int64_t dS;                  // dSᵀ, [kBackwardKeys keys][64 queries]
  int64_t full, empty, kvFull; // mbarriers
  int64_t bytes, request;

  explicit BackwardTiling(const FlashKernelSpec &spec) {
    qkChunks = spec.qkDim / FlashTiling::kChunk;
    valueChunks = spec.valueDim / FlashTiling::kChunk;
    int64_t queryChunk = kBackwardQueries * FlashTiling::kRowBytes;
    int64_t keyChunk = kBackwardKeys * FlashTiling::kRowBytes;
    qStageBytes = qkChunks * queryChunk;
    dOStageBytes = valueChunks * queryChunk;
    q = 0;
    dO = q + kStages * qStageBytes;
    k = dO + kStages * dOStageBytes;
    if (spec.valueFromKey) { // V is columns of the K tile
      v = k + spec.valueColumn / FlashTiling::kChunk * keyChunk;
      dS = k + qkChunks * keyChunk;
    } else {
      v = k + qkChunks * keyChunk;
      dS = v + valueChunks * keyChunk;
    }
    full = dS + keyChunk;
    empty = full + 8 * kStages;
    kvFull = empty + 8 * kStages;
    bytes = kvFull + 8;
    request = bytes + 1024;
  }
};
} // namespace

int64_t
mlir::tucker::flash_to_gpu::flashBackwardSharedBytes(const FlashKernelSpec &s) {
  return BackwardTiling(s).request;
}

namespace {

/// Named barriers of the consumer warpgroups (0 is __syncthreads); the
/// ordered dQ adds take kDqTurn + w in warpgroup w.
constexpr int64_t kDsFree = 1, kDsReady = 2, kKeysZeroed = 3, kDqTurn = 4;
constexpr int64_t kConsumerThreads = 256;

class BackwardKernelBuilder {
public:
  BackwardKernelBuilder(KernelEmitter &e, const FlashKernelSpec &spec,
                        const FlashBackwardArgs &a)
      : e(e), spec(spec), t(spec), a(a) {
    bool bf16 = spec.element == FlashElement::BF16;
    abType = bf16 ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
    halfType =
        bf16 ? Type(e.builder().getBF16Type()) : Type(e.builder().getF16Type());
    queryChunk = kBackwardQueries * FlashTiling::kRowBytes;
    keyChunk = kBackwardKeys * FlashTiling::kRowBytes;
  }

  void build();

private:
  KernelEmitter &e;
  const FlashKernelSpec &spec;
  BackwardTiling t;
  FlashBackwardArgs a;
  NVVM::WGMMATypes abType;
  Type halfType;
  int64_t queryChunk, keyChunk;

  // The CTA's work.
  Value batch, kvHead, kvHeads, split, keyTile, kStart, keys, heads, qt0,
      perHead, iters;
  // Consumer thread.
  Value wg, wgTid, g, t2;

  Value barrier(int64_t base, Value stage) {
    return e.sharedAt(e.add(e.mul(stage, e.i32(8)), e.i32(base)));
  }
  /// Query heads of a CTA: its split's share of the group.
  int64_t splitHeads() const { return spec.groupSize / spec.headSplits; }
  /// Query head and first query row of step `it`.
  std::pair<Value, Value> step(Value it) {
    Value first = e.add(e.mul(kvHead, e.i32(spec.groupSize)),
                        e.mul(split, e.i32(splitHeads())));
    Value head = e.add(first, e.udiv(it, perHead));
    Value q0 = e.mul(e.add(qt0, e.urem(it, perHead)), e.i32(kBackwardQueries));
    return {head, q0};
  }

  void work();
  void producer();
  void consumer();
  void zeroHiddenKeys();
  /// f32 values of `base` (an [B, Hq, Nq] array) at the thread's 16 query
  /// columns of step (head, q0); 0 past Nq.
  SmallVector<Value> columnValues(Value base, Value head, Value q0);
  Value rowIndex(Value head, Value pos) {
    return e.add(e.mul(e.add(e.mul(batch, heads), head), a.nq), pos);
  }
  void storeDsTransposed(ArrayRef<Value> ds);
  SmallVector<Value> dsTimesK();
  void addDq(ArrayRef<Value> dq, Value head, Value q0);
  void addDqOrdered(ArrayRef<Value> dq, Value head, Value q0);
  /// Calls `body(pos, base)` for each of the thread's two dQ rows inside
  /// Nq: `base`, the index of its first column in dqAccum (i64).
  void forDqRows(Value head, Value q0,
                 llvm::function_ref<void(int64_t row, Value base)> body);
  void storeKeyRows(ArrayRef<Value> acc, Value out, int64_t width, float scale);
};

} // namespace

void BackwardKernelBuilder::work() {
  batch = e.blockIdZ();
  // Grid y: (kv head, split) pairs, the split fastest.
  kvHead = e.udiv(e.blockIdY(), e.i32(spec.headSplits));
  split = e.urem(e.blockIdY(), e.i32(spec.headSplits));
  kvHeads = e.udiv(e.gridDimY(), e.i32(spec.headSplits));
  heads = e.mul(kvHeads, e.i32(spec.groupSize));
  // Ordered causal dQ goes from the last key tile down (addDqOrdered):
  // those CTAs are launched first.
  keyTile = spec.orderedDq && spec.causal
                ? e.sub(e.sub(e.gridDimX(), e.i32(1)), e.blockIdX())
                : e.blockIdX();
  kStart = e.mul(keyTile, e.i32(kBackwardKeys));
  keys = sequenceKeys(e, spec, a.lengths, batch, a.nk);
  Value qTiles =
      e.udiv(e.add(a.nq, e.i32(kBackwardQueries - 1)), e.i32(kBackwardQueries));
  qt0 = e.i32(0);
  if (spec.causal) {
    // Query position p sees keys up to p + L − Nq: the first query that
    // sees key kStart is kStart − L + Nq (signed).
    Value first = e.add(e.sub(kStart, keys), a.nq);
    Value positive = e.cmp(Pred::sgt, first, e.i32(0));
    qt0 = e.select(positive, e.udiv(first, e.i32(kBackwardQueries)), e.i32(0));
    qt0 = e.minui(qt0, qTiles);
  }
  perHead = e.sub(qTiles, qt0);
  if (spec.lengths) // a tile past the sequence's keys has no work
    perHead = e.select(e.cmp(Pred::sge, kStart, keys), e.i32(0), perHead);
  iters = e.mul(perHead, e.i32(splitHeads()));
}

void BackwardKernelBuilder::build() {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  work();
  Value tid = e.threadIdX();
  e.initSharedBase(kSharedMemorySymbol);
  e.ifThen(e.cmp(Pred::eq, tid, e.i32(0)), [&] {
    for (int64_t s = 0; s < BackwardTiling::kStages; ++s) {
      e.mbarrierInit(e.sharedAt(t.full + 8 * s), 1);
      e.mbarrierInit(e.sharedAt(t.empty + 8 * s), kConsumerThreads);
    }
    e.mbarrierInit(e.sharedAt(t.kvFull), 1);
    e.mbarrierInitFence();
  });
  gpu::BarrierOp::create(b, loc);
  wg = e.udiv(tid, e.i32(128));
  // setmaxnreg takes effect only with each role in one branch of a single
  // if (docs/gpu-notes.md, pitfall 13).
  auto roles = scf::IfOp::create(b, loc, e.cmp(Pred::eq, wg, e.i32(2)),
                                 /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(roles.thenBlock());
    NVVM::SetMaxRegisterOp::create(b, loc, 24,
                                   NVVM::SetMaxRegisterAction::decrease);
    e.ifThen(e.cmp(Pred::eq, tid, e.i32(kConsumerThreads)),
             [&] { producer(); });
    b.setInsertionPointToStart(roles.elseBlock());
    NVVM::SetMaxRegisterOp::create(b, loc, 240,
                                   NVVM::SetMaxRegisterAction::increase);
    consumer();
  }
  gpu::ReturnOp::create(b, loc);
}

void BackwardKernelBuilder::producer() {
  Value kvBar = e.sharedAt(t.kvFull);
  int64_t valueLoads = spec.valueFromKey ? 0 : t.valueChunks;
  e.mbarrierArriveExpectTx(kvBar, (t.qkChunks + valueLoads) * keyChunk);
  for (int64_t c = 0; c < t.qkChunks; ++c)
    e.tmaLoad(e.sharedAt(t.k + c * keyChunk), a.tmapK,
              {e.i32(FlashTiling::kChunk * c), kStart, kvHead, batch}, kvBar);
  for (int64_t c = 0; c < valueLoads; ++c)
    e.tmaLoad(e.sharedAt(t.v + c * keyChunk), a.tmapV,
              {e.i32(FlashTiling::kChunk * c), kStart, kvHead, batch}, kvBar);
  e.forLoop(e.i32(0), iters, {}, [&](Value it, ValueRange) {
    Value stage = e.urem(it, e.i32(BackwardTiling::kStages));
    Value round = e.udiv(it, e.i32(BackwardTiling::kStages));
    e.ifThen(e.cmp(Pred::uge, it, e.i32(BackwardTiling::kStages)), [&] {
      e.mbarrierWait(barrier(t.empty, stage),
                     e.andi(e.sub(round, e.i32(1)), e.i32(1)));
    });
    Value full = barrier(t.full, stage);
    e.mbarrierArriveExpectTx(full, t.qStageBytes + t.dOStageBytes);
    auto [head, q0] = step(it);
    Value qOff = e.mul(stage, e.i32(t.qStageBytes));
    for (int64_t c = 0; c < t.qkChunks; ++c)
      e.tmaLoad(e.sharedAt(e.add(qOff, e.i32(t.q + c * queryChunk))), a.tmapQ,
                {e.i32(FlashTiling::kChunk * c), q0, head, batch}, full);
    Value dOOff = e.mul(stage, e.i32(t.dOStageBytes));
    for (int64_t c = 0; c < t.valueChunks; ++c)
      e.tmaLoad(e.sharedAt(e.add(dOOff, e.i32(t.dO + c * queryChunk))),
                a.tmapDO, {e.i32(FlashTiling::kChunk * c), q0, head, batch},
                full);
    return SmallVector<Value>{};
  });
}

void BackwardKernelBuilder::zeroHiddenKeys() {
  // Rows kStart + r >= L of the K tile (r < 128; rows >= Nk are already
  // zero-filled by TMA), 16 bytes per store.
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value firstHidden = e.sub(keys, kStart); // in (0, 128) when this runs
  Value tid = e.threadIdX();
  int64_t granules = t.qkChunks * kBackwardKeys * 8;
  Type v4 = VectorType::get({4}, e.i32());
  Value zero = LLVM::ZeroOp::create(b, loc, v4);
  e.forLoop(e.i32(0), e.i32(granules / kConsumerThreads), {},
            [&](Value k, ValueRange) {
              Value item = e.add(tid, e.mul(k, e.i32(kConsumerThreads)));
              Value row = e.urem(e.udiv(item, e.i32(8)), e.i32(kBackwardKeys));
              e.ifThen(e.cmp(Pred::uge, row, firstHidden), [&] {
                // Every granule of a row is zeroed, so the swizzle does not
                // matter: granule item % 8 of row `row` of chunk item / 1024.
                Value off = e.mul(item, e.i32(16));
                LLVM::StoreOp::create(b, loc, zero,
                                      e.sharedAt(e.add(off, e.i32(t.k))),
                                      /*alignment=*/16);
              });
              return SmallVector<Value>{};
            });
  fenceProxyAsync(e);
  e.namedBarrierSync(e.i32(kKeysZeroed), kConsumerThreads);
}

SmallVector<Value> BackwardKernelBuilder::columnValues(Value base, Value head,
                                                       Value q0) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  SmallVector<Value> values;
  for (int64_t jn = 0; jn < kBackwardQueries / 8; ++jn)
    for (int64_t k = 0; k < 2; ++k) {
      Value pos = e.add(q0, e.add(t2, e.i32(8 * jn + k)));
      // Past Nq: read row 0 of the head (in range) and let the mask drop it.
      Value clamped = e.select(e.cmp(Pred::ult, pos, a.nq), pos, e.i32(0));
      Value ptr =
          LLVM::GEPOp::create(b, loc, e.globalPtr(), e.f32(), base,
                              ValueRange{e.zext64(rowIndex(head, clamped))});
      values.push_back(
          LLVM::LoadOp::create(b, loc, e.f32(), ptr, /*alignment=*/4));
    }
  return values;
}

void BackwardKernelBuilder::storeDsTransposed(ArrayRef<Value> ds) {
  // dS is [queries][keys] K-major: chunk w holds this warpgroup's 64 keys,
  // row q at 128 q bytes, key granule (k / 8) swizzled by q % 8.
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Value warp = e.udiv(wgTid, e.i32(32));
  Value chunkBase = e.add(
      e.i32(t.dS), e.mul(wg, e.i32(kBackwardQueries * FlashTiling::kRowBytes)));
  for (int64_t i = 0; i < int64_t(ds.size()); ++i) {
    Value key = e.add(e.add(e.mul(warp, e.i32(16)), g), e.i32(8 * rowOf(i)));
    Value q = e.add(t2, e.i32(8 * (i / 4) + i % 2));
    Value granule = arith::XOrIOp::create(b, loc, e.shrui(key, e.i32(3)),
                                          e.andi(q, e.i32(7)));
    Value off = e.add(chunkBase, e.mul(q, e.i32(FlashTiling::kRowBytes)));
    off = e.add(off, e.mul(granule, e.i32(16)));
    off = e.add(off, e.mul(e.andi(key, e.i32(7)), e.i32(2)));
    Value half = arith::TruncFOp::create(b, loc, halfType, ds[i]);
    LLVM::StoreOp::create(b, loc, half, e.sharedAt(off), /*alignment=*/2);
  }
}

SmallVector<Value> BackwardKernelBuilder::dsTimesK() {
  // A = dS (K-major, 64 query rows), B = the K tile MN-major (keys × d).
  uint64_t kMajor = KernelEmitter::descriptorBits(16, 1024, true);
  uint64_t mnMajor = KernelEmitter::descriptorBits(keyChunk, 1024, true);
  int64_t dsChunk = kBackwardQueries * FlashTiling::kRowBytes;
  bool splitColumns = t.qkChunks == 2;
  // Dqk 128: all 8 key steps, this warpgroup's column chunk; Dqk 64: this
  // warpgroup's 4 key steps, the one chunk.
  Value kk0 = splitColumns ? e.i32(0) : e.mul(wg, e.i32(4));
  Value colChunk = splitColumns ? wg : e.i32(0);
  int64_t steps = splitColumns ? 8 : 4;
  Type accType = e.accumulatorType(32);
  Value acc;
  for (int64_t s = 0; s < steps; ++s) {
    Value kk = e.add(kk0, e.i32(s));
    // dS: chunk kk / 4, 32 B per step inside it.
    Value aOff = e.add(e.mul(e.udiv(kk, e.i32(4)), e.i32(dsChunk)),
                       e.mul(e.urem(kk, e.i32(4)), e.i32(32)));
    Value da = e.wgmmaDescriptor(kMajor + (t.dS >> 4), e.udiv(aOff, e.i32(16)));
    // K: 16 key rows of 128 B per step, in the column chunk.
    Value bOff = e.add(e.mul(colChunk, e.i32(keyChunk)),
                       e.mul(kk, e.i32(16 * FlashTiling::kRowBytes)));
    Value db = e.wgmmaDescriptor(mnMajor + (t.k >> 4), e.udiv(bOff, e.i32(16)));
    acc = e.wgmmaSS(acc, accType, 64, da, db, abType, /*bKMajor=*/false);
  }
  e.wgmmaCommit();
  e.wgmmaWait(0);
  return e.unpack(acc, 32);
}

void BackwardKernelBuilder::forDqRows(
    Value head, Value q0,
    llvm::function_ref<void(int64_t row, Value base)> body) {
  Value warp = e.udiv(wgTid, e.i32(32));
  Value col0 = t.qkChunks == 2 ? e.mul(wg, e.i32(64)) : e.i32(0);
  for (int64_t row = 0; row < 2; ++row) {
    Value pos =
        e.add(q0, e.add(e.add(e.mul(warp, e.i32(16)), g), e.i32(8 * row)));
    e.ifThen(e.cmp(Pred::ult, pos, a.nq), [&] {
      body(row, e.add(e.mul(e.zext64(rowIndex(head, pos)), e.i64(spec.qkDim)),
                      e.zext64(e.add(col0, t2))));
    });
  }
}

void BackwardKernelBuilder::addDq(ArrayRef<Value> dq, Value head, Value q0) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  forDqRows(head, q0, [&](int64_t row, Value base) {
    for (int64_t i = 0; i < int64_t(dq.size()); ++i) {
      if (rowOf(i) != row)
        continue;
      Value index = e.add(base, e.i64(8 * (i / 4) + i % 2));
      Value ptr = LLVM::GEPOp::create(b, loc, e.globalPtr(), e.f32(), a.dqAccum,
                                      ValueRange{index});
      LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::fadd, ptr, dq[i],
                                LLVM::AtomicOrdering::monotonic);
    }
  });
}

/// The same sums as addDq, in one order on every run: the parts of a query
/// tile are added key tile after key tile. Every CTA walks the query tiles
/// in the same order, and the key tiles that see a query tile are 0, 1,
/// ..., m (causal masks and lengths cut only the top), so a CTA waits only
/// for CTAs launched before it: without causal the order is 0, 1, ..., m;
/// with causal it is m, m − 1, ..., 0 and the grid runs the key tiles from
/// the last (whose walks are the shortest: ascending, every key tile would
/// finish with key tile 0, which sees every query tile). A counter per
/// (batch, head, query tile), zeroed by the prep kernel at the tile's first
/// row, counts the warpgroups done: warpgroup w of the key tile r-th in the
/// order goes at 2r, or at 2r + w with Dqk 64, where both warpgroups add
/// to every column. Its first thread waits with gpu-scope acquire loads;
/// the warpgroup loads the sums from L2, adds and stores; then the first
/// thread releases (fence, increment).
void BackwardKernelBuilder::addDqOrdered(ArrayRef<Value> dq, Value head,
                                         Value q0) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  Type i32 = e.i32();
  Value counter = LLVM::GEPOp::create(b, loc, e.globalPtr(), i32, a.counters,
                                      ValueRange{rowIndex(head, q0)});
  Value rank = keyTile;
  if (spec.causal) {
    // m: the last key tile that sees this query tile, the one below
    // (q0 + 64 + L − Nq) / 128 rounded up (positive: this tile sees it),
    // and below the tiles with keys.
    Value reach = e.sub(e.add(q0, e.add(keys, e.i32(kBackwardQueries))), a.nq);
    Value last = e.sub(
        e.udiv(e.add(reach, e.i32(kBackwardKeys - 1)), e.i32(kBackwardKeys)),
        e.i32(1));
    Value tiles =
        e.udiv(e.add(keys, e.i32(kBackwardKeys - 1)), e.i32(kBackwardKeys));
    last = e.minui(last, e.sub(tiles, e.i32(1)));
    rank = e.sub(last, keyTile);
  }
  Value turn = e.mul(rank, e.i32(2));
  if (t.qkChunks == 1)
    turn = e.add(turn, wg);
  Value first = e.cmp(Pred::eq, wgTid, e.i32(0));
  e.ifThen(first, [&] {
    auto loop = scf::WhileOp::create(b, loc, TypeRange{}, ValueRange{});
    OpBuilder::InsertionGuard guard(b);
    b.createBlock(&loop.getBefore());
    Value done = LLVM::LoadOp::create(
        b, loc, i32, counter, /*alignment=*/4, /*isVolatile=*/false,
        /*isNonTemporal=*/false, /*isInvariant=*/false,
        /*isInvariantGroup=*/false, LLVM::AtomicOrdering::acquire, "device");
    scf::ConditionOp::create(b, loc, e.cmp(Pred::ult, done, turn),
                             ValueRange{});
    b.createBlock(&loop.getAfter());
    scf::YieldOp::create(b, loc);
  });
  // Unaligned: the warp of the waiting thread may not have reconverged.
  Value barrierId = e.add(wg, e.i32(kDqTurn));
  e.namedBarrierSyncUnaligned(barrierId, 128);
  forDqRows(head, q0, [&](int64_t row, Value base) {
    // Registers i, i + 1 (i even) hold two adjacent columns.
    for (int64_t i = 0; i < int64_t(dq.size()); i += 2) {
      if (rowOf(i) != row)
        continue;
      Value index = e.add(base, e.i64(8 * (i / 4)));
      Value ptr = LLVM::GEPOp::create(b, loc, e.globalPtr(), e.f32(), a.dqAccum,
                                      ValueRange{index});
      auto [x, y] = loadPairFromL2(e, ptr);
      LLVM::StoreOp::create(
          b, loc, f32Pair(e, e.fadd(x, dq[i]), e.fadd(y, dq[i + 1])), ptr,
          /*alignment=*/8);
    }
  });
  e.namedBarrierSyncUnaligned(barrierId, 128);
  e.ifThen(first, [&] {
    fenceGpu(e);
    LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add, counter, e.i32(1),
                              LLVM::AtomicOrdering::monotonic, "device");
  });
}

void BackwardKernelBuilder::storeKeyRows(ArrayRef<Value> acc, Value out,
                                         int64_t width, float scale) {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  // With head splits: this split's f32 partial, unscaled, at
  // [split, B, Hkv, Nk, width] (the reduction kernel scales and narrows).
  bool partial = spec.headSplits > 1;
  SmallVector<Value> regs;
  if (partial) {
    for (size_t i = 0; i + 1 < acc.size(); i += 2)
      regs.push_back(f32Pair(e, acc[i], acc[i + 1]));
  } else {
    SmallVector<Value> scaled;
    for (Value v : acc)
      scaled.push_back(scale == 1.0f ? v : e.fmul(v, e.f32(scale)));
    regs = packPairs(e, scaled, halfType);
  }
  Type elementType = partial ? e.f32() : halfType;
  Value warp = e.udiv(wgTid, e.i32(32));
  Value batches = e.gridDimZ();
  for (int64_t row = 0; row < 2; ++row) {
    Value key = e.add(e.add(kStart, e.mul(wg, e.i32(64))),
                      e.add(e.add(e.mul(warp, e.i32(16)), g), e.i32(8 * row)));
    e.ifThen(e.cmp(Pred::ult, key, a.nk), [&] {
      Value slab = partial ? e.add(e.mul(split, batches), batch) : batch;
      Value r = e.add(e.mul(e.add(e.mul(slab, kvHeads), kvHead), a.nk), key);
      Value base = e.add(e.mul(e.zext64(r), e.i64(width)), e.zext64(t2));
      // Register 2·jn + row: columns 8jn + t2, t2 + 1.
      for (int64_t jn = 0; jn < int64_t(acc.size()) / 4; ++jn) {
        Value ptr = LLVM::GEPOp::create(b, loc, e.globalPtr(), elementType, out,
                                        ValueRange{e.add(base, e.i64(8 * jn))});
        LLVM::StoreOp::create(b, loc, regs[2 * jn + row], ptr,
                              /*alignment=*/partial ? 8 : 4);
      }
    });
  }
}

void BackwardKernelBuilder::consumer() {
  OpBuilder &b = e.builder();
  Location loc = e.loc();
  wgTid = e.urem(e.threadIdX(), e.i32(128));
  Value warp = e.udiv(wgTid, e.i32(32));
  Value lane = e.urem(wgTid, e.i32(32));
  g = e.udiv(lane, e.i32(4));
  t2 = e.mul(e.urem(lane, e.i32(4)), e.i32(2));
  // The thread's two key rows of the Sᵀ fragments.
  Value keyRow = e.add(e.add(e.mul(wg, e.i32(64)), e.mul(warp, e.i32(16))), g);
  SmallVector<Value> key = {e.add(kStart, keyRow),
                            e.add(kStart, e.add(keyRow, e.i32(8)))};
  // This warpgroup's 64 rows of the K and V tiles (16-byte units).
  Value rowsOff = e.mul(wg, e.i32(64 * FlashTiling::kRowBytes / 16));

  e.mbarrierWait(e.sharedAt(t.kvFull), e.i32(0));
  if (spec.lengths)
    e.ifThen(e.cmp(Pred::sgt, e.add(kStart, e.i32(kBackwardKeys)), keys),
             [&] { zeroHiddenKeys(); });

  uint64_t kMajor = KernelEmitter::descriptorBits(16, 1024, true);
  float log2e = 1.4426950408889634f;
  Value scaleLog2e = e.f32(spec.scaleLog2e);
  Value causalShift = e.sub(keys, a.nq); // key <= pos + L − Nq
  int64_t nk2 = spec.qkDim / 2, nv2 = spec.valueDim / 2;
  SmallVector<Value> init(nk2 + nv2, e.f32(0.0f));
  SmallVector<Value> acc =
      e.forLoop(e.i32(0), iters, init, [&](Value it, ValueRange args) {
        SmallVector<Value> dK(args.begin(), args.begin() + nk2);
        SmallVector<Value> dV(args.begin() + nk2, args.end());
        Value stage = e.urem(it, e.i32(BackwardTiling::kStages));
        Value parity =
            e.andi(e.udiv(it, e.i32(BackwardTiling::kStages)), e.i32(1));
        auto [head, q0] = step(it);
        e.mbarrierWait(barrier(t.full, stage), parity);

        // Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ: m64n64, K-major A (this warpgroup's
        // rows) and B (the slot's tile).
        Type accType = e.accumulatorType(32);
        Value qUnits = e.mul(stage, e.i32(t.qStageBytes / 16));
        Value dOUnits = e.mul(stage, e.i32(t.dOStageBytes / 16));
        e.wgmmaFence();
        Value s, dp;
        for (int64_t kk = 0; kk < spec.qkDim / 16; ++kk) {
          int64_t chunk = kk / 4, within = kk % 4;
          Value da = e.wgmmaDescriptor(
              kMajor + ((t.k + chunk * keyChunk + within * 32) >> 4), rowsOff);
          Value db = e.wgmmaDescriptor(
              kMajor + ((t.q + chunk * queryChunk + within * 32) >> 4), qUnits);
          s = e.wgmmaSS(s, accType, 64, da, db, abType, /*bKMajor=*/true);
        }
        for (int64_t kk = 0; kk < spec.valueDim / 16; ++kk) {
          int64_t chunk = kk / 4, within = kk % 4;
          Value da = e.wgmmaDescriptor(
              kMajor + ((t.v + chunk * keyChunk + within * 32) >> 4), rowsOff);
          Value db = e.wgmmaDescriptor(
              kMajor + ((t.dO + chunk * queryChunk + within * 32) >> 4),
              dOUnits);
          dp = e.wgmmaSS(dp, accType, 64, da, db, abType, /*bKMajor=*/true);
        }
        e.wgmmaCommit();
        SmallVector<Value> lse = columnValues(a.lse, head, q0);
        SmallVector<Value> delta = columnValues(a.delta, head, q0);
        e.wgmmaWait(0);
        SmallVector<Value> sv = e.unpack(s, 32), dpv = e.unpack(dp, 32);

        SmallVector<Value> p, ds;
        for (int64_t i = 0; i < 32; ++i) {
          int64_t column = 2 * (i / 4) + i % 2; // index into lse / delta
          Value pos = e.add(q0, e.add(t2, e.i32(8 * (i / 4) + i % 2)));
          Value k = key[rowOf(i)];
          Value seen = e.cmp(Pred::ult, pos, a.nq);
          seen = arith::AndIOp::create(b, loc, seen, e.cmp(Pred::slt, k, keys));
          if (spec.causal)
            seen = arith::AndIOp::create(
                b, loc, seen, e.cmp(Pred::sle, k, e.add(pos, causalShift)));
          Value prob = e.exp2Ftz(e.fsub(e.fmul(sv[i], scaleLog2e),
                                        e.fmul(lse[column], e.f32(log2e))));
          Value grad = e.fmul(prob, e.fsub(dpv[i], delta[column]));
          p.push_back(e.select(seen, prob, e.f32(0.0f)));
          ds.push_back(e.select(seen, grad, e.f32(0.0f)));
        }
        SmallVector<Value> pRegs = packPairs(e, p, halfType);
        SmallVector<Value> dsRegs = packPairs(e, ds, halfType);
        e.wgmmaFence();
        dV = accumulatePV(e, spec, dV, pRegs, kBackwardQueries, t.dO,
                          queryChunk, dOUnits);
        dK = accumulatePV(e, spec, dK, dsRegs, kBackwardQueries, t.q,
                          queryChunk, qUnits);
        e.wgmmaCommit();

        // dS to shared memory once both warpgroups' previous dQ products
        // have read it; dQ once both halves are in.
        e.namedBarrierSync(e.i32(kDsFree), kConsumerThreads);
        storeDsTransposed(ds);
        fenceProxyAsync(e);
        e.namedBarrierSync(e.i32(kDsReady), kConsumerThreads);
        e.wgmmaFence();
        SmallVector<Value> dq = dsTimesK(); // waits for every wgmma
        e.mbarrierArrive(barrier(t.empty, stage));
        if (spec.orderedDq)
          addDqOrdered(dq, head, q0);
        else
          addDq(dq, head, q0);

        SmallVector<Value> next(dK);
        next.append(dV);
        return next;
      });
  float scale = spec.scaleLog2e / log2e;
  storeKeyRows(ArrayRef<Value>(acc).take_front(nk2), a.dk, spec.qkDim, scale);
  storeKeyRows(ArrayRef<Value>(acc).drop_front(nk2), a.dv, spec.valueDim, 1.0f);
}

gpu::GPUFuncOp mlir::tucker::flash_to_gpu::buildFlashBackwardKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto type = builder.getFunctionType(
      FlashBackwardArgs::types(builder.getContext()), {});
  auto func = gpu::GPUFuncOp::create(builder, loc, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  int32_t threads = kConsumerThreads + 128;
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({threads, 1, 1}));
  // setmaxnreg needs a register cap at entry: .maxntid + .minnctapersm 1.
  func->setAttr("nvvm.maxntid", builder.getDenseI32ArrayAttr({threads, 1, 1}));
  func->setAttr("nvvm.minctasm", builder.getI32IntegerAttr(1));
  Block &entry = func.getBody().front();
  builder.setInsertionPointToEnd(&entry);
  KernelEmitter emitter(builder, loc, &entry);
  BackwardKernelBuilder(emitter, spec,
                        FlashBackwardArgs::unpack(entry.getArguments()))
      .build();
  return func;
}
