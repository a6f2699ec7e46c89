//===- Hosvd.h - Truncated HOSVD of attention weight tensors ----*- C++ -*-===//
//
// The linear algebra of --tucker-ranks and --tucker-compress (DESIGN.md §1,
// "Compression"), in two parts:
//
//  * `mlir::tucker::hosvd`: Eigen only, no MLIR. A weight tensor
//    𝒲 ∈ R^{n×dA×dB} (modes head, row, column) is given as a sum of low-rank
//    slices and never materialized; its mode Grams, numerical multilinear
//    ranks and truncated HOSVD are computed from the factors. Reusable from
//    the Python package through a C ABI.
//  * `mlir::tucker::readAttentionWeights`: reads the constant weights of a
//    tucker.mha / gqa / mla / attention op into the two factored tensors
//    (pre-softmax 𝒲: head, query, key; post-softmax 𝒲̃: head, output,
//    value) together with what a compressed tucker.attention must keep.
//
// Precision: the Grams square the singular values, so in float64 a mode
// singular value is resolved down to about 1e-7·σ₁ and a relative error down
// to about 1e-7; below that the numbers are rounding noise.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_DIALECT_TUCKER_TRANSFORMS_HOSVD_H
#define TUCKER_DIALECT_TUCKER_TRANSFORMS_HOSVD_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"

#include <Eigen/Dense>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tucker::hosvd {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

/// A 3-tensor 𝒲 ∈ R^{n×dA×dB} as a sum of low-rank pieces:
///
///   𝒲_i = Σ_a mix(i, a) · (leftBasis · left_a) · (rightBasis · right_a)ᵀ
///
/// where `left_a`/`right_a` are the a-th column blocks (widths `widths[a]`) of
/// `left` (ℓA × K) and `right` (ℓB × K). An absent `mix` is the identity
/// (one piece per head), an absent basis the identity (ℓ = d). Examples:
/// MHA pre-softmax: pieces W^Q_i, W^K_i; MLA: bases wq_a and wkv_a with the
/// per-head latent maps as pieces; tucker.attention: mix U1, bases U2, U3,
/// core slices as pieces.
struct FactoredTensor {
  int64_t numHeads = 0;
  std::optional<Matrix> mix;
  std::optional<Matrix> leftBasis, rightBasis;
  Matrix left, right;
  std::vector<int64_t> widths;

  /// Mode sizes dA (rows of a slice) and dB (columns).
  int64_t rows() const { return leftBasis ? leftBasis->rows() : left.rows(); }
  int64_t cols() const {
    return rightBasis ? rightBasis->rows() : right.rows();
  }
  int64_t numPieces() const { return static_cast<int64_t>(widths.size()); }
};

/// Checks the shapes of a FactoredTensor; returns an explanation or "".
std::string checkShapes(const FactoredTensor &t);

/// The spectrum of one mode Gram: eigenvalues (squared mode singular values,
/// descending, negatives from rounding clamped to 0) and eigenvectors in the
/// mode's orthonormal coordinates.
struct ModeSpectrum {
  Vector values;
  Matrix vectors;
};

/// The Grams of the three modes of a FactoredTensor, computed in orthonormal
/// coordinates of the bases (Householder QR), never from d×d slices.
struct Analysis {
  double normSquared = 0; // ‖𝒲‖_F²
  std::array<ModeSpectrum, 3> modes;
  // Internals reused by truncate(): orthonormal bases (absent = identity)
  // and the pieces in their coordinates (R·left, R·right).
  std::optional<Matrix> leftQ, rightQ;
  Matrix leftCoords, rightCoords;
  std::vector<int64_t> offsets; // column offset of each piece, plus K
  /// Widths of the factors a kept (untruncated) mode has: mix columns (or
  /// n), basis columns (or dA, dB).
  std::array<int64_t, 3> keptWidths = {0, 0, 0};
};

/// Mode Grams and their eigen-decompositions (SelfAdjointEigenSolver):
///   head: Gram[i,j] = <𝒲_i, 𝒲_j> = Σ_ab mix(i,a) mix(j,b) <A_aᵀA_b, B_aᵀB_b>;
///   row:  Σ_ab (mixᵀmix)(a,b) A_a (B_aᵀB_b) A_bᵀ;  column: the transpose.
/// Without `vectors` only the eigenvalues are computed (several times faster
/// for large d; enough for ranks, not for truncate()).
Analysis analyze(const FactoredTensor &t, bool vectors = true);

/// Mode sizes in orthonormal coordinates [n, ℓA', ℓB']: the largest ranks the
/// tensor can have (the row/column sizes, or the basis widths if smaller).
std::array<int64_t, 3> modeSizes(const Analysis &a);

/// Mode singular values σ_k = √λ_k, descending.
Vector singularValues(const ModeSpectrum &mode);

/// Numerical rank: the number of σ_k > tolerance·σ₁ (0 for a zero tensor).
int64_t numericalRank(const ModeSpectrum &mode, double tolerance);
std::array<int64_t, 3> numericalRanks(const Analysis &a, double tolerance);

