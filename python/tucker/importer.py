"""Importing PyTorch attention modules: tucker.from_torch(module, example_x) -> MLIR text.

The result is a `func.func @forward(%x: tensor<?x?xdxT>) -> tensor<?x?xdxT>` whose only argument
is the activation x in the module's own layout, of any batch and sequence length (static_shapes:
example_x's shape; N also stays example_x's where the module computes something else on longer
sequences: a sliding window, chunked attention, Llama 4's temperature tuning, dynamic NTK RoPE,
with a UserWarning), with the module's weights embedded as `arith.constant dense<"0x...">`
(little-endian raw bytes of the element type, transposed to the dialect's `[in, out]` layout;
weights="resource": `dense_resource<key>` with the bytes in the module's resource section) and
one tucker op computing the layer.

Modules:
- `torch.nn.MultiheadAttention`, self-attention only (q = k = v = x), with or without biases
  -> `tucker.mha`. x and the result are `[B, N, d]` with batch_first=True and `[N, B, d]` with
  batch_first=False (linalg.transpose to and from the op's `[B, N, d]`), so the kernel computes
  `module(x, x, x, need_weights=False)[0]`. Refused: kdim/vdim differing from embed_dim,
  add_bias_kv, add_zero_attn, dropout > 0 in training mode.
- HF attentions with q_proj, k_proj, v_proj (nn.Linear) and o_proj or out_proj, and a head_dim
  (duck-typed; x is `[B, N, d]`):
  - with RoPE (Llama, Mistral, Qwen2; Cohere, Llama 4's RoPE layers): over the whole head,
    theta from `rope_theta`, `config.rope_theta`, `config.rope_parameters` (transformers 5),
    `rotary_emb.base` or the default-form `rotary_emb.inv_freq` ->
    `#tucker.rope<theta, width = head_dim, style = half | interleaved>`. The style is read from
    the rotation the forward's module defines (transformers keeps it beside each attention
    class): its `rotate_half` (through its `apply_rotary_pos_emb`), or Llama 4's complex
    `apply_rotary_emb`, turns the unit vectors by 90 degrees, which shows the pairs: (j, j + D/2)
    is half (Llama, Qwen2, Mistral), (2j, 2j + 1) interleaved (Cohere, Llama 4, GLM); any other
    pairing is refused; without either function, half. A module applies RoPE when its forward
    takes position_embeddings or it has a rotary_emb (rotary_dim, rotary_ndims,
    embed_positions); `use_rope` (SmolLM3, Llama 4) decides where present.
  - without RoPE (ViT / DeiT in transformers 5, BART, Whisper, OPT, CLIP, SigLIP, Jamba,
    SmolLM3's and Llama 4's NoPE layers, ...): no rope attribute.
  -> `tucker.gqa`; with any bias -> `tucker.mha` with the biases and the key/value heads
  repeated over their query groups (exact; a key bias under RoPE is kept, as it does not
  cancel in the softmax there). RoPE scalings (rope_type): default; linear and llama3 where
  they change no frequency; dynamic NTK with N pinned (theta for that N). Refused: the other
  scalings (linear, llama3, yarn, longrope, unknown types: #tucker.rope has one theta, pair 0
  at frequency 1, no per-frequency form), attention_scaling != 1, per-head
  query/key norms (q_norm/k_norm, qk_norm, q_layernorm/k_layernorm), a sliding window shorter
  than N (the module's `sliding_window`, else the config's: Qwen2's when `use_sliding_window`,
  Mistral's always; a window of at least N keys changes nothing), Llama 4's chunked attention
  (`config.attention_chunk_size` shorter than N on a "chunked_attention" layer) and its query
  temperature tuning once N reaches floor_scale, parameters outside the four projections, and
  positions passed to the forward beside x: DETR's additive embeddings (transformers 4's
  `object_queries`; 5's `position_embeddings` on a module whose config has no rotary) and
  SpeechT5's `position_bias`.
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
shape, dtype, a feature the ops cannot express).

Progress (progress=True, or None with a terminal and a module of 8M parameters or more):
reading, checking and writing, each a step on stderr (_progress.py).

Self-check (verify=True, the default): from_torch runs a float64 copy of the module (on the
CPU) and tucker.reference on the imported op's weights and attributes on the same random x of
at most 2 sequences of 6 tokens, and raises ValueError naming the module's class and the
difference where max |op - module| / max |module| exceeds 1e-5 (float64 rounding is 1e-16; HF's
deliberate float32 steps, 1.2e-7 at most). It runs every kind above:
- nn.MultiheadAttention: module(x, x, x, attn_mask=causal or all False, need_weights=False);
- the HF kinds: module(x, attention_mask=HF's additive [B, 1, N, N] mask, zeros or causal), with
  position_ids and position_embeddings where the forward takes them, the latter from the
  module's rotary_emb or the model's `<Prefix>RotaryEmbedding(config=module.config)` beside the
  attention class (transformers 5). A forward without attention_mask (transformers 4's ViT),
  or that fails with one (transformers 4's GPTBigCode takes a boolean mask), runs without it,
  compared on the last token of each sequence, which sees every key causal or not.
A module whose forward needs another input (or position_embeddings it cannot make), or raises,
gives a UserWarning that the MLIR is unchecked. verify=False skips the check.
"""


import copy
import hashlib
import inspect
import math
import warnings
from typing import NamedTuple, Optional

import numpy as np

from . import reference
from ._progress import Progress, enabled as _progress_enabled

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
    """`tensor<AxBx...xT>`, `?` for a dimension that is None (dynamic)."""
    return "tensor<" + "x".join("?" if s is None else str(int(s)) for s in shape) + f"x{dtype}>"


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


# The 4-byte little-endian alignment that starts a blob of MLIR's textual resource section.
_BLOB_ALIGNMENT = (4).to_bytes(4, "little").hex()


