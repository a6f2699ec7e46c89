//===- Compress.cpp - Truncated HOSVD into tucker.attention ---------------===//
//
// --tucker-compress: replaces an attention op with constant weights by a
// dense-core tucker.attention whose factors are the truncated HOSVD of its
// pre- and post-softmax weight tensors (Hosvd.h), at given ranks or at the
// ranks a relative error bound needs, with a remark on what it cost.
//
//===----------------------------------------------------------------------===//

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Dialect/Tucker/Transforms/Hosvd.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Format.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERCOMPRESSPASS
#include "tucker/Dialect/Tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;
using hosvd::Matrix;
using hosvd::Vector;
using Ranks = std::array<int64_t, 3>;

/// Below this, a relative error computed from Grams is rounding noise.
static constexpr double kErrorFloor = 1e-7;

static std::string formatRanks(const Ranks &r) {
  return "[" + std::to_string(r[0]) + ", " + std::to_string(r[1]) + ", " +
         std::to_string(r[2]) + "]";
}

static std::string formatDouble(double value, const char *format = "%g") {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::format(format, value);
  return text;
}

static std::string formatError(double error) {
  return error < kErrorFloor ? "<1e-07" : formatDouble(error, "%.2e");
}

/// An arith.constant of `shape` with row-major `data`, rounded to
/// `elementType`.
static Value makeConstant(OpBuilder &b, Location loc, Type elementType,
                          ArrayRef<int64_t> shape, ArrayRef<double> data) {
  auto type = RankedTensorType::get(shape, elementType);
  DenseElementsAttr attr;
  if (elementType.isF32()) {
    std::vector<float> values(data.begin(), data.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(values));
  } else {
    const llvm::fltSemantics &semantics =
        cast<FloatType>(elementType).getFloatSemantics();
    SmallVector<APFloat> values;
    values.reserve(data.size());
    for (double v : data) {
      APFloat value(v);
      bool lost;
      value.convert(semantics, APFloat::rmNearestTiesToEven, &lost);
      values.push_back(value);
    }
    attr = DenseElementsAttr::get(type, values);
  }
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(attr));
}

static Value makeMatrix(OpBuilder &b, Location loc, Type elementType,
                        const Matrix &m) {
  std::vector<double> data;
  data.reserve(m.size());
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      data.push_back(m(i, j));
  return makeConstant(b, loc, elementType, {m.rows(), m.cols()}, data);
}

static Value makeVector(OpBuilder &b, Location loc, Type elementType,
                        const Vector &v) {
  std::vector<double> data(v.data(), v.data() + v.size());
  return makeConstant(b, loc, elementType, {v.size()}, data);
}

static Value makeCore(OpBuilder &b, Location loc, Type elementType,
                      const std::vector<Matrix> &core) {
  int64_t rows = core.front().rows(), cols = core.front().cols();
  std::vector<double> data;
  data.reserve(core.size() * rows * cols);
  for (const Matrix &slice : core)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        data.push_back(slice(i, j));
  return makeConstant(b, loc, elementType,
                      {static_cast<int64_t>(core.size()), rows, cols}, data);
}

static int64_t count(const Matrix &m) { return m.size(); }

namespace {
struct TuckerCompressPass
    : tucker::impl::TuckerCompressPassBase<TuckerCompressPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult compress(Operation *op);
  /// Requested ranks of one tensor, checked against its kept modes.
  LogicalResult chooseRanks(Operation *op, const hosvd::Analysis &analysis,
                            std::array<bool, 3> keep, ArrayRef<int64_t> want,
                            bool pre, const AttentionWeights &w, Ranks &out,
                            bool &clamped);

  SmallVector<int64_t> requested;
};
} // namespace

