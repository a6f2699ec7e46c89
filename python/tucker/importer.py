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
- HF Llama / Mistral / Qwen2-style attention (duck-typed: q_proj, k_proj, v_proj, o_proj
  nn.Linear and head_dim; rotate-half RoPE over the whole head, theta from `rope_theta`,
  `config.rope_theta`, `config.rope_parameters` (transformers 5), `rotary_emb.base` or the
  default-form `rotary_emb.inv_freq`) ->
  `tucker.gqa` with `#tucker.rope<theta, width = head_dim, style = half>`; with q/v/o biases
  -> `tucker.mha` with the key/value heads repeated over their query groups (exact). x is
  `[B, N, d]`. Refused: a nonzero k_proj bias (Qwen2: a key bias under RoPE does not cancel in
  the softmax and the compiler cannot lower it), rope scaling, attention_scaling != 1,
  q_norm/k_norm (Qwen3), a sliding window shorter than N (the module's `sliding_window`, else
  the config's: Qwen2's when `use_sliding_window`, Mistral's always; a window of at least N
  keys changes nothing).
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
result. The scale is left to the op's default unless the module's `scaling` differs from it.
Anything unsupported raises TypeError (module kind) or ValueError (option, shape, dtype).
"""


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


def _scale_attr(module, default):
    """The module's scaling if it differs from the op's default, else None."""
    scaling = getattr(module, "scaling", None)
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
    if module.training and p is not None and float(p) > 0:
        raise ValueError(f"{name} = {p} in training mode is not supported (call module.eval())")


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
# HF Llama / Qwen2


def _sliding_window(m, config):
    """The attention window of an HF module, None for full attention."""
    if hasattr(m, "sliding_window"):  # set per layer (None: a full-attention layer)
        return m.sliding_window
    if config is None:
        return None
    if hasattr(config, "use_sliding_window"):  # Qwen2: the window only applies when switched on
        return getattr(config, "sliding_window", None) if config.use_sliding_window else None
    return getattr(config, "sliding_window", None)  # Mistral: a configured window always applies


def _from_llama(m, example_x, causal, dtype):
    q, k, v, o = (_linear(m, n) for n in ("q_proj", "k_proj", "v_proj", "o_proj"))
    config = getattr(m, "config", None)
    dh = getattr(m, "head_dim", None)
    if dh is None and config is not None:
        dh = getattr(config, "head_dim", None) or (config.hidden_size // config.num_attention_heads)
    if dh is None:
        raise TypeError(f"{type(m).__name__} has no head_dim (expected an HF Llama-style attention)")
    dh = int(dh)
    for name in ("q_norm", "k_norm"):
        if getattr(m, name, None) is not None:
            raise ValueError(f"{name} (per-head query/key RMS norm, Qwen3-style) is not supported")
    _check_dropout(m, getattr(m, "attention_dropout", None), "attention_dropout")
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
    if config is not None:
        for attr, want in (("num_attention_heads", H), ("num_key_value_heads", Hkv)):
            got = getattr(config, attr, None)
            if got is not None and int(got) != want:
                raise ValueError(f"config.{attr} = {got} does not match the projections ({want})")
    if o.in_features != H * dh or o.out_features != d:
        raise ValueError(f"o_proj is [{o.out_features}, {o.in_features}], expected [{d}, {H * dh}]")
    shape = _example_shape(example_x, d)
    window = _sliding_window(m, config)
    if window is not None and int(window) < shape[1]:
        raise ValueError(f"sliding_window = {window} is shorter than the sequence (N = {shape[1]}): "
                         "sliding-window attention is not supported (a window of at least N "
                         "keys is plain causal attention, which is)")
    theta = _rope_theta(m, dh, "head_dim")
    attrs = {"num_heads": H}
    if k.bias is not None and np.any(_numpy(k.bias) != 0):
        raise ValueError("k_proj bias is not supported: a key bias does not cancel in the softmax "
                         "under RoPE and tucker cannot lower it (q_proj, v_proj and o_proj biases "
                         "are supported)")
    biased = any(lin.bias is not None for lin in (q, v, o))
    g = _Builder(dtype)
    wq, wk, wv, wo = (_numpy(lin.weight).T for lin in (q, k, v, o))
    if not biased:
        attrs["num_kv_heads"] = Hkv
        ops = ["%x", g.constant("wq", wq), g.constant("wk", wk), g.constant("wv", wv),
               g.constant("wo", wo)]
        clauses, opname = "", "tucker.gqa"
    else:
        # tucker.gqa has no biases: repeat each key/value head over its query group (exact).
        rep = H // Hkv

        def expand(a):  # [..., Hkv*dh] -> [..., H*dh], kv head j -> query heads j*rep..
            a = a.reshape(a.shape[:-1] + (Hkv, 1, dh))
            a = np.broadcast_to(a, a.shape[:-3] + (Hkv, rep, dh))
            return a.reshape(a.shape[:-3] + (H * dh,))

        ops = ["%x", g.constant("wq", wq), g.constant("wk", expand(wk)),
               g.constant("wv", expand(wv)), g.constant("wo", wo)]
        clauses, opname = "", "tucker.mha"
        for n, lin in zip("qvo", (q, v, o)):
            if lin.bias is None:
                continue
            bias = _numpy(lin.bias)
            ops.append(g.constant("b" + n, expand(bias) if n in "kv" else bias))
            clauses += f" b{n}({ops[-1]})"
    attrs.update(causal=causal, scale=_scale_attr(m, dh ** -0.5),
                 rope=_rope_attr(theta, dh, 0, "half"))
    op = f"{opname} {', '.join(ops[:5])}{clauses} " + _attrs_text(attrs)
    return _function(g, op, ops, shape)


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
             "norm_epsilon": eps, "causal": causal, "scale": _scale_attr(m, (p + r) ** -0.5),
             "rope": _rope_attr(theta, r, p, style)}
    op = f"tucker.mla {head}{', '.join(rest)} " + _attrs_text(attrs)
    return _function(g, op, ops, shape)


# --------------------------------------------------------------------------------------------


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

    Supported: torch.nn.MultiheadAttention (self-attention), HF Llama/Qwen2-style attention
    (q_proj/k_proj/v_proj/o_proj + head_dim), HF DeepseekV3Attention (MLA). See the module
    docstring for the details and what is refused."""
    from torch import nn
    if isinstance(module, nn.MultiheadAttention):
        build = _from_mha
    elif isinstance(module, nn.Module) and hasattr(module, "kv_a_proj_with_mqa"):
        build = _from_mla
    elif isinstance(module, nn.Module) and all(hasattr(module, n) for n in
                                               ("q_proj", "k_proj", "v_proj", "o_proj")):
        build = _from_llama
    else:
        raise TypeError(f"from_torch does not support {type(module).__module__}."
                        f"{type(module).__qualname__}: expected torch.nn.MultiheadAttention, an HF "
                        "Llama/Qwen2-style attention (q_proj, k_proj, v_proj, o_proj, head_dim) or "
                        "an HF DeepseekV3Attention (MLA: kv_a_proj_with_mqa, kv_b_proj, o_proj)")
    name = _module_dtype(module) if dtype is None else _dtype_name(dtype)
    causal = bool(getattr(module, "is_causal", False)) if causal is None else bool(causal)
    return build(module, example_x, causal, name)
