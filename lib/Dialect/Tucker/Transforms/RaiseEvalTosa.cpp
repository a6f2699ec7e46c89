//===- RaiseEvalTosa.cpp - tosa ops as expressions ------------------------===//
//
// How --tucker-raise reads TOSA: reshape / transpose / slice as views,
// elementwise ops with TOSA's size-1 broadcasting, reduce_sum / reduce_max
// (which keep the reduced dim as size 1), batched matmul, concat.
//
//===----------------------------------------------------------------------===//

#include "RaiseExpr.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tucker::raise;

namespace {

std::optional<SmallVector<int64_t>> shapeValues(Value shape) {
  auto c = shape.getDefiningOp<tosa::ConstShapeOp>();
  if (!c)
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &v : c.getValues().getValues<APInt>())
    out.push_back(v.getSExtValue());
  return out;
}

/// Whether `v` is a constant tensor whose entries are all zero.
bool isZero(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  if (isa<FloatType>(dense.getElementType()))
    return dense.getSplatValue<APFloat>().isZero();
  return dense.getSplatValue<APInt>().isZero();
}

/// `operand` read at the result index `access` with TOSA broadcasting (a
/// size-1 operand dim repeats).
Expr *broadcastRef(Evaluator &ev, Value operand, Value result,
                   ArrayRef<Lin> access) {
  auto type = cast<ShapedType>(operand.getType());
  auto resultType = cast<ShapedType>(result.getType());
  if (type.getRank() != resultType.getRank())
    return nullptr;
  SmallVector<Lin> a;
  for (auto [i, l] : llvm::enumerate(access))
    a.push_back(type.getDimSize(i) == 1 && resultType.getDimSize(i) != 1
                    ? Lin::ofConstant(0)
                    : l);
  return ev.ref(operand, a);
}

} // namespace

bool ExpandRules::stepTosaView(Evaluator &ev, Value &tensor,
                               SmallVectorImpl<Lin> &access) {
  Operation *def = tensor.getDefiningOp();
  SmallVector<Lin> source;
  Value next;
  if (auto reshape = dyn_cast<tosa::ReshapeOp>(def)) {
    next = reshape.getInput1();
    if (failed(reshapeAccess(ev, cast<ShapedType>(next.getType()).getShape(),
                             cast<ShapedType>(tensor.getType()).getShape(),
                             access, source)))
      return false;
  } else if (auto transpose = dyn_cast<tosa::TransposeOp>(def)) {
    next = transpose.getInput1();
    ArrayRef<int32_t> perms = transpose.getPerms();
    source.assign(perms.size(), Lin());
    for (auto [i, p] : llvm::enumerate(perms))
      source[p] = access[i];
  } else if (auto slice = dyn_cast<tosa::SliceOp>(def)) {
    std::optional<SmallVector<int64_t>> start = shapeValues(slice.getStart());
    if (!start)
      return false;
    next = slice.getInput1();
    for (auto [s, l] : llvm::zip(*start, access))
      source.push_back(l + Lin::ofConstant(s));
  } else {
    return false;
  }
  tensor = next;
  access.assign(source.begin(), source.end());
  return true;
}

Expr *ExpandRules::expandTosa(Evaluator &ev, OpResult result,
                              ArrayRef<Lin> access) {
  Operation *def = result.getOwner();
  if (!isa<tosa::TosaDialect>(def->getDialect()))
    return nullptr;
  auto operand = [&](unsigned i) {
    return broadcastRef(ev, def->getOperand(i), result, access);
  };
  auto binary = [&](Fn fn) -> Expr * {
    Expr *a = operand(0), *b = operand(1);
    return a && b ? ev.binary(fn, a, b) : nullptr;
  };
  auto unary = [&](Fn fn) -> Expr * {
    Expr *a = operand(0);
    return a ? ev.unary(fn, a) : nullptr;
  };
  auto compare = [&](Pred pred) -> Expr * {
    Expr *a = operand(0), *b = operand(1);
    return a && b ? ev.cmp(pred, false, a, b) : nullptr;
  };
  auto reduce = [&](Fn fn, Value input, int64_t axis) -> Expr * {
    auto type = cast<ShapedType>(input.getType());
    Dim d = ev.dims.create(type.getDimSize(axis));
    SmallVector<Lin> a(access.begin(), access.end());
    a[axis] = Lin::ofDim(d);
    return ev.reduce(fn, {d}, ev.ref(input, a), nullptr);
  };
  return llvm::TypeSwitch<Operation *, Expr *>(def)
      .Case([&](tosa::AddOp) { return binary(Fn::Add); })
      .Case([&](tosa::SubOp) { return binary(Fn::Sub); })
      .Case([&](tosa::MulOp mul) -> Expr * {
        return isZero(mul.getShift()) ? binary(Fn::Mul) : nullptr;
      })
      .Case([&](tosa::MaximumOp) { return binary(Fn::Max); })
      .Case([&](tosa::MinimumOp) { return binary(Fn::Min); })
      .Case([&](tosa::ExpOp) { return unary(Fn::Exp); })
      .Case([&](tosa::ReciprocalOp) { return unary(Fn::Recip); })
      .Case([&](tosa::RsqrtOp) { return unary(Fn::Rsqrt); })
      .Case([&](tosa::NegateOp neg) -> Expr * {
        return isZero(neg.getInput1Zp()) && isZero(neg.getOutputZp())
                   ? unary(Fn::Neg)
                   : nullptr;
      })
      .Case([&](tosa::CastOp cast) -> Expr * {
        Type from = getElementTypeOrSelf(cast.getInput().getType());
        Type to = getElementTypeOrSelf(cast.getType());
        if (isa<FloatType>(from) && isa<FloatType>(to))
          return unary(Fn::Cast);
        return nullptr;
      })
      .Case([&](tosa::GreaterOp) { return compare(Pred::GT); })
      .Case([&](tosa::GreaterEqualOp) { return compare(Pred::GE); })
      .Case([&](tosa::EqualOp) { return compare(Pred::EQ); })
      .Case([&](tosa::SelectOp) -> Expr * {
        Expr *c = operand(0), *a = operand(1), *b = operand(2);
        return c && a && b ? ev.select(c, a, b) : nullptr;
      })
      .Case([&](tosa::ReduceSumOp r) {
        return reduce(Fn::Add, r.getInput(), r.getAxis());
      })
      .Case([&](tosa::ReduceMaxOp r) {
        return reduce(Fn::Max, r.getInput(), r.getAxis());
      })
      .Case([&](tosa::MatMulOp mm) -> Expr * {
        if (!isZero(mm.getAZp()) || !isZero(mm.getBZp()))
          return nullptr;
        auto a = cast<ShapedType>(mm.getA().getType());
        Dim c = ev.dims.create(a.getDimSize(2));
        Expr *lhs = ev.ref(mm.getA(), {access[0], access[1], Lin::ofDim(c)});
        Expr *rhs = ev.ref(mm.getB(), {access[0], Lin::ofDim(c), access[2]});
        return ev.reduce(Fn::Add, {c}, ev.binary(Fn::Mul, lhs, rhs), nullptr);
      })
      .Case([&](tosa::ConcatOp concat) {
        return expandConcat(ev, concat.getInput1(), concat.getAxis(), access);
      })
      .Default([](Operation *) { return nullptr; });
}