void TuckerCompressPass::runOnOperation() {
  Operation *root = getOperation();
  requested.assign(ranks.begin(), ranks.end());
  if (!requested.empty()) {
    if (requested.size() != 3 && requested.size() != 6) {
      root->emitError() << "--tucker-compress: option 'ranks' needs 3 values "
                           "(r1,r2,r3 for both tensors) or 6 (r1,r2,r3,r̃1,"
                           "r̃2,r̃3), got "
                        << requested.size();
      return signalPassFailure();
    }
    for (int64_t r : requested)
      if (r <= 0) {
        root->emitError() << "--tucker-compress: ranks must be positive, got "
                          << r;
        return signalPassFailure();
      }
    if (tolerance != 0.0) {
      root->emitError() << "--tucker-compress: give either 'ranks' or "
                           "'tolerance', not both";
      return signalPassFailure();
    }
    if (requested.size() == 3)
      requested.append({requested[0], requested[1], requested[2]});
  } else if (!(tolerance > 0.0 && tolerance < 1.0)) {
    InFlightDiagnostic diag = root->emitError();
    diag << "--tucker-compress: needs 'ranks=r1,r2,r3[,r̃1,r̃2,r̃3]' or a "
            "relative error 'tolerance' in (0, 1)";
    if (tolerance != 0.0)
      diag << ", got tolerance " << formatDouble(tolerance);
    return signalPassFailure();
  }

  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isAttentionLayer(op))
      ops.push_back(op);
  });
  bool anyFailed = false;
  for (Operation *op : ops)
    if (failed(compress(op)))
      anyFailed = true;
  if (anyFailed)
    signalPassFailure();
}

LogicalResult TuckerCompressPass::chooseRanks(Operation *op,
                                              const hosvd::Analysis &analysis,
                                              std::array<bool, 3> keep,
                                              ArrayRef<int64_t> want, bool pre,
                                              const AttentionWeights &w,
                                              Ranks &out, bool &clamped) {
  static const char *preNames[] = {"head", "query", "key"};
  static const char *postNames[] = {"head", "output", "value"};
  if (want.empty()) {
    out = hosvd::ranksForError(analysis, tolerance, keep);
    return success();
  }
  Ranks sizes = hosvd::modeSizes(analysis);
  for (int m = 0; m < 3; ++m) {
    if (keep[m]) {
      int64_t width = analysis.keptWidths[m];
      if (want[m] < width) {
        RmsNormAttr norm =
            m == 2 ? (pre ? w.keyNorm : w.valueNorm) : w.queryNorm;
        return op->emitError()
               << "cannot compress the " << (pre ? "pre" : "post")
               << "-softmax " << (pre ? preNames[m] : postNames[m])
               << " mode to rank " << want[m] << ": it is a latent of width "
               << width << " under an RMS norm (over " << norm.getWidth()
               << " dims), which a truncation would change; give a rank of "
                  "at least "
               << width << " for it or use 'tolerance'";
      }
      clamped |= want[m] > width;
      out[m] = width;
      continue;
    }
    clamped |= want[m] > sizes[m];
    out[m] = std::min(want[m], sizes[m]);
  }
  return success();
}

