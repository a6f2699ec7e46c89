//===- RaiseEvalLinalg.cpp - linalg / tensor / arith as expressions -------===//
//
// How --tucker-raise reads torch-mlir / IREE style IR: every linalg
// structured op (named or generic) through its indexing maps and scalar
// body, linalg.softmax as a softmax node, reshapes / slices / casts and
// copy-like linalg ops as views, tensor.concat as a case split, and
// elementwise arith / math on whole tensors.
//
//===----------------------------------------------------------------------===//

#include "RaiseExpr.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tucker::raise;

namespace {

/// `map` applied to loop indices; only sums and constant multiples.
FailureOr<SmallVector<Lin>> applyMap(AffineMap map, ArrayRef<Lin> loops) {
  std::function<FailureOr<Lin>(AffineExpr)> eval =
      [&](AffineExpr e) -> FailureOr<Lin> {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      return loops[d.getPosition()];
    if (auto c = dyn_cast<AffineConstantExpr>(e))
      return Lin::ofConstant(c.getValue());
    auto bin = dyn_cast<AffineBinaryOpExpr>(e);
    if (!bin)
      return failure();
    FailureOr<Lin> l = eval(bin.getLHS()), r = eval(bin.getRHS());
    if (failed(l) || failed(r))
      return failure();
    if (e.getKind() == AffineExprKind::Add)
      return *l + *r;
    if (e.getKind() == AffineExprKind::Mul) {
      if (r->isConstant())
        return l->scaled(r->constant);
      if (l->isConstant())
        return r->scaled(l->constant);
    }
    return failure();
  };
  SmallVector<Lin> out;
  for (AffineExpr e : map.getResults()) {
    FailureOr<Lin> l = eval(e);
    if (failed(l))
      return failure();
    out.push_back(*l);
  }
  return out;
}

/// Loop indices of `op` from the access of its init `init`: each result of
/// the init's map must be a distinct loop dim.
FailureOr<SmallVector<std::optional<Lin>>>
loopsFromAccess(linalg::LinalgOp op, OpOperand *init, ArrayRef<Lin> access) {
  SmallVector<std::optional<Lin>> loops(op.getNumLoops());
  AffineMap outMap = op.getMatchingIndexingMap(init);
  for (auto [i, e] : llvm::enumerate(outMap.getResults())) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d || loops[d.getPosition()])
      return failure();
    loops[d.getPosition()] = access[i];
  }
  return loops;
}

/// Reads the scalar body of a linalg op at given loop indices.
struct BodyReader {
  BodyReader(Evaluator &ev, linalg::LinalgOp op, ArrayRef<Lin> loops,
             bool reduction)
      : ev(ev), op(op), loops(loops), reduction(reduction) {}

  Evaluator &ev;
  linalg::LinalgOp op;
  ArrayRef<Lin> loops;
  /// In a reduction the inits are running values, not inputs: reading one
  /// (outside the combiner, which is not read through here) fails.
  bool reduction;
  DenseMap<Value, Expr *> memo;

  Expr *read(Value v) {
    auto it = memo.find(v);
    if (it != memo.end())
      return it->second;
    Expr *e = compute(v);
    memo[v] = e;
    return e;
  }

  Expr *compute(Value v) {
    Block *body = op.getBlock();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() != body)
        return ExpandRules::scalarValue(ev, v);
      OpOperand *operand = op.getMatchingOpOperand(arg);
      if (reduction && op.isDpsInit(operand))
        return nullptr;
      Value source = operand->get();
      if (!isa<ShapedType>(source.getType()))
        return ExpandRules::scalarValue(ev, source);
      FailureOr<SmallVector<Lin>> access =
          applyMap(op.getMatchingIndexingMap(operand), loops);
      if (failed(access))
        return nullptr;
      return ev.ref(source, *access);
    }
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != body)
      return ExpandRules::scalarValue(ev, v);
    if (auto index = dyn_cast<linalg::IndexOp>(def))
      return ev.index(loops[index.getDim()]);
    SmallVector<Expr *> operands;
    for (Value operand : def->getOperands()) {
      Expr *e = read(operand);
      if (!e)
        return nullptr;
      operands.push_back(e);
    }
    return ExpandRules::applyScalarOp(ev, def, operands);
  }
};

