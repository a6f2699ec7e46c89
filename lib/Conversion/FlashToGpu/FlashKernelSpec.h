//===- FlashKernelSpec.h - What a generated flash kernel is specialized to ===//
//
// Internal to --tucker-flash-to-gpu. A `FlashKernelSpec` is everything a
// generated Hopper kernel bakes in (element type, head widths, GQA group
// size, causal mask, softmax scale, schedule); batch, sequence length and
// head count stay run-time values (grid and one kernel argument), so one
// kernel serves every tucker.flash that shares a spec. `FlashTiling` derives
// tile sizes, ring depth and the shared-memory map from the spec.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHKERNELSPEC_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHKERNELSPEC_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <tuple>

namespace mlir::tucker {
class FlashOp;
namespace flash_to_gpu {

/// Element type of q, k, v and the output (accumulation is always f32).
enum class FlashElement { BF16, F16 };

struct FlashKernelSpec {
  FlashElement element = FlashElement::BF16;
  int64_t qkDim = 128;    // Dqk (a multiple of 16)
  int64_t valueDim = 128; // Dv (a multiple of 16)
  int64_t groupSize = 1;  // Hq / Hkv: query head h reads kv head h / groupSize
  // Query heads of one kv head packed into the 128-row M tile (a power of
  // two dividing groupSize): rows are (head, position) pairs, 128 /
  // headsPerTile positions per head, so one K/V tile serves them all.
  int64_t headsPerTile = 1;
  // V is the column slice [valueColumn, valueColumn + Dv) of K (a shared
  // latent): only K is loaded and P·V reads it in place.
  bool valueFromKey = false;
  int64_t valueColumn = 0; // a multiple of 64
  bool causal = false;
  float scaleLog2e = 0; // softmax scale · log2(e), folded into exp2
  bool pingPong = true; // consumer warpgroups take turns issuing wgmma (v5)
  // Rotary embedding applied on the fly to the Q and K tiles in shared
  // memory (docs/spec.md, #tucker.rope): ropeWidth = 0 when there is none.
  double ropeTheta = 0;
  int64_t ropeWidth = 0, ropeOffset = 0, ropeRepeat = 1, ropeStride = 0;
  bool ropeInterleaved = false;
  // Key counts per sequence read from a lengths operand (i32 [B], clamped to
  // [0, Nk]) instead of Nk for every batch entry.
  bool lengths = false;
  // Decode: the key sequence is split across CTAs (grid x = query tiles ×
  // splits); each CTA writes unnormalized partial results that a combine
  // kernel merges. Heads up to 256 wide take the decode kernel
  // (FlashDecodeKernel.cpp), wider ones the split-O kernel with splits.
  bool decode = false;
  // The output is stored [B, Nq, Hq, Dv] (what the transpose that usually
  // follows a flash would make), not [B, Hq, Nq, Dv].
  bool outputTransposed = false;
  // Keys per K/V tile of the prefill kernel (not decode, not split-O) when
  // set (a multiple of 16 in [32, 256]); 0: the largest whose ring fits
  // shared memory and whose accumulators fit the consumers' registers.
  int64_t keysPerTile = 0;
  // Consumer warpgroups of the prefill kernel (2 or 3; 64 query rows each).
  // Three hide more of the softmax when it outweighs the wgmma (narrow
  // heads); the decode and split-O kernels always run two.
  int64_t consumerGroups = 2;
  // The prefill kernel also writes the log-sum-exp of each query row (f32
  // [B, Hq, Nq], natural log; −inf for a row that sees no key).
  bool lse = false;
  // Backward only: the main kernel adds its dQ parts in key-tile order,
  // waiting on a counter per query tile, instead of by f32 atomics
  // (#tucker.flash_backward_schedule's ordered_dq).
  bool orderedDq = false;
  // Backward only: CTAs per kv head, each over groupSize / headSplits of
  // its query heads, writing f32 partial dK, dV that a reduction sums
  // (#tucker.flash_backward_schedule's head_splits).
  int64_t headSplits = 1;

