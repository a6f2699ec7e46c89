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
  if (causal)
    name += "_causal";
  return name;
}

FlashTiling::FlashTiling(const FlashKernelSpec &spec) {
  // Keys per tile and ring depth by head width. The overlapped schedule holds
  // two slots at once (V(j-1) for P·V, K(j) for S), so the ring needs 3 slots
  // to prefetch anything (docs/gpu-notes.md, pitfall 15). d = 256 fits 3
  // slots only with 48-key tiles.
  int64_t width = std::max(spec.qkDim, spec.valueDim);
  blockN = width > 128 ? 48 : 128;
  stages = 3;
  qkChunks = spec.qkDim / kChunk;
  valueChunks = spec.valueDim / kChunk;

  qChunkBytes = kBlockM * kRowBytes;
  kChunkBytes = blockN * kRowBytes;
  vChunkBytes = blockN * kRowBytes;
  kStageBytes = qkChunks * kChunkBytes;
  vStageBytes = valueChunks * vChunkBytes;
  q = 0;
  k = q + qkChunks * qChunkBytes;
  v = k + stages * kStageBytes;
  full = v + stages * vStageBytes;
  empty = full + 8 * stages;
  qFull = empty + 8 * stages;
  bytes = qFull + 8;
  request = bytes + 1024;
}

std::string
mlir::tucker::flash_to_gpu::unsupportedReason(const FlashKernelSpec &spec) {
  auto widthOk = [](int64_t d) { return d == 64 || d == 128 || d == 256; };
  if (!widthOk(spec.qkDim) || !widthOk(spec.valueDim) ||
      spec.qkDim != spec.valueDim)
    return llvm::formatv("head widths Dqk = {0}, Dv = {1} are not supported "
                         "(the kernels take Dqk = Dv = 64, 128 or 256)",
                         spec.qkDim, spec.valueDim)
        .str();
  FlashTiling tiling(spec);
  if (tiling.request > kMaxSharedBytes)
    return llvm::formatv("the kernel would need {0} B of shared memory (at "
                         "most {1})",
                         tiling.request, kMaxSharedBytes)
        .str();
  return "";
}