/// The reduction combiner of a body: `yielded = combine(acc, x)`.
std::optional<std::pair<Fn, Value>> matchCombiner(Value yielded, Value acc) {
  Operation *def = yielded.getDefiningOp();
  if (!def)
    return std::nullopt;
  auto other = [&](Value a, Value b) -> Value {
    if (a == acc && b != acc)
      return b;
    if (b == acc && a != acc)
      return a;
    return {};
  };
  if (auto add = dyn_cast<arith::AddFOp>(def))
    if (Value x = other(add.getLhs(), add.getRhs()))
      return std::make_pair(Fn::Add, x);
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(def))
    if (Value x = other(def->getOperand(0), def->getOperand(1)))
      return std::make_pair(Fn::Max, x);
  // select(a > b, a, b) is max(a, b).
  if (auto sel = dyn_cast<arith::SelectOp>(def)) {
    auto c = sel.getCondition().getDefiningOp<arith::CmpFOp>();
    Value x = other(sel.getTrueValue(), sel.getFalseValue());
    if (!c || !x)
      return std::nullopt;
    using P = arith::CmpFPredicate;
    P p = c.getPredicate();
    bool greater = p == P::OGT || p == P::OGE || p == P::UGT || p == P::UGE;
    bool less = p == P::OLT || p == P::OLE || p == P::ULT || p == P::ULE;
    bool picksLarger = (greater && c.getLhs() == sel.getTrueValue() &&
                        c.getRhs() == sel.getFalseValue()) ||
                       (less && c.getLhs() == sel.getFalseValue() &&
                        c.getRhs() == sel.getTrueValue());
    if (picksLarger)
      return std::make_pair(Fn::Max, x);
  }
  return std::nullopt;
}

bool isCopyLike(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0 || !op.hasPureTensorSemantics() ||
      !isa<ShapedType>(op.getDpsInputOperand(0)->get().getType()))
    return false;
  Block *body = op.getBlock();
  if (!body || !llvm::hasSingleElement(body->getOperations()))
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  return yield.getNumOperands() == 1 &&
         yield.getOperand(0) == body->getArgument(0);
}

std::optional<Pred> predOf(arith::CmpIPredicate p, bool &isUnsigned) {
  using P = arith::CmpIPredicate;
  isUnsigned = p == P::ult || p == P::ule || p == P::ugt || p == P::uge;
  switch (p) {
  case P::eq:
    return Pred::EQ;
  case P::ne:
    return Pred::NE;
  case P::slt:
  case P::ult:
    return Pred::LT;
  case P::sle:
  case P::ule:
    return Pred::LE;
  case P::sgt:
  case P::ugt:
    return Pred::GT;
  case P::sge:
  case P::uge:
    return Pred::GE;
  }
  return std::nullopt;
}

std::optional<Pred> predOf(arith::CmpFPredicate p) {
  using P = arith::CmpFPredicate;
  switch (p) {
  case P::OEQ:
  case P::UEQ:
    return Pred::EQ;
  case P::ONE:
  case P::UNE:
    return Pred::NE;
  case P::OLT:
  case P::ULT:
    return Pred::LT;
  case P::OLE:
  case P::ULE:
    return Pred::LE;
  case P::OGT:
  case P::UGT:
    return Pred::GT;
  case P::OGE:
  case P::UGE:
    return Pred::GE;
  default:
    return std::nullopt;
  }
}

} // namespace

LogicalResult ExpandRules::reshapeAccess(Evaluator &ev, ArrayRef<int64_t> from,
                                         ArrayRef<int64_t> to,
                                         ArrayRef<Lin> toAccess,
                                         SmallVectorImpl<Lin> &fromAccess) {
  if (ShapedType::isDynamicShape(from) || ShapedType::isDynamicShape(to))
    return failure();
  Lin linear;
  int64_t stride = 1;
  for (int i = static_cast<int>(to.size()) - 1; i >= 0; --i) {
    linear = linear + toAccess[i].scaled(stride);
    stride *= to[i];
  }
  fromAccess.assign(from.size(), Lin());
  for (int i = static_cast<int>(from.size()) - 1; i > 0; --i) {
    Lin outer, rest;
    if (failed(ev.dims.divMod(linear, from[i], outer, rest)))
      return failure();
    fromAccess[i] = rest;
    linear = outer;
  }
  if (!from.empty())
    fromAccess[0] = linear;
  return success();
}

