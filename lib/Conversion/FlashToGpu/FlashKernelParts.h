//===- FlashKernelParts.h - Pieces shared by the flash kernels --*- C++ -*-===//
//
// Internal to --tucker-flash-to-gpu: what the 128-row overlapped kernel
// (FlashKernel.cpp) and the split-O kernel (FlashWideKernel.cpp) build the
// same way: the CTA's work item and key-tile range, the two query rows of a
// consumer thread, score masking, quad reductions, the packing of P into
// wgmma A fragments, P·V from registers, and the output store.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHKERNELPARTS_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHKERNELPARTS_H

#include "FlashKernelSpec.h"
#include "KernelEmitter.h"

namespace mlir::tucker::flash_to_gpu {

/// Fragment layout of an m64nN f32 accumulator: value i of a thread (lane l
/// of warp w in the warpgroup, g = l / 4, t = l % 4) sits at row
/// 16w + g + 8·((i / 2) % 2) and column 8·(i / 4) + 2t + i % 2.
inline int64_t rowOf(int64_t i) { return (i / 2) % 2; }

/// The CTA's queries and key tiles: positions n0 .. n0 + rowsPerHead - 1 of
/// heads headBase .. headBase + headsPerTile - 1 (all reading kvHead); key
/// tiles first .. first + nt - 1, of which those below nfull need no mask.
/// Without decode, first = 0 and nt >= 1 (a fully masked tile when the
/// rows see no key); with decode, the split `split` of the sequence's
/// tiles, `tilesPerSplit` long, nt possibly 0.
struct TileWork {
  Value n0, headBase, kvHead, batch, first, nt, nfull;
  Value split, splits; // decode only
};
TileWork tileWork(KernelEmitter &e, const FlashKernelSpec &spec,
                  const FlashTiling &t, Value nq, Value nk,
                  Value tilesPerSplit);

/// Decode kernels are launched with programmatic stream serialization (the
/// runtime's mgpuLaunchKernel, for kernels named `*_decode*` but not
/// `*_combine`): a CTA may start before the previous kernel on the stream
/// has finished, so this waits for it (griddepcontrol.wait) before any
/// global memory access, then lets the next such launch begin
/// (launch_dependents) once every CTA of this one is running. A no-op for
/// other specs.
void awaitPriorGrids(KernelEmitter &e, const FlashKernelSpec &spec);

/// The number of keys of the CTA's sequence: Nk, or with spec.lengths
/// `lengths[batch]` clamped to [0, Nk].
Value sequenceKeys(KernelEmitter &e, const FlashKernelSpec &spec,
                   Value lengths, Value batch, Value nk);

/// The producer thread: the Q tile (one TMA box per 64-column chunk) on the
/// qFull barrier, then key tiles first .. first + nt - 1 of K (and of V unless
/// the spec reads it from K) through the ring: local tile i in slot
/// i % stages, after the slot's empty barrier from round i / stages - 1.
void produceTiles(KernelEmitter &e, const FlashKernelSpec &spec,
                  const FlashTiling &t, const TileWork &w, Value tmapQ,
                  Value tmapK, Value tmapV);

/// The kernel's frame: the shared memory base, the ring's barriers (full:
/// 1 arrival + TMA bytes; empty: `emptyArrivals`; qFull), then the roles:
/// warpgroup 2 drops to 24 registers and its first thread runs
/// produceTiles; warpgroups 0 and 1 rise to 240 registers and run
/// `consumer` (with the builder inside their branch).
void runRoles(KernelEmitter &e, const FlashKernelSpec &spec,
              const FlashTiling &t, const TileWork &w, Value tmapQ,
              Value tmapK, Value tmapV, int64_t emptyArrivals,
              llvm::function_ref<void()> consumer);

/// S = Q·Kᵀ of the 64 Q rows at the start of the Q tile and the K tile in
/// ring slot `stage`, by SS-wgmma (committed and waited for): blockN / 2
/// accumulator values.
SmallVector<Value> scoresOfTile(KernelEmitter &e, const FlashKernelSpec &spec,
                                const FlashTiling &t, Value stage);

/// A consumer thread's two rows (`r0` and `r0 + 8` of the M tile): query
/// position, head and the last key it may see (causal: position + Nk - Nq).
struct ThreadRows {
  SmallVector<Value> pos, head, keyLimit;
};
ThreadRows threadRows(KernelEmitter &e, const FlashKernelSpec &spec,
                      const TileWork &w, Value r0, Value nq, Value nk);

/// Sets to -inf the scores of `s` (an m64n`blockN` fragment of key tile
/// `tile`) past Nk and, when causal, past each row's key limit.
void maskScores(KernelEmitter &e, const FlashKernelSpec &spec, int64_t blockN,
                MutableArrayRef<Value> s, Value tile, Value t2, Value nk,
                const ThreadRows &rows);

/// Max (or sum) of each of the thread's two rows over its fragment values,
/// reduced over the lane quad when `quad`.
SmallVector<Value> rowReduce(KernelEmitter &e, ArrayRef<Value> values,
                             bool max, bool quad);

/// f32 values in accumulator order → 16-bit pairs: exactly the A fragment
/// order of a wgmma k-step (register r of k-step kk is values 8kk + 2r,
/// 8kk + 2r + 1), so no shuffles.
SmallVector<Value> packPairs(KernelEmitter &e, ArrayRef<Value> values,
                             Type halfType);

/// O += P·V for `blockN` keys by RS-wgmma (P = `pRegs`, 4 per k-step): V
/// MN-major at shared byte `vBase` (+ `stageUnits` 16-byte units at run
/// time), 64-column chunks `chunkBytes` apart, N = o.size() * 2.
SmallVector<Value> accumulatePV(KernelEmitter &e, const FlashKernelSpec &spec,
                                ArrayRef<Value> o, ArrayRef<Value> pRegs,
                                int64_t blockN, int64_t vBase,
                                int64_t chunkBytes, Value stageUnits);

/// Row of the output holding (batch, head, pos): [B, Hq, Nq, Dv] rows, or
/// [B, Nq, Hq, Dv] rows when the spec's output is transposed.
Value outputRow(KernelEmitter &e, const FlashKernelSpec &spec, Value batch,
                Value head, Value pos, Value heads, Value nq);

/// O / l (0 for a row that saw no key; `l` is the thread's partial sums,
/// quad-reduced here) stored as 16-bit pairs to out[b, head, pos, column0 +
/// ...] for positions < Nq.
void storeOutput(KernelEmitter &e, const FlashKernelSpec &spec,
                 ArrayRef<Value> o, ArrayRef<Value> l, const TileWork &w,
                 const ThreadRows &rows, Value out, Value nq, Value t2,
                 int64_t column0, Type halfType);

/// Decode: this warpgroup's unnormalized O (`o`, columns column0 + ...) of
/// partial `partial` of `partials`, stored as f32 to
/// oPartial[(row · partials + partial) · Dv + column], and, when
/// `withStats`, the rows' (max score, sum) to stats[(row · partials +
/// partial) · 2 ...]; `l` is the thread's partial sums (quad-reduced here).
/// Rows are (b · Hq + head) · Nq + position, for positions < Nq.
void storePartial(KernelEmitter &e, const FlashKernelSpec &spec,
                  ArrayRef<Value> o, ArrayRef<Value> m, ArrayRef<Value> l,
                  const TileWork &w, const ThreadRows &rows, Value oPartial,
                  Value stats, Value nq, Value t2, int64_t column0,
                  Value partial, Value partials, bool withStats);

/// Declares, in the kernel module, the f64 rope frequencies
/// theta^(-2j/width), j < width/2, as a global-memory constant `name`.
void declareRopeFrequencies(OpBuilder &builder, Location loc,
                            gpu::GPUModuleOp module,
                            const FlashKernelSpec &spec, llvm::StringRef name);

/// cos and sin of position · theta^(-2j/width) (`table`: the frequencies of
/// declareRopeFrequencies, an !llvm.ptr<1>): the angle in f64, reduced
/// modulo 2π, then cos/sin.approx in f32.
std::pair<Value, Value> ropeCosSin(KernelEmitter &e, Value table, Value j,
                                   Value position);

/// Rotates in place (spec's rope) rows 0 .. rowCount - 1 of a tile in
/// shared memory: 64-column chunks of 128-byte rows, 128-byte swizzle,
/// chunk c at byte `tileBase` + `tileExtra` (run time) + c · `chunkBytes`.
/// `threads` threads share the work, this one being `thread`; row r sits at
/// sequence position `position(r)`. Angles are taken in f64 and reduced
/// modulo 2π before sin/cos.approx. The caller orders the writes before
/// wgmma reads (proxy fence + barrier).
void rotateRows(KernelEmitter &e, const FlashKernelSpec &spec,
                llvm::StringRef frequencies, int64_t tileBase, Value tileExtra,
                int64_t chunkBytes, int64_t rowCount, Value thread,
                int64_t threads, Type halfType,
                llvm::function_ref<Value(Value row)> position);

/// With spec.lengths: the key tile whose rows past the sequence end must be
/// cleared before P·V reads them, `keys` / blockN, when the cache holds rows
/// past it (`keys` < `cacheKeys`); else ~0 (no tile). TMA zero-fills the
/// rows past Nk, not those past the sequence's L, and P = 0 times an Inf or
/// NaN there would still reach O.
Value lengthTile(KernelEmitter &e, Value keys, Value cacheKeys, int64_t blockN);

/// Zeroes rows `firstRow` (run time) .. `rowCount` - 1 of a tile in shared
/// memory: `chunks` 64-column chunks of 128-byte rows, chunk c at byte
/// `tileBase` + `tileExtra` (run time) + c · `chunkBytes`. Whole rows by
/// 16-byte stores, so the 128-byte swizzle (which permutes a row's
/// granules) does not matter. `threads` threads share the work, this one
/// being `thread`. The caller orders the writes before wgmma reads (proxy
/// fence + barrier).
void zeroTileRows(KernelEmitter &e, int64_t tileBase, Value tileExtra,
                  int64_t chunkBytes, int64_t chunks, Value firstRow,
                  int64_t rowCount, Value thread, int64_t threads);

/// Creates the gpu.func `name` of a flash kernel for `spec` at the end of
/// `module` (the arguments of FlashKernelArgs, the spec's threads, register
/// cap for setmaxnreg, the rope frequency table when the spec rotates) and
/// lets `body` fill it from the function's arguments.
gpu::GPUFuncOp createFlashKernelFunc(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    const FlashKernelSpec &spec, llvm::StringRef name,
    llvm::function_ref<void(KernelEmitter &, const FlashKernelArgs &args,
                            llvm::StringRef ropeFrequencies)>
        body);

/// fence.proxy.async.shared::cta: generic-proxy shared writes made visible
/// to the async proxy (wgmma, TMA).
void fenceProxyAsync(KernelEmitter &e);

/// Two f32 at `ptr` (global, 8-byte aligned) loaded from L2
/// (ld.global.cg): values other CTAs wrote, which this SM's L1 may hold
/// stale. The load keeps its place after the barriers before it.
std::pair<Value, Value> loadPairFromL2(KernelEmitter &e, Value ptr);

/// fence.acq_rel.gpu.
void fenceGpu(KernelEmitter &e);

} // namespace mlir::tucker::flash_to_gpu

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHKERNELPARTS_H
