"""Importing PyTorch attention modules: tucker.from_torch(module, example_x) -> MLIR text.

The result is a `func.func @forward(%x: tensor<...xT>) -> tensor<...xT>` whose only argument is
the activation x, shaped like `example_x` in the module's own layout, with the module's weights
embedded as `arith.constant dense<"0x...">` (little-endian raw bytes of the element type,
transposed to the dialect's `[in, out]` layout) and one tucker op computing the layer.

Modules:
- `torch.nn.MultiheadAttention`, self-attention only (q = k = v = x), with or without biases
  -> `tucker.mha`. x and the result are `[B, N, d]` with batch_first=True and `[N, B, d]` with
  batch_first=False (linalg.transpose to and from the op's `[B, N, d]`), so the kernel computes
  `module(x, x, x, need_weights=False)[0]`. Refused: kdim/vdim differing from embed_dim,
  add_bias_kv, add_zero_attn, dropout > 0 in training mode.
- HF attentions with q_proj, k_proj, v_proj (nn.Linear) and o_proj or out_proj, and a head_dim
  (duck-typed; x is `[B, N, d]`):
  - with RoPE (Llama, Mistral, Qwen2): rotate-half over the whole head, theta from
    `rope_theta`, `config.rope_theta`, `config.rope_parameters` (transformers 5),
    `rotary_emb.base` or the default-form `rotary_emb.inv_freq` ->
    `#tucker.rope<theta, width = head_dim, style = half>`. A module applies RoPE when its forward
    takes position_embeddings or it has a rotary_emb (rotary_dim, rotary_ndims,
    embed_positions); `use_rope` (SmolLM3, Llama 4) decides where present.
  - without RoPE (ViT / DeiT in transformers 5, BART, Whisper, OPT, CLIP, SigLIP, Jamba,
    SmolLM3's NoPE layers, ...): no rope attribute.
  -> `tucker.gqa`; with any bias -> `tucker.mha` with the biases and the key/value heads
  repeated over their query groups (exact; a key bias under RoPE is kept, as it does not
  cancel in the softmax there). Refused: rope scaling, attention_scaling != 1, per-head
  query/key norms (q_norm/k_norm, qk_norm, q_layernorm/k_layernorm), a sliding window shorter
  than N (the module's `sliding_window`, else the config's: Qwen2's when `use_sliding_window`,
  Mistral's always; a window of at least N keys changes nothing), Llama 4's query temperature
  tuning once N reaches floor_scale, parameters outside the four projections.
- GPT-2 (`c_attn`, `c_proj`: transformers' Conv1D, weights stored [in, out]; c_attn = [q | k | v])
  and GPTBigCode (nn.Linear; [q | k | v] with one key/value head when multi_query, else
  [q_h | k_h | v_h] per head) -> `tucker.mha`, the scale from `scaling` or, in transformers 4,
  scale_attn_weights and scale_attn_by_inverse_layer_idx. Refused: cross-attention.
- BERT-style self-attention (`query`, `key`, `value` nn.Linear and num_attention_heads:
  BertSelfAttention, RoBERTa's, ViTSelfAttention) -> `tucker.mha` with an identity output
  projection (the module returns the concatenated heads); a wrapper whose `.self` / `.attention`
  is one and whose `.output.dense` projects (ViTAttention in transformers 4) -> with that
  projection. Refused: an output block with a LayerNorm (BertAttention: LayerNorm(dense(h) + x);
  import its `.self`), relative position scores (position_embedding_type other than absolute).
- HF DeepseekV3-style MLA (duck-typed: kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj,
  q_proj or q_a_proj + q_a_layernorm + q_b_proj) -> `tucker.mla`, rope at offset
  qk_nope_head_dim, width qk_rope_head_dim, style interleaved (rope_interleave True) or half;
  norm epsilon from the RMSNorm modules (variance_epsilon or eps; both must agree). x is
  `[B, N, d]`.

Masks: `causal=True` adds `causal` (HF's causal mask / nn.MultiheadAttention with the causal
attn_mask `triu(ones(N, N), 1)`); the default `causal=None` takes the module's `is_causal`
(True on HF decoder attentions, whose models apply a causal mask; nn.MultiheadAttention has
none: False). No other mask exists in a compiled kernel: it takes no padding mask
(key_padding_mask, an HF attention_mask with padding) and no other attn_mask, so every sequence
of the batch is attended in full.

Element type: the dtype of the module's parameters (f32, f16 or bf16; a module whose parameters
disagree, or are float64, is refused unless `dtype` is given); `dtype` = "f32", "f16", "bf16" or
a torch dtype overrides it, rounding the weights. It is the type of x, the weights and the
result. The scale is left to the op's default unless the module's `scaling` (CLIP: `scale`)
differs from it. Anything unsupported raises TypeError (module kind) or ValueError (option,
shape, dtype, a feature the ops cannot express). Shapes are static: the function takes x of
example_x's shape only.
"""