Expr *ExpandRules::expandConcat(Evaluator &ev, ValueRange inputs, int64_t dim,
                                ArrayRef<Lin> access) {
  int64_t size = cast<ShapedType>(inputs.front().getType()).getDimSize(dim);
  if (ShapedType::isDynamic(size) || llvm::any_of(inputs, [&](Value v) {
        return cast<ShapedType>(v.getType()).getDimSize(dim) != size;
      }))
    return nullptr;
  Lin outer, rest;
  if (failed(ev.dims.divMod(access[dim], size, outer, rest)))
    return nullptr;
  auto part = [&](int64_t i) {
    SmallVector<Lin> a(access.begin(), access.end());
    a[dim] = rest;
    return ev.ref(inputs[i], a);
  };
  Lin which = ev.normalize(outer);
  if (which.isConstant())
    return which.constant < static_cast<int64_t>(inputs.size())
               ? part(which.constant)
               : nullptr;
  std::optional<Dim> selector = which.asDim();
  if (!selector ||
      ev.dims.size(*selector) != static_cast<int64_t>(inputs.size()))
    return nullptr;
  SmallVector<Expr *> branches;
  for (int64_t i = 0, e = inputs.size(); i < e; ++i)
    branches.push_back(part(i));
  return ev.caseOf(*selector, branches);
}

bool ExpandRules::stepLinalgView(Evaluator &ev, Value &tensor,
                                 SmallVectorImpl<Lin> &access) {
  Operation *def = tensor.getDefiningOp();
  auto shapeOf = [](Value v) {
    return cast<ShapedType>(v.getType()).getShape();
  };
  SmallVector<Lin> source;
  Value next;
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::ReshapeOp>(
          def)) {
    next = def->getOperand(0);
    if (failed(
            reshapeAccess(ev, shapeOf(next), shapeOf(tensor), access, source)))
      return false;
  } else if (auto cast = dyn_cast<tensor::CastOp>(def)) {
    next = cast.getSource();
    auto type = dyn_cast<RankedTensorType>(next.getType());
    if (!type || type.getRank() != static_cast<int64_t>(access.size()))
      return false;
    source.assign(access.begin(), access.end());
  } else if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def)) {
    if (ShapedType::isDynamicShape(slice.getStaticOffsets()) ||
        ShapedType::isDynamicShape(slice.getStaticStrides()))
      return false;
    next = slice.getSource();
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    unsigned j = 0;
    for (auto [i, offset] : llvm::enumerate(slice.getStaticOffsets())) {
      Lin l = Lin::ofConstant(offset);
      if (!dropped.test(i))
        l = l + access[j++].scaled(slice.getStaticStrides()[i]);
      source.push_back(l);
    }
  } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(def)) {
    if (!isCopyLike(linalgOp))
      return false;
    FailureOr<SmallVector<std::optional<Lin>>> loops =
        loopsFromAccess(linalgOp, linalgOp.getDpsInitOperand(0), access);
    if (failed(loops) ||
        llvm::any_of(*loops, [](auto &l) { return !l.has_value(); }))
      return false;
    SmallVector<Lin> known;
    for (auto &l : *loops)
      known.push_back(*l);
    OpOperand *input = linalgOp.getDpsInputOperand(0);
    FailureOr<SmallVector<Lin>> mapped =
        applyMap(linalgOp.getMatchingIndexingMap(input), known);
    if (failed(mapped))
      return false;
    next = input->get();
    source = *mapped;
  } else {
    return false;
  }
  tensor = next;
  access.assign(source.begin(), source.end());
  return true;
}

