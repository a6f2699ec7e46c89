//===- RaiseExpr.h - frontend IR as index expressions ------------*- C++
//-*-===//
//
// --tucker-raise reads linalg / tensor / arith / math / tosa on tensors as
// scalar expressions over logical indices: the element of a tensor at an
// index is a tree whose leaves are elements of other tensors (`Ref`),
// constants and integer index arithmetic, with reductions binding new
// indices. Views (reshapes, transposes, broadcasts, slices, copies) only
// change the index arithmetic, so every frontend spelling of one computation
// reads as the same tree. Trees are built lazily: a Ref becomes the
// computation of its producer only when a matcher looks inside, so a match
// never walks further than the attention it recognizes.
//
// Indices are `Lin`s, integer affine forms Σ c·d + k over logical dims. A dim
// can be split into (hi, lo) with d = hi·|lo| + lo when a collapse or a
// concat needs its digits; splitting is a change of variables, so every
// expression stays valid and is compared after normalization into leaves.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_DIALECT_TUCKER_TRANSFORMS_RAISEEXPR_H
#define TUCKER_LIB_DIALECT_TUCKER_TRANSFORMS_RAISEEXPR_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallVector.h"

#include <memory>
#include <vector>

namespace mlir::tucker::raise {

/// A logical index dimension.
using Dim = unsigned;

/// Σ c_i·d_i + constant over logical dims; terms sorted by dim, nonzero.
struct Lin {
  SmallVector<std::pair<Dim, int64_t>, 4> terms;
  int64_t constant = 0;

  static Lin ofDim(Dim d, int64_t coefficient = 1);
  static Lin ofConstant(int64_t c);
  Lin &add(Dim d, int64_t coefficient);
  Lin operator+(const Lin &other) const;
  Lin operator-(const Lin &other) const;
  Lin scaled(int64_t factor) const;
  int64_t coefficient(Dim d) const;
  bool isConstant() const { return terms.empty(); }
  /// The dim when this is exactly `d`.
  std::optional<Dim> asDim() const;
  bool operator==(const Lin &other) const {
    return constant == other.constant && terms == other.terms;
  }
  bool operator!=(const Lin &other) const { return !(*this == other); }
};

/// Sizes of the logical dims and their splits.
class DimTable {
public:
  Dim create(int64_t size);
  int64_t size(Dim d) const { return infos[d].size; }
  bool isLeaf(Dim d) const { return infos[d].hi == kNone; }
  /// `l` over leaf dims only.
  Lin normalize(const Lin &l) const;
  /// The leaves of `d`, most significant first.
  void leaves(Dim d, SmallVectorImpl<Dim> &out) const;
  /// Splits leaf `d` into (hi, lo) with |lo| = `inner`; `d` must divide.
  std::pair<Dim, Dim> split(Dim d, int64_t inner);
  /// Writes `l = outer·inner + rest` with `0 ≤ rest < inner` for every value
  /// of the dims, splitting dims whose range straddles `inner`. Fails when no
  /// such decomposition holds (negative coefficients, dynamic sizes, a
  /// remainder that may reach `inner`).
  LogicalResult divMod(const Lin &l, int64_t inner, Lin &outer, Lin &rest);
  /// Whether `l` takes each value of [0, extent) exactly once as its leaves
  /// range over their sizes (a mixed-radix number); sets `extent`.
  bool isMixedRadix(const Lin &l, int64_t &extent) const;
  /// Largest value of `l` (nonnegative coefficients, static sizes).
  std::optional<int64_t> maxValue(const Lin &l) const;
  /// Smallest and largest value of `l` (static sizes).
  std::optional<std::pair<int64_t, int64_t>> range(const Lin &l) const;

private:
  static constexpr Dim kNone = ~0u;
  struct Info {
    int64_t size;
    Dim hi = kNone, lo = kNone;
  };
  SmallVector<Info> infos;
};

enum class ExprKind {
  Ref,     // value[access]
  Const,   // a float constant
  Index,   // an integer index expression (`index`)
  Scalar,  // a scalar SSA value that is not a constant
  Unary,   // fn(ops[0])
  Binary,  // fn(ops[0], ops[1])
  Cmp,     // pred(ops[0], ops[1])
  Select,  // ops[0] ? ops[1] : ops[2]
  Reduce,  // fn (Add or Max) over `dims` of ops[0], combined with ops[1]
  Softmax, // softmax of ops[0] along the dim of `index` (linalg.softmax)
  Case,    // ops[i] where leaf dims[0] == i (a concatenation)
};

enum class Fn {
  None,
  Add,
  Sub,
  Mul,
  Div,
  Max,
  Min,
  Neg,
  Exp,
  Recip,
  Sqrt,
  Rsqrt,
  Cast,       // extf / truncf: the same number, another precision
  IntToFloat, // sitofp / uitofp of an Index
};

enum class Pred { LT, LE, GT, GE, EQ, NE };

struct Expr {
  ExprKind kind;
  Fn fn = Fn::None;
  Pred pred = Pred::EQ;
  bool unsignedCmp = false;
  Value value;
  SmallVector<Lin, 4> access;
  double constant = 0;
  Lin index;
  SmallVector<Dim, 2> dims;
  SmallVector<Expr *, 3> ops;
  // Ref: the producer's computation at `access`, once asked for.
  Expr *expansion = nullptr;
  bool expanded = false;
};

/// Substitution of a-side leaves by b-side forms during comparisons.
using DimMap = llvm::DenseMap<Dim, Lin>;

/// Builds and compares expression trees of one match attempt.
class Evaluator {
public:
  DimTable dims;

