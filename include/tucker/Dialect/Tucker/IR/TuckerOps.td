//===- TuckerOps.td - Tucker operations --------------------*- tablegen -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKEROPS_TD
#define TUCKER_DIALECT_TUCKER_IR_TUCKEROPS_TD

include "tucker/Dialect/Tucker/IR/TuckerBase.td"
include "tucker/Dialect/Tucker/IR/TuckerAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"

def Tucker_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Tucker_IntTensor : RankedTensorOf<[AnySignlessInteger, Index]>;

// Attributes shared by the attention ops.
defvar Tucker_CommonAttrs = (ins UnitAttr:$causal,
                                 OptionalAttr<F64Attr>:$scale,
                                 OptionalAttr<Tucker_RopeAttr>:$rope);

def Tucker_MhaOp : Tucker_Op<"mha", [Pure, AttrSizedOperandSegments]> {
  let summary = "multi-head self-attention layer";
  let description = [{
    `Y = Σ_i softmax(s · Q_i K_iᵀ + mask) V_i W^O_i + b_o` with
    `Q = x·wq + bq`, `K = x·wk + bk`, `V = x·wv + bv` split into
    `num_heads` column blocks (`head_dim = cols(wq) / num_heads`,
    `value_dim = cols(wv) / num_heads`). `rope` rotates each head's query
    and key (positions `0..N-1`); `scale` defaults to `1/√head_dim`;
    `causal` lets query `m` see keys `n ≤ m`.

    Example:
    ```mlir
    %y = tucker.mha %x, %wq, %wk, %wv, %wo {num_heads = 4 : i64, causal}
        : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
           tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = !con((ins Tucker_FloatTensor:$x, Tucker_FloatTensor:$wq,
                            Tucker_FloatTensor:$wk, Tucker_FloatTensor:$wv,
                            Tucker_FloatTensor:$wo,
                            Optional<Tucker_FloatTensor>:$bq,
                            Optional<Tucker_FloatTensor>:$bk,
                            Optional<Tucker_FloatTensor>:$bv,
                            Optional<Tucker_FloatTensor>:$bo,
                            I64Attr:$num_heads),
                       Tucker_CommonAttrs);
  let results = (outs Tucker_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $wq `,` $wk `,` $wv `,` $wo
    (`bq` `(` $bq^ `)`)? (`bk` `(` $bk^ `)`)? (`bv` `(` $bv^ `)`)?
    (`bo` `(` $bo^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Shapes derived from the operands; only valid on a verified op.
    MultiHeadDims getDims();
    /// The softmax scale, explicit or `1/√head_dim`.
    double getEffectiveScale();
  }];
}

def Tucker_GqaOp : Tucker_Op<"gqa", [Pure]> {
  let summary = "grouped-query self-attention layer (MQA when num_kv_heads = 1)";
  let description = [{
    Like `tucker.mha` without biases, with `num_kv_heads` key and value
    heads: query head `i` attends with key/value head
    `i / (num_heads / num_kv_heads)`. `wq` is `[d, H·head_dim]`, `wk`
    `[d, H_kv·head_dim]`, `wv` `[d, H_kv·value_dim]`, `wo`
    `[H·value_dim, d]`.

    Example:
    ```mlir
    %y = tucker.gqa %x, %wq, %wk, %wv, %wo
        {num_heads = 8 : i64, num_kv_heads = 2 : i64,
         rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
        : (tensor<1x32x128xf32>, tensor<128x128xf32>, tensor<128x32xf32>,
           tensor<128x32xf32>, tensor<128x128xf32>) -> tensor<1x32x128xf32>
    ```
  }];
  let arguments = !con((ins Tucker_FloatTensor:$x, Tucker_FloatTensor:$wq,
                            Tucker_FloatTensor:$wk, Tucker_FloatTensor:$wv,
                            Tucker_FloatTensor:$wo, I64Attr:$num_heads,
                            I64Attr:$num_kv_heads),
                       Tucker_CommonAttrs);
  let results = (outs Tucker_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $wq `,` $wk `,` $wv `,` $wo attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    MultiHeadDims getDims();
    double getEffectiveScale();
  }];
}

def Tucker_MlaOp : Tucker_Op<"mla", [Pure, AttrSizedOperandSegments]> {
  let summary = "DeepSeek-V2/V3 multi-head latent attention layer";
  let description = [{
    HF `DeepseekV3Attention` with weights transposed to `[in, out]`:
    `q = (rms(x·wq_a)·q_norm)·wq_b` (or `x·wq_b` without `wq_a`), per head
    `[nope | rope]`; `x·wkv_a = [c_kv | k_rope]`; `(rms(c_kv)·kv_norm)·wkv_b`
    gives per head `[k_nope | v]`; each head's key is `[k_nope | k_rope]`
    with `k_rope` shared by all heads. `rope` acts on each head's
    `[nope | rope]` query and key and may only rotate the decoupled dims.
    `scale` defaults to `1/√(nope + rope)`; the RMS norms use
    `norm_epsilon`.

    Example:
    ```mlir
    %y = tucker.mla %x, q_a(%wq_a, %q_norm), %wq_b, %wkv_a, %kv_norm,
           %wkv_b, %wo
        {num_heads = 4 : i64, q_lora_rank = 32 : i64, kv_lora_rank = 16 : i64,
         qk_nope_head_dim = 8 : i64, qk_rope_head_dim = 4 : i64,
         v_head_dim = 8 : i64}
        : (tensor<1x8x64xf32>, tensor<64x32xf32>, tensor<32xf32>,
           tensor<32x48xf32>, tensor<64x20xf32>, tensor<16xf32>,
           tensor<16x64xf32>, tensor<32x64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = !con((ins Tucker_FloatTensor:$x,
                            Optional<Tucker_FloatTensor>:$wq_a,
                            Optional<Tucker_FloatTensor>:$q_norm,
                            Tucker_FloatTensor:$wq_b,
                            Tucker_FloatTensor:$wkv_a,
                            Tucker_FloatTensor:$kv_norm,
                            Tucker_FloatTensor:$wkv_b, Tucker_FloatTensor:$wo,
                            I64Attr:$num_heads,
                            OptionalAttr<I64Attr>:$q_lora_rank,
                            I64Attr:$kv_lora_rank, I64Attr:$qk_nope_head_dim,
                            I64Attr:$qk_rope_head_dim, I64Attr:$v_head_dim,
                            DefaultValuedAttr<F64Attr, "1.0e-6">:$norm_epsilon),
                       Tucker_CommonAttrs);
  let results = (outs Tucker_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` (`q_a` `(` $wq_a^ `,` $q_norm `)` `,`)? $wq_b `,` $wkv_a `,`
    $kv_norm `,` $wkv_b `,` $wo attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MlaDims getDims();
    double getEffectiveScale();
  }];
}

def Tucker_AttentionOp : Tucker_Op<"attention",
                                   [Pure, AttrSizedOperandSegments]> {
  let summary = "Tucker attention";
  let description = [{
    The pre-softmax tensor is `𝒞 ×1 U1 ×2 U2 ×3 U3` and the post-softmax
    tensor `𝒞̃ ×1 Ũ1 ×2 Ũ2 ×3 Ũ3` (operands `u1_out`, `u2_out`, `u3_out`,
    `core_out`). Per token: `q̃ = x·U2 + query_bias`, then `query_norm`;
    per head `q_i = q̃·G_i` with `G_i = Σ_a U1[i,a]·𝒞_a`; one shared key
    `k = x·U3` (then `key_norm`) and value `v = x·Ũ3` (then `value_norm`);
    `rope` rotates `q_i` and `k` in the key space; `o_i = softmax(s·q_i·kᵀ)·v`;
    `y = Σ_i Ũ2·G̃_i·o_i + out_bias` with `G̃_i = Σ_a Ũ1[i,a]·𝒞̃_a`.

    Both cores are dense operands, or both are absent and `selector`
    describes them (MHA/GQA/MQA). `ranks` repeats the factor shapes.
    `scale` is required with dense cores and defaults to `1/√head_dim` with
    a selector.

    Example (MHA with 4 heads of 16 in Tucker form):
    ```mlir
    %y = tucker.attention %x, pre(%u1, %u2, %u3), post(%v1, %v2, %v3)
        {ranks = #tucker.ranks<[4, 64, 64], [4, 64, 64]>,
         selector = #tucker.selector<head_dim = 16, groups = [0, 1, 2, 3]>}
        : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>,
           tensor<64x64xf32>, tensor<4x4xf32>, tensor<64x64xf32>,
           tensor<64x64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = !con((ins Tucker_FloatTensor:$x, Tucker_FloatTensor:$u1,
                            Tucker_FloatTensor:$u2, Tucker_FloatTensor:$u3,
                            Optional<Tucker_FloatTensor>:$core,
                            Tucker_FloatTensor:$u1_out,
                            Tucker_FloatTensor:$u2_out,
                            Tucker_FloatTensor:$u3_out,
                            Optional<Tucker_FloatTensor>:$core_out,
                            Optional<Tucker_FloatTensor>:$query_bias,
                            Optional<Tucker_FloatTensor>:$out_bias,
                            Tucker_RanksAttr:$ranks,
                            OptionalAttr<Tucker_SelectorAttr>:$selector,
                            OptionalAttr<Tucker_RmsNormAttr>:$query_norm,
                            OptionalAttr<Tucker_RmsNormAttr>:$key_norm,
                            OptionalAttr<Tucker_RmsNormAttr>:$value_norm),
                       Tucker_CommonAttrs);
  let results = (outs Tucker_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` `pre` `(` $u1 `,` $u2 `,` $u3 (`,` `core` $core^)? `)` `,`
    `post` `(` $u1_out `,` $u2_out `,` $u3_out (`,` `core` $core_out^)? `)`
    (`query_bias` `(` $query_bias^ `)`)? (`out_bias` `(` $out_bias^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    TuckerDims getDims();
    double getEffectiveScale();
  }];
}

def Tucker_FlashOp : Tucker_Op<"flash", [Pure]> {
  let summary = "flash attention over per-head queries, keys and values";
  let description = [{
    `out[b,h] = softmax(s·q[b,h]·k[b,g]ᵀ + mask)·v[b,g]` with
    `g = h / (Hq / Hkv)`; `q` is `[B, Hq, Nq, Dqk]`, `k` `[B, Hkv, Nk, Dqk]`,
    `v` `[B, Hkv, Nk, Dv]`, the result `[B, Hq, Nq, Dv]`. `scale` defaults
    to `1/√Dqk`.

    `lengths` (optional, i32 `[B]`) gives each sequence of the batch its
    number of valid keys (a KV cache filled up to `L`): for batch entry `b`,
    `L = clamp(lengths[b], 0, Nk)` (out-of-range values are clamped, not an
    error) and only keys `n < L` exist. Without `lengths`, `L = Nk`.
    `causal` aligns the last query with the last valid key: query `m` sees
    key `n` iff `n < L` and `n ≤ m + L − Nq`. A query that sees no key yields
    zeros. `rope` rotates queries at positions `m + L − Nq` and keys at
    positions `n` (their cache index) on the fly.

    `lse` (an optional second result, f32 `[B, Hq, Nq]`) is the log-sum-exp
    of each query row: the natural log of `Σ_n exp(s·q[b,h,m]·k[b,g,n])`
    over the keys the row sees, `−inf` for a row that sees none. It is what
    `tucker.flash_backward` needs to recompute the probabilities, and what a
    caller needs to merge partial results over key blocks.

    `schedule` (optional, `#tucker.flash_schedule`) says how the op runs on
    a Hopper GPU; `--tucker-gpu-configure` stamps it where it is absent and
    `--tucker-flash-to-gpu` reads it. It does not change what the op
    computes, and the CPU lowering ignores it.

    Examples:
    ```mlir
    %o = tucker.flash %q, %k, %v {causal}
        : tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>,
          tensor<2x2x128x64xbf16> -> tensor<2x8x128x64xbf16>
    // Decode: one new query per sequence over a cache of up to 4096 keys.
    %d = tucker.flash %q1, %kc, %vc lengths(%len : tensor<2xi32>) {causal}
        : tensor<2x8x1x64xbf16>, tensor<2x2x4096x64xbf16>,
          tensor<2x2x4096x64xbf16> -> tensor<2x8x1x64xbf16>
    // Training: the output and the log-sum-exp of each row.
    %o2, %lse = tucker.flash %q, %k, %v {causal}
        : tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>,
          tensor<2x2x128x64xbf16> -> tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>
    ```
  }];
  let arguments = !con((ins Tucker_FloatTensor:$q, Tucker_FloatTensor:$k,
                            Tucker_FloatTensor:$v,
                            Optional<AnyRankedTensor>:$lengths),
                       Tucker_CommonAttrs,
                       (ins OptionalAttr<Tucker_FlashScheduleAttr>:$schedule));
  let results = (outs Tucker_FloatTensor:$result,
                      Optional<RankedTensorOf<[F32]>>:$lse);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type($result)
    (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    double getEffectiveScale();
  }];
}

def Tucker_FlashBackwardOp : Tucker_Op<"flash_backward", [Pure]> {
  let summary = "gradients of a tucker.flash";
  let description = [{
    The gradients `q_grad`, `k_grad`, `v_grad` of a scalar loss with respect
    to the operands of the `tucker.flash` that computed `out` and `lse` from
    `q`, `k`, `v` with the same `lengths`, `causal`, `scale` and `rope`,
    given `out_grad`, the loss's gradient with respect to `out`. With
    `P = exp(s·q·kᵀ − lse)` (zero where the mask hides a key) and
    `D = rowsum(out_grad ∘ out)`:

    ```
    v_grad = Pᵀ·out_grad        dS = P ∘ (out_grad·vᵀ − D)
    q_grad = s·dS·k             k_grad = s·dSᵀ·q
    ```

    summed over the query heads that share a key/value head (GQA, MQA,
    latent MQA). Keys a sequence does not see (`n ≥ L`) get zero gradients.
    With `rope`, the products above use the rotated q and k and the
    rotation is undone on `q_grad` and `k_grad` (they are gradients with
    respect to the operands before rotation). When `v` is a column slice of
    `k` (shared latent), the gradient of the shared tensor is `k_grad` with
    `v_grad` added to its first `Dv` columns.

    Types: `q`, `k`, `v`, `out`, `out_grad` share an element type (f32,
    f16, bf16); `lse` is f32 `[B, Hq, Nq]`; each gradient has the type of
    its operand. Products and sums are computed in f32.

    `deterministic` asks for the same bits on every run of the same inputs.
    The CPU lowering always sums in one order; on a GPU the dQ contributions
    of different key tiles are then added in a fixed order (the schedule's
    `ordered_dq`) instead of by atomics in whatever order they come.

    `schedule` (optional, `#tucker.flash_backward_schedule`) says how the op
    runs on a Hopper GPU, as `tucker.flash`'s does; the CPU lowering ignores
    it.

    Example:
    ```mlir
    %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do {causal}
        : tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>,
          tensor<2x2x128x64xbf16>, tensor<2x8x128x64xbf16>,
          tensor<2x8x128xf32>, tensor<2x8x128x64xbf16>
        -> tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>,
           tensor<2x2x128x64xbf16>
    ```
  }];
  let arguments = !con((ins Tucker_FloatTensor:$q, Tucker_FloatTensor:$k,
                            Tucker_FloatTensor:$v, Tucker_FloatTensor:$out,
                            RankedTensorOf<[F32]>:$lse,
                            Tucker_FloatTensor:$out_grad,
                            Optional<AnyRankedTensor>:$lengths),
                       Tucker_CommonAttrs,
                       (ins UnitAttr:$deterministic,
                            OptionalAttr<Tucker_FlashBackwardScheduleAttr>
                                :$schedule));
  let results = (outs Tucker_FloatTensor:$q_grad, Tucker_FloatTensor:$k_grad,
                      Tucker_FloatTensor:$v_grad);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $out `,` $lse `,` $out_grad
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)? attr-dict `:`
    type($q) `,` type($k) `,` type($v) `,` type($out) `,` type($lse) `,`
    type($out_grad) `->` type($q_grad) `,` type($k_grad) `,` type($v_grad)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    double getEffectiveScale();
  }];
}

def Tucker_RopeOp : Tucker_Op<"rope", [Pure]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates the last dim of `x` (`[B, H, N, D]`) as `rope` describes, at
    positions `positions` (`[N]` or `[B, N]`, default `0..N-1`).

    Example:
    ```mlir
    %y = tucker.rope %x {rope = #tucker.rope<theta = 10000.0, width = 64, style = half>}
        : tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>
    ```
  }];
  let arguments = (ins Tucker_FloatTensor:$x,
                       Optional<Tucker_IntTensor>:$positions,
                       Tucker_RopeAttr:$rope);
  let results = (outs Tucker_FloatTensor:$result);
  let assemblyFormat = [{
    $x (`positions` `(` $positions^ `:` type($positions) `)`)? attr-dict `:`
    type($x) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKEROPS_TD