Expr *ExpandRules::expandLinalg(Evaluator &ev, OpResult result,
                                ArrayRef<Lin> access) {
  Operation *def = result.getOwner();
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(def)) {
    int64_t dim = softmax.getDimension();
    return ev.softmax(ev.ref(softmax.getInput(), access), access[dim]);
  }
  if (auto concat = dyn_cast<tensor::ConcatOp>(def))
    return expandConcat(ev, concat.getInputs(), concat.getDim(), access);

  // Elementwise arith / math on whole tensors.
  if (def->hasTrait<OpTrait::Elementwise>() && def->getNumResults() == 1 &&
      isa<arith::ArithDialect, math::MathDialect>(def->getDialect())) {
    auto type = dyn_cast<RankedTensorType>(result.getType());
    if (!type)
      return nullptr;
    SmallVector<Expr *> operands;
    for (Value operand : def->getOperands()) {
      auto t = dyn_cast<RankedTensorType>(operand.getType());
      if (!t || t.getShape() != type.getShape())
        return nullptr;
      operands.push_back(ev.ref(operand, access));
    }
    return applyScalarOp(ev, def, operands);
  }

  auto op = dyn_cast<linalg::LinalgOp>(def);
  if (!op || !op.hasPureTensorSemantics() || !op.getBlock())
    return nullptr;
  unsigned r = result.getResultNumber();
  OpOperand *init = op.getDpsInitOperand(r);
  FailureOr<SmallVector<std::optional<Lin>>> partial =
      loopsFromAccess(op, init, access);
  if (failed(partial))
    return nullptr;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<Dim> reduced;
  SmallVector<Lin> loops;
  for (auto [i, l] : llvm::enumerate(*partial)) {
    if (l) {
      loops.push_back(*l);
      continue;
    }
    if (iterators[i] != utils::IteratorType::reduction)
      return nullptr;
    reduced.push_back(ev.dims.create(ranges[i]));
    loops.push_back(Lin::ofDim(reduced.back()));
  }
  auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  Value yielded = yield.getOperand(r);
  BlockArgument acc = op.getMatchingBlockArgument(init);
  if (reduced.empty()) {
    BodyReader reader(ev, op, loops, /*reduction=*/false);
    return reader.read(yielded);
  }
  std::optional<std::pair<Fn, Value>> combiner = matchCombiner(yielded, acc);
  if (!combiner)
    return nullptr;
  BodyReader reader(ev, op, loops, /*reduction=*/true);
  Expr *body = reader.read(combiner->second);
  if (!body)
    return nullptr;
  FailureOr<SmallVector<Lin>> initAccess =
      applyMap(op.getMatchingIndexingMap(init), loops);
  if (failed(initAccess))
    return nullptr;
  return ev.reduce(combiner->first, reduced, body,
                   ev.ref(init->get(), *initAccess));
}

Expr *ExpandRules::scalarValue(Evaluator &ev, Value value) {
  Attribute attr;
  if (matchPattern(value, m_Constant(&attr))) {
    if (auto f = dyn_cast<FloatAttr>(attr))
      return ev.constant(f.getValueAsDouble());
    if (auto i = dyn_cast<IntegerAttr>(attr))
      return ev.index(Lin::ofConstant(i.getType().isInteger(1)
                                          ? i.getValue().getZExtValue()
                                          : i.getValue().getSExtValue()));
  }
  return ev.scalar(value);
}

/// Whether every value of `l` is exactly representable in `type`: integers
/// of the type's width (nonnegative when `isUnsigned`), or floats whose
/// significand holds them.
static bool fits(Evaluator &ev, const Lin &l, Type type, bool isUnsigned) {
  std::optional<std::pair<int64_t, int64_t>> r = ev.dims.range(l);
  if (!r)
    return false;
  auto [lo, hi] = *r;
  if (isUnsigned && lo < 0)
    return false;
  int64_t limit;
  if (auto f = dyn_cast<FloatType>(type))
    limit = int64_t(1) << std::min<unsigned>(f.getFPMantissaWidth(), 62);
  else if (type.isIndex() || type.getIntOrFloatBitWidth() >= 64)
    return true;
  else
    limit = int64_t(1) << (type.getIntOrFloatBitWidth() - 1);
  return lo >= -limit && hi < limit;
}