  auto key() const {
    return std::make_tuple(element, qkDim, valueDim, groupSize, headsPerTile,
                           valueFromKey, valueColumn, causal, scaleLog2e,
                           pingPong, ropeTheta, ropeWidth, ropeOffset,
                           ropeRepeat, ropeStride, ropeInterleaved, lengths,
                           decode, outputTransposed, keysPerTile,
                           consumerGroups, lse, orderedDq, headSplits);
  }
  bool rope() const { return ropeWidth > 0; }
  /// The same spec without rope (what the flash kernel is when q and k are
  /// rotated before it).
  FlashKernelSpec withoutRope() const {
    FlashKernelSpec plain = *this;
    plain.ropeTheta = 0;
    plain.ropeWidth = plain.ropeOffset = plain.ropeStride = 0;
    plain.ropeRepeat = 1;
    plain.ropeInterleaved = false;
    return plain;
  }
  /// Heads wider than 256 (up to Dqk 576, Dv 512) take the split-O kernel
  /// (FlashWideKernel.cpp): 64 query rows per CTA, the two consumer
  /// warpgroups computing S for alternate key tiles and O for half of Dv.
  bool wide() const { return qkDim > 256 || valueDim > 256; }
  /// Consumer warpgroups of the kernel this spec takes.
  int64_t consumers() const { return wide() || decode ? 2 : consumerGroups; }
  /// Threads per CTA: the consumers and one producer warpgroup.
  int64_t threads() const { return 128 * (consumers() + 1); }
  /// Query rows per CTA.
  int64_t blockM() const { return wide() || decode ? 64 : 64 * consumers(); }
  /// The decode kernel (not the split-O one) takes arrival counters and,
  /// when given them, merges its splits' partials itself: the last CTA of a
  /// query tile to finish merges them (buildFlashDecodeKernel).
  bool mergesSplits() const { return decode && !wide(); }
  /// Query positions per M tile: blockM / headsPerTile.
  int64_t rowsPerHead() const { return blockM() / headsPerTile; }
  bool operator<(const FlashKernelSpec &o) const { return key() < o.key(); }

  /// "bf16" or "f16".
  llvm::StringRef elementName() const;
  /// Base name of the kernel, e.g. `flash_fwd_bf16_d128_g4_causal`.
  std::string baseName() const;
};

/// Tiles, ring and shared-memory map of a spec. Offsets are bytes from the
/// dynamic shared memory base rounded up to 1024 (the 128-byte swizzle atom),
/// and every tile starts on a 1024-byte boundary.
struct FlashTiling {
  static constexpr int64_t kChunk = 64;     // head-dim columns per TMA box
  static constexpr int64_t kRowBytes = 128; // one chunk row (64 × 16-bit)

  int64_t consumers;   // consumer warpgroups (the producer is the next)
  int64_t blockM;      // query rows per CTA
  int64_t blockN;      // keys per K/V tile
  int64_t stages;      // K/V ring slots
  int64_t qkChunks;    // ceil(Dqk / 64); a partial last chunk is zero-filled
  int64_t valueChunks; // ceil(Dv / 64)

  // Shared memory map.
  int64_t q;           // Q tile: qkChunks chunks of blockM rows
  int64_t qChunkBytes; // blockM · 128
  int64_t k;           // K ring: stage s at k + s · kStageBytes
  int64_t kChunkBytes; // blockN · 128
  int64_t kStageBytes;
  int64_t v;           // V ring: stage s at v + s · vStageBytes (inside the
                       // K ring when the spec reads V from K)
  int64_t vChunkBytes; // blockN · 128
  int64_t vStageBytes; // stride between the V tiles of two stages
  int64_t full;    // stages × 8 B: K/V of a slot landed (count 1 + tx)
  int64_t empty;   // stages × 8 B: slot consumed (count 256)
  int64_t qFull;   // 8 B: Q landed
  // Split-O kernel only: what the two consumer warpgroups exchange per pair
  // of key tiles: the packed P fragments (16-bit pairs, [wg][reg][thread]),
  // the row maxima ([wg][64] f32) and the per-thread row sums
  // ([wg][2][thread] f32). The P fragments sit in a K chunk that V does not
  // read (the rope columns of a shared latent) when there is one.
  int64_t exchange;      // stage-0 address of warpgroup 0's P fragments
  int64_t exchangeStage; // added per stage (0: a region of its own)
  int64_t exchangeWg;    // added for warpgroup 1
  int64_t rowMax;
  int64_t rowSum;
  int64_t bytes;   // end of the map
  int64_t request; // dynamic shared memory to request (+ 1 KiB to align)

