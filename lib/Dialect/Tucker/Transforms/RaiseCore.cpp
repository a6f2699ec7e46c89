//===- RaiseCore.cpp - softmax(s·q·kᵀ + mask)·v in expression trees -------===//
//
// The recognition shared by every raised form. From a contraction
// Σ_n P·V it finds the softmax P along n (linalg.softmax, or exp / sum /
// divide with or without the max subtraction, or a multiply by the
// reciprocal of the sum), then peels from the scores the mask (added, or
// selected in) and every constant factor (before or after q·kᵀ, on q or on
// k), and from q and k the rotate-half RoPE.
//
// The unsafe softmax exp(s)/Σexp(s) is raised: it is the same function as
// exp(s - max s)/Σexp(s - max s), which is what tucker computes; only the
// overflow behaviour of the frontend's own evaluation differs.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::tucker::raise;

static const char *kindName(Expr *e) {
  switch (e->kind) {
  case ExprKind::Ref:
    return "a tensor read";
  case ExprKind::Const:
    return "a constant";
  case ExprKind::Index:
    return "an index";
  case ExprKind::Scalar:
    return "a scalar value";
  case ExprKind::Unary:
    return e->fn == Fn::Exp ? "an exp" : "a unary op";
  case ExprKind::Binary:
    switch (e->fn) {
    case Fn::Add:
      return "an addition";
    case Fn::Sub:
      return "a subtraction";
    case Fn::Mul:
      return "a product";
    case Fn::Div:
      return "a division";
    default:
      return "a min/max";
    }
  case ExprKind::Cmp:
    return "a comparison";
  case ExprKind::Select:
    return "a select";
  case ExprKind::Reduce:
    return e->fn == Fn::Add ? "a sum" : "a max reduction";
  case ExprKind::Softmax:
    return "a softmax";
  case ExprKind::Case:
    return "a concatenation";
  }
  return "an expression";
}

Expr *mlir::tucker::raise::asRef(Expr *e) {
  while (e->kind == ExprKind::Unary && e->fn == Fn::Cast)
    e = e->ops[0];
  return e->kind == ExprKind::Ref ? e : nullptr;
}

SmallVector<Dim> mlir::tucker::raise::leavesOf(Evaluator &ev,
                                               ArrayRef<Dim> dims) {
  SmallVector<Dim> out;
  for (Dim d : dims)
    ev.dims.leaves(d, out);
  return out;
}

Lin mlir::tucker::raise::mixedRadix(Evaluator &ev, ArrayRef<Dim> leaves) {
  Lin l;
  int64_t stride = 1;
  for (Dim d : llvm::reverse(leaves)) {
    l.add(d, stride);
    stride *= ev.dims.size(d);
  }
  return l;
}

int64_t mlir::tucker::raise::extentOf(Evaluator &ev, ArrayRef<Dim> leaves) {
  int64_t n = 1;
  for (Dim d : leaves)
    n *= ev.dims.size(d);
  return n;
}

/// Visits every assignment of `leaves` (at most `limit` of them).
bool mlir::tucker::raise::forEachAssignment(
    Evaluator &ev, ArrayRef<Dim> leaves, int64_t limit,
    function_ref<bool(const llvm::DenseMap<Dim, int64_t> &)> fn) {
  int64_t total = extentOf(ev, leaves);
  if (total > limit)
    return false;
  llvm::DenseMap<Dim, int64_t> values;
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rest = flat;
    for (Dim d : llvm::reverse(leaves)) {
      values[d] = rest % ev.dims.size(d);
      rest /= ev.dims.size(d);
    }
    if (!fn(values))
      return false;
  }
  return true;
}

bool mlir::tucker::raise::isZero(Evaluator &ev, Expr *e) {
  if (!e)
    return true;
  Expr *x = ev.look(e);
  return x->kind == ExprKind::Const && x->constant == 0.0;
}

bool mlir::tucker::raise::isDropValue(Evaluator &ev, Expr *e,
                                      const RaiseOptions &options) {
  Expr *x = ev.look(e);
  if (x->kind != ExprKind::Const)
    return false;
  double v = x->constant;
  if (std::isinf(v) && v < 0)
    return true;
  if (!options.finiteMaskFill)
    return false;
  // The lowest finite f32, f16 and bf16 (torch.finfo(dtype).min).
  return v == -static_cast<double>(std::numeric_limits<float>::max()) ||
         v == -65504.0 || v == -3.3895313892515355e38;
}

