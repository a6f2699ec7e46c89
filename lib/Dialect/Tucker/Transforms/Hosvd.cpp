//===- Hosvd.cpp - Truncated HOSVD of attention weight tensors ------------===//
//
// Part 1 (namespace hosvd) is plain Eigen in float64; part 2 reads the
// constant weights of the tucker attention ops into factored tensors.
//
//===----------------------------------------------------------------------===//

#include "tucker/Dialect/Tucker/Transforms/Hosvd.h"
#include "tucker/Dialect/Tucker/Utils/LinalgBuilders.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tucker;
using hosvd::Matrix;
using hosvd::Vector;

//===----------------------------------------------------------------------===//
// Part 1: linear algebra
//===----------------------------------------------------------------------===//

std::string hosvd::checkShapes(const FactoredTensor &t) {
  int64_t total = 0;
  for (int64_t w : t.widths) {
    if (w < 0)
      return "negative piece width";
    total += w;
  }
  if (t.left.cols() != total || t.right.cols() != total)
    return "left/right columns do not add up to the piece widths";
  if (t.leftBasis && t.leftBasis->cols() != t.left.rows())
    return "left basis columns differ from the rows of left";
  if (t.rightBasis && t.rightBasis->cols() != t.right.rows())
    return "right basis columns differ from the rows of right";
  if (t.numHeads <= 0)
    return "no heads";
  if (t.mix) {
    if (t.mix->rows() != t.numHeads || t.mix->cols() != t.numPieces())
      return "mix is not heads x pieces";
  } else if (t.numPieces() != t.numHeads) {
    return "without mix there must be one piece per head";
  }
  return "";
}

/// Orthonormal coordinates of `basis · pieces`: basis = Q·R (Householder),
/// returns Q (thin) and R·pieces. ‖basis·X‖ = ‖R·X‖ for every X.
static void orthonormalize(const std::optional<Matrix> &basis,
                           const Matrix &pieces, std::optional<Matrix> &q,
                           Matrix &coords) {
  if (!basis) {
    q.reset();
    coords = pieces;
    return;
  }
  const Matrix &l = *basis;
  int64_t p = std::min(l.rows(), l.cols());
  Eigen::HouseholderQR<Matrix> qr(l);
  q = Matrix(qr.householderQ() * Matrix::Identity(l.rows(), p));
  Matrix r = qr.matrixQR().topRows(p).triangularView<Eigen::Upper>();
  coords = r * pieces;
}

/// <𝒱_a, 𝒱_b> for all pieces 𝒱_a = A_a B_aᵀ: <A_aᵀA_b, B_aᵀB_b>_F. With
/// `mixGram` (mixᵀmix) also accumulates the row Gram Σ_ab S_ab A_a B_aᵀB_b
/// A_bᵀ into `rowGram` and the column Gram into `colGram` when they are
/// non-null (without mix, S is the identity).
static Matrix pieceGram(const Matrix &a, const Matrix &b,
                        ArrayRef<int64_t> offsets, const Matrix *mixGram,
                        Matrix *rowGram, Matrix *colGram) {
  int64_t m = static_cast<int64_t>(offsets.size()) - 1;
  int64_t total = offsets.back();
  Matrix gram = Matrix::Zero(m, m);
  if (rowGram)
    *rowGram = Matrix::Zero(a.rows(), a.rows());
  if (colGram)
    *colGram = Matrix::Zero(b.rows(), b.rows());
  for (int64_t i = 0; i < m; ++i) {
    int64_t oi = offsets[i], ki = offsets[i + 1] - offsets[i];
    if (ki == 0)
      continue;
    auto ai = a.middleCols(oi, ki);
    auto bi = b.middleCols(oi, ki);
    // Row blocks of AᵀA and BᵀB (all pieces when mixing, else from i on).
    bool full = mixGram != nullptr;
    int64_t from = full ? 0 : oi;
    Matrix gaRow = ai.transpose() * a.middleCols(from, total - from);
    Matrix gbRow = bi.transpose() * b.middleCols(from, total - from);
    for (int64_t j = full ? 0 : i; j < m; ++j) {
      int64_t oj = offsets[j] - from, kj = offsets[j + 1] - offsets[j];
      gram(i, j) =
          gaRow.middleCols(oj, kj).cwiseProduct(gbRow.middleCols(oj, kj)).sum();
      gram(j, i) = gram(i, j);
    }
    if (!full) {
      if (rowGram)
        *rowGram += ai * gbRow.leftCols(ki) * ai.transpose();
      if (colGram)
        *colGram += bi * gaRow.leftCols(ki) * bi.transpose();
      continue;
    }
    // Scale block j of the row blocks by S(i, j), then contract.
    for (int64_t j = 0; j < m; ++j) {
      int64_t oj = offsets[j], kj = offsets[j + 1] - offsets[j];
      gaRow.middleCols(oj, kj) *= (*mixGram)(i, j);
      gbRow.middleCols(oj, kj) *= (*mixGram)(i, j);
    }
    if (rowGram)
      *rowGram += ai * (gbRow * a.transpose());
    if (colGram)
      *colGram += bi * (gaRow * b.transpose());
  }
  return gram;
}

