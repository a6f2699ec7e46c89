//===- Passes.h - Tucker conversions ----------------------------*- C++ -*-===//

#ifndef TUCKER_CONVERSION_PASSES_H
#define TUCKER_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"

namespace mlir {
class RewritePatternSet;
namespace tucker {

/// When --tucker-gpu-configure gives a flash the split-KV decode kernel.
enum class FlashDecodeMode { Auto, On, Off };

#define GEN_PASS_DECL
#include "tucker/Conversion/Passes.h.inc"

/// Patterns of --tucker-flash-to-linalg: tucker.flash to online-softmax
/// loops over `queryTile`×`keyTile` tiles of linalg ops on tensors, and
/// tucker.rope to elementwise linalg ops. The flash pattern does not match
/// (and says why) when a tile size is not positive.
void populateFlashToLinalgPatterns(RewritePatternSet &patterns,
                                   int64_t queryTile, int64_t keyTile);

#define GEN_PASS_REGISTRATION
#include "tucker/Conversion/Passes.h.inc"

} // namespace tucker
} // namespace mlir

#endif // TUCKER_CONVERSION_PASSES_H