void mlir::tucker::raise::flattenProduct(Evaluator &ev, Expr *e, double &scale,
                                         SmallVectorImpl<Expr *> &factors) {
  Expr *x = e;
  while (x->kind == ExprKind::Unary && x->fn == Fn::Cast)
    x = x->ops[0];
  // A tensor is looked into only when it is one factor scaled by constants
  // (a product of two tensors, like softmax's e·(1/Σe), stays one factor).
  if (x->kind == ExprKind::Ref) {
    Expr *y = ev.expand(x);
    while (y && y->kind == ExprKind::Unary && y->fn == Fn::Cast)
      y = y->ops[0];
    bool arithmetic =
        y && (y->kind == ExprKind::Ref || y->kind == ExprKind::Const ||
              (y->kind == ExprKind::Binary && y->fn == Fn::Mul) ||
              (y->kind == ExprKind::Binary && y->fn == Fn::Div &&
               ev.look(y->ops[1])->kind == ExprKind::Const) ||
              (y->kind == ExprKind::Unary && y->fn == Fn::Neg));
    if (!arithmetic) {
      factors.push_back(x);
      return;
    }
    double inner = 1.0;
    SmallVector<Expr *> parts;
    flattenProduct(ev, y, inner, parts);
    if (parts.size() > 1) {
      factors.push_back(x);
      return;
    }
    scale *= inner;
    factors.append(parts.begin(), parts.end());
    return;
  }
  if (x->kind == ExprKind::Const) {
    scale *= x->constant;
    return;
  }
  if (x->kind == ExprKind::Unary && x->fn == Fn::Neg) {
    scale = -scale;
    flattenProduct(ev, x->ops[0], scale, factors);
    return;
  }
  if (x->kind == ExprKind::Binary && x->fn == Fn::Mul) {
    flattenProduct(ev, x->ops[0], scale, factors);
    flattenProduct(ev, x->ops[1], scale, factors);
    return;
  }
  if (x->kind == ExprKind::Binary && x->fn == Fn::Div) {
    Expr *d = ev.look(x->ops[1]);
    if (d->kind == ExprKind::Const && d->constant != 0.0) {
      scale /= d->constant;
      flattenProduct(ev, x->ops[0], scale, factors);
      return;
    }
  }
  factors.push_back(x);
}

/// The single leaf of a reduction, or nothing.
static std::optional<Dim> singleLeaf(Evaluator &ev, Expr *reduction) {
  SmallVector<Dim> leaves = leavesOf(ev, reduction->dims);
  if (leaves.size() != 1)
    return std::nullopt;
  return leaves.front();
}

/// Whether `m` is max_n a (with a -inf / lowest / absent init).
static bool isRowMaxOf(Evaluator &ev, Expr *m, Expr *a, Dim n) {
  Expr *x = ev.look(m);
  if (x->kind != ExprKind::Reduce || x->fn != Fn::Max)
    return false;
  std::optional<Dim> bound = singleLeaf(ev, x);
  if (!bound || ev.dims.size(*bound) != ev.dims.size(n))
    return false;
  if (Expr *init = x->ops[1]) {
    Expr *i = ev.look(init);
    if (i->kind != ExprKind::Const || i->constant > -1e30)
      return false;
  }
  DimMap map;
  map[*bound] = Lin::ofDim(n);
  return ev.equal(x->ops[0], a, map);
}

/// e / Σ_n e with e = exp(s) or exp(s - max_n s): writes s.
static bool matchNormalized(Evaluator &ev, Expr *numerator, Expr *sum, Dim n,
                            Expr *&scores) {
  Expr *z = ev.look(sum);
  if (z->kind != ExprKind::Reduce || z->fn != Fn::Add || !isZero(ev, z->ops[1]))
    return false;
  std::optional<Dim> bound = singleLeaf(ev, z);
  if (!bound || ev.dims.size(*bound) != ev.dims.size(n))
    return false;
  DimMap map;
  map[*bound] = Lin::ofDim(n);
  if (!ev.equal(z->ops[0], numerator, map))
    return false;
  Expr *e = ev.look(numerator);
  if (e->kind != ExprKind::Unary || e->fn != Fn::Exp)
    return false;
  Expr *u = ev.look(e->ops[0]);
  if (u->kind == ExprKind::Binary && u->fn == Fn::Sub &&
      isRowMaxOf(ev, u->ops[1], u->ops[0], n)) {
    scores = u->ops[0];
    return true;
  }
  // Without the max: the same function.
  scores = e->ops[0];
  return true;
}