Expr *ExpandRules::applyScalarOp(Evaluator &ev, Operation *op,
                                 ArrayRef<Expr *> x) {
  // Integer index arithmetic is read as exact integers: every conversion
  // and result must hold its values without wrapping or rounding.
  auto isIndex = [&](unsigned i) { return x[i]->kind == ExprKind::Index; };
  auto exact = [&](Expr *e, bool isUnsigned = false) -> Expr * {
    if (e && e->kind == ExprKind::Index &&
        !fits(ev, e->index, getElementTypeOrSelf(op->getResult(0).getType()),
              isUnsigned))
      return nullptr;
    return e;
  };
  return llvm::TypeSwitch<Operation *, Expr *>(op)
      .Case([&](arith::ConstantOp c) { return scalarValue(ev, c); })
      .Case([&](arith::AddFOp) { return ev.binary(Fn::Add, x[0], x[1]); })
      .Case([&](arith::SubFOp) { return ev.binary(Fn::Sub, x[0], x[1]); })
      .Case([&](arith::MulFOp) { return ev.binary(Fn::Mul, x[0], x[1]); })
      .Case([&](arith::DivFOp) { return ev.binary(Fn::Div, x[0], x[1]); })
      .Case<arith::MaximumFOp, arith::MaxNumFOp>(
          [&](Operation *) { return ev.binary(Fn::Max, x[0], x[1]); })
      .Case<arith::MinimumFOp, arith::MinNumFOp>(
          [&](Operation *) { return ev.binary(Fn::Min, x[0], x[1]); })
      .Case([&](arith::NegFOp) { return ev.unary(Fn::Neg, x[0]); })
      .Case<arith::ExtFOp, arith::TruncFOp>(
          [&](Operation *) { return ev.unary(Fn::Cast, x[0]); })
      .Case<arith::SIToFPOp, arith::UIToFPOp>([&](Operation *) -> Expr * {
        if (!isIndex(0) || !exact(x[0], isa<arith::UIToFPOp>(op)))
          return nullptr;
        return ev.unary(Fn::IntToFloat, x[0]);
      })
      .Case<arith::IndexCastOp, arith::ExtSIOp, arith::TruncIOp>(
          [&](Operation *) { return isIndex(0) ? exact(x[0]) : nullptr; })
      .Case<arith::IndexCastUIOp, arith::ExtUIOp>([&](Operation *) {
        return isIndex(0) ? exact(x[0], /*isUnsigned=*/true) : nullptr;
      })
      .Case([&](arith::AddIOp) -> Expr * {
        return isIndex(0) && isIndex(1)
                   ? exact(ev.index(x[0]->index + x[1]->index))
                   : nullptr;
      })
      .Case([&](arith::SubIOp) -> Expr * {
        return isIndex(0) && isIndex(1)
                   ? exact(ev.index(x[0]->index - x[1]->index))
                   : nullptr;
      })
      .Case([&](arith::MulIOp) -> Expr * {
        if (!isIndex(0) || !isIndex(1))
          return nullptr;
        if (x[1]->index.isConstant())
          return exact(ev.index(x[0]->index.scaled(x[1]->index.constant)));
        if (x[0]->index.isConstant())
          return exact(ev.index(x[1]->index.scaled(x[0]->index.constant)));
        return nullptr;
      })
      .Case([&](arith::CmpIOp c) -> Expr * {
        bool isUnsigned;
        std::optional<Pred> p = predOf(c.getPredicate(), isUnsigned);
        return p ? ev.cmp(*p, isUnsigned, x[0], x[1]) : nullptr;
      })
      .Case([&](arith::CmpFOp c) -> Expr * {
        std::optional<Pred> p = predOf(c.getPredicate());
        return p ? ev.cmp(*p, false, x[0], x[1]) : nullptr;
      })
      .Case([&](arith::SelectOp) { return ev.select(x[0], x[1], x[2]); })
      .Case([&](math::ExpOp) { return ev.unary(Fn::Exp, x[0]); })
      .Case([&](math::SqrtOp) { return ev.unary(Fn::Sqrt, x[0]); })
      .Case([&](math::RsqrtOp) { return ev.unary(Fn::Rsqrt, x[0]); })
      .Default([](Operation *) { return nullptr; });
}

std::optional<double> ExpandRules::constantElement(Value tensor,
                                                   ArrayRef<int64_t> indices) {
  Attribute attr;
  if (!matchPattern(tensor, m_Constant(&attr)))
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  ArrayRef<int64_t> shape = dense.getType().getShape();
  if (shape.size() != indices.size())
    return std::nullopt;
  int64_t flat = 0;
  for (auto [i, size] : llvm::zip(indices, shape)) {
    if (i < 0 || i >= size)
      return std::nullopt;
    flat = flat * size + i;
  }
  if (dense.isSplat())
    flat = 0;
  Type element = dense.getElementType();
  if (isa<FloatType>(element))
    return (dense.isSplat() ? dense.getSplatValue<APFloat>()
                            : dense.getValues<APFloat>()[flat])
        .convertToDouble();
  if (element.isInteger(1))
    return static_cast<double>((dense.isSplat()
                                    ? dense.getSplatValue<APInt>()
                                    : dense.getValues<APInt>()[flat])
                                   .getZExtValue());
  if (element.isIntOrIndex())
    return static_cast<double>((dense.isSplat()
                                    ? dense.getSplatValue<APInt>()
                                    : dense.getValues<APInt>()[flat])
                                   .getSExtValue());
  return std::nullopt;
}