static hosvd::ModeSpectrum spectrum(Matrix gram, bool vectors) {
  gram = (0.5 * (gram + gram.transpose())).eval();
  hosvd::ModeSpectrum s;
  if (gram.rows() == 0)
    return s;
  Eigen::SelfAdjointEigenSolver<Matrix> solver(
      gram, vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  s.values = solver.eigenvalues().reverse().cwiseMax(0.0);
  if (vectors)
    s.vectors = solver.eigenvectors().rowwise().reverse();
  return s;
}

hosvd::Analysis hosvd::analyze(const FactoredTensor &t, bool vectors) {
  assert(checkShapes(t).empty() && "malformed FactoredTensor");
  Analysis an;
  an.offsets.assign(1, 0);
  for (int64_t w : t.widths)
    an.offsets.push_back(an.offsets.back() + w);
  orthonormalize(t.leftBasis, t.left, an.leftQ, an.leftCoords);
  orthonormalize(t.rightBasis, t.right, an.rightQ, an.rightCoords);
  an.keptWidths = {t.mix ? t.mix->cols() : t.numHeads,
                   t.leftBasis ? t.leftBasis->cols() : t.rows(),
                   t.rightBasis ? t.rightBasis->cols() : t.cols()};

  std::optional<Matrix> mixGram;
  if (t.mix)
    mixGram = t.mix->transpose() * *t.mix;
  Matrix rowGram, colGram;
  Matrix headGram =
      pieceGram(an.leftCoords, an.rightCoords, an.offsets,
                mixGram ? &*mixGram : nullptr, &rowGram, &colGram);
  if (t.mix)
    headGram = *t.mix * headGram * t.mix->transpose();
  an.normSquared = std::max(0.0, headGram.trace());
  an.modes[0] = spectrum(std::move(headGram), vectors);
  an.modes[1] = spectrum(std::move(rowGram), vectors);
  an.modes[2] = spectrum(std::move(colGram), vectors);
  return an;
}

std::array<int64_t, 3> hosvd::modeSizes(const Analysis &a) {
  return {static_cast<int64_t>(a.modes[0].values.size()),
          static_cast<int64_t>(a.leftCoords.rows()),
          static_cast<int64_t>(a.rightCoords.rows())};
}

Vector hosvd::singularValues(const ModeSpectrum &mode) {
  return mode.values.cwiseSqrt();
}

int64_t hosvd::numericalRank(const ModeSpectrum &mode, double tolerance) {
  if (mode.values.size() == 0 || !(mode.values[0] > 0.0))
    return 0;
  double threshold = tolerance * tolerance * mode.values[0];
  int64_t rank = 0;
  for (Eigen::Index k = 0; k < mode.values.size(); ++k)
    if (mode.values[k] > threshold)
      ++rank;
  return rank;
}

std::array<int64_t, 3> hosvd::numericalRanks(const Analysis &a,
                                             double tolerance) {
  return {numericalRank(a.modes[0], tolerance),
          numericalRank(a.modes[1], tolerance),
          numericalRank(a.modes[2], tolerance)};
}

std::array<int64_t, 3> hosvd::ranksForError(const Analysis &a, double relError,
                                            std::array<bool, 3> keep) {
  std::array<int64_t, 3> sizes = modeSizes(a);
  int64_t truncated = 0;
  for (bool k : keep)
    truncated += k ? 0 : 1;
  std::array<int64_t, 3> ranks;
  for (int m = 0; m < 3; ++m) {
    if (keep[m]) {
      ranks[m] = a.keptWidths[m];
      continue;
    }
    const Vector &values = a.modes[m].values;
    double total = values.sum();
    double budget =
        relError * relError * total / std::max<int64_t>(truncated, 1);
    // Smallest r with Σ_{k≥r} λ_k ≤ budget.
    int64_t r = sizes[m];
    double tail = 0;
    while (r > 1 && tail + values[r - 1] <= budget) {
      tail += values[r - 1];
      --r;
    }
    ranks[m] = std::max<int64_t>(r, 1);
  }
  return ranks;
}

hosvd::Truncation hosvd::truncate(const FactoredTensor &t, const Analysis &a,
                                  std::array<int64_t, 3> ranks,
                                  std::array<bool, 3> keep) {
  assert(a.modes[1].vectors.cols() == a.modes[1].values.size() &&
         "truncate() needs an analysis with eigenvectors");
  std::array<int64_t, 3> sizes = modeSizes(a);
  Truncation out;
  for (int m = 0; m < 3; ++m)
    out.ranks[m] =
        keep[m] ? a.keptWidths[m] : std::clamp<int64_t>(ranks[m], 1, sizes[m]);
  int64_t numPieces = t.numPieces();
  ArrayRef<int64_t> offsets = a.offsets;

  // Head mode: U1 and the weights W (r1 × pieces) that mix pieces into core
  // slices; `project` maps the tensor's head Gram onto the kept part.
  Matrix mix = t.mix ? *t.mix : Matrix::Identity(t.numHeads, t.numHeads);
  Matrix weights;
  if (keep[0]) {
    out.u1 = mix;
    weights = Matrix::Identity(numPieces, numPieces);
  } else {
    out.u1 = a.modes[0].vectors.leftCols(out.ranks[0]);
    weights = out.u1.transpose() * mix;
  }

  // Row and column modes: the factor, the pieces in core coordinates, and
  // the pieces in orthonormal coordinates of the kept part (for the norm).
  auto side = [&](int m, const std::optional<Matrix> &basis,
                  const std::optional<Matrix> &q, const Matrix &pieces,
                  const Matrix &coords, int64_t rows, Matrix &factor,
                  Matrix &corePieces, Matrix &normPieces) {
    if (keep[m]) {
      factor = basis ? *basis : Matrix::Identity(rows, rows);
      corePieces = pieces;
      normPieces = coords;
      return;
    }
    Matrix v = a.modes[m].vectors.leftCols(out.ranks[m]);
    factor = q ? Matrix(*q * v) : v;
    corePieces = v.transpose() * coords;
    normPieces = corePieces;
  };
  Matrix coreLeft, coreRight, normLeft, normRight;
  side(1, t.leftBasis, a.leftQ, t.left, a.leftCoords, t.rows(), out.u2,
       coreLeft, normLeft);
  side(2, t.rightBasis, a.rightQ, t.right, a.rightCoords, t.cols(), out.u3,
       coreRight, normRight);

  // Core slices 𝒞_c = Σ_a W(c, a) · (left_a)(right_a)ᵀ.
  int64_t r1 = out.ranks[0];
  out.core.assign(r1, Matrix::Zero(coreLeft.rows(), coreRight.rows()));
  for (int64_t p = 0; p < numPieces; ++p) {
    int64_t o = offsets[p], k = offsets[p + 1] - offsets[p];
    if (k == 0)
      continue;
    Matrix piece =
        coreLeft.middleCols(o, k) * coreRight.middleCols(o, k).transpose();
    for (int64_t c = 0; c < r1; ++c)
      if (weights(c, p) != 0.0)
        out.core[c] += weights(c, p) * piece;
  }

  // ‖𝒲̂‖² from the head Gram of the projected pieces: trace(W G Wᵀ), with W
  // the head mixing that remains (the whole mix when the head mode is kept).
  const Matrix &normWeights = keep[0] ? mix : weights;
  Matrix mixGram = normWeights.transpose() * normWeights;
  Matrix gram =
      pieceGram(normLeft, normRight, offsets, nullptr, nullptr, nullptr);
  out.normSquared = a.normSquared;
  out.keptSquared = std::max(0.0, (gram.cwiseProduct(mixGram)).sum());
  double ratio =
      a.normSquared > 0 ? 1.0 - out.keptSquared / a.normSquared : 0.0;
  out.relativeError = std::sqrt(std::max(0.0, ratio));
  return out;
}

//===----------------------------------------------------------------------===//
// Part 2: reading the weights of attention ops
//===----------------------------------------------------------------------===//

namespace {
/// A constant tensor in row-major float64.
struct Dense {
  SmallVector<int64_t> shape;
  std::vector<double> data;
};
} // namespace

static FailureOr<Dense> readConstant(Value value, StringRef name,
                                     std::string &reason);

/// The value of the shape-only ops --tucker-lift puts between constant
/// weights and an attention op: the identity it builds, a transpose or a
/// unit-stride slice of a constant.
static std::optional<FailureOr<Dense>>
readDerivedConstant(Value value, StringRef name, std::string &reason) {
  auto type = cast<RankedTensorType>(value.getType());
  if (isIdentityMatrix(value)) {
    Dense out;
    int64_t n = type.getDimSize(0);
    out.shape = {n, n};
    out.data.assign(n * n, 0.0);
    for (int64_t i = 0; i < n; ++i)
      out.data[i * n + i] = 1.0;
    return FailureOr<Dense>(out);
  }
  if (auto transpose = value.getDefiningOp<linalg::TransposeOp>()) {
    if (transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
      return std::nullopt;
    FailureOr<Dense> in = readConstant(transpose.getInput(), name, reason);
    if (failed(in))
      return in;
    Dense out;
    int64_t rows = in->shape[0], cols = in->shape[1];
    out.shape = {cols, rows};
    out.data.resize(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        out.data[j * rows + i] = in->data[i * cols + j];
    return FailureOr<Dense>(out);
  }
  if (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (!slice.hasUnitStride() || type.getRank() != 2 ||
        ShapedType::isDynamicShape(slice.getStaticOffsets()))
      return std::nullopt;
    FailureOr<Dense> in = readConstant(slice.getSource(), name, reason);
    if (failed(in))
      return in;
    ArrayRef<int64_t> offsets = slice.getStaticOffsets();
    Dense out;
    out.shape.assign(type.getShape().begin(), type.getShape().end());
    for (int64_t i = 0; i < out.shape[0]; ++i)
      for (int64_t j = 0; j < out.shape[1]; ++j)
        out.data.push_back(
            in->data[(i + offsets[0]) * in->shape[1] + j + offsets[1]]);
    return FailureOr<Dense>(out);
  }
  return std::nullopt;
}

static FailureOr<Dense> readConstant(Value value, StringRef name,
                                     std::string &reason) {
  if (std::optional<FailureOr<Dense>> derived =
          readDerivedConstant(value, name, reason))
    return *derived;
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr))) {
    reason = ("operand '" + name + "' is not a constant").str();
    return failure();
  }
  auto type = cast<RankedTensorType>(value.getType());
  Dense out;
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  out.data.reserve(type.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat()) {
      out.data.assign(type.getNumElements(),
                      dense.getSplatValue<APFloat>().convertToDouble());
    } else if (type.getElementType().isF32()) {
      for (float v : dense.getValues<float>())
        out.data.push_back(v);
    } else {
      for (const APFloat &v : dense.getValues<APFloat>())
        out.data.push_back(v.convertToDouble());
    }
    return out;
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    if (std::optional<ArrayRef<float>> values = resource.tryGetAsArrayRef()) {
      out.data.assign(values->begin(), values->end());
      return out;
    }
  }
  reason =
      ("operand '" + name + "' is a constant without readable dense elements")
          .str();
  return failure();
}

