//===- Raise.cpp - --tucker-raise: frontend attention → tucker ops --------===//
//
// Two patterns on any op with a float tensor result, applied bottom-up so
// that the outermost candidate is tried first: a whole layer becomes
// tucker.mha / tucker.gqa (RaiseLayer.cpp); failing that, the attention core
// becomes tucker.flash (RaiseFlash.cpp). With `explain`, every softmax that
// fed an attention-like contraction and was not raised gets a remark saying
// why, and a core raised only to tucker.flash says why not as a layer.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERRAISEPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::raise;

namespace {

/// The furthest failure per softmax op, for the `explain` remarks; entries
/// of erased ops are dropped.
struct Explanations : RewriterBase::Listener {
  struct Entry {
    Why layer, core;
  };
  llvm::MapVector<Operation *, Entry> entries;

  void record(const Why &why, bool isLayer) {
    if (!why.softmax || why.stage < kSoftmaxV)
      return;
    Entry &entry = entries[why.softmax];
    Why &slot = isLayer ? entry.layer : entry.core;
    if (slot.text.empty() || why.stage > slot.stage)
      slot = why;
  }

  void notifyOperationErased(Operation *op) override { entries.erase(op); }
};

bool isCandidate(Operation *op) {
  if (op->getNumResults() != 1 || isa<TuckerDialect>(op->getDialect()) ||
      op->hasTrait<OpTrait::ConstantLike>())
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return type && isa<FloatType>(type.getElementType());
}

/// A pattern on any op with a float tensor result, with the pass options.
struct RaisePattern : RewritePattern {
  RaisePattern(MLIRContext *ctx, PatternBenefit benefit, RaiseOptions options,
               Explanations *explanations)
      : RewritePattern(MatchAnyOpTypeTag(), benefit, ctx), options(options),
        explanations(explanations) {}

  RaiseOptions options;
  Explanations *explanations;
};

struct RaiseLayerPattern : RaisePattern {
  RaiseLayerPattern(MLIRContext *ctx, RaiseOptions options,
                    Explanations *explanations)
      : RaisePattern(ctx, /*benefit=*/2, options, explanations) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isCandidate(op))
      return rewriter.notifyMatchFailure(op, "no float tensor result");
    Why why;
    if (succeeded(raiseToLayer(rewriter, op, options, why)))
      return success();
    if (explanations)
      explanations->record(why, /*isLayer=*/true);
    return rewriter.notifyMatchFailure(op,
                                       "not an attention layer: " + why.text);
  }
};

struct RaiseFlashPattern : RaisePattern {
  RaiseFlashPattern(MLIRContext *ctx, RaiseOptions options,
                    Explanations *explanations)
      : RaisePattern(ctx, /*benefit=*/1, options, explanations) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isCandidate(op))
      return rewriter.notifyMatchFailure(op, "no float tensor result");
    Why why;
    Location rootLoc = op->getLoc();
    if (failed(raiseToFlash(rewriter, op, options, why))) {
      if (explanations)
        explanations->record(why, /*isLayer=*/false);
      return rewriter.notifyMatchFailure(op,
                                         "not an attention core: " + why.text);
    }
    if (explanations) {
      auto it = explanations->entries.find(why.softmax);
      bool known =
          it != explanations->entries.end() && !it->second.layer.text.empty();
      emitRemark(rootLoc) << "raised to tucker.flash only, not as a layer: "
                          << (known ? StringRef(it->second.layer.text)
                                    : StringRef("no output projection of "
                                                "the heads was recognized"));
    }
    return success();
  }
};

struct TuckerRaisePass : tucker::impl::TuckerRaisePassBase<TuckerRaisePass> {
  using Base::Base;

  void runOnOperation() override {
    RaiseOptions options;
    options.finiteMaskFill = finiteMaskFill;
    Explanations explanations;
    Explanations *record = explain ? &explanations : nullptr;
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseLayerPattern>(&getContext(), options, record);
    if (raiseFlash)
      patterns.add<RaiseFlashPattern>(&getContext(), options, record);
    // Bottom-up, so that a layer's output is tried before its inner parts;
    // nothing else of the frontend IR is folded or simplified.
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(false)
        .enableFolding(false)
        .enableConstantCSE(false)
        .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled)
        .setListener(&explanations);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    for (auto &[softmax, entry] : explanations.entries) {
      InFlightDiagnostic remark =
          emitRemark(softmax->getLoc(), "attention not raised: ");
      const Why &first = entry.core.text.empty() ? entry.layer : entry.core;
      remark << first.text;
      if (&first != &entry.layer && !entry.layer.text.empty() &&
          entry.layer.text != first.text)
        remark << "; as a layer: " << entry.layer.text;
    }
  }
};

} // namespace

void mlir::tucker::populateRaisePatterns(RewritePatternSet &patterns,
                                         bool raiseFlash) {
  patterns.add<RaiseLayerPattern>(patterns.getContext(), RaiseOptions(),
                                  nullptr);
  if (raiseFlash)
    patterns.add<RaiseFlashPattern>(patterns.getContext(), RaiseOptions(),
                                    nullptr);
}