import inspect
import math

import numpy as np

__all__ = ["from_torch"]

_DTYPE_NAMES = {"f32": "f32", "float32": "f32", "float": "f32",
                "f16": "f16", "float16": "f16", "half": "f16",
                "bf16": "bf16", "bfloat16": "bf16"}


def _dtype_name(dtype):
    if isinstance(dtype, str):
        name = _DTYPE_NAMES.get(dtype.lower())
    else:
        name = _DTYPE_NAMES.get(str(dtype).replace("torch.", ""))
    if name is None:
        raise ValueError(f"dtype {dtype!r} is not supported (expected f32, f16, bf16 or the "
                         "matching torch dtypes)")
    return name


def _fmt(value):
    """A float literal MLIR parses (it rejects `1e-06`)."""
    return format(float(value), ".17e")


def _tensor_type(shape, dtype):
    return "tensor<" + "x".join(str(int(s)) for s in shape) + f"x{dtype}>"


def _raw_bytes(array, dtype):
    a = np.asarray(array, dtype=np.float64)
    if dtype == "f32":
        data = a.astype("<f4")
    elif dtype == "f16":
        data = a.astype("<f2")
    else:
        from .compiler import to_bf16_bits
        data = to_bf16_bits(a.astype(np.float32)).astype("<u2")
    return np.ascontiguousarray(data).tobytes()


def _module_dtype(module):
    """The element type of the module's parameters (from_torch without dtype=)."""
    first = {}
    for name, p in module.named_parameters():
        first.setdefault(p.dtype, name)
    if len(first) > 1:
        listed = ", ".join(f"{name}: {str(t).replace('torch.', '')}" for t, name in first.items())
        raise ValueError(f"the module's parameters have different dtypes ({listed}): pass dtype= "
                         "(f32, f16 or bf16) to choose the element type of the function")
    dtype = str(next(iter(first))).replace("torch.", "")
    if dtype not in _DTYPE_NAMES:
        raise ValueError(f"the module's parameters are {dtype}, which tucker does not compute in: "
                         "pass dtype= (f32, f16 or bf16) to round the weights to one of those")
    return _DTYPE_NAMES[dtype]


def _numpy(t):
    """A torch tensor (parameter or buffer) as float64 NumPy."""
    import torch
    if not t.is_floating_point():
        # Quantized or integer weights would be read as their raw integers.
        raise ValueError(f"a {t.dtype} tensor (shape {list(t.shape)}) among the module's weights: "
                         "only floating-point weights are supported")
    return t.detach().to(device="cpu", dtype=torch.float64).numpy()


class _Builder:
    def __init__(self, dtype):
        self.dtype = dtype
        self.lines = []
        self.types = {}

    def constant(self, name, array):
        array = np.asarray(array, dtype=np.float64)
        t = _tensor_type(array.shape, self.dtype)
        self.types[name] = t
        self.lines.append(f'  %{name} = arith.constant dense<"0x{_raw_bytes(array, self.dtype).hex().upper()}"> : {t}')
        return f"%{name}"


def _attrs_text(attrs):
    items = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            items.append(key)
        elif isinstance(value, float):
            items.append(f"{key} = {_fmt(value)} : f64")
        elif isinstance(value, int):
            items.append(f"{key} = {value} : i64")
        else:
            items.append(f"{key} = {value}")
    return "{" + ", ".join(items) + "}"


def _rope_attr(theta, width, offset, style):
    return (f"#tucker.rope<theta = {_fmt(theta)}, width = {width}, offset = {offset}, "
            f"repeat = 1, style = {style}>")


def _module_scaling(module):
    """The module's score scale: `scaling` (HF), else a numeric `scale` (CLIP, SigLIP), else None."""
    scaling = getattr(module, "scaling", None)
    if scaling is None and isinstance(getattr(module, "scale", None), (int, float)):
        scaling = module.scale
    return scaling


def _scale_attr(scaling, default):
    """`scaling` if it differs from the op's default, else None."""
    if scaling is None:
        return None
    scaling = float(scaling)
    if not (math.isfinite(scaling) and scaling > 0):
        raise ValueError(f"scaling = {scaling} is not supported (must be positive and finite)")
    return None if abs(scaling - default) <= 1e-12 * default else scaling


def _transpose01(dst, src, shape, dtype):
    """Lines computing `dst` = `src` (of `shape`, rank 3) with its first two dims swapped."""
    out = _tensor_type((shape[1], shape[0], shape[2]), dtype)
    return [f"  {dst}_init = tensor.empty() : {out}",
            f"  {dst} = linalg.transpose ins({src} : {_tensor_type(shape, dtype)}) "
            f"outs({dst}_init : {out}) permutation = [1, 0, 2]"]


