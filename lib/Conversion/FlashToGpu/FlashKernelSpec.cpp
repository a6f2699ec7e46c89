//===- FlashKernelSpec.cpp - Tiling and shared memory of a flash kernel ---===//

#include "FlashKernelSpec.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir::tucker::flash_to_gpu;

/// Largest dynamic shared memory a Hopper CTA may request (227 KiB).
static constexpr int64_t kMaxSharedBytes = 232448;

llvm::StringRef FlashKernelSpec::elementName() const {
  return element == FlashElement::BF16 ? "bf16" : "f16";
}

std::string FlashKernelSpec::baseName() const {
  std::string name = llvm::formatv("flash_fwd_{0}_d{1}", elementName(), qkDim);
  if (valueDim != qkDim)
    name += llvm::formatv("_v{0}", valueDim).str();
  if (groupSize != 1)
    name += llvm::formatv("_g{0}", groupSize).str();
  if (headsPerTile != 1)
    name += llvm::formatv("_p{0}", headsPerTile).str();
  if (valueFromKey)
    name += llvm::formatv("_vk{0}", valueColumn).str();
  if (rope())
    name += llvm::formatv("_rope{0}", ropeWidth).str();
  if (causal)
    name += "_causal";
  if (lengths)
    name += "_len";
  if (decode)
    name += "_decode";
  if (outputTransposed)
    name += "_obnhd";
  if (keysPerTile != 0)
    name += llvm::formatv("_n{0}", keysPerTile).str();
  if (consumers() != 2)
    name += llvm::formatv("_w{0}", consumers()).str();
  if (lse)
    name += "_lse";
  if (orderedDq)
    name += "_ordered";
  if (headSplits != 1)
    name += llvm::formatv("_s{0}", headSplits).str();
  return name;
}

/// The shared memory map for `blockN` keys per tile.
static void layout(FlashTiling &t, const FlashKernelSpec &spec,
                   int64_t blockN) {
  t.blockN = blockN;
  t.qChunkBytes = t.blockM * FlashTiling::kRowBytes;
  t.kChunkBytes = blockN * FlashTiling::kRowBytes;
  t.vChunkBytes = t.kChunkBytes;
  t.kStageBytes = t.qkChunks * t.kChunkBytes;
  t.q = 0;
  t.k = t.q + t.qkChunks * t.qChunkBytes;
  int64_t ringEnd;
  if (spec.valueFromKey) {
    t.v = t.k + (spec.valueColumn / FlashTiling::kChunk) * t.kChunkBytes;
    t.vStageBytes = t.kStageBytes;
    ringEnd = t.k + t.stages * t.kStageBytes;
  } else {
    t.v = t.k + t.stages * t.kStageBytes;
    t.vStageBytes = t.valueChunks * t.vChunkBytes;
    ringEnd = t.v + t.stages * t.vStageBytes;
  }
  t.exchange = t.exchangeStage = t.exchangeWg = t.rowMax = t.rowSum = 0;
  if (spec.wide()) {
    // A K chunk V does not read holds warpgroup w's P fragments of the tile
    // it computed (8 KB = 64 rows x 64 keys x 2 B), else a region of its own.
    int64_t pBytes = 4 * (blockN / 4) * 128;
    int64_t firstV = spec.valueColumn / FlashTiling::kChunk;
    int64_t freeChunk = -1;
    if (spec.valueFromKey && blockN == 64)
      for (int64_t c = t.qkChunks - 1; c >= 0 && freeChunk < 0; --c)
        if (c < firstV || c >= firstV + t.valueChunks)
          freeChunk = c;
    if (freeChunk >= 0) {
      t.exchange = t.k + freeChunk * t.kChunkBytes;
      t.exchangeStage = t.kStageBytes;
      t.exchangeWg = 0; // each warpgroup writes the stage of its own tile
    } else {
      t.exchange = ringEnd;
      t.exchangeWg = pBytes;
      ringEnd += 2 * pBytes;
    }
    t.rowMax = ringEnd;
    t.rowSum = t.rowMax + 2 * 64 * 4;
    ringEnd = t.rowSum + 2 * 2 * 128 * 4;
  }
  t.full = ringEnd;
  t.empty = t.full + 8 * t.stages;
  t.qFull = t.empty + 8 * t.stages;
  t.bytes = t.qFull + 8;
  t.request = t.bytes + 1024;
}