  /// `tensor[access]`, traced through views; a splat constant is a Const.
  Expr *ref(Value tensor, ArrayRef<Lin> access);
  /// `tensor` at fresh dims, one per tensor dim (written to `rootDims`).
  Expr *refAll(Value tensor, SmallVectorImpl<Dim> &rootDims);
  /// The computation behind a Ref, or null when its producer is opaque.
  Expr *expand(Expr *e);
  /// `e` with Refs expanded and precision casts dropped, as far as possible.
  Expr *look(Expr *e);

  Expr *constant(double value);
  Expr *index(Lin value);
  Expr *scalar(Value value);
  Expr *unary(Fn fn, Expr *operand);
  Expr *binary(Fn fn, Expr *lhs, Expr *rhs);
  Expr *cmp(Pred pred, bool isUnsigned, Expr *lhs, Expr *rhs);
  Expr *select(Expr *cond, Expr *ifTrue, Expr *ifFalse);
  Expr *reduce(Fn fn, ArrayRef<Dim> reduced, Expr *body, Expr *init);
  Expr *softmax(Expr *scores, Lin at);
  Expr *caseOf(Dim selector, ArrayRef<Expr *> branches);

  Lin normalize(const Lin &l) const { return dims.normalize(l); }
  /// Whether `a` (its free leaves renamed by `map`) computes `b`.
  bool equal(Expr *a, Expr *b, DimMap &map, unsigned depth = 0);
  /// Whether a Lin of `a`'s, renamed by `map`, is `b`.
  bool equalLin(const Lin &a, const Lin &b, DimMap &map);
  /// Whether the value of `e` may depend on leaf `d` (from the accesses and
  /// index expressions it contains, without expanding).
  bool dependsOn(Expr *e, Dim d);
  /// The free leaves of `e`'s accesses and index expressions.
  void freeLeaves(Expr *e, llvm::SetVector<Dim> &out);
  /// The value of `e` with its leaves fixed by `values`, when `e` is made of
  /// constants, index arithmetic and elements of constant tensors.
  std::optional<double> evaluate(Expr *e,
                                 const llvm::DenseMap<Dim, int64_t> &values,
                                 unsigned depth = 0);

  /// Ops whose results the expanded trees read through or computed.
  const llvm::SetVector<Operation *> &touched() const { return touchedOps; }

private:
  Expr *make(ExprKind kind);
  void refreshMap(DimMap &map);
  bool equalImpl(Expr *a, Expr *b, DimMap &map, unsigned depth);

  friend struct ExpandRules;
  std::vector<std::unique_ptr<Expr>> arena;
  llvm::SetVector<Operation *> touchedOps;
};

/// Rules shared by the linalg and tosa readers (RaiseEvalLinalg.cpp,
/// RaiseEvalTosa.cpp).
struct ExpandRules {
  /// Steps through one view op: on success `tensor` and `access` describe
  /// the same element of the view's source.
  static bool stepLinalgView(Evaluator &ev, Value &tensor,
                             SmallVectorImpl<Lin> &access);
  static bool stepTosaView(Evaluator &ev, Value &tensor,
                           SmallVectorImpl<Lin> &access);
  /// The computation of `result` at `access`, or null.
  static Expr *expandLinalg(Evaluator &ev, OpResult result,
                            ArrayRef<Lin> access);
  static Expr *expandTosa(Evaluator &ev, OpResult result, ArrayRef<Lin> access);
  /// A concatenation along `dim` of equally sized inputs: a Case on the
  /// quotient of the index by the input size.
  static Expr *expandConcat(Evaluator &ev, ValueRange inputs, int64_t dim,
                            ArrayRef<Lin> access);
  /// `op` applied to scalar operand expressions (arith / math semantics).
  static Expr *applyScalarOp(Evaluator &ev, Operation *op,
                             ArrayRef<Expr *> operands);
  /// A scalar SSA value defined outside any body: Const, Index or Scalar.
  static Expr *scalarValue(Evaluator &ev, Value value);
  /// The source index of a row-major reshape from `from` to `to`.
  static LogicalResult reshapeAccess(Evaluator &ev, ArrayRef<int64_t> from,
                                     ArrayRef<int64_t> to,
                                     ArrayRef<Lin> toAccess,
                                     SmallVectorImpl<Lin> &fromAccess);
  /// The element of a constant tensor at `indices`, as a double.
  static std::optional<double> constantElement(Value tensor,
                                               ArrayRef<int64_t> indices);
};

} // namespace mlir::tucker::raise

#endif // TUCKER_LIB_DIALECT_TUCKER_TRANSFORMS_RAISEEXPR_H