static Matrix toMatrix(const Dense &d) {
  assert(d.shape.size() == 2 && "expected a matrix");
  Matrix m(d.shape[0], d.shape[1]);
  for (int64_t i = 0; i < d.shape[0]; ++i)
    for (int64_t j = 0; j < d.shape[1]; ++j)
      m(i, j) = d.data[i * d.shape[1] + j];
  return m;
}

static Vector toVector(const Dense &d) {
  Vector v(static_cast<Eigen::Index>(d.data.size()));
  for (size_t i = 0; i < d.data.size(); ++i)
    v[i] = d.data[i];
  return v;
}

/// Slice `a` of a constant `[s0, s1, s2]` tensor as an s1 × s2 matrix.
static Matrix slice3(const Dense &d, int64_t a) {
  int64_t s1 = d.shape[1], s2 = d.shape[2];
  Matrix m(s1, s2);
  for (int64_t i = 0; i < s1; ++i)
    for (int64_t j = 0; j < s2; ++j)
      m(i, j) = d.data[(a * s1 + i) * s2 + j];
  return m;
}

namespace {
/// Reads named constants, failing on the first that is not one.
struct Reader {
  std::string &reason;
  int64_t params = 0;
  bool failed = false;

  std::optional<Dense> get(Value v, StringRef name) {
    if (failed || !v)
      return std::nullopt;
    FailureOr<Dense> d = readConstant(v, name, reason);
    if (::mlir::failed(d)) {
      failed = true;
      return std::nullopt;
    }
    params += static_cast<int64_t>(d->data.size());
    return std::move(*d);
  }
  Matrix matrix(Value v, StringRef name) {
    std::optional<Dense> d = get(v, name);
    return d ? toMatrix(*d) : Matrix();
  }
  std::optional<Vector> vector(Value v, StringRef name) {
    std::optional<Dense> d = get(v, name);
    if (!d)
      return std::nullopt;
    return toVector(*d);
  }
};
} // namespace

