//===- Passes.td - Tucker dialect transformations ----------*- tablegen -*-===//

#ifndef TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_TD
#define TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TuckerLiftPass : Pass<"tucker-lift"> {
  let summary = "Rewrite mha, gqa and mla exactly into tucker.attention";
  let description = [{
    Replaces `tucker.mha`, `tucker.gqa` and `tucker.mla` by the
    `tucker.attention` op that computes the same function:

    * MHA/GQA/MQA: `U1 = Ũ1 = I`, `U2 = wq`, `U3 = wk`, `Ũ2 = woᵀ`,
      `Ũ3 = wv` and a `#tucker.selector` core (never materialized); per-head
      RoPE becomes one block-diagonal rotation repeated over the key blocks;
      the key bias is dropped (it cancels in the softmax), the value and
      output biases fold into `out_bias = bv·wo + bo`, the query bias stays.
      Under RoPE a nonzero key bias does not cancel: it is kept exactly as
      the weight row of a constant input feature 1 (`x' = [x, 1]`,
      `U3 = [wk; bk]`, zero rows under the other factors, the result's
      extra column dropped, the output bias added after).
    * MLA: dense cores `𝒞_i = [W^UQ_i·diag(kv_norm)·W^UK_iᵀ | W^QR_i]`
      (query norm weight folded in), `U3 = wkv_a`, `Ũ3` its latent columns,
      key and value RMS norms over the latent, the decoupled RoPE as a
      partial rotation on the last latent dims.

    Before:
    ```mlir
    %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64}
    ```
    After:
    ```mlir
    %y = tucker.attention %x, pre(%eye, %wq, %wk), post(%eye, %woT, %wv)
        {ranks = #tucker.ranks<[4, 64, 64], [4, 64, 64]>,
         selector = #tucker.selector<head_dim = 16, groups = [0, 1, 2, 3]>}
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TuckerFoldPass : Pass<"tucker-fold"> {
  let summary = "Lower tucker.attention to projections, tucker.flash and the output fold";
  let description = [{
    Executes the Tucker form: the latent projections `x·U2`, `x·U3`, `x·Ũ3`
    (with biases and RMS norms) as linalg contractions, one `tucker.flash`
    (RoPE and causality carried over), and the output fold
    `y = Σ_i Ũ2·G̃_i·o_i`. Selector cores become ordinary MHA/GQA heads of
    width `head_dim` (heads that read key blocks in another order than
    GQA's over copies of their blocks); dense cores become latent MQA (one
    key/value head of widths `r3` and `r̃3`). A selector whose head factors
    are not constant identities, or whose rope rotates key blocks
    differently, runs as the dense core it stands for. The query and output folds pick the absorbed or
    the two-step form by FLOPs unless told otherwise.
  }];
  let options = [
    Option<"queryForm", "query-form", "::mlir::tucker::FoldForm",
           /*default=*/"::mlir::tucker::FoldForm::Auto",
           "Query projection of dense cores", [{::llvm::cl::values(
             clEnumValN(::mlir::tucker::FoldForm::Auto, "auto", "fewest FLOPs"),
             clEnumValN(::mlir::tucker::FoldForm::Absorbed, "absorbed",
                        "x·(U2·G_i)"),
             clEnumValN(::mlir::tucker::FoldForm::TwoStep, "two-step",
                        "(x·U2)·G_i"))}]>,
    Option<"outputForm", "output-form", "::mlir::tucker::FoldForm",
           /*default=*/"::mlir::tucker::FoldForm::Auto",
           "Output fold of dense cores", [{::llvm::cl::values(
             clEnumValN(::mlir::tucker::FoldForm::Auto, "auto", "fewest FLOPs"),
             clEnumValN(::mlir::tucker::FoldForm::Absorbed, "absorbed",
                        "o_i·(Ũ2·G̃_i)ᵀ"),
             clEnumValN(::mlir::tucker::FoldForm::TwoStep, "two-step",
                        "Ũ2·(G̃_i·o_i)"))}]>,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TuckerShrinkRanksPass : Pass<"tucker-shrink-ranks"> {
  let summary = "Absorb dense-core ranks larger than their modes into the cores";
  let description = [{
    A rank of a dense-core `tucker.attention` larger than its mode's size
    carries no information: the factor is absorbed into the core and the
    mode takes the identity (`r2 > d`: `𝒞'_a = U2·𝒞_a`, `U2' = I_d`), one
    mode per rewrite until none exceeds its size. Modes followed by a query
    bias, a norm or a rope keep their factor, since those act on the latent.
    Both pipelines run it between `--tucker-lift` and `--tucker-fold`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def TuckerFuseRopePass : Pass<"tucker-fuse-rope"> {
  let summary = "Fold tucker.rope producers of tucker.flash into its rope attribute";
  let description = [{
    A `tucker.rope` at default positions that feeds both the queries and the
    keys of a `tucker.flash` with the same descriptor becomes the flash's
    `rope` attribute, so the rotation happens on the fly in the kernel
    (queries at positions `m + Nk − Nq` equal the default positions when
    `Nq = Nk`).
  }];
}

def TuckerRanksPass : Pass<"tucker-ranks"> {
  let summary = "Report the numerical Tucker ranks of constant attention weights";
  let description = [{
    For each `tucker.mha`, `tucker.gqa`, `tucker.mla` and `tucker.attention`
    whose weights are `arith.constant` dense tensors (f32, f16, bf16; computed
    in float64), emits a remark with the numerical multilinear ranks (the
    paper's "actual ranks") of the pre-softmax tensor `𝒲` (modes head,
    query, key; `𝒲_i = W^Q_i·W^{K,T}_i`) and the post-softmax tensor `𝒲̃`
    (head, output, value; `𝒲̃_i = (W^V_i·W^O_i)ᵀ`). The rank of a mode is the
    number of its singular values `σ_k > tolerance·σ_1`.

    The `d×d` slices are never formed: each mode's Gram comes from the
    projections (query mode `Σ_i W^Q_i (W^{K,T}_i W^K_i) W^{Q,T}_i`, head mode
    `<W^{Q,T}_i W^Q_j, W^{K,T}_i W^K_j>_F`, in orthonormal coordinates of any
    shared latent basis) and is diagonalized. GQA/MQA heads read their group's
    key/value head. `tucker.attention` uses `G_i = Σ_a U1[i,a]·𝒞_a`
    (selector cores included). Biases are not part of `𝒲`, `𝒲̃`.

    MLA (`tucker.mla`, or `tucker.attention` with RMS norms): the ranks are
    those of the bilinear forms with the norm weights folded in and the
    per-token factors `1/rms` left out (set to 1):
    `𝒲_i = wq_a·diag(q_norm)·[W^UQ_i | W^QR_i]·[W^DKV·diag(kv_norm)·W^UK_i | W^KR]ᵀ`
    (without `wq_a`: `[W^UQ_i | W^QR_i]` from `wq_b`) and
    `𝒲̃_i = W^{O,T}_i·(W^DKV·diag(kv_norm)·W^UV_i)ᵀ`. RoPE is not part of the
    tensors either; the remark says so when the op has a rope.

    Remark (ops with non-constant weights are skipped silently unless
    `report-skipped`):
    ```
    remark: pre-softmax ranks [4, 8, 8], post-softmax ranks [4, 16, 16] (tolerance 1e-06)
    ```
    With `singular-values`, six notes follow each remark, one per mode, with
    all its singular values (descending, `%.9g`; as many as the mode's size
    in orthonormal coordinates of any latent basis):
    ```
    note: pre-softmax head singular values [3.1, 2.9, 2.7, 2.2]
    note: pre-softmax query singular values [2.3, 2.1, …]
    ```
    (then `pre-softmax key`, `post-softmax head`, `post-softmax output`,
    `post-softmax value`). Singular values are resolved down to about
    `1e-7·σ_1` (Grams square them), so tolerances below that count rounding
    noise.
  }];
  let options = [
    Option<"tolerance", "tolerance", "double", /*default=*/"1.0e-6",
           "Relative singular value threshold (σ_k / σ_1) below which a "
           "direction does not count">,
    Option<"reportSkipped", "report-skipped", "bool", /*default=*/"false",
           "Also emit a remark for attention ops whose weights are not all "
           "constant, saying which operand is not">,
    Option<"singularValues", "singular-values", "bool", /*default=*/"false",
           "Attach to each remark one note per mode with all its singular "
           "values">,
  ];
}

def TuckerCompressPass : Pass<"tucker-compress"> {
  let summary = "Truncated HOSVD of constant attention weights into tucker.attention";
  let description = [{
    Replaces each `tucker.mha`, `tucker.gqa`, `tucker.mla` and
    `tucker.attention` with constant weights by a dense-core
    `tucker.attention` (`arith.constant` factors of the op's element type,
    explicit effective `scale`, `causal` kept) whose factors are the truncated
    HOSVD of `𝒲` and `𝒲̃`: `U1, U2, U3` are the leading eigenvectors of the
    mode Grams (as `--tucker-ranks` forms them) and the core
    `𝒞 = 𝒲 ×1 U1ᵀ ×2 U2ᵀ ×3 U3ᵀ` is computed per head as
    `(U2ᵀ W^Q_i)(W^{K,T}_i U3)` and mixed by `U1ᵀ`, never from `d×d` slices.

    Ranks: `ranks=r1,r2,r3` (both tensors) or `r1,r2,r3,r̃1,r̃2,r̃3`, each
    clamped to its mode size (with a remark); or `tolerance=ε`, a relative
    error bound: each truncated mode keeps the fewest directions whose
    discarded energy is at most `ε²‖𝒲‖²/T` (T truncated modes), so that
    `‖𝒲 − 𝒲̂‖ ≤ ε‖𝒲‖`.

    * Biases (MHA): the key bias cancels in the softmax and is dropped; the
      value and output biases fold exactly into `out_bias = bv·wo + bo` (a
      `tucker.attention` out_bias that is not a constant, as `--tucker-lift`
      computes it, is kept as it is: it is no part of `𝒲̃`); the
      query bias is compressed with `𝒲` as an extra query row (the augmented
      query `[x, 1]·[W^Q; b_q]`): `U2` is the first `d` rows of the factor and
      `query_bias` its last row, so the remark's error includes it.
    * RMS norms (`tucker.mla`, `tucker.attention` with `query_norm`,
      `key_norm`, `value_norm`): a normalized latent cannot be truncated (the
      root mean square would change), so those modes keep their latent
      factor (`wq_a`, `wkv_a`, its first `kv_lora_rank` columns) and their
      norm, and only the head modes, the output mode and (without `wq_a`)
      the query mode are truncated; their ranks must not be below the latent
      widths. The error is that of the tensors `--tucker-ranks` describes.
    * RoPE: refused (error naming the op); the rotation sits between the
      query and key projections.
    * Non-constant weights: error on the op.

    The remark reports the ranks, the relative Frobenius error of each
    tensor (`√(1 − ‖𝒲̂‖²/‖𝒲‖²)`, from Grams; below `1e-7` it is printed as
    `<1e-07`; the error of the float64 factors before rounding to the
    element type), and the weight parameters and KV-cache values per token
    before and after (here a GPT-2-sized MHA with random weights, which have
    no low-rank structure, at the paper's ranks):
    ```
    remark: compressed 'tucker.mha' to ranks [8, 128, 64], [8, 128, 64]: relative error pre 9.44e-01, post 9.45e-01; params 2359296 -> 426176, KV values per token 1536 -> 128
    ```
  }];
  let options = [
    ListOption<"ranks", "ranks", "int64_t",
               "Ranks r1,r2,r3 (applied to both tensors) or r1,r2,r3,r̃1,r̃2,r̃3">,
    Option<"tolerance", "tolerance", "double", /*default=*/"0.0",
           "Relative Frobenius error bound per tensor, when no ranks are "
           "given">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TuckerRaisePass : Pass<"tucker-raise"> {
  let summary = "Raise frontend attention (linalg/tensor/arith, tosa) to tucker ops";
  let description = [{
    Recognizes scaled-dot-product attention as torch-mlir / IREE (linalg,
    tensor, arith, math on tensors) and TOSA lower it, and replaces it with
    `tucker.mha` / `tucker.gqa` when the q/k/v/o projections of one `x` are
    in view, else with `tucker.flash` over the q, k, v tensors. The IR is
    read as index expressions, so projections as `linalg.matmul`,
    `batch_matmul` or generic contractions, head splits by
    `expand_shape` / `collapse_shape` / transposes / copying generics, the
    scale anywhere along q·kᵀ, softmax as `linalg.softmax` or decomposed
    (with or without the max), masks added or selected in (constant or
    built from `linalg.index` comparisons), GQA by broadcast or repeat of
    k/v heads and rotate-half RoPE with constant tables all read the same.

    Only what is provably the same function is raised: a mask becomes
    `causal` only if it keeps exactly the keys `n ≤ m + Nk − Nq` (checked
    symbolically or entry by entry), RoPE tables must equal cos/sin of one θ
    to their rounding, weights must hold whole heads in head-major order.
    The unsafe softmax `exp(s)/Σexp(s)` is raised (mathematically the
    softmax tucker computes). The new ops carry the fused locations of the
    ops they replace. See docs/raising.md.

    Before (excerpt):
    ```mlir
    %s = linalg.batch_matmul ins(%q, %kt : ...) outs(...)
    %p = linalg.softmax dimension(2) ins(%s : ...) outs(...)
    %o = linalg.batch_matmul ins(%p, %v : ...) outs(...)
    ```
    After:
    ```mlir
    %o = tucker.flash %q4, %k4, %v4 {scale = 1.0 : f64} : ...
    ```
  }];
  let options = [
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Emit a remark at every softmax of an attention that is not "
           "raised, saying why (and at a tucker.flash raised instead of a "
           "layer, why not the layer)">,
    Option<"raiseFlash", "flash", "bool", /*default=*/"true",
           "Raise attention cores to tucker.flash when the whole layer is "
           "not raisable">,
    Option<"finiteMaskFill", "finite-mask-fill", "bool", /*default=*/"false",
           "Also accept the lowest finite f32/f16/bf16 value (torch.finfo "
           "min) as a mask fill; equal to -inf unless scores span the whole "
           "float range">,
  ];
  let dependentDialects = ["::mlir::tucker::TuckerDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_TD
