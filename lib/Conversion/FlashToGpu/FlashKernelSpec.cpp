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
  if (causal)
    name += "_causal";
  return name;
}

/// The shared memory map for `blockN` keys per tile.
static void layout(FlashTiling &t, const FlashKernelSpec &spec,
                   int64_t blockN) {
  t.blockN = blockN;
  t.qChunkBytes = FlashTiling::kBlockM * FlashTiling::kRowBytes;
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
  t.full = ringEnd;
  t.empty = t.full + 8 * t.stages;
  t.qFull = t.empty + 8 * t.stages;
  t.bytes = t.qFull + 8;
  t.request = t.bytes + 1024;
}

FlashTiling::FlashTiling(const FlashKernelSpec &spec) {
  // The overlapped schedule holds two slots at once (V(j-1) for P·V, K(j)
  // for S), so the ring needs 3 slots to prefetch anything
  // (docs/gpu-notes.md, pitfall 15).
  stages = 3;
  qkChunks = (spec.qkDim + kChunk - 1) / kChunk;
  valueChunks = (spec.valueDim + kChunk - 1) / kChunk;
  // Keys per tile: the largest multiple of 16 up to 128 whose ring fits in
  // shared memory and whose registers fit a consumer thread's 240 (O is
  // Dv/2 f32, S and P in flight about 1.25 · blockN: Dv <= 128 runs 128
  // keys without spills; Dv = 256 spills from 80 keys, not at 48).
  int64_t byRegisters =
      spec.valueDim <= 128 ? 128 : (200 - spec.valueDim / 2) * 4 / 5;
  int64_t n = std::min<int64_t>(128, byRegisters / 16 * 16);
  for (; n > 16; n -= 16) {
    layout(*this, spec, n);
    if (request <= kMaxSharedBytes)
      return;
  }
  layout(*this, spec, 16);
}

std::string
mlir::tucker::flash_to_gpu::unsupportedReason(const FlashKernelSpec &spec) {
  auto widthOk = [](int64_t d) { return d > 0 && d % 16 == 0 && d <= 256; };
  if (!widthOk(spec.qkDim) || !widthOk(spec.valueDim))
    return llvm::formatv("head widths Dqk = {0}, Dv = {1} are not supported "
                         "(the kernels take multiples of 16 up to 256)",
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
  FlashTiling tiling(spec);
  if (tiling.request > kMaxSharedBytes || tiling.blockN < 32)
    return llvm::formatv("the K/V ring for Dqk = {0}, Dv = {1} does not fit "
                         "in shared memory ({2} B with {3}-key tiles, at most "
                         "{4} B)",
                         spec.qkDim, spec.valueDim, tiling.request,
                         tiling.blockN, kMaxSharedBytes)
        .str();
  return "";
}
