//===- RaiseLayer.cpp - attention layers → tucker.mha / tucker.gqa --------===//
//
// y[b, m, e] = Σ_{h, j} O[b, h, m, j]·W^O[h·dv + j, e] (+ b_o[e]) where O is
// the attention core of RaiseCore.cpp and q, k, v are projections
// x·W (+ bias) of one x. The head structure is read off the weights'
// column indices: the query column is h·dh + k (k the q·kᵀ contraction),
// the output row h·dv + j, the value column g·dv + j and the key column
// g·dh + k, with g = h / (H/Hkv) for GQA (k and v heads repeated or
// broadcast consecutively, as HF's repeat_kv does). A weight of higher rank
// is the matrix of its model-dim index by its other indices (a Keras kernel
// [d, H, dh] has the column h·dh + k), so kernels are read whole or through
// any reshape.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::raise;

namespace {

/// x·W (+ bias) contracted over one leaf.
struct Projection {
  Expr *x = nullptr, *w = nullptr, *bias = nullptr;
  Dim reduced = 0;
};

bool readsAny(Evaluator &ev, Expr *e, ArrayRef<Dim> leaves) {
  return llvm::any_of(leaves, [&](Dim d) { return ev.dependsOn(e, d); });
}

/// `e` as x·W (+ b), x being the factor that reads `activation` leaves.
LogicalResult matchProjection(Evaluator &ev, Expr *e, StringRef name,
                              ArrayRef<Dim> activation, Projection &p,
                              Why &why) {
  auto fail = [&](const Twine &what) {
    return why.fail(kScores,
                    "the " + name + " are not a projection x·W: " + what);
  };
  Expr *x = ev.look(e);
  if (x->kind == ExprKind::Binary && x->fn == Fn::Add) {
    for (int i = 0; i < 2 && !p.bias; ++i) {
      Expr *side = ev.look(x->ops[i]);
      if (side->kind == ExprKind::Reduce && side->fn == Fn::Add) {
        p.bias = x->ops[1 - i];
        x = side;
      }
    }
    if (!p.bias)
      return fail("a sum that is neither a bias add nor a rotate-half RoPE "
                  "with constant cos/sin tables");
  }
  if (x->kind != ExprKind::Reduce || x->fn != Fn::Add)
    return fail("not a contraction");
  if (!isZero(ev, x->ops[1])) {
    if (p.bias)
      return fail("both an init and an added bias");
    p.bias = x->ops[1];
  }
  SmallVector<Dim> reduced = leavesOf(ev, x->dims);
  if (reduced.size() != 1)
    return fail("not contracted over one model dim");
  p.reduced = reduced.front();
  double scale = 1.0;
  SmallVector<Expr *> factors;
  flattenProduct(ev, x->ops[0], scale, factors);
  if (scale != 1.0 || factors.size() != 2)
    return fail("not a product of activations and weights");
  int xi = readsAny(ev, factors[0], activation)   ? 0
           : readsAny(ev, factors[1], activation) ? 1
                                                  : -1;
  if (xi < 0 || readsAny(ev, factors[1 - xi], activation))
    return fail("cannot tell activations from weights");
  p.x = asRef(factors[xi]);
  p.w = asRef(factors[1 - xi]);
  if (!p.x || !p.w)
    return fail("the activations or weights are computed in place");
  if (p.bias && !(p.bias = asRef(p.bias)))
    return fail("the bias is computed in place");
  return success();
}

/// The indices of a weight read other than the one that is exactly `known`,
/// as one row-major number over the weight's other dims: a weight of any
/// rank is the matrix [known, rest] (a Keras kernel [d, H, dh] read whole or
/// through its collapse, an output kernel [H, dh, d]).
std::optional<Lin> otherIndex(Evaluator &ev, Expr *read, const Lin &known) {
  auto type = cast<ShapedType>(read->value.getType());
  if (!type.hasStaticShape())
    return std::nullopt;
  Lin k = ev.normalize(known);
  auto at = llvm::find_if(read->access,
                          [&](const Lin &l) { return ev.normalize(l) == k; });
  if (at == read->access.end())
    return std::nullopt;
  Lin rest;
  int64_t stride = 1;
  for (int64_t i = type.getRank() - 1; i >= 0; --i) {
    if (i == at - read->access.begin())
      continue;
    rest = rest + ev.normalize(read->access[i]).scaled(stride);
    stride *= type.getDimSize(i);
  }
  return rest;
}

SmallVector<Dim> termLeaves(const Lin &l) {
  SmallVector<Dim> out;
  for (auto [d, c] : l.terms)
    out.push_back(d);
  return out;
}

} // namespace