def _blob_digest(data):
    """The hash of a weight's bytes that its resource key ends with, so that texts of several
    imports put in one file never give two blobs one key (MLIR's parser keeps the last blob of a
    key for every use of it)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _attrs_text(attrs):
    items = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            items.append(key)
        elif isinstance(value, reference.Rope):
            items.append(f"{key} = #tucker.rope<theta = {_fmt(value.theta)}, width = {value.width}, "
                         f"offset = {value.offset}, repeat = {value.repeat}, style = {value.style}>")
        elif isinstance(value, float):
            items.append(f"{key} = {_fmt(value)} : f64")
        elif isinstance(value, int):
            items.append(f"{key} = {value} : i64")
        else:
            items.append(f"{key} = {value}")
    return "{" + ", ".join(items) + "}"


class _Layer(NamedTuple):
    """One imported layer: a tucker op over x with its weights embedded. from_torch emits it as
    MLIR (_text) and its self-check runs the same weights and attributes through tucker.reference
    (_reference), so the two cannot drift apart."""
    op: str          # "mha", "gqa" or "mla"
    weights: dict    # operand name -> float64 array ([in, out]), in the op's operand order
    attrs: dict      # the op's attributes; rope a reference.Rope, scale None for the default
    shape: tuple     # x's shape in the module's layout (example_x's)
    seq_first: bool  # x is [N, B, d], transposed to and from the op's [B, N, d]
    # Why the module computes something else for other sequence lengths (a sliding window, a
    # chunk, ...), so that N stays the example's; None where one function serves every N.
    pins_n: Optional[str] = None
    # x's dims in the module's layout as the function takes them (None: dynamic); from_torch
    # sets them, `shape` where None.
    dims: Optional[tuple] = None
    # The sequence length whose cos and sin the self-check takes from the module's rotary
    # (dynamic NTK RoPE: its frequencies at the example's N); None: the check's own length.
    rope_length: Optional[int] = None


_BIASES = ("bq", "bk", "bv", "bo")


def _transpose01(dst, src, dims, dtype):
    """Lines computing `dst` = `src` (rank 3, of `dims`, None where dynamic) with its first two
    dims swapped; a dynamic size of the result is read from `src` (tensor.dim)."""
    out_dims = (dims[1], dims[0], dims[2])
    out = _tensor_type(out_dims, dtype)
    lines, sizes = [], []
    for i, size in enumerate(out_dims):
        if size is None:
            lines.append(f"  {dst}_d{i} = tensor.dim {src}, %c{1 - i} : {_tensor_type(dims, dtype)}")
            sizes.append(f"{dst}_d{i}")
    return lines + [f"  {dst}_init = tensor.empty({', '.join(sizes)}) : {out}",
                    f"  {dst} = linalg.transpose ins({src} : {_tensor_type(dims, dtype)}) "
                    f"outs({dst}_init : {out}) permutation = [1, 0, 2]"]


def _text(layer, dtype, weights="inline", progress=None):
    """`func.func @forward(%x)` computing `layer` in element type `dtype`; with seq_first, x and
    the result are [N, B, d] and transposed to and from the op's [B, N, d]. x's dims are
    layer.dims (None: dynamic). The weights are `arith.constant dense<"0x...">` (weights="inline")
    or `dense_resource<key>` with their bytes in the module's resource section ("resource").
    progress: a Progress, reporting the bytes written."""
    lines, types, blobs, keys = [], [], {}, {}
    total = sum(np.size(a) for a in layer.weights.values()) * (4 if dtype == "f32" else 2)
    with (progress or Progress(False)).step("from_torch: writing the weights", total=total) as advance:
        for name, array in layer.weights.items():
            data = _raw_bytes(array, dtype)
            t = _tensor_type(np.shape(array), dtype)
            if weights == "resource":
                digest = _blob_digest(data)
                key = keys.get(digest)
                if key is None:  # equal weights (zero biases) share the first one's blob
                    key = keys[digest] = f"{name}_{digest}"
                    blobs[key] = data.hex()
                lines.append(f"  %{name} = arith.constant dense_resource<{key}> : {t}")
            else:
                lines.append(f'  %{name} = arith.constant dense<"0x{data.hex().upper()}"> : {t}')
            types.append(t)
            advance(len(data))
        dims = layer.dims if layer.dims is not None else layer.shape
        x_type = _tensor_type(dims, dtype)
        op_dims = (dims[1], dims[0], dims[2]) if layer.seq_first else dims
        op_type = _tensor_type(op_dims, dtype)
        x = "%xb" if layer.seq_first else "%x"
        w = layer.weights
        if layer.op == "mla":
            q_a = "q_a(%wq_a, %q_norm), " if "wq_a" in w else ""
            operands = f"{x}, {q_a}%wq_b, %wkv_a, %kv_norm, %wkv_b, %wo"
        else:
            operands = f"{x}, %wq, %wk, %wv, %wo" + "".join(f" {b}(%{b})" for b in _BIASES if b in w)
        if layer.seq_first:
            if None in dims[:2]:
                lines += ["  %c0 = arith.constant 0 : index", "  %c1 = arith.constant 1 : index"]
            lines += _transpose01("%xb", "%x", dims, dtype)
        result = "%yb" if layer.seq_first else "%y"
        lines.append(f"  {result} = tucker.{layer.op} {operands} {_attrs_text(layer.attrs)} : "
                     f"({', '.join([op_type] + types)}) -> {op_type}")
        if layer.seq_first:
            lines += _transpose01("%y", "%yb", op_dims, dtype)
        body = "\n".join(lines)
        text = (f"func.func @forward(%x: {x_type}) -> {x_type} {{\n{body}\n"
                f"  return %y : {x_type}\n}}\n")
        if blobs:
            entries = ",\n".join(f'      {key}: "0x{_BLOB_ALIGNMENT}{hexdata}"'
                                 for key, hexdata in blobs.items())
            text += f"\n{{-#\n  dialect_resources: {{\n    builtin: {{\n{entries}\n    }}\n  }}\n#-}}\n"
    return text


def _reference(layer, x):
    """tucker.reference's float64 result of `layer` on x [B, N, d] (the op's layout)."""
    w, a = layer.weights, layer.attrs
    common = {"causal": bool(a.get("causal")), "scale": a.get("scale"), "rope": a.get("rope")}
    if layer.op == "mla":
        return reference.mla(x, w.get("wq_a"), w.get("q_norm"), w["wq_b"], w["wkv_a"], w["kv_norm"],
                             w["wkv_b"], w["wo"], num_heads=a["num_heads"],
                             q_lora_rank=a["q_lora_rank"], kv_lora_rank=a["kv_lora_rank"],
                             qk_nope_head_dim=a["qk_nope_head_dim"],
                             qk_rope_head_dim=a["qk_rope_head_dim"], v_head_dim=a["v_head_dim"],
                             eps=a["norm_epsilon"], **common)
    if layer.op == "gqa":
        return reference.gqa(x, w["wq"], w["wk"], w["wv"], w["wo"], num_heads=a["num_heads"],
                             num_kv_heads=a["num_kv_heads"], **common)
    return reference.mha(x, w["wq"], w["wk"], w["wv"], w["wo"], *(w.get(b) for b in _BIASES),
                         num_heads=a["num_heads"], **common)


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


def _from_mha(m, example_x, causal):
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
    weights = {"wq": W[:E].T, "wk": W[E:2 * E].T, "wv": W[2 * E:].T, "wo": _numpy(m.out_proj.weight).T}
    if m.in_proj_bias is not None:
        b = _numpy(m.in_proj_bias)
        weights.update(bq=b[:E], bk=b[E:2 * E], bv=b[2 * E:])
    if m.out_proj.bias is not None:
        weights["bo"] = _numpy(m.out_proj.bias)
    return _Layer("mha", weights, {"num_heads": H, "causal": causal}, shape, not m.batch_first)


# --------------------------------------------------------------------------------------------
# HF rotary parameters


def _rope_config(module):
    """(rope_type, its parameters, the config attribute they came from) of an HF module's rotary
    embedding: config.rope_parameters (transformers 5) or config.rope_scaling (4; in 5 an alias),
    else the rotary's own rope_type; "default" without either."""
    config = getattr(module, "config", None)
    for source in ("rope_parameters", "rope_scaling"):
        value = getattr(config, source, None) if config is not None else None
        if isinstance(value, dict) and value:
            kind = value.get("rope_type", value.get("type"))
            if kind is not None or source == "rope_scaling":
                return kind or "default", value, source
        elif value and source == "rope_scaling":  # a bare name
            return str(value), {}, source
    params = getattr(config, "rope_parameters", None) if config is not None else None
    kind = getattr(getattr(module, "rotary_emb", None), "rope_type", None)
    return kind or "default", params if isinstance(params, dict) else {}, "rotary_emb.rope_type"


