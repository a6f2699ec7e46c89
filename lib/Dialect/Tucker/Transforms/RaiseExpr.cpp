//===- RaiseExpr.cpp - index expressions, dims and tree comparison --------===//

#include "RaiseExpr.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker::raise;

//===----------------------------------------------------------------------===//
// Lin
//===----------------------------------------------------------------------===//

Lin Lin::ofDim(Dim d, int64_t coefficient) {
  Lin l;
  l.add(d, coefficient);
  return l;
}

Lin Lin::ofConstant(int64_t c) {
  Lin l;
  l.constant = c;
  return l;
}

Lin &Lin::add(Dim d, int64_t coefficient) {
  auto it =
      llvm::lower_bound(terms, d, [](const std::pair<Dim, int64_t> &t, Dim x) {
        return t.first < x;
      });
  if (it != terms.end() && it->first == d) {
    it->second += coefficient;
    if (it->second == 0)
      terms.erase(it);
  } else if (coefficient != 0) {
    terms.insert(it, {d, coefficient});
  }
  return *this;
}

Lin Lin::operator+(const Lin &other) const {
  Lin sum = *this;
  for (auto [d, c] : other.terms)
    sum.add(d, c);
  sum.constant += other.constant;
  return sum;
}

Lin Lin::operator-(const Lin &other) const { return *this + other.scaled(-1); }

Lin Lin::scaled(int64_t factor) const {
  Lin l;
  if (factor == 0)
    return l;
  for (auto [d, c] : terms)
    l.terms.push_back({d, c * factor});
  l.constant = constant * factor;
  return l;
}

int64_t Lin::coefficient(Dim d) const {
  for (auto [x, c] : terms)
    if (x == d)
      return c;
  return 0;
}

std::optional<Dim> Lin::asDim() const {
  if (constant != 0 || terms.size() != 1 || terms[0].second != 1)
    return std::nullopt;
  return terms[0].first;
}

//===----------------------------------------------------------------------===//
// DimTable
//===----------------------------------------------------------------------===//

Dim DimTable::create(int64_t size) {
  infos.push_back({size});
  return infos.size() - 1;
}

Lin DimTable::normalize(const Lin &l) const {
  Lin out = Lin::ofConstant(l.constant);
  for (auto [d, c] : l.terms) {
    if (isLeaf(d)) {
      out.add(d, c);
      continue;
    }
    const Info &info = infos[d];
    out = out + normalize(Lin::ofDim(info.hi, c * size(info.lo)) +
                          Lin::ofDim(info.lo, c));
  }
  return out;
}

void DimTable::leaves(Dim d, SmallVectorImpl<Dim> &out) const {
  if (isLeaf(d)) {
    out.push_back(d);
    return;
  }
  leaves(infos[d].hi, out);
  leaves(infos[d].lo, out);
}

std::pair<Dim, Dim> DimTable::split(Dim d, int64_t inner) {
  assert(isLeaf(d) && size(d) % inner == 0 && "bad split");
  Dim hi = create(size(d) / inner);
  Dim lo = create(inner);
  infos[d].hi = hi;
  infos[d].lo = lo;
  return {hi, lo};
}

std::optional<int64_t> DimTable::maxValue(const Lin &lIn) const {
  Lin l = normalize(lIn);
  int64_t max = l.constant;
  for (auto [d, c] : l.terms) {
    if (c < 0 || ShapedType::isDynamic(size(d)))
      return std::nullopt;
    max += c * (size(d) - 1);
  }
  return max;
}

std::optional<std::pair<int64_t, int64_t>>
DimTable::range(const Lin &lIn) const {
  Lin l = normalize(lIn);
  int64_t lo = l.constant, hi = l.constant;
  for (auto [d, c] : l.terms) {
    if (ShapedType::isDynamic(size(d)))
      return std::nullopt;
    int64_t span = c * (size(d) - 1);
    (span < 0 ? lo : hi) += span;
  }
  return std::make_pair(lo, hi);
}

LogicalResult DimTable::divMod(const Lin &lIn, int64_t inner, Lin &outer,
                               Lin &rest) {
  if (inner <= 0)
    return failure();
  Lin l = normalize(lIn);
  // Split every leaf whose digits straddle `inner` (c·|d| > inner with c
  // dividing inner): d = hi·(inner/c) + lo puts hi in the quotient.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto [d, c] : l.terms) {
      if (c % inner == 0)
        continue;
      int64_t s = size(d);
      if (c < 0 || ShapedType::isDynamic(s))
        return failure();
      if (c * s <= inner)
        continue;
      if (inner % c != 0 || s % (inner / c) != 0)
        return failure();
      split(d, inner / c);
      l = normalize(l);
      changed = true;
      break;
    }
  }
  if (l.constant < 0)
    return failure();
  outer = Lin::ofConstant(l.constant / inner);
  rest = Lin::ofConstant(l.constant % inner);
  for (auto [d, c] : l.terms) {
    if (c % inner == 0)
      outer.add(d, c / inner);
    else
      rest.add(d, c);
  }
  std::optional<int64_t> max = maxValue(rest);
  return success(max && *max < inner);
}