/// Ranks for a relative error bound ε: each truncated mode keeps the fewest
/// directions whose discarded energy Σ_{k>r} σ_k² is at most ε²‖𝒲‖²/T (T =
/// the number of truncated modes), which guarantees ‖𝒲 − 𝒲̂‖ ≤ ε‖𝒲‖ for the
/// truncated HOSVD. Kept modes get their full size. Every rank is ≥ 1.
std::array<int64_t, 3> ranksForError(const Analysis &a, double relError,
                                     std::array<bool, 3> keep);

/// A truncated HOSVD: 𝒲 ≈ 𝒞 ×1 U1 ×2 U2 ×3 U3.
struct Truncation {
  Matrix u1, u2, u3;        // n×r1, dA×r2, dB×r3
  std::vector<Matrix> core; // r1 slices of r2×r3
  std::array<int64_t, 3> ranks;
  double normSquared = 0; // ‖𝒲‖²
  double keptSquared = 0; // ‖𝒲̂‖² = ‖𝒲 ×_m U_mᵀ over truncated m‖²
  double relativeError = 0; // ‖𝒲 − 𝒲̂‖ / ‖𝒲‖ = √(1 − kept/norm)
};

/// Truncated HOSVD at `ranks` (each clamped to [1, modeSizes]): U_m are the
/// leading Gram eigenvectors of each mode and 𝒞 = 𝒲 ×1 U1ᵀ ×2 U2ᵀ ×3 U3ᵀ,
/// computed per piece as (U2ᵀA_a)(B_aᵀU3) (r2×r3) and mixed by U1ᵀ·mix.
/// A mode with keep[m] is not truncated: its factor is the basis itself
/// (mix for the head mode, identity when absent) and the core is in the
/// basis' coordinates; the error is then that of the other modes.
Truncation truncate(const FactoredTensor &t, const Analysis &a,
                    std::array<int64_t, 3> ranks, std::array<bool, 3> keep);

} // namespace mlir::tucker::hosvd

namespace mlir::tucker {

/// The two weight tensors of an attention op with constant weights, and what
/// a compressed tucker.attention has to carry besides its factors.
///
/// Conventions (DESIGN.md §1): pre-softmax 𝒲_i = W^Q_i W^{K,T}_i (modes head,
/// query, key); post-softmax 𝒲̃_i = (W^V_i W^O_i)ᵀ (head, output, value).
/// MLA and tucker.attention with RMS norms: the norms' weights are folded into
/// the tensors and their per-token 1/rms factors are outside the bilinear
/// forms (set to 1); a mode under a norm is kept whole by compression, since
/// truncating it would change the root mean square the norm divides by.
struct AttentionWeights {
  hosvd::FactoredTensor pre, post;
  /// Modes that must not be truncated (index 0 head, 1 query/output, 2
  /// key/value): they carry an RMS norm, so their factor stays the latent.
  std::array<bool, 3> keepPre = {false, false, false};
  std::array<bool, 3> keepPost = {false, false, false};
  /// The pre-softmax row mode has one extra last row, the query bias: the
  /// augmented query [x, 1]·[W^Q; b_q] (only with foldQueryBias).
  bool queryBiasRow = false;
  /// The folded output bias b_v·W^O + b_o, or the op's out_bias.
  std::optional<hosvd::Vector> outBias;
  /// A tucker.attention out_bias that is not a constant (as --tucker-lift
  /// folds b_v·W^O + b_o): no part of 𝒲̃, so it is kept as it is.
  Value outBiasValue;
  /// RMS norms of the latents (width and epsilon), for kept modes.
  RmsNormAttr queryNorm, keyNorm, valueNorm;
  /// The value latent is the first columns of the key latent (MLA): the KV
  /// cache holds the key latent only.
  bool sharedKvLatent = false;
  /// Weight parameters (all weight operands' elements) and KV-cache values
  /// per token of the op as it is.
  int64_t params = 0, kvPerToken = 0;
  /// The op's rope (not part of the tensors), effective softmax scale and
  /// causality.
  RopeAttr rope;
  double scale = 1.0;
  bool causal = false;
  /// Element type of the op.
  Type elementType;
};

/// Whether `op` is a tucker.mha, gqa, mla or attention op.
bool isAttentionLayer(Operation *op);

/// Reads the weights of an attention layer. Fails, with `reason` set (e.g.
/// "operand 'wq' is not a constant"), when a weight it needs is not an
/// arith.constant with dense f32/f16/bf16 elements. With `foldQueryBias`, an
/// MHA bq or tucker.attention query_bias becomes the extra last row of the
/// pre-softmax query mode, and the output-side biases fold into `outBias`
/// (or `outBiasValue`); without it biases are ignored (they are not part of
/// 𝒲, 𝒲̃).
FailureOr<AttentionWeights>
readAttentionWeights(Operation *op, bool foldQueryBias, std::string &reason);

} // namespace mlir::tucker

#endif // TUCKER_DIALECT_TUCKER_TRANSFORMS_HOSVD_H