FlashTiling::FlashTiling(const FlashKernelSpec &spec) {
  consumers = spec.consumers();
  blockM = spec.blockM();
  qkChunks = (spec.qkDim + kChunk - 1) / kChunk;
  valueChunks = (spec.valueDim + kChunk - 1) / kChunk;
  if (spec.wide()) {
    // Split-O: a pair of 64-key tiles in flight (one per consumer), a second
    // pair prefetched when it fits, else 48- then 32-key tiles.
    for (int64_t n : {64, 48, 32})
      for (int64_t s : {4, 2}) {
        stages = s;
        layout(*this, spec, n);
        if (request <= kMaxSharedBytes)
          return;
      }
    return;
  }
  if (spec.decode) {
    // Each consumer warpgroup holds one slot at a time: with 4 slots the
    // producer runs two tiles ahead of both (2 when the tiles are wide).
    // The warpgroups take alternate tiles, so an odd ring would give a
    // slot's next tile to the other warpgroup, which may wait on the slot's
    // full barrier before its previous phase completed, and a parity wait
    // cannot tell the two phases apart (a 3-slot ring crashed on the H100).
    // 6 slots measured no faster (docs/gpu-notes.md, "Latent decode: where the
    // time goes").
    for (int64_t s : {4, 2}) {
      stages = s;
      layout(*this, spec, 64);
      if (request <= kMaxSharedBytes)
        return;
    }
    return;
  }
  // The overlapped schedule holds two slots at once (V(j-1) for P·V, K(j)
  // for S), so the ring needs 3 slots to prefetch anything
  // (docs/gpu-notes.md, pitfall 15).
  stages = 3;
  if (spec.keysPerTile != 0) {
    layout(*this, spec, spec.keysPerTile);
    return;
  }
  // Keys per tile: the largest multiple of 16 up to 128 whose ring fits in
  // shared memory and whose registers fit a consumer thread's 240 (O is
  // Dv/2 f32, S and P in flight about 1.25 · blockN: Dv <= 128 runs 128
  // keys without spills; Dv = 256 spills from 80 keys, not at 48).
  int64_t byRegisters =
      spec.valueDim <= 128 ? 128 : (200 - spec.valueDim / 2) * 4 / 5;
  int64_t n = std::min<int64_t>(128, byRegisters / 16 * 16);
  // Causal: key tiles in step with a tile's query positions (one divides
  // the other), so the diagonal is whole tiles: only they are masked and no
  // key past it is loaded. 96 positions per head (3 consumers, 2 heads per
  // tile) take 96-key tiles: GPT-2-size latent MQA 254 -> 277 TFLOP/s
  // (docs/perf.md, "Whole layers with merged projections and
  // diagonal-aligned causal tiles").
  if (spec.causal && spec.valueDim <= 128) {
    int64_t rows = spec.rowsPerHead();
    for (int64_t aligned = n; aligned >= 64; aligned -= 16) {
      if (rows % aligned != 0 && aligned % rows != 0)
        continue;
      layout(*this, spec, aligned);
      if (request <= kMaxSharedBytes)
        return;
    }
  }
  for (; n > 16; n -= 16) {
    layout(*this, spec, n);
    if (request <= kMaxSharedBytes)
      return;
  }
  layout(*this, spec, 16);
}

std::pair<int64_t, int64_t>
mlir::tucker::flash_to_gpu::wideValueColumns(const FlashKernelSpec &spec,
                                             int64_t wg) {
  int64_t chunks = (spec.valueDim + FlashTiling::kChunk - 1) / FlashTiling::kChunk;
  int64_t first = std::min(spec.valueDim, (chunks + 1) / 2 * FlashTiling::kChunk);
  return wg == 0 ? std::make_pair(int64_t(0), first)
                 : std::make_pair(first, spec.valueDim - first);
}

std::string
mlir::tucker::flash_to_gpu::unsupportedReason(const FlashKernelSpec &spec) {
  auto widthOk = [](int64_t d, int64_t max) {
    return d > 0 && d % 16 == 0 && d <= max;
  };
  if (!widthOk(spec.qkDim, 576) || !widthOk(spec.valueDim, 512))
    return llvm::formatv("head widths Dqk = {0}, Dv = {1} are not supported "
                         "(the kernels take multiples of 16, Dqk up to 576 "
                         "and Dv up to 512)",
                         spec.qkDim, spec.valueDim)
        .str();
  if (spec.valueFromKey &&
      (spec.valueColumn % FlashTiling::kChunk != 0 ||
       spec.valueColumn + spec.valueDim > spec.qkDim))
    return llvm::formatv("v as columns [{0}, {1}) of k needs a start that is "
                         "a multiple of 64 and an end within Dqk = {2}",
                         spec.valueColumn, spec.valueColumn + spec.valueDim,
                         spec.qkDim)
        .str();
  if (spec.lse && (spec.decode || spec.wide()))
    return "the log-sum-exp ('lse') is written by the prefill kernel only "
           "(not decode, heads up to 256 wide)";
  FlashTiling tiling(spec);
  if (spec.wide() && wideValueColumns(spec, 1).second <= 0)
    return llvm::formatv("Dv = {0} leaves the second consumer warpgroup of "
                         "the wide kernel no columns (it splits Dv at a "
                         "64-column chunk)",
                         spec.valueDim)
        .str();
  if (tiling.request > kMaxSharedBytes || tiling.blockN < 32)
    return llvm::formatv("the K/V ring for Dqk = {0}, Dv = {1} does not fit "
                         "in shared memory ({2} B with {3}-key tiles, at most "
                         "{4} B)",
                         spec.qkDim, spec.valueDim, tiling.request,
                         tiling.blockN, kMaxSharedBytes)
        .str();
  return "";
}
