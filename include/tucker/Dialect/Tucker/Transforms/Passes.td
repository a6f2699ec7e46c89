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
    width `head_dim`; dense cores become latent MQA (one key/value head of
    widths `r3` and `r̃3`). The query and output folds pick the absorbed or
    the two-step form by FLOPs unless told otherwise.
  }];
  let options = [
    Option<"queryForm", "query-form", "std::string", /*default=*/"\"auto\"",
           "Query projection of dense cores: auto (fewest FLOPs), absorbed "
           "(x·(U2·G_i)) or two-step ((x·U2)·G_i)">,
    Option<"outputForm", "output-form", "std::string", /*default=*/"\"auto\"",
           "Output fold of dense cores: auto, absorbed or two-step">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
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
    whose weights are constants, computes the numerical multilinear ranks of
    the pre- and post-softmax weight tensors (the paper's "actual ranks") from
    the projections, never from the `d×d` slices, and emits a remark.
  }];
  let options = [
    Option<"tolerance", "tolerance", "double", /*default=*/"1.0e-6",
           "Relative singular value threshold (σ_k / σ_1) below which a "
           "direction does not count">,
  ];
}

def TuckerCompressPass : Pass<"tucker-compress"> {
  let summary = "Truncated HOSVD of constant attention weights into tucker.attention";
  let description = [{
    Replaces an attention op with constant weights by a dense-core
    `tucker.attention` whose factors are the truncated HOSVD of its weight
    tensors, at the given ranks or at the ranks a relative tolerance keeps,
    and emits a remark with the relative error of each tensor.
  }];
  let options = [
    ListOption<"ranks", "ranks", "int64_t",
               "Ranks r1,r2,r3 (applied to both tensors) or r1,r2,r3,r̃1,r̃2,r̃3">,
    Option<"tolerance", "tolerance", "double", /*default=*/"0.0",
           "Relative error tolerance per mode when no ranks are given">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // TUCKER_DIALECT_TUCKER_TRANSFORMS_PASSES_TD
