//===- Compress.cpp ---------------------------------------------------===//
// PLACEHOLDER: owned by a teammate; replaced by the real implementation.

#include "tucker/Dialect/Tucker/Transforms/Passes.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERCOMPRESSPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {
struct TuckerCompressPass : tucker::impl::TuckerCompressPassBase<TuckerCompressPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->emitError("TuckerCompressPass is not implemented yet");
    signalPassFailure();
  }
};
} // namespace