def _function(builder, op_text, operands, shape, seq_first=False):
    """`func.func @forward` around one tucker op whose first operand is x. `shape` is x's and
    the result's; seq_first: they are [N, B, d] and transposed to and from the op's [B, N, d]
    (the op text then reads x as %xb)."""
    dtype = builder.dtype
    x_type = _tensor_type(shape, dtype)
    op_shape = (shape[1], shape[0], shape[2]) if seq_first else shape
    op_type = _tensor_type(op_shape, dtype)
    types = [op_type] + [builder.types[o[1:]] for o in operands[1:]]
    lines = builder.lines + (_transpose01("%xb", "%x", shape, dtype) if seq_first else [])
    result = "%yb" if seq_first else "%y"
    lines.append(f"  {result} = {op_text} : ({', '.join(types)}) -> {op_type}")
    if seq_first:
        lines += _transpose01("%y", "%yb", op_shape, dtype)
    body = "\n".join(lines)
    return (f"func.func @forward(%x: {x_type}) -> {x_type} {{\n{body}\n"
            f"  return %y : {x_type}\n}}\n")


def _example_shape(example_x, d, layout="[B, N, d]"):
    """example_x's shape, which must be `layout` with the module's hidden size d."""
    shape = tuple(int(s) for s in np.shape(example_x))
    if len(shape) != 3:
        raise ValueError(f"example_x must be {layout}, got shape {list(shape)} (unbatched "
                         "input is not supported: add the batch dimension)")
    if shape[2] != d:
        raise ValueError(f"example_x has d = {shape[2]}, but the module's hidden size is {d}")
    return shape


def _check_dropout(module, p, name):
    p = getattr(p, "p", p)  # an nn.Dropout or its probability
    if module.training and p is not None and float(p) > 0:
        raise ValueError(f"{name} = {p} in training mode is not supported (call module.eval())")


def _check_parameters(module, used):
    """Refuses parameters outside the submodules the import reads (`used`, dotted names): a
    relative position bias, a norm or another projection would otherwise be dropped silently."""
    extra = [n for n, _ in module.named_parameters()
             if not any(n.startswith(u + ".") for u in used)]
    if extra:
        raise ValueError(f"{type(module).__name__} has parameters outside its attention projections "
                         f"({', '.join(used)}): {', '.join(extra)}; tucker's attention ops have no "
                         "place for them (relative position biases, norms, extra projections)")


# --------------------------------------------------------------------------------------------
# nn.MultiheadAttention


def _from_mha(m, example_x, causal, dtype):
    E, H = m.embed_dim, m.num_heads
    if m.kdim != E or m.vdim != E or not getattr(m, "_qkv_same_embed_dim", True):
        raise ValueError(f"kdim = {m.kdim} / vdim = {m.vdim} differing from embed_dim = {E} "
                         "(cross-attention) is not supported: only self-attention (q = k = v = x)")
    if m.bias_k is not None or m.bias_v is not None:
        raise ValueError("add_bias_kv = True is not supported")
    if m.add_zero_attn:
        raise ValueError("add_zero_attn = True is not supported")
    _check_dropout(m, m.dropout, "dropout")
    layout = "[B, N, d] (batch_first=True)" if m.batch_first else \
        "[N, B, d], the layout of this batch_first=False module"
    shape = _example_shape(example_x, E, layout)
    W = _numpy(m.in_proj_weight)  # [3E, E], rows q | k | v
    b = _numpy(m.in_proj_bias) if m.in_proj_bias is not None else None
    bo = _numpy(m.out_proj.bias) if m.out_proj.bias is not None else None
    g = _Builder(dtype)
    ops = ["%x", g.constant("wq", W[:E].T), g.constant("wk", W[E:2 * E].T),
           g.constant("wv", W[2 * E:].T), g.constant("wo", _numpy(m.out_proj.weight).T)]
    clauses = ""
    if b is not None:
        for i, n in enumerate("qkv"):
            ops.append(g.constant("b" + n, b[i * E:(i + 1) * E]))
            clauses += f" b{n}({ops[-1]})"
    if bo is not None:
        ops.append(g.constant("bo", bo))
        clauses += f" bo({ops[-1]})"
    if not m.batch_first:
        ops[0] = "%xb"  # the op reads x transposed to [B, N, d]
    op = f"tucker.mha {', '.join(ops[:5])}{clauses} " + _attrs_text({"num_heads": H, "causal": causal})
    return _function(g, op, ops, shape, seq_first=not m.batch_first)


# --------------------------------------------------------------------------------------------
# HF rotary parameters