def _default_frequencies(theta, dim):
    """1 / theta^(2j/dim), j < dim/2: the frequencies of #tucker.rope<theta, width = dim>."""
    return 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)


def _llama3_frequencies(freqs, params):
    """Llama 3.1's rescaled frequencies: wavelengths 2 pi / f above L / low_freq_factor are
    divided by factor, those below L / high_freq_factor kept, those between interpolated
    linearly in L / wavelength (L: original_max_position_embeddings)."""
    factor, low, high = (float(params[k]) for k in ("factor", "low_freq_factor", "high_freq_factor"))
    context = float(params["original_max_position_embeddings"])
    wavelength = 2 * math.pi / freqs
    smooth = (context / wavelength - low) / (high - low) if high != low else np.zeros_like(freqs)
    between = (1 - smooth) * freqs / factor + smooth * freqs
    return np.where(wavelength > context / low, freqs / factor,
                    np.where(wavelength < context / high, freqs, between))


# Why a rope_type changes the rotation in a way #tucker.rope does not express: one theta, pair j
# turned by position * theta^(-2j/width), so pair 0 always at frequency 1.
_ROPE_WHY = {
    "linear": "it divides every frequency by factor (positions / factor)",
    "llama3": "it rescales the frequencies one by one (Llama 3.1: wavelengths above "
              "original_max_position_embeddings / low_freq_factor divided by factor, those between "
              "that and original_max_position_embeddings / high_freq_factor interpolated)",
    "yarn": "it blends interpolated and extrapolated frequencies dimension by dimension (YaRN's "
            "beta_fast / beta_slow ramp) and scales cos and sin by its attention_factor",
    "longrope": "it divides each frequency by its own factor (short_factor, or long_factor once "
                "the sequence passes original_max_position_embeddings) and scales cos and sin by "
                "its attention_factor",
}
_ROPE_TAIL = ("#tucker.rope turns pair j of a head by position * theta^(-2j/width), one theta for "
              "all pairs (pair 0 at frequency 1), and has no per-frequency form, so no #tucker.rope "
              "computes this rotation; from_torch refuses it rather than import another one")


class _Rope(NamedTuple):
    theta: float
    pins_n: Optional[str] = None   # why the frequencies depend on N (see _Layer.pins_n)
    length: Optional[int] = None   # the N the module's rotary must be run at to match theta


