//===- RaiseRope.cpp - rotate-half RoPE with constant tables --------------===//
//
// HF Llama's `q·cos + rotate_half(q)·sin`, rotate_half(q) = [-q₂, q₁], as
// frontends lower it (slices, a negation and a concat of the two halves;
// cos/sin tables as constants). The tables are checked entry by entry
// against cos / sin of p·θ^(-2j/width) for the θ they imply, to the rounding
// of their element type: tucker recomputes the angles, so a raised RoPE is
// the frontend's up to that rounding.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::raise;

static bool isTable(Evaluator &ev, Expr *e) {
  Expr *x = ev.look(e);
  return x->kind == ExprKind::Ref &&
         ExpandRules::constantElement(x->value,
                                      SmallVector<int64_t>(x->access.size(), 0))
             .has_value();
}

bool mlir::tucker::raise::matchRope(Evaluator &ev, Expr *e, RopePart &rope,
                                    Expr *&inner) {
  Expr *x = ev.look(e);
  if (x->kind != ExprKind::Binary || x->fn != Fn::Add)
    return false;
  for (int i = 0; i < 2; ++i) {
    double plainScale = 1.0, rotatedScale = 1.0;
    SmallVector<Expr *> plain, rotated;
    flattenProduct(ev, ev.look(x->ops[i]), plainScale, plain);
    flattenProduct(ev, ev.look(x->ops[1 - i]), rotatedScale, rotated);
    if (plainScale != 1.0 || rotatedScale != 1.0 || plain.size() != 2 ||
        rotated.size() != 2)
      continue;
    for (int j = 0; j < 2; ++j) {
      Expr *halves = ev.look(rotated[j]);
      Expr *sinTable = rotated[1 - j];
      if (halves->kind != ExprKind::Case || halves->ops.size() != 2 ||
          !isTable(ev, sinTable))
        continue;
      Dim hi = halves->dims[0];
      // [-q₂, q₁]: branch 0 is −q at hi = 1, branch 1 is q at hi = 0.
      double negScale = 1.0;
      SmallVector<Expr *> negated;
      flattenProduct(ev, halves->ops[0], negScale, negated);
      if (negScale != -1.0 || negated.size() != 1)
        continue;
      for (int k = 0; k < 2; ++k) {
        Expr *q = plain[k], *cosTable = plain[1 - k];
        if (!isTable(ev, cosTable))
          continue;
        DimMap upper, lower;
        upper[hi] = Lin::ofConstant(1);
        lower[hi] = Lin::ofConstant(0);
        if (!ev.equal(q, negated.front(), upper) ||
            !ev.equal(q, halves->ops[1], lower))
          continue;
        rope.cos = cosTable;
        rope.sin = sinTable;
        rope.hi = hi;
        inner = q;
        return true;
      }
    }
  }
  return false;
}

/// Machine epsilon of the element type of a table.
static double epsilonOf(Evaluator &ev, Expr *table) {
  Type t = getElementTypeOrSelf(ev.look(table)->value.getType());
  if (t.isF16())
    return 9.765625e-4;
  if (t.isBF16())
    return 7.8125e-3;
  if (t.isF64())
    return 2.220446049250313e-16;
  return 1.1920928955078125e-7;
}

FailureOr<RopeAttr> mlir::tucker::raise::verifyRope(Evaluator &ev,
                                                    const Core &core, Dim m,
                                                    Dim n, int64_t qOffset,
                                                    Why &why) {
  if (!core.qRope && !core.kRope)
    return RopeAttr();
  if (!core.qRope || !core.kRope)
    return why.fail(kOperands, core.qRope ? "only the queries are rotated"
                                          : "only the keys are rotated");
  SmallVector<Dim> qHi, kHi;
  ev.dims.leaves(core.qRope->hi, qHi);
  ev.dims.leaves(core.kRope->hi, kHi);
  if (qHi != kHi || qHi.size() != 1)
    return why.fail(kOperands, "queries and keys are rotated on different "
                               "halves");
  Dim hi = qHi.front();
  if (core.contracted.size() != 2 || core.contracted[0] != hi ||
      ev.dims.size(hi) != 2)
    return why.fail(kOperands, "the rotation does not span the whole head "
                               "(partial rotary embeddings are not raised)");
  Dim lo = core.contracted[1];
  int64_t half = ev.dims.size(lo), width = 2 * half;
  if (ev.dims.size(n) < 2 || half < 2)
    return why.fail(kOperands, "too few positions or rotated dims to read "
                               "the rope frequencies");

  // θ from the key tables at position 1, pair 1: angle θ^(-2/width).
  llvm::SetVector<Dim> used;
  ev.freeLeaves(core.kRope->cos, used);
  ev.freeLeaves(core.kRope->sin, used);
  llvm::DenseMap<Dim, int64_t> probe;
  for (Dim d : used)
    probe[d] = 0;
  probe[n] = 1;
  probe[lo] = 1;
  probe[hi] = 0;
  std::optional<double> c = ev.evaluate(core.kRope->cos, probe);
  std::optional<double> s = ev.evaluate(core.kRope->sin, probe);
  if (!c || !s)
    return why.fail(kOperands, "the rope tables cannot be read");
  double f1 = std::atan2(*s, *c);
  if (!(f1 > 0.0 && f1 < 1.0))
    return why.fail(kOperands, "the rope tables do not hold rotary "
                               "frequencies below one");
  double theta = std::exp(-(width / 2.0) * std::log(f1));
  if (std::abs(theta - std::round(theta)) <= 1e-4 * theta)
    theta = std::round(theta);

  struct Check {
    Expr *table;
    bool isSin;
    Dim position;
    int64_t offset;
  } checks[] = {{core.qRope->cos, false, m, qOffset},
                {core.qRope->sin, true, m, qOffset},
                {core.kRope->cos, false, n, 0},
                {core.kRope->sin, true, n, 0}};
  for (const Check &check : checks) {
    llvm::SetVector<Dim> leaves;
    ev.freeLeaves(check.table, leaves);
    leaves.insert(check.position);
    leaves.insert(lo);
    double eps = epsilonOf(ev, check.table);
    std::string mismatch;
    SmallVector<Dim> list(leaves.begin(), leaves.end());
    bool ok =
        forEachAssignment(ev, list, int64_t(1) << 22, [&](const auto &values) {
          std::optional<double> v = ev.evaluate(check.table, values);
          if (!v) {
            mismatch = "the rope tables cannot be read";
            return false;
          }
          double p =
              static_cast<double>(values.lookup(check.position) + check.offset);
          double j = static_cast<double>(values.lookup(lo));
          double angle = p * std::pow(theta, -2.0 * j / width);
          double expected = check.isSin ? std::sin(angle) : std::cos(angle);
          if (std::abs(*v - expected) <= eps * (16.0 + 4.0 * std::abs(angle)))
            return true;
          mismatch = std::string("the rope ") + (check.isSin ? "sin" : "cos") +
                     " table differs from θ = " + std::to_string(theta) +
                     " at position " + std::to_string(int64_t(p)) + ", pair " +
                     std::to_string(int64_t(j));
          return false;
        });
    if (!ok)
      return why.fail(kOperands, mismatch.empty()
                                     ? "the rope tables are too large to "
                                       "check entry by entry"
                                     : mismatch);
  }
  return RopeAttr::get(ev.look(core.qRope->cos)->value.getContext(),
                       APFloat(theta), width, /*offset=*/0, /*repeat=*/1,
                       /*stride=*/std::nullopt, RopeStyle::Half);
}