def _rope_theta(module, dim, what):
    """(theta) of a default-type rotary embedding over `dim` dims, or ValueError."""
    config = getattr(module, "config", None)
    rotary = getattr(module, "rotary_emb", None)
    # transformers 5 keeps the rope in config.rope_parameters (rope_scaling is an alias of it).
    params = getattr(config, "rope_parameters", None) if config is not None else None
    params = params if isinstance(params, dict) else {}
    if config is not None:
        for name, scaling in (("rope_scaling", getattr(config, "rope_scaling", None)),
                              ("rope_parameters", params)):
            if scaling:
                kind = scaling.get("rope_type", scaling.get("type")) if isinstance(scaling, dict) else scaling
                if kind not in (None, "default"):
                    raise ValueError(f"{name} = {scaling!r} is not supported (default RoPE only)")
        factor = getattr(config, "partial_rotary_factor", params.get("partial_rotary_factor", 1.0))
        if factor not in (None, 1, 1.0):
            raise ValueError(f"partial_rotary_factor = {factor} is not supported")
    if rotary is not None:
        att = getattr(rotary, "attention_scaling", 1.0)
        if att is not None and float(att) != 1.0:
            raise ValueError(f"rotary_emb.attention_scaling = {att} is not supported")
        kind = getattr(rotary, "rope_type", "default")
        if kind not in (None, "default"):
            raise ValueError(f"rotary_emb.rope_type = {kind!r} is not supported (default RoPE only)")
    candidates = (getattr(module, "rope_theta", None), getattr(config, "rope_theta", None),
                  params.get("rope_theta"), getattr(rotary, "base", None))
    theta = next((float(v) for v in candidates if v is not None), None)
    inv_freq = getattr(rotary, "inv_freq", None) if rotary is not None else None
    if inv_freq is not None:
        inv = _numpy(inv_freq).reshape(-1)
        if 2 * inv.size != dim:
            raise ValueError(f"rotary_emb.inv_freq has {inv.size} frequencies, but {what} = {dim} "
                             f"needs {dim // 2} (partial rotary is not supported)")
        if theta is None:
            theta = float(inv[1] ** (-dim / 2.0)) if inv.size > 1 else 10000.0
            theta = float(f"{theta:.12g}")  # 1000 rather than 999.9999999999994
        expected = 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
        if not np.allclose(inv, expected, rtol=1e-5, atol=0):
            raise ValueError("rotary_emb.inv_freq is not the default 1/theta^(2j/dim) form "
                             "(rope scaling is not supported)")
    if theta is None:
        raise ValueError("cannot find the rotary base: expected rope_theta, config.rope_theta, "
                         "config.rope_parameters['rope_theta'], rotary_emb.base or "
                         "rotary_emb.inv_freq")
    if not (math.isfinite(theta) and theta > 0):
        raise ValueError(f"rope theta = {theta} is not supported")
    return theta


def _linear(m, name):
    from torch import nn
    lin = getattr(m, name, None)
    if not isinstance(lin, nn.Linear):
        raise TypeError(f"{type(m).__name__}.{name} must be an nn.Linear, got {type(lin).__name__}")
    return lin


# --------------------------------------------------------------------------------------------
# Self-attention from [in, out] projections: HF Llama-style, GPT-2 and BERT-style modules


def _heads_op(g, wq, wk, wv, wo, biases, H, Hkv, attrs):
    """(operands, op text) of the layer with these [in, out] weights: tucker.gqa, or tucker.mha
    when there are biases (`biases`: {"q" | "k" | "v" | "o": array} of those present), since
    tucker.gqa has none; then each key/value head is repeated over its query group (exact).
    `attrs` (without num_kv_heads) are the op's attributes."""
    if biases:
        rep = H // Hkv

        def expand(a):  # [..., Hkv*w] -> [..., H*w], kv head j -> query heads j*rep..
            w = a.shape[-1] // Hkv
            a = np.broadcast_to(a.reshape(a.shape[:-1] + (Hkv, 1, w)), a.shape[:-1] + (Hkv, rep, w))
            return a.reshape(a.shape[:-3] + (H * w,))

        wk, wv = expand(wk), expand(wv)
        biases = {n: expand(b) if n in "kv" else b for n, b in biases.items()}
        opname = "tucker.mha"
    else:
        attrs = {"num_heads": H, "num_kv_heads": Hkv, **attrs}
        opname = "tucker.gqa"
    ops = ["%x"] + [g.constant(n, w) for n, w in (("wq", wq), ("wk", wk), ("wv", wv), ("wo", wo))]
    clauses = ""
    for n in "qkvo":
        if n in biases:
            ops.append(g.constant("b" + n, biases[n]))
            clauses += f" b{n}({ops[-1]})"
    return ops, f"{opname} {', '.join(ops[:5])}{clauses} " + _attrs_text(attrs)


def _self_attention(m, example_x, causal, dtype, weights, biases, H, Hkv, scaling, rope=None):
    """The function of a self-attention layer with [in, out] `weights` (wq, wk, wv, wo), `H`
    query and `Hkv` key/value heads, score scale `scaling` (None: the module's own, 1/sqrt(head
    width) when it has none) and optional (theta, style) rotary embedding over whole heads."""
    wq, wk, wv, wo = weights
    d, dh = wq.shape[0], wq.shape[1] // H
    shape = _example_shape(example_x, d)
    attrs = {"num_heads": H, "causal": causal,
             "scale": _scale_attr(_module_scaling(m) if scaling is None else scaling, dh ** -0.5),
             "rope": None if rope is None else _rope_attr(rope[0], dh, 0, rope[1])}
    g = _Builder(dtype)
    ops, op = _heads_op(g, wq, wk, wv, wo, biases, H, Hkv, attrs)
    return _function(g, op, ops, shape)