static int64_t numElements(Value v) {
  return v ? cast<RankedTensorType>(v.getType()).getNumElements() : 0;
}

/// tucker.mha / tucker.gqa: pieces W^Q_i, W^K_{g(i)} and W^{O,T}_i, W^V_{g(i)}.
template <typename OpTy>
static FailureOr<AttentionWeights>
readMultiHead(OpTy op, Value bq, Value bk, Value bv, Value bo,
              bool foldQueryBias, std::string &reason) {
  MultiHeadDims dims = op.getDims();
  int64_t d = dims.model, heads = dims.numHeads, hd = dims.headDim,
          vd = dims.valueDim, group = dims.numHeads / dims.numKvHeads;
  Reader r{reason};
  Matrix wq = r.matrix(op.getWq(), "wq"), wk = r.matrix(op.getWk(), "wk"),
         wv = r.matrix(op.getWv(), "wv"), wo = r.matrix(op.getWo(), "wo");
  std::optional<Vector> bqv, bvv, bov;
  if (foldQueryBias) {
    bqv = r.vector(bq, "bq");
    bvv = r.vector(bv, "bv");
    bov = r.vector(bo, "bo");
  }
  if (r.failed)
    return failure();

  AttentionWeights w;
  w.params = r.params + (foldQueryBias ? numElements(bk)
                                       : numElements(bq) + numElements(bk) +
                                             numElements(bv) + numElements(bo));
  w.kvPerToken = dims.numKvHeads * (hd + vd);
  w.pre.numHeads = w.post.numHeads = heads;
  w.pre.widths.assign(heads, hd);
  w.post.widths.assign(heads, vd);
  w.pre.left = wq;
  w.pre.right.resize(d, heads * hd);
  w.post.left = wo.transpose();
  w.post.right.resize(d, heads * vd);
  for (int64_t i = 0; i < heads; ++i) {
    int64_t g = i / group;
    w.pre.right.middleCols(i * hd, hd) = wk.middleCols(g * hd, hd);
    w.post.right.middleCols(i * vd, vd) = wv.middleCols(g * vd, vd);
  }
  if (bqv) {
    Matrix augmented(d + 1, heads * hd);
    augmented.topRows(d) = wq;
    augmented.row(d) = bqv->transpose();
    w.pre.left = std::move(augmented);
    w.queryBiasRow = true;
  }
  if (bvv || bov) {
    Vector bias = Vector::Zero(d);
    if (bvv)
      bias += wo.transpose() * *bvv;
    if (bov)
      bias += *bov;
    w.outBias = std::move(bias);
  }
  w.scale = op.getEffectiveScale();
  return w;
}