/// P = softmax along n: writes the scores (in terms of n) and the producer.
static bool matchSoftmax(Evaluator &ev, Expr *p, Dim n, Expr *&scores,
                         Operation *&producer) {
  Expr *x = p;
  while (true) {
    while (x->kind == ExprKind::Unary && x->fn == Fn::Cast)
      x = x->ops[0];
    if (x->kind != ExprKind::Ref)
      break;
    Operation *def = x->value.getDefiningOp();
    x = ev.expand(x);
    if (!x)
      return false;
    producer = def;
  }
  if (x->kind == ExprKind::Softmax) {
    DimMap none;
    if (!ev.equalLin(x->index, Lin::ofDim(n), none))
      return false;
    scores = x->ops[0];
    return true;
  }
  if (x->kind != ExprKind::Binary)
    return false;
  if (x->fn == Fn::Div)
    return matchNormalized(ev, x->ops[0], x->ops[1], n, scores);
  if (x->fn != Fn::Mul)
    return false;
  // e · (1 / Σe) in either order.
  for (int i = 0; i < 2; ++i) {
    Expr *r = ev.look(x->ops[1 - i]);
    if (r->kind == ExprKind::Unary && r->fn == Fn::Recip &&
        matchNormalized(ev, x->ops[i], r->ops[0], n, scores))
      return true;
    if (r->kind == ExprKind::Binary && r->fn == Fn::Div) {
      Expr *one = ev.look(r->ops[0]);
      if (one->kind == ExprKind::Const && one->constant == 1.0 &&
          matchNormalized(ev, x->ops[i], r->ops[1], n, scores))
        return true;
    }
  }
  return false;
}

/// Whether `e` reads like a mask: a constant tensor, a select with a
/// dropping branch, or a zero.
static bool isMaskLike(Evaluator &ev, Expr *e, const RaiseOptions &options) {
  Expr *x = ev.look(e);
  if (x->kind == ExprKind::Const)
    return true;
  if (x->kind == ExprKind::Ref)
    return ExpandRules::constantElement(
               x->value, SmallVector<int64_t>(x->access.size(), 0))
        .has_value();
  if (x->kind == ExprKind::Select)
    return isDropValue(ev, x->ops[1], options) ||
           isDropValue(ev, x->ops[2], options);
  return false;
}

/// Peels scale factors, the mask and a max shift off the scores down to the
/// q·k contraction.
static LogicalResult matchScores(Evaluator &ev, Expr *scores, Dim n,
                                 const RaiseOptions &options, Core &core,
                                 Expr *&contraction, Why &why) {
  Expr *x = scores;
  while (true) {
    x = ev.look(x);
    if ((x->kind == ExprKind::Binary &&
         (x->fn == Fn::Mul || x->fn == Fn::Div)) ||
        (x->kind == ExprKind::Unary && x->fn == Fn::Neg)) {
      SmallVector<Expr *> factors;
      flattenProduct(ev, x, core.scale, factors);
      if (factors.size() != 1)
        return why.fail(kSoftmaxV,
                        "the scores are a product of " + Twine(factors.size()) +
                            " non-constant factors, not a scaled q·kᵀ");
      x = factors.front();
      continue;
    }
    if (x->kind == ExprKind::Binary && x->fn == Fn::Sub &&
        isRowMaxOf(ev, x->ops[1], x->ops[0], n)) {
      x = x->ops[0];
      continue;
    }
    if (x->kind == ExprKind::Binary && x->fn == Fn::Add) {
      if (core.mask.kind != MaskPart::Kind::None)
        return why.fail(kSoftmaxV, "the scores carry two masks");
      int maskSide = isMaskLike(ev, x->ops[1], options)   ? 1
                     : isMaskLike(ev, x->ops[0], options) ? 0
                                                          : -1;
      if (maskSide < 0)
        return why.fail(kSoftmaxV,
                        "a tensor added to the scores is neither a constant "
                        "mask nor one built by index comparisons");
      core.mask.kind = MaskPart::Kind::Additive;
      core.mask.added = x->ops[maskSide];
      x = x->ops[1 - maskSide];
      continue;
    }
    if (x->kind == ExprKind::Select) {
      if (core.mask.kind != MaskPart::Kind::None)
        return why.fail(kSoftmaxV, "the scores carry two masks");
      bool dropTrue = isDropValue(ev, x->ops[1], options);
      bool dropFalse = isDropValue(ev, x->ops[2], options);
      if (dropTrue == dropFalse)
        return why.fail(kSoftmaxV,
                        "a select on the scores does not pick -inf on "
                        "exactly one side");
      core.mask.kind = MaskPart::Kind::Select;
      core.mask.cond = x->ops[0];
      core.mask.dropWhenTrue = dropTrue;
      x = dropTrue ? x->ops[2] : x->ops[1];
      continue;
    }
    if (x->kind == ExprKind::Reduce && x->fn == Fn::Add) {
      contraction = x;
      return success();
    }
    return why.fail(kSoftmaxV, Twine("the softmax input is ") + kindName(x) +
                                   ", not a scaled and masked q·kᵀ");
  }
}

