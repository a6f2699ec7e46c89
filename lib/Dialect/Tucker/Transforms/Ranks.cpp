//===- Ranks.cpp ---------------------------------------------------===//
// PLACEHOLDER: owned by a teammate; replaced by the real implementation.

#include "tucker/Dialect/Tucker/Transforms/Passes.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERRANKSPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {
struct TuckerRanksPass : tucker::impl::TuckerRanksPassBase<TuckerRanksPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->emitError("TuckerRanksPass is not implemented yet");
    signalPassFailure();
  }
};
} // namespace