  explicit FlashTiling(const FlashKernelSpec &spec);
};

/// Why `spec` cannot be generated (head widths, ring that does not fit), or
/// the empty string when it can.
std::string unsupportedReason(const FlashKernelSpec &spec);

/// Builds the kernel `name` for `spec` at the end of `module`: a gpu.func
/// with the ABI of every flash kernel (FlashKernelArgs)
/// launched on grid (ceil(nq / rowsPerHead), Hq / headsPerTile, B), block
/// (spec.threads(), 1, 1), with `FlashTiling(spec).request` bytes of dynamic
/// shared memory. tmap_v is not read when the spec reads V from K, lengths only
/// when spec.lengths; o_partial, stats and tiles_per_split belong to decode
/// specs (see buildFlashDecodeKernel).
gpu::GPUFuncOp buildFlashKernel(OpBuilder &builder, Location loc,
                                gpu::GPUModuleOp module,
                                const FlashKernelSpec &spec,
                                llvm::StringRef name);

/// The split-O kernel for a wide spec (spec.wide()), with the same ABI and
/// launch as buildFlashKernel (grid x over ceil(nq / rowsPerHead)).
gpu::GPUFuncOp buildFlashWideKernel(OpBuilder &builder, Location loc,
                                    gpu::GPUModuleOp module,
                                    const FlashKernelSpec &spec,
                                    llvm::StringRef name);

/// The decode kernel for a spec with `decode` and heads up to 256 wide: 64
/// query rows (heads of one kv head × positions) per CTA, the CTA's key
/// tiles [split · tiles_per_split, + tiles_per_split) taken alternately by
/// the two consumer warpgroups, whose results are merged in the CTA. Grid
/// (ceil(nq / rowsPerHead) · splits, Hq / headsPerTile, B). The CTA writes,
/// for each of its rows r = (b·Hq + head)·nq + position, the unnormalized
/// O to o_partial[(r·S + split)·Dv ...] (f32) and (max score, sum) to
/// stats[(r·S + split)·2 ...], S = splits. A trailing argument
/// `counters` (i32, one per (batch, head tile, query tile): index
/// (B-index · gridDim.y + ctaid.y) · query tiles + query tile) that is
/// zero at launch makes the kernel merge them itself: the CTA that
/// finishes a query tile last merges its rows into o and sets the counter
/// back to 0 (with one split the CTA writes o directly). With a null
/// `counters` buildFlashCombineKernel merges them. With a wide spec,
/// buildFlashWideKernel writes the same partials and takes no counters.
gpu::GPUFuncOp buildFlashDecodeKernel(OpBuilder &builder, Location loc,
                                      gpu::GPUModuleOp module,
                                      const FlashKernelSpec &spec,
                                      llvm::StringRef name);

/// The kernel merging a decode spec's partial results:
///   (o_partial, stats, o : !llvm.ptr, rows, partials, heads, nq : i32)
/// grid (ceil(rows / 4)), block (128): one warp per row of the output
/// (rows = B · heads · nq; heads and nq place a row when the output is
/// transposed).
gpu::GPUFuncOp buildFlashCombineKernel(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module,
                                       const FlashKernelSpec &spec,
                                       llvm::StringRef name);

/// The kernel that applies the spec's rope to q or k ahead of a prefill
/// flash kernel, writing a rotated copy:
///   (src, dst, lengths : !llvm.ptr, n, nq, nk, query, head_stride,
///    row_stride : i32)
/// grid (ceil(n / kRopeRows), heads, B), block (128): rows of `n` positions
/// of each head, at position p + L − nq when `query` is nonzero (L: the
/// sequence's keys, from lengths when the spec has them, else nk), else p.
/// src element (b, h, p, d) is at, in elements,
/// b · heads · n · D + h · head_stride + p · row_stride + d
/// ([B, H, N, D]: n · D and D; [B, N, H, D]: D and heads · D); dst is
/// [B, H, N, D].
gpu::GPUFuncOp buildFlashRopeKernel(OpBuilder &builder, Location loc,
                                    gpu::GPUModuleOp module,
                                    const FlashKernelSpec &spec,
                                    llvm::StringRef name);

/// Rows per CTA of the rope kernel.
inline constexpr int64_t kRopeRows = 16;

/// The arguments of every flash kernel, in their order: the ABI that the
/// launcher and the kernels share. On the host they are the values a launch
/// passes; in a kernel, its entry block's arguments.
struct FlashKernelArgs {
  Value tmapQ, tmapK, tmapV; // pointers to the CUtensorMaps of q, k, v
  Value out;                 // the output
  Value oPartial, stats;     // f32 partials of splits, else null pointers
  Value lengths;             // i32 [B] key counts, else a null pointer
  Value nq, nk;              // i32
  Value tilesPerSplit;       // i32: key tiles per split (decode, split-O)
  Value counters;            // i32 arrival counters: spec.mergesSplits()
  Value lse;                 // f32 [B, Hq, Nq]: spec.lse

  /// The argument types of the kernel of `spec`.
  static SmallVector<Type> types(MLIRContext *ctx, const FlashKernelSpec &spec);
  /// The arguments of a kernel's entry block.
  static FlashKernelArgs unpack(ValueRange args, const FlashKernelSpec &spec);
  /// The arguments in order, for a launch of the kernel of `spec`.
  SmallVector<Value> pack(const FlashKernelSpec &spec) const;
};

/// Threads per block of the combine kernel.
inline constexpr int64_t kCombineThreads = 128;

/// Value columns of consumer warpgroup `wg` in the split-O kernel: [offset,
/// offset + width), split at a 64-column chunk boundary.
std::pair<int64_t, int64_t> wideValueColumns(const FlashKernelSpec &spec,
                                             int64_t wg);

/// Name of the dynamic shared memory symbol declared in the kernel module.
inline constexpr llvm::StringLiteral kSharedMemorySymbol = "__tucker_smem";

} // namespace flash_to_gpu
} // namespace mlir::tucker

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHKERNELSPEC_H
