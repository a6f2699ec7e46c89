//===- Ranks.cpp - Numerical Tucker ranks of constant weights -------------===//
//
// --tucker-ranks: for every attention op with constant weights, a remark with
// the numerical multilinear ranks of its pre- and post-softmax weight tensors,
// computed from the mode Grams of the projections (Hosvd.h).
//
//===----------------------------------------------------------------------===//

#include "tucker/Dialect/Tucker/Transforms/Hosvd.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERRANKSPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;

/// `1e-06`, as printf's %g writes it.
static std::string formatTolerance(double tolerance) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format("%g", tolerance);
  return text;
}

namespace {
struct TuckerRanksPass : tucker::impl::TuckerRanksPassBase<TuckerRanksPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!(tolerance >= 0.0 && tolerance < 1.0)) {
      getOperation()->emitError()
          << "--tucker-ranks: option 'tolerance' must be in [0, 1), got "
          << formatTolerance(tolerance);
      return signalPassFailure();
    }
    getOperation()->walk([&](Operation *op) {
      if (!isAttentionLayer(op))
        return;
      std::string reason;
      FailureOr<AttentionWeights> weights =
          readAttentionWeights(op, /*foldQueryBias=*/false, reason);
      if (failed(weights)) {
        if (reportSkipped)
          op->emitRemark() << "ranks not computed: " << reason;
        return;
      }
      std::array<int64_t, 3> pre =
          hosvd::numericalRanks(hosvd::analyze(weights->pre, false), tolerance);
      std::array<int64_t, 3> post = hosvd::numericalRanks(
          hosvd::analyze(weights->post, false), tolerance);
      InFlightDiagnostic diag = op->emitRemark();
      diag << "pre-softmax ranks [" << pre[0] << ", " << pre[1] << ", "
           << pre[2] << "], post-softmax ranks [" << post[0] << ", " << post[1]
           << ", " << post[2] << "] (tolerance " << formatTolerance(tolerance);
      if (weights->queryNorm || weights->keyNorm || weights->valueNorm)
        diag << "; RMS-norm weights folded, per-token 1/rms left out";
      if (weights->rope)
        diag << "; rope left out";
      diag << ")";
    });
  }
};
} // namespace