FailureOr<Operation *>
mlir::tucker::raise::raiseToLayer(RewriterBase &rewriter, Operation *root,
                                  const RaiseOptions &options, Why &why) {
  Value result = root->getResult(0);
  auto type = cast<RankedTensorType>(result.getType());
  Type element = type.getElementType();
  if (type.getRank() != 3 || !type.hasStaticShape() ||
      !isSupportedFloat(element))
    return why.fail(kNone, "the result is not a static [B, N, d] tensor of "
                           "f32, f16 or bf16");
  Evaluator ev;
  SmallVector<Dim> rootDims;
  Expr *y = ev.look(ev.refAll(result, rootDims));
  Dim r0 = rootDims[0], r1 = rootDims[1], r2 = rootDims[2];

  // Output bias and projection.
  Expr *bo = nullptr, *proj = y;
  auto isOutBias = [&](Expr *e) {
    Expr *r = asRef(e);
    if (!r)
      return false;
    llvm::SetVector<Dim> leaves;
    ev.freeLeaves(r, leaves);
    SmallVector<Dim> e2;
    ev.dims.leaves(r2, e2);
    return llvm::all_of(leaves,
                        [&](Dim d) { return llvm::is_contained(e2, d); });
  };
  if (y->kind == ExprKind::Binary && y->fn == Fn::Add) {
    int biasSide = isOutBias(y->ops[1]) ? 1 : isOutBias(y->ops[0]) ? 0 : -1;
    if (biasSide < 0)
      return why.fail(kNone, "the result is a sum without an output bias");
    bo = asRef(y->ops[biasSide]);
    proj = ev.look(y->ops[1 - biasSide]);
  }
  if (proj->kind != ExprKind::Reduce || proj->fn != Fn::Add)
    return why.fail(kNone, "the result is not an output projection");
  if (!isZero(ev, proj->ops[1])) {
    if (bo || !isOutBias(proj->ops[1]))
      return why.fail(kNone, "the output projection accumulates into "
                             "something other than a bias");
    bo = asRef(proj->ops[1]);
  }
  double outScale = 1.0;
  SmallVector<Expr *> factors;
  flattenProduct(ev, proj->ops[0], outScale, factors);
  if (outScale != 1.0 || factors.size() != 2)
    return why.fail(kNone, "the output projection is not heads·W^O");
  SmallVector<Dim> tokens;
  ev.dims.leaves(r0, tokens);
  ev.dims.leaves(r1, tokens);
  int wi = !readsAny(ev, factors[0], tokens)   ? 0
           : !readsAny(ev, factors[1], tokens) ? 1
                                               : -1;
  Expr *wo = wi < 0 ? nullptr : asRef(factors[wi]);
  if (!wo)
    return why.fail(kNone, "the output projection has no weight tensor");
  Core core;
  if (failed(matchCore(ev, factors[1 - wi], options, core, why)))
    return failure();

  // Projections of one x.
  SmallVector<Dim> batch, query;
  ev.dims.leaves(r0, batch);
  ev.dims.leaves(r1, query);
  if (query.size() != 1)
    return why.fail(kScores, "the sequence dim of the result is split");
  Dim m = query.front(), n = core.key;
  SmallVector<Dim> activation(batch);
  activation.push_back(m);
  activation.push_back(n);
  Projection qp, kp, vp;
  if (failed(matchProjection(ev, core.q, "queries", activation, qp, why)) ||
      failed(matchProjection(ev, core.k, "keys", activation, kp, why)) ||
      failed(matchProjection(ev, core.v, "values", activation, vp, why)))
    return failure();
  why.stage = kProjections;
  auto fail = [&](const Twine &message) {
    return why.fail(kProjections, message);
  };
  if (ev.dims.size(m) != ev.dims.size(n))
    return fail("queries and keys have different lengths (not "
                "self-attention)");
  DimMap toKeys, toValues;
  toKeys[m] = Lin::ofDim(n);
  toKeys[qp.reduced] = Lin::ofDim(kp.reduced);
  toValues[m] = Lin::ofDim(n);
  toValues[qp.reduced] = Lin::ofDim(vp.reduced);
  if (qp.x->value != kp.x->value || qp.x->value != vp.x->value ||
      !ev.equal(qp.x, kp.x, toKeys) || !ev.equal(qp.x, vp.x, toValues))
    return fail("queries, keys and values are not projections of the same "
                "tokens (cross-attention is raised as tucker.flash only)");

  // Head structure from the weight indices (the leaves as recognition
  // left them: it splits dims).
  SmallVector<Dim> outLeaves = leavesOf(ev, proj->dims);
  std::optional<Lin> qCol = otherIndex(ev, qp.w, Lin::ofDim(qp.reduced));
  std::optional<Lin> kCol = otherIndex(ev, kp.w, Lin::ofDim(kp.reduced));
  std::optional<Lin> vCol = otherIndex(ev, vp.w, Lin::ofDim(vp.reduced));
  std::optional<Lin> oRow = otherIndex(ev, wo, Lin::ofDim(r2));
  if (!qCol || !kCol || !vCol || !oRow)
    return fail("a projection weight is not a static tensor with one index "
                "on the model dim");
  // Every weight index must enumerate its dims exactly once (a bijection);
  // the order of heads and of dims within a head is free, since the heads
  // are summed and the dims within one are contracted: the operands are laid
  // out in a canonical order with key/value head g = h / (H / Hkv).
  ArrayRef<Dim> contracted = core.contracted;
  auto bijection = [&](const Lin &l, ArrayRef<Dim> leaves) {
    int64_t extent;
    SmallVector<Dim> used = termLeaves(ev.normalize(l));
    return ev.dims.isMixedRadix(l, extent) && extent == extentOf(ev, leaves) &&
           used.size() == leaves.size() && llvm::all_of(used, [&](Dim d) {
             return llvm::is_contained(leaves, d);
           });
  };
  auto without = [](ArrayRef<Dim> all, ArrayRef<Dim> drop) {
    SmallVector<Dim> out;
    for (Dim d : all)
      if (!llvm::is_contained(drop, d))
        out.push_back(d);
    return out;
  };
  // Leaves of `l` by decreasing coefficient.
  auto byWeight = [&](const Lin &l, ArrayRef<Dim> leaves) {
    SmallVector<Dim> out(leaves);
    Lin n = ev.normalize(l);
    llvm::stable_sort(
        out, [&](Dim a, Dim b) { return n.coefficient(a) > n.coefficient(b); });
    return out;
  };
  SmallVector<Dim> headLeaves =
      without(termLeaves(ev.normalize(*qCol)), contracted);
  SmallVector<Dim> kvLeaves =
      without(termLeaves(ev.normalize(*kCol)), contracted);
  SmallVector<Dim> valueLeaves = without(outLeaves, headLeaves);
  SmallVector<Dim> qLeaves(headLeaves), kLeaves(kvLeaves), vLeaves(kvLeaves),
      oLeaves(outLeaves);
  qLeaves.append(contracted.begin(), contracted.end());
  kLeaves.append(contracted.begin(), contracted.end());
  vLeaves.append(valueLeaves);
  if (!bijection(*qCol, qLeaves))
    return fail("the query weight columns are not whole heads of q·kᵀ");
  if (llvm::any_of(headLeaves,
                   [&](Dim d) { return !llvm::is_contained(outLeaves, d); }))
    return fail("the query heads are not the heads of the output projection");
  if (!bijection(*oRow, oLeaves))
    return fail("the output weight rows are not whole heads");
  if (!bijection(*kCol, kLeaves))
    return fail("the key weight columns are not whole heads of q·kᵀ");
  if (llvm::any_of(kvLeaves,
                   [&](Dim d) { return !llvm::is_contained(headLeaves, d); }))
    return fail("the key heads are not a coarsening of the query heads");
  if (!bijection(*vCol, vLeaves))
    return fail("the value weight columns are not the key heads × the "
                "value width");
  SmallVector<Dim> kvOrder = byWeight(*kCol, kvLeaves);
  SmallVector<Dim> headOrder(kvOrder);
  headOrder.append(byWeight(*qCol, without(headLeaves, kvLeaves)));
  // RoPE pairs dim j with j + dh/2 of the contracted index, whatever order
  // the weights store it in.
  SmallVector<Dim> inHead =
      core.qRope ? SmallVector<Dim>(contracted) : byWeight(*qCol, contracted);
  SmallVector<Dim> valueOrder = byWeight(*oRow, valueLeaves);
  int64_t headDim = extentOf(ev, contracted), heads = extentOf(ev, headLeaves);
  int64_t valueDim = extentOf(ev, valueLeaves),
          kvHeads = extentOf(ev, kvLeaves);
  Lin hIndex = mixedRadix(ev, headOrder), gIndex = mixedRadix(ev, kvOrder);
  Lin kIndex = mixedRadix(ev, inHead), jIndex = mixedRadix(ev, valueOrder);
  Lin qColumn = hIndex.scaled(headDim) + kIndex;
  Lin kColumn = gIndex.scaled(headDim) + kIndex;
  Lin vColumn = gIndex.scaled(valueDim) + jIndex;
  Lin oRowIndex = hIndex.scaled(valueDim) + jIndex;

  // Sizes, biases, mask, rope.
  int64_t model = ev.dims.size(qp.reduced);
  if (ev.dims.size(kp.reduced) != model || ev.dims.size(vp.reduced) != model ||
      ev.dims.size(r2) != model)
    return fail("the projections do not all map the model width " +
                Twine(model));
  bool grouped = kvHeads != heads;
  if (grouped && (qp.bias || kp.bias || vp.bias))
    return fail("tucker.gqa takes no query, key or value biases");
  bool causal;
  if (failed(verifyMask(ev, core.mask, m, n, 0, options, causal, why)))
    return failure();
  FailureOr<RopeAttr> rope = verifyRope(ev, core, m, n, 0, why);
  if (failed(rope))
    return failure();

  int64_t b = type.getDimSize(0), tokensN = type.getDimSize(1);
  Lin cq = Lin::ofDim(qp.reduced), ck = Lin::ofDim(kp.reduced),
      cv = Lin::ofDim(vp.reduced), e = Lin::ofDim(r2);
  struct Operand {
    Expr *read;
    SmallVector<int64_t> shape;
    SmallVector<Lin> index;
  };
  SmallVector<Operand> operands{
      {qp.x, {b, tokensN, model}, {Lin::ofDim(r0), Lin::ofDim(r1), cq}},
      {qp.w, {model, heads * headDim}, {cq, qColumn}},
      {kp.w, {model, kvHeads * headDim}, {ck, kColumn}},
      {vp.w, {model, kvHeads * valueDim}, {cv, vColumn}},
      {wo, {heads * valueDim, model}, {oRowIndex, e}}};
  SmallVector<Operand> biasOperands{{qp.bias, {heads * headDim}, {qColumn}},
                                    {kp.bias, {heads * headDim}, {kColumn}},
                                    {vp.bias, {heads * valueDim}, {vColumn}},
                                    {bo, {model}, {e}}};
  for (const Operand &operand :
       llvm::concat<const Operand>(operands, biasOperands)) {
    if (!operand.read)
      continue;
    auto t = cast<ShapedType>(operand.read->value.getType());
    if (t.getElementType() != element || !t.hasStaticShape())
      return fail("an operand is not a static tensor of the result's "
                  "element type");
    if (failed(checkLayout(ev, operand.read->access, operand.shape,
                           operand.index)))
      return fail("an operand cannot be laid out as tucker.mha expects");
  }
  why.stage = kOperands;

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(root);
  Location loc = fusedLocation(ev, root);
  auto build = [&](const Operand &operand) -> Value {
    if (!operand.read)
      return Value();
    return *materialize(rewriter, loc, ev, operand.read->value,
                        operand.read->access, operand.shape, operand.index);
  };
  SmallVector<Value> values;
  for (const Operand &operand : operands)
    values.push_back(build(operand));
  SmallVector<Value> biasValues;
  for (const Operand &operand : biasOperands)
    biasValues.push_back(build(operand));
  FloatAttr scale = rewriter.getF64FloatAttr(core.scale);
  Operation *raised;
  Value out;
  if (!grouped) {
    auto mha = MhaOp::create(rewriter, loc, type, values[0], values[1],
                             values[2], values[3], values[4], biasValues[0],
                             biasValues[1], biasValues[2], biasValues[3], heads,
                             causal, scale, *rope);
    raised = mha;
    out = mha.getResult();
  } else {
    auto gqa = GqaOp::create(rewriter, loc, type, values[0], values[1],
                             values[2], values[3], values[4], heads, kvHeads,
                             causal, scale, *rope);
    raised = gqa;
    out = gqa.getResult();
    if (biasValues[3])
      out = buildAddBias(rewriter, loc, out, biasValues[3]);
  }
  rewriter.replaceOp(root, out);
  return raised;
}