static FailureOr<AttentionWeights> readMla(MlaOp op, std::string &reason) {
  MlaDims dims = op.getDims();
  int64_t heads = dims.numHeads, c = dims.kvLoraRank, nope = dims.nopeDim,
          rope = dims.ropeDim, vd = dims.valueDim;
  int64_t qk = nope + rope, kvw = nope + vd;
  Reader r{reason};
  std::optional<Matrix> wqA;
  if (op.getWqA())
    wqA = r.matrix(op.getWqA(), "wq_a");
  std::optional<Vector> qNorm = r.vector(op.getQNorm(), "q_norm");
  Matrix wqB = r.matrix(op.getWqB(), "wq_b");
  Matrix wkvA = r.matrix(op.getWkvA(), "wkv_a");
  std::optional<Vector> kvNorm = r.vector(op.getKvNorm(), "kv_norm");
  Matrix wkvB = r.matrix(op.getWkvB(), "wkv_b");
  Matrix wo = r.matrix(op.getWo(), "wo");
  if (r.failed)
    return failure();

  AttentionWeights w;
  w.params = r.params;
  w.kvPerToken = c + rope;
  w.sharedKvLatent = true;
  MLIRContext *ctx = op.getContext();
  APFloat eps = op.getNormEpsilon();
  // Pre-softmax: 𝒲_i = wq_a·diag(q_norm)·[W_UQ_i | W_QR_i] ·
  //   ([W_DKV·diag(kv_norm)·W_UK_i | W_KR])ᵀ, bases wq_a and wkv_a.
  w.pre.numHeads = w.post.numHeads = heads;
  w.pre.widths.assign(heads, qk);
  w.pre.leftBasis = wqA;
  w.pre.left = wqB;
  if (qNorm)
    w.pre.left = qNorm->asDiagonal() * wqB;
  w.pre.rightBasis = wkvA;
  w.pre.right = Matrix::Zero(c + rope, heads * qk);
  // Post-softmax: 𝒲̃_i = W_O_iᵀ · (W_DKV·diag(kv_norm)·W_UV_i)ᵀ, basis W_DKV.
  w.post.widths.assign(heads, vd);
  w.post.left = wo.transpose();
  w.post.rightBasis = Matrix(wkvA.leftCols(c));
  w.post.right.resize(c, heads * vd);
  for (int64_t i = 0; i < heads; ++i) {
    w.pre.right.block(0, i * qk, c, nope) =
        kvNorm->asDiagonal() * wkvB.middleCols(i * kvw, nope);
    w.pre.right.block(c, i * qk + nope, rope, rope).setIdentity();
    w.post.right.middleCols(i * vd, vd) =
        kvNorm->asDiagonal() * wkvB.middleCols(i * kvw + nope, vd);
  }
  // The latents under RMS norms are kept whole.
  w.keepPre = {false, bool(wqA), true};
  w.keepPost = {false, false, true};
  if (wqA)
    w.queryNorm = RmsNormAttr::get(ctx, eps, *dims.qLoraRank);
  w.keyNorm = RmsNormAttr::get(ctx, eps, c);
  w.valueNorm = RmsNormAttr::get(ctx, eps, c);
  w.scale = op.getEffectiveScale();
  return w;
}

