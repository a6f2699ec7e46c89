//===- RaiseMatch.h - attention recognition of --tucker-raise ----*- C++
//-*-===//
//
// Recognition of `softmax(s·q·kᵀ + mask)·v` in the expression trees of
// RaiseExpr.h, the proofs that a mask is causal and that RoPE tables are
// rotary embeddings, and the builders that turn the recognized operands into
// the tensors tucker ops take.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_DIALECT_TUCKER_TRANSFORMS_RAISEMATCH_H
#define TUCKER_LIB_DIALECT_TUCKER_TRANSFORMS_RAISEMATCH_H

#include "RaiseExpr.h"

#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <string>

namespace mlir::tucker::raise {

struct RaiseOptions {
  /// Accept the lowest finite value of f32 / f16 / bf16 as a mask fill, not
  /// only -inf (HF's `finfo.min` masks).
  bool finiteMaskFill = false;
  /// Recognize rotate-half RoPE on q and k (else a rotated q / k is just a
  /// tensor).
  bool peelRope = true;
};

/// Why a candidate was not raised, and how far recognition got (higher is
/// further: 1 = softmax·V found, 2 = the scores found, 3 = projections found,
/// 4 = operands checked).
struct Why {
  std::string text;
  int stage = 0;
  /// The op producing the softmax, once found.
  Operation *softmax = nullptr;

  LogicalResult fail(int atStage, const Twine &message) {
    stage = atStage;
    text = message.str();
    return failure();
  }
};

enum Stage {
  kNone = 0,
  kSoftmaxV = 1,
  kScores = 2,
  kProjections = 3,
  kOperands = 4
};

/// The mask between the scores and the softmax.
struct MaskPart {
  enum class Kind { None, Additive, Select } kind = Kind::None;
  Expr *added = nullptr; // Additive: the added tensor
  Expr *cond = nullptr;  // Select: the condition
  bool dropWhenTrue = false;
};

/// q·cos + rotate_half(q)·sin on the contracted dim k = hi·half + lo.
struct RopePart {
  Expr *cos = nullptr, *sin = nullptr;
  Dim hi = 0, lo = 0;
  int64_t half = 0;
};

/// Σ_n softmax_n(scale·Σ_k q·k + mask)·v, read from a contraction.
struct Core {
  Expr *q = nullptr, *k = nullptr, *v = nullptr;
  double scale = 1.0;
  Dim key = 0;                 // n, the leaf the softmax and P·V range over
  SmallVector<Dim> contracted; // leaves of the q·k contraction
  MaskPart mask;
  std::optional<RopePart> qRope, kRope;
};

/// Whether tucker ops take tensors of `t` (f32, f16, bf16).
inline bool isSupportedFloat(Type t) {
  return t.isF32() || t.isF16() || t.isBF16();
}

/// `e` as a tensor read (through precision casts), or null.
Expr *asRef(Expr *e);

/// Splits a product into its constant factor and its other factors, looking
/// into producers only as far as they multiply, divide by constants or
/// negate (a Ref to anything else stays a Ref).
void flattenProduct(Evaluator &ev, Expr *e, double &scale,
                    SmallVectorImpl<Expr *> &factors);
/// Whether `e` is a constant or a sum with a zero (or absent) init.
bool isZero(Evaluator &ev, Expr *e);
/// Whether `e` is -inf (or, with finiteMaskFill, a lowest finite float).
bool isDropValue(Evaluator &ev, Expr *e, const RaiseOptions &options);

LogicalResult matchCore(Evaluator &ev, Expr *o, const RaiseOptions &options,
                        Core &core, Why &why);

/// Peels q·cos + rotate_half(q)·sin off `e`: `inner` is q.
bool matchRope(Evaluator &ev, Expr *e, RopePart &rope, Expr *&inner);

/// Proves that the mask keeps exactly the keys n ≤ m + offset (`causal`)
/// or every key (`!causal`) of query leaf `m`, key leaf `n`.
LogicalResult verifyMask(Evaluator &ev, const MaskPart &mask, Dim m, Dim n,
                         int64_t offset, const RaiseOptions &options,
                         bool &causal, Why &why);

/// Proves that the tables of `q` and `k` rotate the whole contracted dim
/// (`width` = 2·half) as RoPE with one θ, queries at positions m +
/// `qOffset`, keys at n; returns the descriptor.
FailureOr<RopeAttr> verifyRope(Evaluator &ev, const Core &core, Dim m, Dim n,
                               int64_t qOffset, Why &why);

/// Calls `fn` on every assignment of values to `leaves` while it returns
/// true; false when there are more than `limit` or `fn` stopped.
bool forEachAssignment(
    Evaluator &ev, ArrayRef<Dim> leaves, int64_t limit,
    function_ref<bool(const llvm::DenseMap<Dim, int64_t> &)> fn);
/// Σ leaves[i]·Π_{j>i} |leaves[j]|.
Lin mixedRadix(Evaluator &ev, ArrayRef<Dim> leaves);
/// Π |leaves[i]|.
int64_t extentOf(Evaluator &ev, ArrayRef<Dim> leaves);
/// The leaves of all `dims`, in order.
SmallVector<Dim> leavesOf(Evaluator &ev, ArrayRef<Dim> dims);

/// A tensor of `shape` whose element at `index` is `base[access]` for every
/// value of the leaves; each `index[i]` must be a mixed-radix number over
/// its own leaves. Emits nothing when `base` already is that tensor, a
/// reshape or a transpose when one suffices, else a copying linalg.generic.
FailureOr<Value> materialize(OpBuilder &b, Location loc, Evaluator &ev,
                             Value base, ArrayRef<Lin> access,
                             ArrayRef<int64_t> shape, ArrayRef<Lin> index);
/// Whether materialize() accepts these indices (it then succeeds on any
/// static base).
LogicalResult checkLayout(Evaluator &ev, ArrayRef<Lin> access,
                          ArrayRef<int64_t> shape, ArrayRef<Lin> index);

/// The locations of `root` and every op the match read, fused.
Location fusedLocation(Evaluator &ev, Operation *root);

/// Replaces the single result of `root`, when it is an attention layer
/// y = Σ_h softmax(...)·(x·W^V_h)·W^O_h (+ b_o) with q/k/v projections of
/// one x, by tucker.mha or tucker.gqa; returns the new op.
FailureOr<Operation *> raiseToLayer(RewriterBase &rewriter, Operation *root,
                                    const RaiseOptions &options, Why &why);
/// Replaces the single result of `root`, when it is softmax(...)·v of q, k,
/// v tensors, by tucker.flash; returns the new op.
FailureOr<Operation *> raiseToFlash(RewriterBase &rewriter, Operation *root,
                                    const RaiseOptions &options, Why &why);

} // namespace mlir::tucker::raise

#endif // TUCKER_LIB_DIALECT_TUCKER_TRANSFORMS_RAISEMATCH_H