bool DimTable::isMixedRadix(const Lin &lIn, int64_t &extent) const {
  Lin l = normalize(lIn);
  if (l.constant != 0)
    return false;
  SmallVector<std::pair<int64_t, int64_t>> digits; // (coefficient, size)
  for (auto [d, c] : l.terms) {
    if (ShapedType::isDynamic(size(d)))
      return false;
    if (size(d) != 1)
      digits.push_back({c, size(d)});
  }
  llvm::sort(digits);
  extent = 1;
  for (auto [c, s] : digits) {
    if (c != extent)
      return false;
    extent *= s;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Evaluator: construction
//===----------------------------------------------------------------------===//

Expr *Evaluator::make(ExprKind kind) {
  arena.push_back(std::make_unique<Expr>());
  arena.back()->kind = kind;
  return arena.back().get();
}

Expr *Evaluator::constant(double value) {
  Expr *e = make(ExprKind::Const);
  e->constant = value;
  return e;
}

Expr *Evaluator::index(Lin value) {
  Expr *e = make(ExprKind::Index);
  e->index = std::move(value);
  return e;
}

Expr *Evaluator::scalar(Value value) {
  Expr *e = make(ExprKind::Scalar);
  e->value = value;
  return e;
}

Expr *Evaluator::unary(Fn fn, Expr *operand) {
  if (operand->kind == ExprKind::Const) {
    double x = operand->constant;
    switch (fn) {
    case Fn::Neg:
      return constant(-x);
    case Fn::Cast:
      return operand;
    case Fn::Exp:
      return constant(std::exp(x));
    case Fn::Recip:
      return constant(1.0 / x);
    case Fn::Sqrt:
      return constant(std::sqrt(x));
    case Fn::Rsqrt:
      return constant(1.0 / std::sqrt(x));
    default:
      break;
    }
  }
  if (fn == Fn::IntToFloat && operand->kind == ExprKind::Index &&
      operand->index.isConstant())
    return constant(static_cast<double>(operand->index.constant));
  Expr *e = make(ExprKind::Unary);
  e->fn = fn;
  e->ops = {operand};
  return e;
}

Expr *Evaluator::binary(Fn fn, Expr *lhs, Expr *rhs) {
  if (lhs->kind == ExprKind::Const && rhs->kind == ExprKind::Const) {
    double a = lhs->constant, b = rhs->constant;
    switch (fn) {
    case Fn::Add:
      return constant(a + b);
    case Fn::Sub:
      return constant(a - b);
    case Fn::Mul:
      return constant(a * b);
    case Fn::Div:
      return constant(a / b);
    case Fn::Max:
      return constant(std::max(a, b));
    case Fn::Min:
      return constant(std::min(a, b));
    default:
      break;
    }
  }
  Expr *e = make(ExprKind::Binary);
  e->fn = fn;
  e->ops = {lhs, rhs};
  return e;
}

Expr *Evaluator::cmp(Pred pred, bool isUnsigned, Expr *lhs, Expr *rhs) {
  Expr *e = make(ExprKind::Cmp);
  e->pred = pred;
  e->unsignedCmp = isUnsigned;
  e->ops = {lhs, rhs};
  return e;
}

Expr *Evaluator::select(Expr *cond, Expr *ifTrue, Expr *ifFalse) {
  Expr *e = make(ExprKind::Select);
  e->ops = {cond, ifTrue, ifFalse};
  return e;
}

Expr *Evaluator::reduce(Fn fn, ArrayRef<Dim> reduced, Expr *body, Expr *init) {
  Expr *e = make(ExprKind::Reduce);
  e->fn = fn;
  e->dims.assign(reduced.begin(), reduced.end());
  e->ops = {body, init};
  return e;
}

Expr *Evaluator::softmax(Expr *scores, Lin at) {
  Expr *e = make(ExprKind::Softmax);
  e->ops = {scores};
  e->index = std::move(at);
  return e;
}

Expr *Evaluator::caseOf(Dim selector, ArrayRef<Expr *> branches) {
  Expr *e = make(ExprKind::Case);
  e->dims = {selector};
  e->ops.assign(branches.begin(), branches.end());
  return e;
}

//===----------------------------------------------------------------------===//
// Evaluator: references and expansion
//===----------------------------------------------------------------------===//

Expr *Evaluator::ref(Value tensor, ArrayRef<Lin> access) {
  Value v = tensor;
  SmallVector<Lin, 4> acc(access.begin(), access.end());
  while (Operation *def = v.getDefiningOp()) {
    Attribute attr;
    if (matchPattern(v, m_Constant(&attr))) {
      auto dense = dyn_cast<DenseElementsAttr>(attr);
      if (dense && dense.isSplat()) {
        if (isa<FloatType>(dense.getElementType()))
          return constant(dense.getSplatValue<APFloat>().convertToDouble());
        if (dense.getElementType().isIntOrIndex())
          return index(
              Lin::ofConstant(dense.getSplatValue<APInt>().getSExtValue()));
      }
      break;
    }
    if (!ExpandRules::stepLinalgView(*this, v, acc) &&
        !ExpandRules::stepTosaView(*this, v, acc))
      break;
    touchedOps.insert(def);
  }
  Expr *e = make(ExprKind::Ref);
  e->value = v;
  e->access = std::move(acc);
  return e;
}

Expr *Evaluator::refAll(Value tensor, SmallVectorImpl<Dim> &rootDims) {
  auto type = cast<ShapedType>(tensor.getType());
  SmallVector<Lin> access;
  for (int64_t size : type.getShape()) {
    rootDims.push_back(dims.create(size));
    access.push_back(Lin::ofDim(rootDims.back()));
  }
  return ref(tensor, access);
}

Expr *Evaluator::expand(Expr *e) {
  if (e->kind != ExprKind::Ref)
    return nullptr;
  if (e->expanded)
    return e->expansion;
  e->expanded = true;
  auto result = dyn_cast<OpResult>(e->value);
  if (!result)
    return nullptr;
  Expr *x = ExpandRules::expandLinalg(*this, result, e->access);
  if (!x)
    x = ExpandRules::expandTosa(*this, result, e->access);
  if (x)
    touchedOps.insert(result.getOwner());
  e->expansion = x;
  return x;
}

Expr *Evaluator::look(Expr *e) {
  while (true) {
    if (e->kind == ExprKind::Ref) {
      Expr *x = expand(e);
      if (!x)
        return e;
      e = x;
      continue;
    }
    if (e->kind == ExprKind::Unary && e->fn == Fn::Cast) {
      e = e->ops[0];
      continue;
    }
    return e;
  }
}

//===----------------------------------------------------------------------===//
// Evaluator: comparison
//===----------------------------------------------------------------------===//

void Evaluator::refreshMap(DimMap &map) {
  // A mapped dim that has been split since: map its leaves to the leaves of
  // its image, splitting the image the same way when it is still one leaf.
  SmallVector<Dim> stale;
  for (auto &entry : map)
    if (!dims.isLeaf(entry.first))
      stale.push_back(entry.first);
  for (Dim key : stale) {
    Lin image = dims.normalize(map.lookup(key));
    map.erase(key);
    SmallVector<Dim> from;
    dims.leaves(key, from);
    if (std::optional<Dim> t = image.asDim()) {
      if (dims.size(*t) != dims.size(key))
        continue;
      Dim current = *t;
      for (size_t i = 0; i + 1 < from.size(); ++i) {
        int64_t inner = 1;
        for (size_t j = i + 1; j < from.size(); ++j)
          inner *= dims.size(from[j]);
        auto [hi, lo] = dims.split(current, inner);
        map[from[i]] = Lin::ofDim(hi);
        current = lo;
      }
      map[from.back()] = Lin::ofDim(current);
      continue;
    }
    // The image is already split: pair the digits when they agree.
    if (image.constant != 0 || image.terms.size() != from.size())
      continue;
    SmallVector<std::pair<int64_t, Dim>> digits;
    for (auto [d, c] : image.terms)
      digits.push_back({c, d});
    llvm::sort(digits, [](auto &x, auto &y) { return x.first > y.first; });
    int64_t stride = 1;
    bool agrees = true;
    for (int i = static_cast<int>(from.size()) - 1; i >= 0; --i) {
      agrees &= digits[i].first == stride &&
                dims.size(digits[i].second) == dims.size(from[i]);
      stride *= dims.size(from[i]);
    }
    if (!agrees)
      continue;
    for (auto [f, digit] : llvm::zip(from, digits))
      map[f] = Lin::ofDim(digit.second);
  }
}

bool Evaluator::equalLin(const Lin &a, const Lin &b, DimMap &map) {
  refreshMap(map);
  Lin na = dims.normalize(a);
  Lin mapped = Lin::ofConstant(na.constant);
  for (auto [d, c] : na.terms) {
    auto it = map.find(d);
    mapped =
        mapped + (it == map.end() ? Lin::ofDim(d, c) : it->second.scaled(c));
  }
  return dims.normalize(mapped) == dims.normalize(b);
}

bool Evaluator::equal(Expr *a, Expr *b, DimMap &map, unsigned depth) {
  DimMap saved = map;
  if (equalImpl(a, b, map, depth))
    return true;
  map = std::move(saved);
  return false;
}

static bool isCommutative(Fn fn) {
  return fn == Fn::Add || fn == Fn::Mul || fn == Fn::Max || fn == Fn::Min;
}

bool Evaluator::equalImpl(Expr *a, Expr *b, DimMap &map, unsigned depth) {
  if (depth > 256)
    return false;
  while (a->kind == ExprKind::Unary && a->fn == Fn::Cast)
    a = a->ops[0];
  while (b->kind == ExprKind::Unary && b->fn == Fn::Cast)
    b = b->ops[0];
  if (a->kind == ExprKind::Ref && b->kind == ExprKind::Ref &&
      a->value == b->value) {
    if (a->access.size() != b->access.size())
      return false;
    for (auto [x, y] : llvm::zip(a->access, b->access))
      if (!equalLin(x, y, map))
        return false;
    return true;
  }
  if (a->kind == ExprKind::Ref || b->kind == ExprKind::Ref) {
    Expr *x = a->kind == ExprKind::Ref ? expand(a) : a;
    Expr *y = b->kind == ExprKind::Ref ? expand(b) : b;
    if (!x || !y)
      return false;
    return equalImpl(x, y, map, depth + 1);
  }
  if (a->kind != b->kind || a->fn != b->fn || a->ops.size() != b->ops.size())
    return false;
  switch (a->kind) {
  case ExprKind::Const:
    return a->constant == b->constant ||
           (std::isnan(a->constant) && std::isnan(b->constant));
  case ExprKind::Index:
    return equalLin(a->index, b->index, map);
  case ExprKind::Scalar:
    return a->value == b->value;
  case ExprKind::Cmp:
    if (a->pred != b->pred || a->unsignedCmp != b->unsignedCmp)
      return false;
    break;
  case ExprKind::Softmax:
    if (!equalLin(a->index, b->index, map))
      return false;
    break;
  case ExprKind::Reduce: {
    SmallVector<Dim> la, lb;
    for (Dim d : a->dims)
      dims.leaves(d, la);
    for (Dim d : b->dims)
      dims.leaves(d, lb);
    if (la.size() != lb.size())
      return false;
    for (auto [x, y] : llvm::zip(la, lb)) {
      if (dims.size(x) != dims.size(y))
        return false;
      map[x] = Lin::ofDim(y);
    }
    // The inits: both absent, or equal.
    if (!a->ops[1] || !b->ops[1]) {
      if (a->ops[1] != b->ops[1])
        return false;
      return equalImpl(a->ops[0], b->ops[0], map, depth + 1);
    }
    break;
  }
  case ExprKind::Case:
    if (!equalLin(Lin::ofDim(a->dims[0]), Lin::ofDim(b->dims[0]), map))
      return false;
    break;
  default:
    break;
  }
  if (a->kind == ExprKind::Binary && isCommutative(a->fn)) {
    DimMap saved = map;
    if (equalImpl(a->ops[0], b->ops[0], map, depth + 1) &&
        equalImpl(a->ops[1], b->ops[1], map, depth + 1))
      return true;
    map = std::move(saved);
    return equalImpl(a->ops[0], b->ops[1], map, depth + 1) &&
           equalImpl(a->ops[1], b->ops[0], map, depth + 1);
  }
  for (auto [x, y] : llvm::zip(a->ops, b->ops))
    if (!equalImpl(x, y, map, depth + 1))
      return false;
  return true;
}

bool Evaluator::dependsOn(Expr *e, Dim d) {
  llvm::SetVector<Dim> leaves;
  freeLeaves(e, leaves);
  SmallVector<Dim> target;
  dims.leaves(d, target);
  return llvm::any_of(target, [&](Dim x) { return leaves.contains(x); });
}

void Evaluator::freeLeaves(Expr *e, llvm::SetVector<Dim> &out) {
  auto addLin = [&](const Lin &l) {
    for (auto [d, c] : dims.normalize(l).terms)
      out.insert(d);
  };
  switch (e->kind) {
  case ExprKind::Ref:
    for (const Lin &l : e->access)
      addLin(l);
    return;
  case ExprKind::Index:
  case ExprKind::Softmax:
    addLin(e->index);
    break;
  case ExprKind::Case:
    addLin(Lin::ofDim(e->dims[0]));
    break;
  default:
    break;
  }
  llvm::SetVector<Dim> inner;
  for (Expr *op : e->ops)
    if (op)
      freeLeaves(op, inner);
  if (e->kind == ExprKind::Reduce) {
    SmallVector<Dim> bound;
    for (Dim d : e->dims)
      dims.leaves(d, bound);
    for (Dim d : bound)
      inner.remove(d);
  }
  out.insert(inner.begin(), inner.end());
}

std::optional<double>
Evaluator::evaluate(Expr *e, const llvm::DenseMap<Dim, int64_t> &values,
                    unsigned depth) {
  if (depth > 64)
    return std::nullopt;
  auto valueOf = [&](const Lin &l) -> std::optional<int64_t> {
    Lin n = dims.normalize(l);
    int64_t v = n.constant;
    for (auto [d, c] : n.terms) {
      auto it = values.find(d);
      if (it == values.end())
        return std::nullopt;
      v += c * it->second;
    }
    return v;
  };
  auto sub = [&](unsigned i) { return evaluate(e->ops[i], values, depth + 1); };
  switch (e->kind) {
  case ExprKind::Const:
    return e->constant;
  case ExprKind::Index: {
    std::optional<int64_t> v = valueOf(e->index);
    if (!v)
      return std::nullopt;
    return static_cast<double>(*v);
  }
  case ExprKind::Ref: {
    SmallVector<int64_t> indices;
    for (const Lin &l : e->access) {
      std::optional<int64_t> v = valueOf(l);
      if (!v)
        return std::nullopt;
      indices.push_back(*v);
    }
    if (std::optional<double> c =
            ExpandRules::constantElement(e->value, indices))
      return c;
    if (Expr *x = expand(e))
      return evaluate(x, values, depth + 1);
    return std::nullopt;
  }
  case ExprKind::Unary: {
    std::optional<double> x = sub(0);
    if (!x)
      return std::nullopt;
    switch (e->fn) {
    case Fn::Neg:
      return -*x;
    case Fn::Exp:
      return std::exp(*x);
    case Fn::Recip:
      return 1.0 / *x;
    case Fn::Sqrt:
      return std::sqrt(*x);
    case Fn::Rsqrt:
      return 1.0 / std::sqrt(*x);
    case Fn::Cast:
    case Fn::IntToFloat:
      return x;
    default:
      return std::nullopt;
    }
  }
  case ExprKind::Binary: {
    std::optional<double> x = sub(0), y = sub(1);
    if (!x || !y)
      return std::nullopt;
    switch (e->fn) {
    case Fn::Add:
      return *x + *y;
    case Fn::Sub:
      return *x - *y;
    case Fn::Mul:
      return *x * *y;
    case Fn::Div:
      return *x / *y;
    case Fn::Max:
      return std::max(*x, *y);
    case Fn::Min:
      return std::min(*x, *y);
    default:
      return std::nullopt;
    }
  }
  case ExprKind::Cmp: {
    std::optional<double> x = sub(0), y = sub(1);
    if (!x || !y)
      return std::nullopt;
    if (e->unsignedCmp && (*x < 0 || *y < 0))
      return std::nullopt;
    switch (e->pred) {
    case Pred::LT:
      return *x < *y ? 1.0 : 0.0;
    case Pred::LE:
      return *x <= *y ? 1.0 : 0.0;
    case Pred::GT:
      return *x > *y ? 1.0 : 0.0;
    case Pred::GE:
      return *x >= *y ? 1.0 : 0.0;
    case Pred::EQ:
      return *x == *y ? 1.0 : 0.0;
    case Pred::NE:
      return *x != *y ? 1.0 : 0.0;
    }
    return std::nullopt;
  }
  case ExprKind::Select: {
    std::optional<double> c = sub(0);
    if (!c)
      return std::nullopt;
    return *c != 0.0 ? sub(1) : sub(2);
  }
  case ExprKind::Case: {
    std::optional<int64_t> which = valueOf(Lin::ofDim(e->dims[0]));
    if (!which || *which < 0 || *which >= static_cast<int64_t>(e->ops.size()))
      return std::nullopt;
    return sub(*which);
  }
  default:
    return std::nullopt;
  }
}