def _linear_weights(lin, names):
    """[in, out] weight and bias (or None) of an nn.Linear or a transformers Conv1D (GPT-2's,
    which stores its weight as [in, out])."""
    from torch import nn
    w = getattr(lin, "weight", None)
    if isinstance(lin, nn.Linear):
        w = _numpy(w).T
    elif w is not None and w.dim() == 2 and w.shape[1] == getattr(lin, "nf", None):
        w = _numpy(w)
    else:
        raise TypeError(f"{names} must be an nn.Linear or a Conv1D, got {type(lin).__name__}")
    return w, (None if lin.bias is None else _numpy(lin.bias))


def _check_dropouts(m):
    for name in ("attention_dropout", "attn_dropout", "dropout", "resid_dropout"):
        _check_dropout(m, getattr(m, name, None), name)


def _sliding_window(m, config):
    """The attention window of an HF module, None for full attention."""
    if hasattr(m, "sliding_window"):  # set per layer (None: a full-attention layer)
        return m.sliding_window
    if config is None:
        return None
    if hasattr(config, "use_sliding_window"):  # Qwen2: the window only applies when switched on
        return getattr(config, "sliding_window", None) if config.use_sliding_window else None
    return getattr(config, "sliding_window", None)  # Mistral: a configured window always applies


def _uses_rope(m):
    """Whether an HF-style attention rotates its queries and keys. HF passes the rotary (cos, sin)
    to the attention's forward as position_embeddings; older versions keep it in the module
    (rotary_emb; GPT-J's rotary_dim and embed_positions table). Attentions without RoPE (ViT,
    BART, OPT, CLIP, Jamba, ...) have neither; some take position_ids all the same, so that
    argument tells nothing. SmolLM3 and Llama 4 mark their NoPE layers with use_rope = 0."""
    if getattr(m, "use_rope", None) is not None:
        return bool(m.use_rope)
    if any(getattr(m, a, None) is not None
           for a in ("rotary_emb", "rotary_dim", "rotary_ndims", "embed_positions")):
        return True
    try:
        return "position_embeddings" in inspect.signature(m.forward).parameters
    except (TypeError, ValueError):  # no signature to read: assume the common (RoPE) case
        return True