static FailureOr<AttentionWeights>
readTucker(AttentionOp op, bool foldQueryBias, std::string &reason) {
  TuckerDims dims = op.getDims();
  Reader r{reason};
  Matrix u1 = r.matrix(op.getU1(), "u1"), u2 = r.matrix(op.getU2(), "u2"),
         u3 = r.matrix(op.getU3(), "u3");
  std::optional<Dense> core = r.get(op.getCore(), "core");
  Matrix v1 = r.matrix(op.getU1Out(), "u1_out"),
         v2 = r.matrix(op.getU2Out(), "u2_out"),
         v3 = r.matrix(op.getU3Out(), "u3_out");
  std::optional<Dense> coreOut = r.get(op.getCoreOut(), "core_out");
  std::optional<Vector> queryBias, outBias;
  Value outBiasValue;
  if (foldQueryBias) {
    queryBias = r.vector(op.getQueryBias(), "query_bias");
    std::string unused;
    if (Value bias = op.getOutBias();
        bias && failed(readConstant(bias, "out_bias", unused)))
      outBiasValue = bias;
    else
      outBias = r.vector(bias, "out_bias");
  }
  if (r.failed)
    return failure();

  AttentionWeights w;
  w.params = r.params + (foldQueryBias ? numElements(outBiasValue)
                                       : numElements(op.getQueryBias()) +
                                             numElements(op.getOutBias()));
  int64_t heads = dims.numHeads;

  // Pieces of one tensor: dense core slices C_a as (I, C_aᵀ) or (C_a, I)
  // in the coordinates of the bases, or selector blocks E_a, E_{g(a)}.
  auto fill = [&](hosvd::FactoredTensor &t, const Matrix &mixing,
                  const Matrix &rowBasis, const Matrix &colBasis,
                  const std::optional<Dense> &denseCore, int64_t r1, int64_t r2,
                  int64_t r3, int64_t blockWidth) {
    t.numHeads = heads;
    t.mix = mixing;
    t.leftBasis = rowBasis;
    t.rightBasis = colBasis;
    if (denseCore) {
      int64_t k = std::min(r2, r3);
      t.widths.assign(r1, k);
      t.left = Matrix::Zero(r2, r1 * k);
      t.right = Matrix::Zero(r3, r1 * k);
      for (int64_t a = 0; a < r1; ++a) {
        Matrix slice = slice3(*denseCore, a);
        if (r2 <= r3) {
          t.left.middleCols(a * k, k).setIdentity();
          t.right.middleCols(a * k, k) = slice.transpose();
        } else {
          t.left.middleCols(a * k, k) = slice;
          t.right.middleCols(a * k, k).setIdentity();
        }
      }
      return;
    }
    ArrayRef<int64_t> groups = op.getSelectorAttr().getGroups();
    int64_t blocks = static_cast<int64_t>(groups.size());
    t.widths.assign(blocks, blockWidth);
    t.left = Matrix::Zero(r2, blocks * blockWidth);
    t.right = Matrix::Zero(r3, blocks * blockWidth);
    for (int64_t a = 0; a < blocks; ++a) {
      t.left.block(a * blockWidth, a * blockWidth, blockWidth, blockWidth)
          .setIdentity();
      t.right
          .block(groups[a] * blockWidth, a * blockWidth, blockWidth, blockWidth)
          .setIdentity();
    }
  };
  SelectorAttr selector = op.getSelectorAttr();
  fill(w.pre, u1, u2, u3, core, dims.r1, dims.r2, dims.r3,
       selector ? selector.getHeadDim() : 0);
  fill(w.post, v1, v2, v3, coreOut, dims.r1Out, dims.r2Out, dims.r3Out,
       selector ? selector.getValueDimOrHeadDim() : 0);
  if (queryBias) {
    Matrix augmented(u2.rows() + 1, u2.cols());
    augmented.topRows(u2.rows()) = u2;
    augmented.row(u2.rows()) = queryBias->transpose();
    w.pre.leftBasis = std::move(augmented);
    w.queryBiasRow = true;
  }
  w.outBias = outBias;
  w.outBiasValue = outBiasValue;
  w.queryNorm = op.getQueryNormAttr();
  w.keyNorm = op.getKeyNormAttr();
  w.valueNorm = op.getValueNormAttr();
  w.keepPre = {false, bool(w.queryNorm), bool(w.keyNorm)};
  w.keepPost = {false, false, bool(w.valueNorm)};
  // The value latent is the key latent's first columns (as MLA lifts it).
  w.sharedKvLatent = op.getU3Out() == op.getU3() ||
                     (v3.cols() <= u3.cols() && v3 == u3.leftCols(v3.cols()));
  w.kvPerToken = w.sharedKvLatent ? dims.r3 : dims.r3 + dims.r3Out;
  w.scale = op.getEffectiveScale();
  return w;
}