/// Peels constant factors and the rope off one side of q·kᵀ.
static Expr *peelSide(Evaluator &ev, Expr *side, double &scale,
                      std::optional<RopePart> &rope, bool peel, bool &ok) {
  Expr *x = side;
  ok = true;
  while (true) {
    SmallVector<Expr *> factors;
    flattenProduct(ev, x, scale, factors);
    if (factors.size() != 1) {
      ok = false;
      return x;
    }
    x = factors.front();
    RopePart part;
    Expr *inner;
    if (peel && !rope && matchRope(ev, x, part, inner)) {
      rope = part;
      x = inner;
      continue;
    }
    return x;
  }
}

LogicalResult mlir::tucker::raise::matchCore(Evaluator &ev, Expr *o,
                                             const RaiseOptions &options,
                                             Core &core, Why &why) {
  Expr *pv = ev.look(o);
  if (pv->kind != ExprKind::Reduce || pv->fn != Fn::Add)
    return why.fail(kNone, Twine("the value is ") + kindName(pv) +
                               ", not a contraction P·V");
  if (!isZero(ev, pv->ops[1]))
    return why.fail(kNone, "the contraction accumulates into a non-zero "
                           "init");
  std::optional<Dim> n = singleLeaf(ev, pv);
  if (!n)
    return why.fail(kNone, "the contraction is not over one key dim");
  double outScale = 1.0;
  SmallVector<Expr *> factors;
  flattenProduct(ev, pv->ops[0], outScale, factors);
  if (factors.size() != 2)
    return why.fail(kNone, "the contraction is not a product of two tensors");
  Expr *scores = nullptr;
  int p = -1;
  for (int i = 0; i < 2 && p < 0; ++i) {
    Operation *producer = nullptr;
    if (matchSoftmax(ev, factors[i], *n, scores, producer)) {
      p = i;
      why.softmax = producer;
    }
  }
  if (p < 0) {
    // A normalization of exps along another dim is a near miss worth
    // explaining; anything else is just not attention.
    for (Expr *factor : factors) {
      Expr *x = ev.look(factor);
      bool normalizes =
          x->kind == ExprKind::Softmax ||
          (x->kind == ExprKind::Binary &&
           (x->fn == Fn::Div || x->fn == Fn::Mul) &&
           llvm::any_of(x->ops, [&](Expr *op) {
             Expr *e = ev.look(op);
             return e->kind == ExprKind::Unary && e->fn == Fn::Exp;
           }));
      if (normalizes && factor->kind == ExprKind::Ref) {
        why.softmax = factor->value.getDefiningOp();
        return why.fail(kSoftmaxV,
                        "the softmax does not normalize along the dim that "
                        "softmax·V contracts (or is not exp / Σ exp)");
      }
    }
    return why.fail(kNone, "neither factor of the contraction is a softmax "
                           "along the contracted dim");
  }
  if (outScale != 1.0)
    return why.fail(kSoftmaxV,
                    "softmax·V is scaled by " + std::to_string(outScale));
  core.key = *n;
  core.v = factors[1 - p];

  Expr *qk = nullptr;
  if (failed(matchScores(ev, scores, *n, options, core, qk, why)))
    return failure();
  if (!isZero(ev, qk->ops[1]))
    return why.fail(kSoftmaxV, "q·kᵀ accumulates into a non-zero init");
  SmallVector<Expr *> sides;
  flattenProduct(ev, qk->ops[0], core.scale, sides);
  if (sides.size() != 2)
    return why.fail(kSoftmaxV, "the scores contract " + Twine(sides.size()) +
                                   " factors, not queries and keys");
  bool k0 = ev.dependsOn(sides[0], *n), k1 = ev.dependsOn(sides[1], *n);
  if (k0 == k1)
    return why.fail(kSoftmaxV, k0 ? "both factors of q·kᵀ depend on the key "
                                    "position"
                                  : "no factor of q·kᵀ depends on the key "
                                    "position");
  bool ok;
  core.q = peelSide(ev, sides[k0 ? 1 : 0], core.scale, core.qRope,
                    options.peelRope, ok);
  if (!ok)
    return why.fail(kSoftmaxV, "the queries are a product of several tensors");
  core.k = peelSide(ev, sides[k0 ? 0 : 1], core.scale, core.kRope,
                    options.peelRope, ok);
  if (!ok)
    return why.fail(kSoftmaxV, "the keys are a product of several tensors");
  // After the rope, whose rotate-half splits the contracted dim.
  core.contracted = leavesOf(ev, qk->dims);
  if (!(core.scale > 0.0) || std::isinf(core.scale))
    return why.fail(kScores, "the softmax scale " + std::to_string(core.scale) +
                                 " is not positive and finite");
  why.stage = kScores;
  return success();
}

Location mlir::tucker::raise::fusedLocation(Evaluator &ev, Operation *root) {
  SmallVector<Location> locs{root->getLoc()};
  for (Operation *op : ev.touched())
    locs.push_back(op->getLoc());
  return FusedLoc::get(root->getContext(), locs);
}
