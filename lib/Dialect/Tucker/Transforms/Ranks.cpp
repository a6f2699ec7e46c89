//===- Ranks.cpp - Numerical Tucker ranks of constant weights -------------===//
//
// --tucker-ranks: for every attention op with constant weights, a remark with
// the numerical multilinear ranks of its pre- and post-softmax weight tensors,
// computed from the mode Grams of the projections (Hosvd.h); with
// singular-values, one note per mode listing its singular values (what
// `python -m tucker ranks --plot` draws).
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

/// `value` as printf writes it with `spec` (`%g`: the tolerance as `1e-06`).
static std::string formatDouble(const char *spec, double value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format(spec, value);
  return text;
}

/// One note per mode of `tensor`: `<tensor> <mode> singular values [σ_1, …]`,
/// descending, each with 9 significant digits (%.9g).
static void attachSingularValues(InFlightDiagnostic &diag, StringRef tensor,
                                 const hosvd::Analysis &analysis,
                                 std::array<StringRef, 3> modeNames) {
  for (int m = 0; m < 3; ++m) {
    hosvd::Vector values = hosvd::singularValues(analysis.modes[m]);
    Diagnostic &note = diag.attachNote();
    note << tensor << " " << modeNames[m] << " singular values [";
    for (Eigen::Index k = 0; k < values.size(); ++k)
      note << (k ? ", " : "") << formatDouble("%.9g", values[k]);
    note << "]";
  }
}

namespace {
struct TuckerRanksPass : tucker::impl::TuckerRanksPassBase<TuckerRanksPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!(tolerance >= 0.0 && tolerance < 1.0)) {
      getOperation()->emitError()
          << "--tucker-ranks: option 'tolerance' must be in [0, 1), got "
          << formatDouble("%g", tolerance);
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
      hosvd::Analysis preAnalysis = hosvd::analyze(weights->pre, false);
      hosvd::Analysis postAnalysis = hosvd::analyze(weights->post, false);
      std::array<int64_t, 3> pre =
          hosvd::numericalRanks(preAnalysis, tolerance);
      std::array<int64_t, 3> post =
          hosvd::numericalRanks(postAnalysis, tolerance);
      InFlightDiagnostic diag = op->emitRemark();
      diag << "pre-softmax ranks [" << pre[0] << ", " << pre[1] << ", "
           << pre[2] << "], post-softmax ranks [" << post[0] << ", " << post[1]
           << ", " << post[2] << "] (tolerance "
           << formatDouble("%g", tolerance);
      if (weights->queryNorm || weights->keyNorm || weights->valueNorm)
        diag << "; RMS-norm weights folded, per-token 1/rms left out";
      if (weights->rope)
        diag << "; rope left out";
      diag << ")";
      if (singularValues) {
        attachSingularValues(diag, "pre-softmax", preAnalysis,
                             {"head", "query", "key"});
        attachSingularValues(diag, "post-softmax", postAnalysis,
                             {"head", "output", "value"});
      }
    });
  }
};
} // namespace