bool mlir::tucker::isAttentionLayer(Operation *op) {
  return isa<MhaOp, GqaOp, MlaOp, AttentionOp>(op);
}

FailureOr<AttentionWeights>
mlir::tucker::readAttentionWeights(Operation *op, bool foldQueryBias,
                                   std::string &reason) {
  FailureOr<AttentionWeights> w =
      llvm::TypeSwitch<Operation *, FailureOr<AttentionWeights>>(op)
          .Case([&](MhaOp mha) {
            return readMultiHead(mha, mha.getBq(), mha.getBk(), mha.getBv(),
                                 mha.getBo(), foldQueryBias, reason);
          })
          .Case([&](GqaOp gqa) {
            return readMultiHead(gqa, Value(), Value(), Value(), Value(),
                                 foldQueryBias, reason);
          })
          .Case([&](MlaOp mla) { return readMla(mla, reason); })
          .Case([&](AttentionOp attention) {
            return readTucker(attention, foldQueryBias, reason);
          })
          .Default([&](Operation *) -> FailureOr<AttentionWeights> {
            reason = "not an attention layer";
            return failure();
          });
  if (failed(w))
    return failure();
  w->rope = op->getAttrOfType<RopeAttr>("rope");
  w->causal = op->hasAttr("causal");
  w->elementType =
      cast<ShapedType>(op->getResult(0).getType()).getElementType();
  assert(hosvd::checkShapes(w->pre).empty() &&
         hosvd::checkShapes(w->post).empty() && "inconsistent weights");
  return w;
}