def _from_projections(m, example_x, causal, dtype):
    """HF attentions with q_proj, k_proj, v_proj and o_proj (Llama, Qwen2, Mistral, ViT in
    transformers 5, ...) or out_proj (BART, Whisper, OPT, CLIP, ...)."""
    out_name = "o_proj" if hasattr(m, "o_proj") else "out_proj"
    q, k, v, o = (_linear(m, n) for n in ("q_proj", "k_proj", "v_proj", out_name))
    config = getattr(m, "config", None)
    dh = getattr(m, "head_dim", None)
    if dh is None and config is not None:
        dh = getattr(config, "head_dim", None) or (config.hidden_size // config.num_attention_heads)
    if dh is None:
        raise TypeError(f"{type(m).__name__} has no head_dim (expected an HF Llama-style attention)")
    dh = int(dh)
    for name in ("q_norm", "k_norm", "qk_norm", "q_layernorm", "k_layernorm"):
        if getattr(m, name, None) is not None:
            raise ValueError(f"{name} (a per-head query/key norm, Qwen3 / OLMo 2 / Llama 4-style) "
                             "is not supported")
    _check_dropouts(m)
    _check_parameters(m, ("q_proj", "k_proj", "v_proj", out_name))
    d = q.in_features
    if q.out_features % dh or k.out_features % dh or k.out_features != v.out_features:
        raise ValueError(f"projection widths q {q.out_features}, k {k.out_features}, "
                         f"v {v.out_features} do not split into heads of head_dim = {dh}")
    H, Hkv = q.out_features // dh, k.out_features // dh
    if H % Hkv:
        raise ValueError(f"num_heads = {H} is not a multiple of num_key_value_heads = {Hkv}")
    groups = getattr(m, "num_key_value_groups", None)
    if groups is not None and int(groups) != H // Hkv:
        raise ValueError(f"num_key_value_groups = {groups} does not match the projections "
                         f"({H} query heads, {Hkv} key/value heads)")
    # The module's own head count wins over its config's (BART's decoder heads may differ).
    own = getattr(m, "num_heads", None) or getattr(m, "num_attention_heads", None)
    if own is not None:
        declared = {"num_heads": own}
    else:
        declared = {f"config.{a}": getattr(config, a, None)
                    for a in ("num_attention_heads", "num_key_value_heads")}
    for attr, got in declared.items():
        want = Hkv if attr.endswith("key_value_heads") else H
        if got is not None and int(got) != want:
            raise ValueError(f"{attr} = {got} does not match the projections ({want})")
    if o.in_features != H * dh or o.out_features != d:
        raise ValueError(f"{out_name} is [{o.out_features}, {o.in_features}], expected [{d}, {H * dh}]")
    n = _example_shape(example_x, d)[1]
    window = _sliding_window(m, config)
    if window is not None and int(window) < n:
        raise ValueError(f"sliding_window = {window} is shorter than the sequence (N = {n}): "
                         "sliding-window attention is not supported (a window of at least N "
                         "keys is plain causal attention, which is)")
    rope = (_rope_theta(m, dh, "head_dim"), "half") if _uses_rope(m) else None
    floor_scale = getattr(m, "floor_scale", None)
    if rope is None and getattr(m, "attn_temperature_tuning", False) and n >= floor_scale:
        # Llama 4's NoPE layers scale query m by 1 + attn_scale*log1p(floor((m + 1)/floor_scale)).
        raise ValueError(f"attn_temperature_tuning scales the queries of positions >= "
                         f"floor_scale - 1 = {floor_scale - 1}, which N = {n} reaches: "
                         "position-dependent query scales are not supported")
    weights = [_numpy(lin.weight).T for lin in (q, k, v, o)]
    biases = {name: _numpy(lin.bias) for name, lin in zip("qkvo", (q, k, v, o)) if lin.bias is not None}
    return _self_attention(m, example_x, causal, dtype, weights, biases, H, Hkv, None, rope)


def _from_gpt2(m, example_x, causal, dtype):
    """GPT-2 (Conv1D c_attn = [q | k | v]) and GPTBigCode (nn.Linear c_attn: [q | k | v] with one
    key/value head when multi_query, else [q_h | k_h | v_h] per head)."""
    if getattr(m, "is_cross_attention", False) or getattr(m, "q_attn", None) is not None:
        raise ValueError("cross-attention (is_cross_attention, q_attn) is not supported: only "
                         "self-attention (q = k = v = x)")
    _check_dropouts(m)
    _check_parameters(m, ("c_attn", "c_proj"))
    W, b = _linear_weights(m.c_attn, f"{type(m).__name__}.c_attn")
    wo, bo = _linear_weights(m.c_proj, f"{type(m).__name__}.c_proj")
    d, H = W.shape[0], int(m.num_heads)
    dh = int(getattr(m, "head_dim", d // H))
    multi_query = bool(getattr(m, "multi_query", False))
    Hkv = 1 if multi_query else H
    if W.shape[1] != (H + 2 * Hkv) * dh or wo.shape != (H * dh, d):
        raise ValueError(f"c_attn [{d}, {W.shape[1]}] and c_proj {list(wo.shape)} do not match "
                         f"{H} heads of {dh} ({Hkv} key/value heads)")

    def split(a):  # the q, k, v columns of c_attn's [..., out]
        if hasattr(m, "multi_query") and not multi_query:  # GPTBigCode MHA: per head [q | k | v]
            a = a.reshape(a.shape[:-1] + (H, 3, dh))
            return [a[..., :, j, :].reshape(a.shape[:-3] + (H * dh,)) for j in range(3)]
        return np.split(a, [H * dh, (H + Hkv) * dh], axis=-1)

    scaling = getattr(m, "scaling", None)
    if scaling is None:  # transformers 4 keeps only the flags
        scaling = dh ** -0.5 if getattr(m, "scale_attn_weights", True) else 1.0
        if getattr(m, "scale_attn_by_inverse_layer_idx", False):
            scaling /= float(m.layer_idx + 1)
    biases = {} if b is None else dict(zip("qkv", split(b)))
    if bo is not None:
        biases["o"] = bo
    return _self_attention(m, example_x, causal, dtype, split(W) + [wo], biases, H, Hkv, scaling)


def _bert_parts(m):
    """(self-attention, its attribute name, output block) of a BERT-style module:
    BertSelfAttention-like (query, key, value; no output block), or a wrapper whose `.self` /
    `.attention` is one and whose `.output` (ViTSelfOutput-like) projects with `.dense`; None
    when it is neither."""
    if all(hasattr(m, n) for n in ("query", "key", "value")):
        return m, None, None
    from torch import nn
    name = next((n for n in ("self", "attention") if isinstance(getattr(m, n, None), nn.Module)
                 and all(hasattr(getattr(m, n), a) for a in ("query", "key", "value"))), None)
    out = getattr(m, "output", None)
    if name is None or not isinstance(getattr(out, "dense", None), nn.Module):
        return None
    return getattr(m, name), name, out


def _from_bert(m, example_x, causal, dtype):
    """BERT-style self-attention (BertSelfAttention, ViTSelfAttention in transformers 4, ...):
    the concatenated heads, an identity output projection; in a wrapper with `.output.dense`
    (ViTAttention in transformers 4), that projection."""
    from torch import nn
    inner, name, out = _bert_parts(m)
    if out is not None:
        norms = [n for n, c in out.named_modules() if isinstance(c, nn.LayerNorm)]
        if norms:
            raise ValueError(
                f"{type(m).__name__}.output adds the residual x and applies a LayerNorm "
                f"({type(out).__name__}.{norms[0]}), which tucker's attention ops do not compute: "
                f"import {type(m).__name__}.{name} (the self-attention) and keep the output "
                "block in PyTorch")
        _check_dropouts(out)
        _check_parameters(m, (name, "output.dense"))
    kind = getattr(inner, "position_embedding_type", None)
    if kind not in (None, "absolute"):
        raise ValueError(f"position_embedding_type = {kind!r} is not supported (relative position "
                         "scores; only 'absolute', added to x before the layer)")
    _check_dropouts(inner)
    _check_parameters(inner, ("query", "key", "value"))
    q, k, v = (_linear(inner, n) for n in ("query", "key", "value"))
    d, H = q.in_features, int(inner.num_attention_heads)
    if q.out_features % H or k.out_features != q.out_features or v.out_features != q.out_features:
        raise ValueError(f"query {q.out_features}, key {k.out_features} and value "
                         f"{v.out_features} do not split into {H} heads of one width")
    if out is None:
        if q.out_features != d:
            raise ValueError(f"{type(m).__name__} returns {q.out_features} features per token, "
                             f"not its input's {d}: tucker.mha's output has the input's width")
        wo, bo = np.eye(d), None
    else:
        wo, bo = _linear_weights(out.dense, f"{type(out).__name__}.dense")
        if wo.shape != (q.out_features, d):
            raise ValueError(f"output.dense is {list(wo.shape[::-1])}, expected [{d}, {q.out_features}]")
    weights = [_numpy(lin.weight).T for lin in (q, k, v)] + [wo]
    biases = {n: _numpy(lin.bias) for n, lin in zip("qkv", (q, k, v)) if lin.bias is not None}
    if bo is not None:
        biases["o"] = bo
    # BERT in transformers 4 has no `scaling`: 1/sqrt(attention_head_size), the op's default.
    return _self_attention(inner, example_x, causal, dtype, weights, biases, H, H, None)


# --------------------------------------------------------------------------------------------
# HF DeepseekV3 (MLA)


def _norm(m, name):
    norm = getattr(m, name, None)
    if norm is None or getattr(norm, "weight", None) is None:
        raise TypeError(f"{type(m).__name__}.{name} must be an RMSNorm with a weight")
    eps = getattr(norm, "variance_epsilon", None)
    if eps is None:
        eps = getattr(norm, "eps", None)
    if eps is None:
        raise ValueError(f"{name} has no variance_epsilon / eps")
    if getattr(norm, "bias", None) is not None:
        raise ValueError(f"{name} has a bias (only RMSNorm is supported)")
    return _numpy(norm.weight), float(eps)


def _from_mla(m, example_x, causal, dtype):
    config = getattr(m, "config", None)

    def attr(name):
        value = getattr(m, name, None)
        if value is None and config is not None:
            value = getattr(config, name, None)
        return value

    H = attr("num_heads") or attr("num_attention_heads")
    p, r, e, c = (attr(n) for n in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",
                                    "kv_lora_rank"))
    if None in (H, p, r, e, c):
        raise TypeError(f"{type(m).__name__} lacks num_heads / qk_nope_head_dim / qk_rope_head_dim"
                        " / v_head_dim / kv_lora_rank (expected an HF DeepseekV3Attention)")
    H, p, r, e, c = int(H), int(p), int(r), int(e), int(c)
    ql = getattr(m, "q_lora_rank", None)
    if ql is None and getattr(m, "q_a_proj", None) is not None:
        ql = m.q_a_proj.out_features
    _check_dropout(m, getattr(m, "attention_dropout", None), "attention_dropout")
    nkv = attr("num_key_value_heads")
    if nkv is not None and int(nkv) != H:
        raise ValueError(f"num_key_value_heads = {nkv} differing from num_heads = {H} is not supported")
    g = _Builder(dtype)
    kv_a = _linear(m, "kv_a_proj_with_mqa")
    kv_b, o = _linear(m, "kv_b_proj"), _linear(m, "o_proj")
    linears = [kv_a, kv_b, o]
    kv_norm, eps = _norm(m, "kv_a_layernorm")
    d = kv_a.in_features
    shape = _example_shape(example_x, d)
    ops, head = ["%x"], "%x, "
    if ql is not None:
        qa, qb = _linear(m, "q_a_proj"), _linear(m, "q_b_proj")
        linears += [qa, qb]
        q_norm, q_eps = _norm(m, "q_a_layernorm")
        if abs(q_eps - eps) > 1e-12 * max(eps, 1e-30):
            raise ValueError(f"q_a_layernorm eps = {q_eps} differs from kv_a_layernorm eps = {eps} "
                             "(tucker.mla has one norm_epsilon)")
        ops += [g.constant("wq_a", _numpy(qa.weight).T), g.constant("q_norm", q_norm)]
        head += f"q_a({ops[1]}, {ops[2]}), "
        wq_b = _numpy(qb.weight).T
    else:
        qp = _linear(m, "q_proj")
        linears.append(qp)
        wq_b = _numpy(qp.weight).T
    for lin in linears:
        if lin.bias is not None:
            raise ValueError("attention_bias = True (biases on the MLA projections) is not supported")
    if wq_b.shape[1] != H * (p + r) or kv_a.out_features != c + r or \
            kv_b.out_features != H * (p + e) or o.in_features != H * e:
        raise ValueError("projection shapes do not match num_heads / head dims")
    rest = [g.constant("wq_b", wq_b), g.constant("wkv_a", _numpy(kv_a.weight).T),
            g.constant("kv_norm", kv_norm), g.constant("wkv_b", _numpy(kv_b.weight).T),
            g.constant("wo", _numpy(o.weight).T)]
    ops += rest
    interleave = attr("rope_interleave")
    style = "half" if interleave is not None and not interleave else "interleaved"
    theta = _rope_theta(m, r, "qk_rope_head_dim")
    attrs = {"num_heads": H, "q_lora_rank": None if ql is None else int(ql), "kv_lora_rank": c,
             "qk_nope_head_dim": p, "qk_rope_head_dim": r, "v_head_dim": e,
             "norm_epsilon": eps, "causal": causal, "scale": _scale_attr(_module_scaling(m), (p + r) ** -0.5),
             "rope": _rope_attr(theta, r, p, style)}
    op = f"tucker.mla {head}{', '.join(rest)} " + _attrs_text(attrs)
    return _function(g, op, ops, shape)


# --------------------------------------------------------------------------------------------


def _kind(module):
    """(builder, model width d) of a supported module; TypeError for any other."""
    from torch import nn
    if isinstance(module, nn.MultiheadAttention):
        return _from_mha, module.embed_dim
    if isinstance(module, nn.Module):
        if hasattr(module, "kv_a_proj_with_mqa"):
            return _from_mla, _linear(module, "kv_a_proj_with_mqa").in_features
        if all(hasattr(module, n) for n in ("q_proj", "k_proj", "v_proj")) and \
                (hasattr(module, "o_proj") or hasattr(module, "out_proj")):
            return _from_projections, _linear(module, "q_proj").in_features
        if hasattr(module, "c_attn") and hasattr(module, "c_proj"):
            return _from_gpt2, _linear_weights(module.c_attn, "c_attn")[0].shape[0]
        parts = _bert_parts(module)
        if parts is not None:
            return _from_bert, _linear(parts[0], "query").in_features
    raise TypeError(f"from_torch does not support {type(module).__module__}."
                    f"{type(module).__qualname__}: expected torch.nn.MultiheadAttention, an HF "
                    "attention with q_proj, k_proj, v_proj and o_proj or out_proj (Llama, Qwen2, "
                    "Mistral, SmolLM3, ViT, BART, CLIP, ...), GPT-2's (c_attn, c_proj), a BERT-style "
                    "self-attention (query, key, value) or an HF DeepseekV3Attention (MLA: "
                    "kv_a_proj_with_mqa, kv_b_proj, o_proj)")


def model_dim(module):
    """The hidden size d of a module from_torch supports (x is [..., d])."""
    return _kind(module)[1]


def from_torch(module, example_x, *, causal=None, dtype=None):
    """MLIR text of `func.func @forward(%x) -> tensor` computing `module` on an x shaped like
    `example_x`, weights embedded: [B, N, d], or [N, B, d] for an nn.MultiheadAttention with
    batch_first=False (the module's own layout, in and out).

    causal: None (default) takes the module's `is_causal` (HF decoder attentions set it; the
    model applies a causal mask), else False; True / False force it. dtype: None (default) takes
    the dtype of the module's parameters (f32, f16 or bf16); "f32", "f16", "bf16" or a torch
    dtype overrides it. The compiled kernel takes x only: no padding mask (key_padding_mask, an
    HF attention_mask with padding) and no attn_mask other than the causal one, so every
    sequence of the batch is attended in full.

    Supported: torch.nn.MultiheadAttention (self-attention); HF attentions with q_proj / k_proj /
    v_proj and o_proj or out_proj, with RoPE (Llama, Qwen2 with its key bias, Mistral) or without
    (ViT, BART, CLIP, SmolLM3's NoPE layers, ...); GPT-2 and GPTBigCode (c_attn, c_proj);
    BERT-style self-attention (query, key, value); HF DeepseekV3Attention (MLA). See the module
    docstring for the details and what is refused."""
    build, _ = _kind(module)
    name = _module_dtype(module) if dtype is None else _dtype_name(dtype)
    causal = bool(getattr(module, "is_causal", False)) if causal is None else bool(causal)
    return build(module, example_x, causal, name)