def _rope(module, dim, what, n):
    """The rotary embedding of an HF module over `dim` dims (`what` names them) on sequences of
    n tokens, as a #tucker.rope theta (_Rope), or ValueError naming the rope_type and why it
    cannot be expressed. Exact: default RoPE; linear and llama3 where they change no frequency
    (factor 1); dynamic NTK (one theta for a given N: N stays the example's)."""
    config = getattr(module, "config", None)
    rotary = getattr(module, "rotary_emb", None)
    kind, params, source = _rope_config(module)
    if config is not None:
        factor = getattr(config, "partial_rotary_factor", params.get("partial_rotary_factor", 1.0))
        if factor not in (None, 1, 1.0):
            raise ValueError(f"partial_rotary_factor = {factor} is not supported")
    described = f"{source} = {params!r}" if params else f"{source} = {kind!r}"
    if kind not in ("default", "linear", "llama3", "dynamic"):
        why = _ROPE_WHY.get(kind, "from_torch knows the rope types default, linear, llama3 and "
                                  "dynamic only, and cannot tell what this one computes")
        raise ValueError(f"{described}: rope_type {kind!r} is not supported: {why}; {_ROPE_TAIL}")
    if rotary is not None:
        att = getattr(rotary, "attention_scaling", 1.0)
        if att is not None and float(att) != 1.0:
            raise ValueError(f"rotary_emb.attention_scaling = {att} is not supported (it scales "
                             "cos and sin)")
    candidates = (getattr(module, "rope_theta", None), getattr(config, "rope_theta", None),
                  params.get("rope_theta"), getattr(rotary, "base", None))
    theta = next((float(v) for v in candidates if v is not None), None)
    # The rotary's frequencies as made (a dynamic one's current ones depend on its last input).
    inv_freq = None
    if rotary is not None:
        inv_freq = getattr(rotary, "original_inv_freq", None) if kind == "dynamic" else None
        if inv_freq is None:
            inv_freq = getattr(rotary, "inv_freq", None)
    inv = None if inv_freq is None else _numpy(inv_freq).reshape(-1)
    if inv is not None and 2 * inv.size != dim:
        raise ValueError(f"rotary_emb.inv_freq has {inv.size} frequencies, but {what} = {dim} "
                         f"needs {dim // 2} (partial rotary is not supported)")
    if theta is None and inv is not None and kind == "default":
        theta = float(inv[1] ** (-dim / 2.0)) if inv.size > 1 else 10000.0
        theta = float(f"{theta:.12g}")  # 1000 rather than 999.9999999999994
    if theta is None:
        raise ValueError("cannot find the rotary base: expected rope_theta, config.rope_theta, "
                         "config.rope_parameters['rope_theta'], rotary_emb.base or "
                         "rotary_emb.inv_freq")
    if not (math.isfinite(theta) and theta > 0):
        raise ValueError(f"rope theta = {theta} is not supported")
    freqs = _default_frequencies(theta, dim)
    try:
        if kind == "linear":
            freqs = freqs / float(params["factor"])
        elif kind == "llama3":
            freqs = _llama3_frequencies(freqs, params)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        raise ValueError(f"{described}: cannot read the {kind} rope parameters ({e!r})") from None
    changed = np.flatnonzero(np.abs(freqs / _default_frequencies(theta, dim) - 1) > 1e-12)
    if changed.size:
        ratio = _default_frequencies(theta, dim)[changed] / freqs[changed]
        lo, hi = f"{ratio.min():.4g}", f"{ratio.max():.4g}"
        raise ValueError(
            f"{described}: rope_type {kind!r} is not supported: {_ROPE_WHY[kind]}; here "
            f"{changed.size} of the {dim // 2} frequencies (j = {changed[0]}..{changed[-1]}) are "
            f"divided by {lo if lo == hi else lo + ' to ' + hi}, which no theta^(-2j/{dim}) "
            f"gives; {_ROPE_TAIL}")
    if inv is not None and not np.allclose(inv, freqs, rtol=1e-5, atol=0):
        if kind == "default":
            raise ValueError("rotary_emb.inv_freq is not the default 1/theta^(2j/dim) form "
                             "(rope scaling is not supported)")
        raise ValueError(f"rotary_emb.inv_freq differs from the frequencies of {described}: "
                         "cannot tell which the module applies")
    if kind != "dynamic":
        return _Rope(theta)
    # Dynamic NTK: past max_position_embeddings M the base grows with the sequence length N to
    # theta * (factor * N / M - (factor - 1))^(dim / (dim - 2)); one theta for one N.
    M = getattr(config, "max_position_embeddings", None)
    try:
        factor = float(params["factor"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{described}: cannot read the dynamic rope parameters ({e!r})") from None
    if M is None:
        raise ValueError(f"{described}: rope_type 'dynamic' needs config.max_position_embeddings, "
                         "past which it changes the base")
    M = int(M)
    if n > M:
        theta = theta * (factor * n / M - (factor - 1)) ** (dim / (dim - 2))
    return _Rope(theta, f"uses rope_type 'dynamic' (dynamic NTK RoPE, factor {factor:g}), whose "
                        f"base grows with the sequence length past max_position_embeddings = {M}",
                 n)


def _linear(m, name):
    from torch import nn
    lin = getattr(m, name, None)
    if not isinstance(lin, nn.Linear):
        raise TypeError(f"{type(m).__name__}.{name} must be an nn.Linear, got {type(lin).__name__}")
    return lin


# --------------------------------------------------------------------------------------------
# Self-attention from [in, out] projections: HF Llama-style, GPT-2 and BERT-style modules


def _self_attention(m, example_x, causal, weights, biases, H, Hkv, scaling, rope=None):
    """The layer with [in, out] `weights` (wq, wk, wv, wo), `H` query and `Hkv` key/value heads,
    score scale `scaling` (None: the module's own, 1/sqrt(head width) when it has none) and an
    optional (theta, style) rotary embedding over whole heads: tucker.gqa, or tucker.mha when
    there are biases (`biases`: {"q" | "k" | "v" | "o": array} of those present), since
    tucker.gqa has none; then each key/value head is repeated over its query group (exact)."""
    wq, wk, wv, wo = weights
    d, dh = wq.shape[0], wq.shape[1] // H
    shape = _example_shape(example_x, d)
    attrs = {"num_heads": H, "causal": causal,
             "scale": _scale_attr(_module_scaling(m) if scaling is None else scaling, dh ** -0.5),
             "rope": None if rope is None else reference.Rope(rope[0], 0, dh, 1, rope[1])}
    if not biases:
        return _Layer("gqa", {"wq": wq, "wk": wk, "wv": wv, "wo": wo},
                      {"num_heads": H, "num_kv_heads": Hkv, **attrs}, shape, False)
    rep = H // Hkv

    def expand(a):  # [..., Hkv*w] -> [..., H*w], kv head j -> query heads j*rep..
        w = a.shape[-1] // Hkv
        a = np.broadcast_to(a.reshape(a.shape[:-1] + (Hkv, 1, w)), a.shape[:-1] + (Hkv, rep, w))
        return a.reshape(a.shape[:-3] + (H * w,))

    weights = {"wq": wq, "wk": expand(wk), "wv": expand(wv), "wo": wo}
    weights.update({"b" + n: expand(biases[n]) if n in "kv" else biases[n]
                    for n in "qkvo" if n in biases})
    return _Layer("mha", weights, attrs, shape, False)


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


def _signature(m):
    """The parameters of m.forward, or None where Python cannot read them."""
    try:
        return inspect.signature(m.forward).parameters
    except (TypeError, ValueError):
        return None


# Inputs beside x through which models pass positions into an attention layer, which tucker's
# ops do not take (the compiled function's only input is x).
_POSITION_INPUTS = {
    "object_queries": "DETR's position embeddings (transformers 4), which the model adds to the "
                      "query and key inputs",
    "position_bias": "a relative position bias, which the model adds to the attention scores",
}


def _uses_rope(m):
    """Whether an HF-style attention rotates its queries and keys. HF passes the rotary (cos, sin)
    to the attention's forward as position_embeddings; older versions keep it in the module
    (rotary_emb; GPT-J's rotary_dim and embed_positions table). Attentions without RoPE (ViT,
    BART, OPT, CLIP, Jamba, ...) have neither; some take position_ids all the same, so that
    argument tells nothing. SmolLM3 and Llama 4 mark their NoPE layers with use_rope = 0.
    ValueError where the forward takes positions of another kind (_POSITION_INPUTS, DETR's
    additive position_embeddings)."""
    cls = type(m).__name__
    params = _signature(m)
    for name, what in _POSITION_INPUTS.items():
        if params is not None and name in params:
            raise ValueError(f"{cls}.forward takes {name}: {what}; that is an input of the layer "
                             "beside x, which tucker's ops do not take (the compiled function's "
                             "only input is x)")
    if getattr(m, "use_rope", None) is not None:
        return bool(m.use_rope)
    if any(getattr(m, a, None) is not None
           for a in ("rotary_emb", "rotary_dim", "rotary_ndims", "embed_positions")):
        return True
    if params is None:  # no signature to read: assume the common (RoPE) case
        return True
    if "position_embeddings" not in params:
        return False
    config = getattr(m, "config", None)
    if getattr(m, "rope_theta", None) is None and getattr(config, "rope_theta", None) is None \
            and not isinstance(getattr(config, "rope_parameters", None), dict):
        # DETR and its family (transformers 5) name their additive embeddings like RoPE's.
        raise ValueError(
            f"{cls}.forward takes position_embeddings, but neither {cls} nor its config has a "
            "rotary embedding (rotary_emb, rope_theta, config.rope_theta, "
            "config.rope_parameters), so they are not RoPE's (cos, sin): DETR and its family "
            "add position embeddings to the query and key inputs, an input of the layer beside "
            "x, which tucker's ops do not take (the compiled function's only input is x)")
    return True


def _quarter_turn(style, dim):
    """The matrix whose row k is the unit vector e_k turned by 90 degrees in every rotated pair
    of `style` (docs/spec.md, #tucker.rope): (a, c) -> (-c, a)."""
    turn = np.zeros((dim, dim))
    j = np.arange(dim // 2)
    first, second = (j, j + dim // 2) if style == "half" else (2 * j, 2 * j + 1)
    turn[first, second], turn[second, first] = 1.0, -1.0
    return turn


def _rope_style(m, dim):
    """The pairing of the rotary embedding m's forward applies: "half", pairs (j, j + dim/2), or
    "interleaved", pairs (2j, 2j + 1). transformers defines the rotation beside each attention
    class: rotate_half (Llama's pairs the halves; Cohere's, GLM's and others' interleave), which
    apply_rotary_pos_emb calls, or Llama 4's apply_rotary_emb, a complex product over consecutive
    pairs. The one the forward's module holds turns the unit vectors by 90 degrees at every
    frequency, which shows the pairs. Without either: Llama's half."""
    import torch
    scope = getattr(type(m).forward, "__globals__", {})
    apply = scope.get("apply_rotary_pos_emb")
    rotate = getattr(apply, "__globals__", {}).get("rotate_half", scope.get("rotate_half"))
    probe = torch.eye(dim, dtype=torch.float64)
    if callable(rotate):
        fn = rotate

        def turn():
            return rotate(probe)
    elif callable(scope.get("apply_rotary_emb")):
        fn = scope["apply_rotary_emb"]

        def turn():  # Llama 4's convention: x [B, N, H, D], freqs_cis [B, N, D/2]; e^(i pi/2) = i
            x = probe.reshape(1, dim, 1, dim)
            i = torch.complex(torch.zeros(1, dim, dim // 2), torch.ones(1, dim, dim // 2))
            return fn(x, x, i)[0].reshape(dim, dim)
    else:
        return "half"
    name = f"{fn.__module__}.{fn.__qualname__}"
    try:
        got = turn().detach().to(device="cpu", dtype=torch.float64).numpy()
    except Exception as e:
        raise ValueError(f"cannot tell which dims the rotary embedding of {type(m).__name__} "
                         f"pairs: {name} on unit vectors raised {type(e).__name__}: {e}") from e
    for style in ("half", "interleaved"):
        if np.array_equal(got, _quarter_turn(style, dim)):
            return style
    raise ValueError(f"{name} (the rotary embedding of {type(m).__name__}) rotates pairs that are "
                     f"neither (j, j + {dim // 2}) (style half) nor (2j, 2j + 1) (interleaved): "
                     "not supported")


def _chunked(m, config, rope):
    """Whether the model masks this layer to chunks of config.attention_chunk_size keys (Llama 4:
    layer_types "chunked_attention"; before layer_types, its RoPE layers)."""
    types, idx = getattr(config, "layer_types", None), getattr(m, "layer_idx", None)
    if types is not None and isinstance(idx, int) and 0 <= idx < len(types):
        return types[idx] == "chunked_attention"
    return rope is not None


def _from_projections(m, example_x, causal):
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
    uses_rope = _uses_rope(m)  # first: it refuses inputs beside x, whatever else holds
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
    pins = []  # why other sequence lengths would need another function
    window = _sliding_window(m, config)
    if window is not None and int(window) < n:
        raise ValueError(f"sliding_window = {window} is shorter than the sequence (N = {n}): "
                         "sliding-window attention is not supported (a window of at least N "
                         "keys is plain causal attention, which is)")
    if window is not None:
        pins.append(f"has sliding_window = {window}, which sequences longer than {window} tokens "
                    "would reach")
    rotary = _rope(m, dh, "head_dim", n) if uses_rope else None
    rope = (rotary.theta, _rope_style(m, dh)) if uses_rope else None
    if rotary is not None and rotary.pins_n:
        pins.append(rotary.pins_n)
    chunk = getattr(config, "attention_chunk_size", None)
    if chunk is not None and _chunked(m, config, rope):
        if int(chunk) < n:
            raise ValueError(f"attention_chunk_size = {chunk} is shorter than the sequence (N = "
                             f"{n}): chunked attention (keys only within the query's chunk) is not "
                             "supported (a chunk of at least N keys is plain causal attention, "
                             "which is)")
        pins.append(f"has attention_chunk_size = {chunk} (chunked attention), which sequences "
                    f"longer than {chunk} tokens would reach")
    floor_scale = getattr(m, "floor_scale", None)
    if rope is None and getattr(m, "attn_temperature_tuning", False):
        # Llama 4's NoPE layers scale query m by 1 + attn_scale*log1p(floor((m + 1)/floor_scale)).
        if n >= floor_scale:
            raise ValueError(f"attn_temperature_tuning scales the queries of positions >= "
                             f"floor_scale - 1 = {floor_scale - 1}, which N = {n} reaches: "
                             "position-dependent query scales are not supported")
        pins.append(f"has attn_temperature_tuning, which scales the queries of positions >= "
                    f"floor_scale - 1 = {floor_scale - 1}")
    weights = [_numpy(lin.weight).T for lin in (q, k, v, o)]
    biases = {name: _numpy(lin.bias) for name, lin in zip("qkvo", (q, k, v, o)) if lin.bias is not None}
    layer = _self_attention(m, example_x, causal, weights, biases, H, Hkv, None, rope)
    return layer._replace(pins_n="; ".join(pins) or None,
                          rope_length=rotary.length if rotary is not None else None)


def _from_gpt2(m, example_x, causal):
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
    return _self_attention(m, example_x, causal, split(W) + [wo], biases, H, Hkv, scaling)


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


def _from_bert(m, example_x, causal):
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
    return _self_attention(inner, example_x, causal, weights, biases, H, H, None)


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


def _from_mla(m, example_x, causal):
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
    kv_a = _linear(m, "kv_a_proj_with_mqa")
    kv_b, o = _linear(m, "kv_b_proj"), _linear(m, "o_proj")
    linears = [kv_a, kv_b, o]
    kv_norm, eps = _norm(m, "kv_a_layernorm")
    d = kv_a.in_features
    shape = _example_shape(example_x, d)
    weights = {}
    if ql is not None:
        qa, qb = _linear(m, "q_a_proj"), _linear(m, "q_b_proj")
        linears += [qa, qb]
        q_norm, q_eps = _norm(m, "q_a_layernorm")
        if abs(q_eps - eps) > 1e-12 * max(eps, 1e-30):
            raise ValueError(f"q_a_layernorm eps = {q_eps} differs from kv_a_layernorm eps = {eps} "
                             "(tucker.mla has one norm_epsilon)")
        weights.update(wq_a=_numpy(qa.weight).T, q_norm=q_norm)
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
    weights.update(wq_b=wq_b, wkv_a=_numpy(kv_a.weight).T, kv_norm=kv_norm,
                   wkv_b=_numpy(kv_b.weight).T, wo=_numpy(o.weight).T)
    interleave = attr("rope_interleave")
    style = "half" if interleave is not None and not interleave else "interleaved"
    rotary = _rope(m, r, "qk_rope_head_dim", shape[1])
    attrs = {"num_heads": H, "q_lora_rank": None if ql is None else int(ql), "kv_lora_rank": c,
             "qk_nope_head_dim": p, "qk_rope_head_dim": r, "v_head_dim": e,
             "norm_epsilon": eps, "causal": causal, "scale": _scale_attr(_module_scaling(m), (p + r) ** -0.5),
             "rope": reference.Rope(rotary.theta, p, r, 1, style)}
    return _Layer("mla", weights, attrs, shape, False, rotary.pins_n, rope_length=rotary.length)


# --------------------------------------------------------------------------------------------
# The self-check: the imported layer against the module's own forward

# Bound on max |reference - module| / max |module| on float64 input. The float64 reference is
# exact; HF modules round to float32 on purpose in places (rotary angles, Cohere's and Llama 4's
# rotation, the softmax), measured up to 1.2e-7 on the real classes of transformers 4.46.3 and
# 5.17.0 (1e-16 where they do not). A wrong rope style or scale, a dropped bias or a misread head
# layout is off by 1e-2 or more.
_VERIFY_TOL = 1e-5


class _Unchecked(Exception):
    """Why the self-check could not run the module."""


def _hf_positions(m, x, length=None):
    """HF's position_embeddings for positions 0..N-1 of x: from the module's own rotary_emb, else
    from the model's rotary class beside the attention class (<Prefix>RotaryEmbedding(config=...)
    of the forward's module, or its only *RotaryEmbedding class); None without one. With
    `length` > N, the rotary runs on positions 0..length-1 (a dynamic NTK rotary sets its
    frequencies by that) and the first N positions are returned."""
    import torch
    B, N = x.shape[:2]
    if length is not None and length > N:
        whole = _hf_positions(m, x[:, :1].expand(B, length, *x.shape[2:]))
        if whole is None:
            return None
        return tuple(t[:, :N] for t in whole) if isinstance(whole, (tuple, list)) else whole[:, :N]
    rotary = getattr(m, "rotary_emb", None)
    if rotary is None:
        scope = getattr(type(m).forward, "__globals__", {})
        classes = {n: c for n, c in scope.items() if n.endswith("RotaryEmbedding") and isinstance(c, type)}
        named = (classes.get(c.__name__.split("Attention")[0] + "RotaryEmbedding") for c in type(m).__mro__)
        cls = next((c for c in named if c is not None),
                   next(iter(classes.values())) if len(classes) == 1 else None)
        config = getattr(m, "config", None)
        if cls is None or config is None:
            return None
        rotary = cls(config=config).to(x.device)
    return rotary(x, torch.arange(N, device=x.device)[None].expand(B, N))


def _run_hf(m, layer, x):
    """(m's output on x, whether every row is comparable), m called as HF models call attention
    layers: hidden_states, an additive attention_mask [B, 1, N, N] (zeros, or finfo.min above the
    diagonal when the layer is causal), position_ids and position_embeddings where the forward
    takes them. A forward without attention_mask, or that fails with that mask, runs without one
    and applies whatever mask it applies by itself (none, or a causal one): then only the last
    token of each sequence, which sees every key under either, is comparable."""
    import torch
    params = _signature(m)
    if params is None:
        raise _Unchecked("its forward has no signature to read")
    B, N = x.shape[:2]
    kwargs = {}
    if "attention_mask" in params:
        mask = torch.zeros(B, 1, N, N, dtype=x.dtype, device=x.device)
        if layer.attrs["causal"]:
            above = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)
            mask.masked_fill_(above, torch.finfo(x.dtype).min)
        kwargs["attention_mask"] = mask
    if "position_ids" in params:
        kwargs["position_ids"] = torch.arange(N, device=x.device)[None].expand(B, N)
    if "position_embeddings" in params:
        positions = _hf_positions(m, x, layer.rope_length)
        if positions is not None:
            kwargs["position_embeddings"] = positions
        elif params["position_embeddings"].default is inspect.Parameter.empty:
            if layer.attrs.get("rope") is not None:
                raise _Unchecked("it has no rotary_emb and its module no RotaryEmbedding class to "
                                 "make the position_embeddings its forward takes")
            kwargs["position_embeddings"] = None  # a NoPE layer does not read them
    first = next(iter(params), None)
    missing = [n for n, p in params.items() if n != first and n not in kwargs
               and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if missing:
        raise _Unchecked(f"its forward also takes {', '.join(missing)}")
    try:
        out = m(x, **kwargs)
    except Exception:
        if "attention_mask" not in kwargs or params["attention_mask"].default is inspect.Parameter.empty:
            raise
        # A mask of another form (transformers 4's GPTBigCode takes a boolean one): run without.
        del kwargs["attention_mask"]
        out = m(x, **kwargs)
    return (out[0] if isinstance(out, (tuple, list)) else out), "attention_mask" in kwargs


def _run_mha(m, layer, x):
    """(nn.MultiheadAttention m on x [B, N, d], True), x in the module's layout."""
    import torch
    N = x.shape[1]
    # A mask even without causal (all False): it keeps torch on its general path, as torch 1.13's
    # fast path fails on a module without biases.
    mask = torch.ones(N, N, dtype=torch.bool).triu(1 if layer.attrs["causal"] else N)
    xm = x.transpose(0, 1) if layer.seq_first else x
    y = m(xm, xm, xm, attn_mask=mask, need_weights=False)[0]
    return (y.transpose(0, 1) if layer.seq_first else y), True


def _verify(module, layer):
    """Runs a float64 copy of `module` and the reference of `layer` on a random x of at most 2
    sequences of 6 tokens (a sliding window, a chunk or a temperature scale that N does not reach
    is not reached by them either); ValueError if they differ by more than _VERIFY_TOL, a
    UserWarning if the module cannot be run that way."""
    import torch
    from torch import nn
    cls = type(module).__name__
    B, N, d = (layer.shape[1], layer.shape[0], layer.shape[2]) if layer.seq_first else layer.shape
    x = np.random.default_rng(0).standard_normal((min(B, 2), min(N, 6), d))
    run = _run_mha if isinstance(module, nn.MultiheadAttention) else _run_hf
    try:
        # A copy, so the module is left as it is; on the CPU, where no TF32 setting rounds the
        # float32 steps of HF's forward further.
        twin = copy.deepcopy(module).to("cpu").double()
        with torch.no_grad():
            y, whole = run(twin, layer, torch.from_numpy(x))
        y = y.detach().to(torch.float64).numpy()
    except _Unchecked as e:
        reason = str(e)
    except Exception as e:  # the module's own code failed on the inputs it was given
        reason = f"its forward raised {type(e).__name__}: {e}"
    else:
        reason = None
    if reason is not None:
        warnings.warn(f"from_torch could not run {cls} to check its import ({reason}); the MLIR "
                      "is unchecked (verify=False skips the check without this warning)",
                      stacklevel=3)
        return
    expected = _reference(layer, x)
    what = f"tucker.{layer.op}"
    rope = layer.attrs.get("rope")
    if rope is not None:
        what += f" (rope style {rope.style}, theta {rope.theta:g})"
    if y.shape != expected.shape:
        raise ValueError(f"{cls} returned shape {list(y.shape)} on x of shape {list(x.shape)}, "
                         f"where its import ({what}) returns {list(expected.shape)}")
    if not whole:
        y, expected = y[:, -1], expected[:, -1]
    err = np.abs(y - expected).max() / max(np.abs(expected).max(), np.finfo(np.float64).tiny)
    if not err <= _VERIFY_TOL:
        rows = "" if whole else ", last token of each sequence"
        mask = "causal" if layer.attrs["causal"] else "no mask"
        raise ValueError(
            f"from_torch imported {cls} as {what}, but the op does not compute the module's "
            f"forward: on a random float64 x of shape {list(x.shape)} ({mask}{rows}) they differ "
            f"by {err:.3g} (max abs difference over max abs output; rounding alone stays below "
            f"{_VERIFY_TOL:g}), so the MLIR would compute something else. {cls} computes something "
            "the importer does not see; verify=False returns the MLIR unchecked")


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


_WEIGHTS = ("resource", "inline")


def from_torch(module, example_x, *, causal=None, dtype=None, verify=True, static_shapes=False,
               weights="inline", progress=None):
    """MLIR text of `func.func @forward(%x) -> tensor` computing `module` on x, weights embedded:
    x and the result are [B, N, d], or [N, B, d] for an nn.MultiheadAttention with
    batch_first=False (the module's own layout, in and out).

    static_shapes: False (default) gives x and the result dynamic batch and sequence dims
    (`tensor<?x?xdxT>`), so one compiled kernel serves every B and N; where the module computes
    something else on longer sequences (a sliding window, chunked attention, Llama 4's
    temperature tuning, dynamic NTK RoPE), N stays example_x's, with a UserWarning saying why.
    True: both are example_x's. example_x gives d, the self-check's tokens and, where static,
    the shape.

    causal: None (default) takes the module's `is_causal` (HF decoder attentions set it; the
    model applies a causal mask), else False; True / False force it. dtype: None (default) takes
    the dtype of the module's parameters (f32, f16 or bf16); "f32", "f16", "bf16" or a torch
    dtype overrides it. The compiled kernel takes x only: no padding mask (key_padding_mask, an
    HF attention_mask with padding) and no attn_mask other than the causal one, so every
    sequence of the batch is attended in full.

    weights: "inline" (default) writes each weight's bytes into its constant (`dense<"0x...">`);
    "resource" into the module's resource section (`dense_resource<key>` and `{-#
    dialect_resources: {builtin: {key: "0x..."}} #-}`), keys being the operand name and a hash
    of the bytes, so that texts of several imports can be concatenated. Both are hex text of the
    same size. Some passes read only inline constants (docs/python.md, "Weights in the MLIR"):
    resource weights compile to the same results, but bf16 / f16 ones are not seen by
    --tucker-ranks / --tucker-compress (tucker.ranks / compress inline them first), and the GPU
    pipeline does not concatenate them at compile time.

    verify: True (default) runs a float64 copy of the module and the float64 reference of the
    imported op (tucker.reference, the same weights and attributes, before rounding to dtype) on
    a random x of at most 2 x 6 tokens, and raises ValueError, naming the module's class and the
    difference, where they differ by more than 1e-5 (relative); a module it cannot run (see the
    module docstring) gives a UserWarning instead. False skips the check.

    progress: True reports the steps (reading, checking, writing the weights) on stderr, False
    never; None (default) where stderr is a terminal and the module has at least 8M parameters.

    Supported: torch.nn.MultiheadAttention (self-attention); HF attentions with q_proj / k_proj /
    v_proj and o_proj or out_proj, with RoPE (Llama, Qwen2 with its key bias, Mistral, Cohere,
    Llama 4's RoPE layers) or without (ViT, BART, CLIP, SmolLM3's and Llama 4's NoPE layers, ...);
    GPT-2 and GPTBigCode (c_attn, c_proj); BERT-style self-attention (query, key, value); HF
    DeepseekV3Attention (MLA). See the module docstring for the details and what is refused."""
    if weights not in _WEIGHTS:
        raise ValueError(f"weights = {weights!r}: expected 'resource' or 'inline'")
    build, _ = _kind(module)
    name = _module_dtype(module) if dtype is None else _dtype_name(dtype)
    causal = bool(getattr(module, "is_causal", False)) if causal is None else bool(causal)
    size = sum(p.numel() for p in module.parameters())
    report = progress if isinstance(progress, Progress) else Progress(_progress_enabled(progress, size))
    cls = type(module).__name__
    with report.step(f"from_torch: reading {cls} ({size / 1e6:.1f}M parameters)"):
        layer = build(module, example_x, causal)
    if verify:
        with report.step(f"from_torch: checking the import against {cls}"):
            _verify(module, layer)
    dims = list(layer.shape)
    if not static_shapes:
        b, n = (1, 0) if layer.seq_first else (0, 1)
        dims[b] = None
        if layer.pins_n is None:
            dims[n] = None
        else:
            warnings.warn(f"from_torch: {cls} {layer.pins_n}, so the function takes sequences of "
                          f"N = {layer.shape[n]} tokens only (example_x's), with a dynamic batch; "
                          "static_shapes=True pins the batch as well, without this warning",
                          UserWarning, stacklevel=2)
    return _text(layer._replace(dims=tuple(dims)), name, weights, report)
