//===- RaiseMask.cpp - proving that a mask is causal ----------------------===//
//
// tucker's `causal` keeps key n for query m iff n ≤ m + Nk − Nq. A frontend
// mask is raised as causal only when it keeps exactly those keys: a select
// on an index comparison is solved symbolically (t·(n − m) + γ > 0 drops),
// anything else built from constants and index arithmetic is checked entry
// by entry. A mask that drops nothing is no mask.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker::raise;

namespace {

/// An index operand of a comparison (an Index, or its conversion to float).
std::optional<Lin> indexOperand(Evaluator &ev, Expr *e) {
  Expr *x = ev.look(e);
  if (x->kind == ExprKind::Unary && x->fn == Fn::IntToFloat)
    x = ev.look(x->ops[0]);
  if (x->kind != ExprKind::Index)
    return std::nullopt;
  return ev.normalize(x->index);
}

bool nonNegative(Evaluator &ev, const Lin &l) {
  Lin n = ev.normalize(l);
  return n.constant >= 0 &&
         llvm::all_of(n.terms, [](auto &t) { return t.second >= 0; });
}

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// The drop condition as "n − m > c" when `cond` compares index
/// expressions of m and n only: writes c.
std::optional<int64_t> solveCondition(Evaluator &ev, Expr *cond,
                                      bool dropWhenTrue, Dim m, Dim n) {
  Expr *c = ev.look(cond);
  if (c->kind != ExprKind::Cmp)
    return std::nullopt;
  std::optional<Lin> a = indexOperand(ev, c->ops[0]);
  std::optional<Lin> b = indexOperand(ev, c->ops[1]);
  if (!a || !b)
    return std::nullopt;
  if (c->unsignedCmp && (!nonNegative(ev, *a) || !nonNegative(ev, *b)))
    return std::nullopt;
  // cond ⟺ e > 0 over integers.
  Lin d = ev.normalize(*a - *b), e;
  switch (c->pred) {
  case Pred::GT:
    e = d;
    break;
  case Pred::GE:
    e = d + Lin::ofConstant(1);
    break;
  case Pred::LT:
    e = d.scaled(-1);
    break;
  case Pred::LE:
    e = d.scaled(-1) + Lin::ofConstant(1);
    break;
  default:
    return std::nullopt;
  }
  if (!dropWhenTrue) // ¬(e > 0) ⟺ −e + 1 > 0
    e = e.scaled(-1) + Lin::ofConstant(1);
  int64_t t = e.coefficient(n);
  if (e.terms.size() != 2 || t <= 0 || e.coefficient(m) != -t)
    return std::nullopt;
  // t·(n − m) + γ > 0 ⟺ n − m > −γ/t ⟺ n − m > ⌊−γ/t⌋.
  return floorDiv(-e.constant, t);
}

} // namespace

LogicalResult mlir::tucker::raise::verifyMask(Evaluator &ev,
                                              const MaskPart &mask, Dim m,
                                              Dim n, int64_t offset,
                                              const RaiseOptions &options,
                                              bool &causal, Why &why) {
  causal = false;
  if (mask.kind == MaskPart::Kind::None)
    return success();
  int64_t nk = ev.dims.size(n);
  // A cut-off at n − m > c drops nothing once c ≥ Nk − 1.
  auto accept = [&](int64_t c) -> LogicalResult {
    if (c >= nk - 1)
      return success();
    if (c == offset) {
      causal = true;
      return success();
    }
    return why.fail(kOperands, "the mask drops the keys n > m + " + Twine(c) +
                                   " of query m; causal attention drops "
                                   "n > m + " +
                                   Twine(offset) + " (Nk - Nq)");
  };

  // Symbolic: select(cmp(index, index), -inf, x) or an added
  // select(cmp, -inf, 0).
  Expr *cond = nullptr;
  bool dropWhenTrue = false;
  if (mask.kind == MaskPart::Kind::Select) {
    cond = mask.cond;
    dropWhenTrue = mask.dropWhenTrue;
  } else {
    Expr *x = ev.look(mask.added);
    if (x->kind == ExprKind::Const) {
      // A finite shift of every score leaves the softmax unchanged.
      if (std::isfinite(x->constant))
        return success();
      return why.fail(kOperands, "the mask adds " +
                                     std::to_string(x->constant) +
                                     " to every score");
    }
    if (x->kind == ExprKind::Select) {
      Expr *t = ev.look(x->ops[1]), *f = ev.look(x->ops[2]);
      bool zeroT = t->kind == ExprKind::Const && t->constant == 0.0;
      bool zeroF = f->kind == ExprKind::Const && f->constant == 0.0;
      if (isDropValue(ev, t, options) && zeroF) {
        cond = x->ops[0];
        dropWhenTrue = true;
      } else if (isDropValue(ev, f, options) && zeroT) {
        cond = x->ops[0];
        dropWhenTrue = false;
      }
    }
  }
  if (cond)
    if (std::optional<int64_t> c = solveCondition(ev, cond, dropWhenTrue, m, n))
      return accept(*c);

  // Entry by entry over every index the mask reads.
  Expr *subject = cond ? cond : mask.added;
  if (mask.kind == MaskPart::Kind::Select)
    subject = mask.cond;
  llvm::SetVector<Dim> used;
  ev.freeLeaves(subject, used);
  used.insert(m);
  used.insert(n);
  SmallVector<Dim> leaves(used.begin(), used.end());
  std::string mismatch, unreadable;
  bool anyDropped = false;
  bool complete =
      forEachAssignment(ev, leaves, int64_t(1) << 24, [&](const auto &values) {
        std::optional<double> v = ev.evaluate(subject, values);
        if (!v) {
          unreadable = "the mask is not made of constants and index "
                       "arithmetic (a runtime tensor)";
          return false;
        }
        bool dropped;
        if (cond || mask.kind == MaskPart::Kind::Select) {
          dropped = (*v != 0.0) == dropWhenTrue;
        } else if (*v == 0.0) {
          dropped = false;
        } else if (isDropValue(ev, ev.constant(*v), options)) {
          dropped = true;
        } else {
          unreadable = "the mask adds " + std::to_string(*v) +
                       ", which is neither 0 nor -inf";
          return false;
        }
        int64_t mv = values.lookup(m), nv = values.lookup(n);
        anyDropped |= dropped;
        if (dropped != (nv > mv + offset) && mismatch.empty())
          mismatch = (dropped ? "the mask drops key " : "the mask keeps key ") +
                     std::to_string(nv) + " of query " + std::to_string(mv) +
                     (dropped ? ", which causal attention keeps"
                              : ", which causal attention drops");
        return true;
      });
  if (!unreadable.empty())
    return why.fail(kOperands, unreadable);
  if (!complete)
    return why.fail(kOperands, "the mask is too large to check entry by "
                               "entry (more than 2^24 entries)");
  if (!anyDropped)
    return success();
  if (!mismatch.empty())
    return why.fail(kOperands, mismatch);
  causal = true;
  return success();
}
