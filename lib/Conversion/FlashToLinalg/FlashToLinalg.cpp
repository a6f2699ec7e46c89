//===- FlashToLinalg.cpp ---------------------------------------------------===//
// PLACEHOLDER: owned by a teammate; replaced by the real implementation.

#include "tucker/Conversion/Passes.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERFLASHTOLINALGPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {
struct TuckerFlashToLinalgPass : tucker::impl::TuckerFlashToLinalgPassBase<TuckerFlashToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->emitError("TuckerFlashToLinalgPass is not implemented yet");
    signalPassFailure();
  }
};
} // namespace