LogicalResult TuckerCompressPass::compress(Operation *op) {
  StringRef name = op->getName().getStringRef();
  if (op->getAttr("rope")) {
    if (isa<AttentionOp>(op))
      return op->emitError()
             << "cannot compress '" << name
             << "' with a rope: the rotation acts on the latent key space "
                "that compression replaces";
    return op->emitError()
           << "cannot compress '" << name
           << "' with a rope: the rotation sits between the query and key "
              "projections, so the pre-softmax tensor is not a fixed "
              "bilinear form";
  }
  std::string reason;
  FailureOr<AttentionWeights> weights =
      readAttentionWeights(op, /*foldQueryBias=*/true, reason);
  if (failed(weights))
    return op->emitError() << "cannot compress '" << name << "': " << reason
                           << " (compression needs constant weights)";
  AttentionWeights &w = *weights;

  hosvd::Analysis preAnalysis = hosvd::analyze(w.pre);
  hosvd::Analysis postAnalysis = hosvd::analyze(w.post);
  ArrayRef<int64_t> want = requested;
  Ranks preRanks, postRanks;
  bool clamped = false;
  if (failed(chooseRanks(op, preAnalysis, w.keepPre,
                         want.empty() ? want : want.take_front(3), true, w,
                         preRanks, clamped)) ||
      failed(chooseRanks(op, postAnalysis, w.keepPost,
                         want.empty() ? want : want.drop_front(3), false, w,
                         postRanks, clamped)))
    return failure();

  hosvd::Truncation pre =
      hosvd::truncate(w.pre, preAnalysis, preRanks, w.keepPre);
  hosvd::Truncation post =
      hosvd::truncate(w.post, postAnalysis, postRanks, w.keepPost);

  // The query bias is the last row of the augmented query factor.
  std::optional<Vector> queryBias;
  Matrix u2 = pre.u2;
  if (w.queryBiasRow) {
    queryBias = u2.row(u2.rows() - 1).transpose();
    u2 = Matrix(u2.topRows(u2.rows() - 1));
  }

  OpBuilder b(op);
  Location loc = op->getLoc();
  Type et = w.elementType;
  MLIRContext *ctx = op->getContext();
  Value u1 = makeMatrix(b, loc, et, pre.u1);
  Value u2v = makeMatrix(b, loc, et, u2);
  Value u3 = makeMatrix(b, loc, et, pre.u3);
  Value core = makeCore(b, loc, et, pre.core);
  Value v1 = makeMatrix(b, loc, et, post.u1);
  Value v2 = makeMatrix(b, loc, et, post.u2);
  Value v3 = makeMatrix(b, loc, et, post.u3);
  Value coreOut = makeCore(b, loc, et, post.core);
  Value qb = queryBias ? makeVector(b, loc, et, *queryBias) : Value();
  Value ob = w.outBias ? makeVector(b, loc, et, *w.outBias) : w.outBiasValue;
  auto ranksAttr = RanksAttr::get(ctx, pre.ranks, post.ranks);
  auto attention = AttentionOp::create(
      b, loc, op->getResult(0).getType(), op->getOperand(0), u1, u2v, u3, core,
      v1, v2, v3, coreOut, qb, ob, ranksAttr, SelectorAttr(),
      w.keepPre[1] ? w.queryNorm : RmsNormAttr(),
      w.keepPre[2] ? w.keyNorm : RmsNormAttr(),
      w.keepPost[2] ? w.valueNorm : RmsNormAttr(),
      w.causal ? b.getUnitAttr() : UnitAttr(), b.getF64FloatAttr(w.scale),
      RopeAttr());

  int64_t paramsAfter =
      count(pre.u1) + count(u2) + count(pre.u3) +
      pre.ranks[0] * pre.ranks[1] * pre.ranks[2] + count(post.u1) +
      count(post.u2) + count(post.u3) +
      post.ranks[0] * post.ranks[1] * post.ranks[2] +
      (queryBias ? queryBias->size() : 0) +
      (w.outBias ? w.outBias->size() : 0) +
      (w.outBiasValue
           ? cast<RankedTensorType>(w.outBiasValue.getType()).getNumElements()
           : 0);
  bool sharedKv = w.sharedKvLatent && w.keepPre[2] && w.keepPost[2];
  int64_t kvAfter = sharedKv ? pre.ranks[2] : pre.ranks[2] + post.ranks[2];

  if (clamped) {
    ArrayRef<int64_t> all = requested;
    Ranks wantPre = {all[0], all[1], all[2]},
          wantPost = {all[3], all[4], all[5]};
    attention->emitRemark()
        << "ranks " << formatRanks(wantPre) << ", " << formatRanks(wantPost)
        << " clamped to the mode sizes: " << formatRanks(pre.ranks) << ", "
        << formatRanks(post.ranks);
  }
  InFlightDiagnostic remark = attention->emitRemark();
  remark << "compressed '" << name << "' to ranks " << formatRanks(pre.ranks)
         << ", " << formatRanks(post.ranks) << ": relative error pre "
         << formatError(pre.relativeError) << ", post "
         << formatError(post.relativeError) << "; params " << w.params << " -> "
         << paramsAfter << ", KV values per token " << w.kvPerToken << " -> "
         << kvAfter;
  if (w.queryBiasRow)
    remark << "; query bias compressed as an extra query row";
  if (llvm::is_contained(w.keepPre, true) ||
      llvm::is_contained(w.keepPost, true))
    remark << "; RMS-normalized latents kept whole";
  remark.report();

  llvm::SetVector<Operation *> producers;
  for (Value operand : op->getOperands())
    if (Operation *def = operand.getDefiningOp())
      producers.insert(def);
  op->getResult(0).replaceAllUsesWith(attention.getResult());
  op->erase();
  for (Operation *def : producers)
    if (isa<arith::ConstantOp>(def) && def->use_empty())
      def->erase();
  return success();
}
