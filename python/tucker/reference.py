"""Float64 NumPy reference for every op of the tucker dialect (DESIGN.md sections 1 and 2).

Written from the math, independently of the compiler, to serve as the oracle of its numerical
tests: exact and plain rather than fast. Every function accepts any float array and computes
in float64.

Conventions (the dialect contract): row-major tensors; activations x [B, N, d]; weight
matrices [in, out] (y = x W); head i of a projection is column block i. Causal aligns the last
query with the last key: query m sees key n iff n <= m + Nk - Nq, and a query that sees no key
outputs zeros. Queries sit at positions m + Nk - Nq, keys at n (this is what RoPE rotates by).
In flash, per-sequence lengths L replace Nk in both rules and hide the keys n >= L.

NaN and Inf propagate as IEEE arithmetic carries them through softmax(s) v, over the keys a query
sees: a NaN in a query row, or in a key or value that the row sees, makes that row NaN (in every
column for q and k, in its column for v); a +Inf logit gives NaN (Inf / Inf); keys a query does
not see (causal) never affect it, whatever their values.
"""

from typing import NamedTuple, Optional

import numpy as np

__all__ = [
    "Rope", "rope", "flash", "mha", "gqa", "mla", "attention",
    "mha_to_tucker", "gqa_to_tucker", "mla_to_tucker",
    "tucker_param_count", "kv_bytes_per_token",
]


class Rope(NamedTuple):
    """The #tucker.rope descriptor; any 5-sequence in this order is accepted where a rope is.

    Rotates dims [offset + b*stride, offset + b*stride + width) of the last axis, for b < repeat
    (stride None means width: adjacent blocks), each block the same way: frequencies freq_j = theta**(-2j/width), j < width/2, angle pos*freq_j.
    style "half" pairs (j, j + width/2) (HF Llama rotate_half); "interleaved" pairs (2j, 2j+1).
    """
    theta: float
    offset: int
    width: int
    repeat: int = 1
    style: str = "half"
    stride: Optional[int] = None

    @property
    def step(self):
        """Distance between the starts of consecutive blocks."""
        return self.width if self.stride is None else self.stride

    @property
    def end(self):
        """One past the last rotated dim."""
        return self.offset + self.step * (self.repeat - 1) + self.width


def _f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


def _require(cond, msg):
    if not cond:
        raise ValueError(msg)


def _rope_for(desc, dim):
    """Validates a rope descriptor against a last dim of size `dim`."""
    r = Rope(*desc)
    _require(r.style in ("half", "interleaved"), f"rope style must be half or interleaved, not {r.style!r}")
    _require(r.width > 0 and r.width % 2 == 0, f"rope width must be positive and even, got {r.width}")
    _require(r.repeat >= 1 and r.offset >= 0, f"rope needs repeat >= 1 and offset >= 0, got {r}")
    _require(r.step >= r.width, f"rope stride must be at least the width, got {r}")
    _require(r.end <= dim, f"rope rotates dims up to {r.end}, but the vector has {dim}")
    return r


def _rotate(x, desc, positions):
    """RoPE on the last axis of x [B, H, N, D]; positions [N] or [B, N]."""
    r = _rope_for(desc, x.shape[-1])
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim == 2:
        pos = pos[:, None]  # [B, 1, N]: the same positions for every head
    half = r.width // 2
    freq = 1.0 / r.theta ** (2.0 * np.arange(half) / r.width)
    angle = pos[..., None] * freq  # [..., N, half]
    cos, sin = np.cos(angle), np.sin(angle)
    out = x.copy()
    for b in range(r.repeat):
        start = r.offset + b * r.step
        if r.style == "half":
            first = start + np.arange(half)
            second = first + half
        else:
            first = start + 2 * np.arange(half)
            second = first + 1
        a, c = x[..., first], x[..., second]
        out[..., first] = a * cos - c * sin
        out[..., second] = c * cos + a * sin
    return out


def rope(x, rope, positions=None):
    """tucker.rope: x [B, H, N, D] rotated by `rope`; positions None means 0..N-1, else [N] or [B, N]."""
    x = _f64(x)
    _require(x.ndim == 4, f"rope expects x [B, H, N, D], got shape {x.shape}")
    return _rotate(x, rope, np.arange(x.shape[2]) if positions is None else positions)


def flash(q, k, v, scale=None, causal=False, rope=None, lengths=None):
    """tucker.flash: softmax(scale q k^T + mask) v per head -> [B, Hq, Nq, Dv].

    q [B, Hq, Nq, Dqk], k [B, Hkv, Nk, Dqk], v [B, Hkv, Nk, Dv]; query head h reads kv head
    h // (Hq // Hkv). scale defaults to 1/sqrt(Dqk). lengths (integers [B], optional): sequence
    b has L = clamp(lengths[b], 0, Nk) keys, the keys n >= L do not exist; without lengths
    L = Nk. Causal: query m sees key n iff n <= m + L - Nq. rope rotates q (positions
    m + L - Nq) and k (positions n) before the dot product.
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, Hq, Nq, D = q.shape
    Hkv, Nk = k.shape[1], k.shape[2]
    _require(k.shape == (B, Hkv, Nk, D), f"k shape {k.shape} does not match q shape {q.shape}")
    _require(v.shape[:3] == (B, Hkv, Nk), f"v shape {v.shape} does not match k shape {k.shape}")
    _require(Hq % Hkv == 0, f"{Hq} query heads are not a multiple of {Hkv} kv heads")
    if lengths is None:
        counts = np.full(B, Nk)
    else:
        counts = np.asarray(lengths)
        _require(counts.shape == (B,) and np.issubdtype(counts.dtype, np.integer),
                 f"lengths must be integers of shape ({B},), got {counts.dtype} {counts.shape}")
        counts = np.clip(counts.astype(np.int64), 0, Nk)
    # Query m of sequence b sees the keys n < end[b, m].
    positions = np.arange(Nq)[None, :] + counts[:, None] - Nq  # [B, Nq]: query positions
    end = np.maximum(positions + 1, 0) if causal else np.broadcast_to(counts[:, None], (B, Nq))
    seen = np.arange(Nk)[None, None, :] < end[:, :, None]  # [B, Nq, Nk]
    if rope is not None:
        q = _rotate(q, rope, positions)
        k = _rotate(k, rope, np.arange(Nk))
    k = np.repeat(k, Hq // Hkv, axis=1)
    v = np.repeat(v, Hq // Hkv, axis=1)
    s = (1.0 / np.sqrt(D) if scale is None else scale) * (q @ k.swapaxes(-1, -2))
    s = np.where(seen[:, None], s, -np.inf)
    row_max = s.max(axis=-1, keepdims=True)
    # A row that sees no key has max -inf; shifting by 0 instead makes all its weights 0.
    p = np.exp(s - np.where(np.isfinite(row_max), row_max, 0.0))
    denom = p.sum(axis=-1, keepdims=True)
    if not seen.all() and not np.all(np.isfinite(v)):
        # A key that a query does not see adds nothing to its output, not even the NaN of
        # 0 * Inf or 0 * NaN: each row sums over the keys it sees (n < end) only.
        o = np.zeros(p.shape[:-1] + v.shape[-1:])
        for b in range(B):
            for m in range(Nq):
                e = end[b, m]
                o[b, :, m] = np.einsum("hn,hnd->hd", p[b, :, m, :e], v[b, :, :e])
    else:
        o = p @ v
    return o / np.where(denom > 0, denom, 1.0)


def _heads(t, h):
    """[B, N, h*c] -> [B, h, N, c]: head i is column block i."""
    B, N, hc = t.shape
    _require(hc % h == 0, f"{hc} columns do not split into {h} heads")
    return t.reshape(B, N, h, hc // h).transpose(0, 2, 1, 3)


def _merge_heads(t):
    """[B, h, N, c] -> [B, N, h*c]."""
    B, h, N, c = t.shape
    return t.transpose(0, 2, 1, 3).reshape(B, N, h * c)


def _projected_attention(x, wq, wk, wv, wo, bq, bk, bv, bo, num_heads, num_kv_heads, causal, scale, rope):
    x = _f64(x)

    def project(w, b, h):
        y = x @ _f64(w)
        return _heads(y if b is None else y + _f64(b), h)

    q = project(wq, bq, num_heads)
    k = project(wk, bk, num_kv_heads)
    _require(k.shape[-1] == q.shape[-1], f"key heads are {k.shape[-1]} wide, query heads {q.shape[-1]}")
    o = flash(q, k, project(wv, bv, num_kv_heads), scale, causal, rope)
    y = _merge_heads(o) @ _f64(wo)
    return y if bo is None else y + _f64(bo)


def mha(x, wq, wk, wv, wo, bq=None, bk=None, bv=None, bo=None, *, num_heads, causal=False, scale=None, rope=None):
    """tucker.mha: multi-head self-attention. x [B, N, d], wq/wk [d, H*dh], wv [d, H*dv],
    wo [H*dv, d], optional biases on each projection. rope acts per head (D = dh); scale
    defaults to 1/sqrt(dh)."""
    return _projected_attention(x, wq, wk, wv, wo, bq, bk, bv, bo, num_heads, num_heads, causal, scale, rope)


def gqa(x, wq, wk, wv, wo, *, num_heads, num_kv_heads, causal=False, scale=None, rope=None):
    """tucker.gqa: grouped-query attention (MQA when num_kv_heads = 1). wq [d, H*dh],
    wk [d, Hkv*dh], wv [d, Hkv*dv], wo [H*dv, d]; query head h reads kv head h // (H / Hkv)."""
    return _projected_attention(x, wq, wk, wv, wo, None, None, None, None, num_heads, num_kv_heads,
                                causal, scale, rope)


def _rms_norm(z, eps, width=None):
    """Weightless RMS norm over the first `width` dims of the last axis (all when None); the
    other dims pass unchanged."""
    w = z.shape[-1] if width is None else width
    head = z[..., :w]
    return np.concatenate([head / np.sqrt(np.mean(head * head, axis=-1, keepdims=True) + eps), z[..., w:]], -1)


def _mla_dims(wq_a, q_norm, wq_b, wkv_a, wkv_b, wo, H, q_lora_rank, c, p, R, dv):
    _require(wq_a is not None or q_norm is None, "q_norm needs wq_a: without it the query is x wq_b, not normalized")
    _require(wkv_a.shape[1] == c + R, f"wkv_a has {wkv_a.shape[1]} columns, expected kv_lora_rank + rope = {c + R}")
    _require(wkv_b.shape == (c, H * (p + dv)), f"wkv_b is {wkv_b.shape}, expected {(c, H * (p + dv))}")
    _require(wo.shape[0] == H * dv, f"wo has {wo.shape[0]} rows, expected num_heads * v_head_dim = {H * dv}")
    if wq_a is not None:
        _require(wq_a.shape[1] == q_lora_rank, f"wq_a has {wq_a.shape[1]} columns, q_lora_rank is {q_lora_rank}")
    q_in = wkv_a.shape[0] if wq_a is None else q_lora_rank
    _require(wq_b.shape == (q_in, H * (p + R)), f"wq_b is {wq_b.shape}, expected {(q_in, H * (p + R))}")


def mla(x, wq_a, q_norm, wq_b, wkv_a, kv_norm, wkv_b, wo, *, num_heads, q_lora_rank, kv_lora_rank,
        qk_nope_head_dim, qk_rope_head_dim, v_head_dim, causal=False, scale=None, rope=None, eps=1e-6):
    """tucker.mla: DeepSeek-V2/V3 multi-head latent attention, HF DeepseekV3Attention semantics
    with weights transposed to [in, out].

    q = (rmsnorm(x wq_a) * q_norm) wq_b (q_norm None means weight 1), or x wq_b without wq_a
    (then q_norm must be None and q_lora_rank is ignored);
    per head [nope | rope]. x wkv_a = [c_kv | k_pe]: k_pe [rope] is shared by all heads and not
    normalized; (rmsnorm(c_kv) * kv_norm) wkv_b gives per head [k_nope | v]; key per head is
    [k_nope | k_pe]. rope acts on the per-head [nope | rope] vectors of q and k (normally
    offset = nope, width = rope, style interleaved). scale defaults to 1/sqrt(nope + rope).
    """
    H, c, p, R, dv = num_heads, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim
    x, wq_a, wq_b, wkv_a, wkv_b, wo = map(_f64, (x, wq_a, wq_b, wkv_a, wkv_b, wo))
    _mla_dims(wq_a, q_norm, wq_b, wkv_a, wkv_b, wo, H, q_lora_rank, c, p, R, dv)
    if wq_a is None:
        q_latent = x
    else:
        q_latent = _rms_norm(x @ wq_a, eps)
        if q_norm is not None:
            q_latent = q_latent * _f64(q_norm)
    q = _heads(q_latent @ wq_b, H)
    ckv = x @ wkv_a
    kv = _heads((_rms_norm(ckv[..., :c], eps) * _f64(kv_norm)) @ wkv_b, H)
    k_pe = np.broadcast_to(ckv[:, None, :, c:], kv.shape[:3] + (R,))
    k = np.concatenate([kv[..., :p], k_pe], axis=-1)
    o = flash(q, k, kv[..., p:], scale, causal, rope)
    return _merge_heads(o) @ wo


def _selector_core(groups, width, rows, cols, mode):
    """Dense form of a #tucker.selector core: slice a maps row block a to column block groups[a]."""
    _require(rows == len(groups) * width,
             f"selector {mode} rank {rows} is not {len(groups)} heads x width {width}")
    _require(cols % width == 0 and all(0 <= g < cols // width for g in groups),
             f"selector groups {list(groups)} do not index {mode} blocks of width {width} in rank {cols}")
    core = np.zeros((len(groups), rows, cols))
    j = np.arange(width)
    for a, g in enumerate(groups):
        core[a, a * width + j, g * width + j] = 1.0
    return core


def attention(x, U1, U2, U3, core, U1o, U2o, U3o, core_out, q_bias=None, out_bias=None, *, selector=None,
              causal=False, scale=None, rope=None, query_norm=None, key_norm=None, value_norm=None):
    """tucker.attention, the execution form of DESIGN.md section 1.

    Factors: U1 [H, r1], U2 [d, r2], U3 [d, r3], core [r1, r2, r3]; U1o [H, r1o], U2o [d, r2o],
    U3o [d, r3o], core_out [r1o, r2o, r3o]. Either both cores are given (scale required) or
    neither and selector = (head_dim, value_dim, groups) stands for them (scale defaults to
    1/sqrt(head_dim)). Norms are (eps, width): weightless RMS over the first width dims.

      qt = query_norm(x U2 + q_bias);  q_i = qt G_i,  G_i = sum_a U1[i,a] core[a]
      k = key_norm(x U3);  v = value_norm(x U3o)        (one shared KV head: latent MQA)
      o_i = softmax(scale q_i.k + causal mask) v,  rope rotating q_i and k in R^{r3}
      y = sum_i o_i Gt_i^T U2o^T + out_bias,  Gt_i = sum_a U1o[i,a] core_out[a]
    """
    x, U1, U2, U3, U1o, U2o, U3o = map(_f64, (x, U1, U2, U3, U1o, U2o, U3o))
    if selector is not None:
        _require(core is None and core_out is None, "a selector replaces both cores; do not pass cores too")
        head_dim, value_dim, groups = selector
        core = _selector_core(groups, head_dim, U2.shape[1], U3.shape[1], "query/key")
        core_out = _selector_core(groups, value_dim, U2o.shape[1], U3o.shape[1], "output/value")
        scale = 1.0 / np.sqrt(head_dim) if scale is None else scale
    else:
        _require(core is not None and core_out is not None, "without a selector both cores are required")
        _require(scale is not None, "scale is required with dense cores")
    qt = x @ U2
    if q_bias is not None:
        qt = qt + _f64(q_bias)
    if query_norm is not None:
        qt = _rms_norm(qt, *query_norm)
    k = x @ U3
    if key_norm is not None:
        k = _rms_norm(k, *key_norm)
    v = x @ U3o
    if value_norm is not None:
        v = _rms_norm(v, *value_norm)
    G = np.einsum("ia,ars->irs", U1, _f64(core))
    q = np.einsum("bnr,irs->bins", qt, G)
    o = flash(q, k[:, None], v[:, None], scale, causal, rope)
    Gt = np.einsum("ia,ars->irs", U1o, _f64(core_out))
    y = np.einsum("bins,irs->bnr", o, Gt) @ U2o.T
    return y if out_bias is None else y + _f64(out_bias)


def _per_block_rope(desc, head_dim, blocks):
    """The per-head rope of MHA/GQA as one descriptor on the stacked key latent R^{blocks*head_dim}:
    the same rotation repeated on every key block. One descriptor can say this only when the
    rotated blocks tile the whole head."""
    if desc is None:
        return None
    r = _rope_for(desc, head_dim)
    if blocks == 1:
        return r
    if r.repeat == 1:
        return r._replace(repeat=blocks, stride=head_dim)
    _require(r.step * r.repeat == head_dim,
             f"rope {tuple(r)} is not evenly spaced across {head_dim}-wide heads; "
             "repeated per key block it is not a single rope descriptor")
    return r._replace(repeat=r.repeat * blocks)


def gqa_to_tucker(wq, wk, wv, wo, *, num_heads, num_kv_heads, causal=False, scale=None, rope=None):
    """Exact Tucker form of gqa (and mha without biases): keyword arguments for attention(x, **t).

    Selector cores, U1 = U1o = I, U2 = wq, U3 = wk (the key heads stacked), U2o = wo^T, U3o = wv;
    query head i reads key/value block i // (H / Hkv); rope repeated on every key block.
    """
    wq, wk, wv, wo = map(_f64, (wq, wk, wv, wo))
    H, Hkv = num_heads, num_kv_heads
    _require(H % Hkv == 0, f"{H} query heads are not a multiple of {Hkv} kv heads")
    _require(wq.shape[1] % H == 0 and wv.shape[1] % Hkv == 0, "projection widths do not split into heads")
    head_dim, value_dim = wq.shape[1] // H, wv.shape[1] // Hkv
    eye = np.eye(H)
    return dict(U1=eye, U2=wq, U3=wk, core=None, U1o=eye, U2o=wo.T, U3o=wv, core_out=None,
                selector=(head_dim, value_dim, [i // (H // Hkv) for i in range(H)]), causal=causal,
                scale=1.0 / np.sqrt(head_dim) if scale is None else scale,
                rope=_per_block_rope(rope, head_dim, Hkv))


def mha_to_tucker(wq, wk, wv, wo, bq=None, bk=None, bv=None, bo=None, *, num_heads, causal=False, scale=None,
                  rope=None):
    """Exact Tucker form of mha: gqa_to_tucker with one kv head per query head, plus biases.

    The query bias stays a bias on the latent query. The key bias adds q_i.bk to every score of a
    row, which the softmax cancels; with rope it is rotated by the key position and does not
    cancel: --tucker-lift then keeps it as the weight row of a constant input feature 1, a form
    on [x, 1] that this function (factors for attention(x, ...)) does not express, so it refuses
    that case. Softmax weights sum to 1 (self-attention always sees
    key 0), so the value bias passes through unchanged and folds with the output bias into
    out_bias = bv wo + bo.
    """
    _require(bk is None or rope is None or not np.any(bk), "a key bias does not cancel under rope")
    t = gqa_to_tucker(wq, wk, wv, wo, num_heads=num_heads, num_kv_heads=num_heads, causal=causal, scale=scale,
                      rope=rope)
    out_bias = None
    if bv is not None or bo is not None:
        out_bias = np.zeros(t["U2o"].shape[0])
        if bv is not None:
            out_bias = out_bias + _f64(bv) @ _f64(wo)
        if bo is not None:
            out_bias = out_bias + _f64(bo)
    t.update(q_bias=_f64(bq), out_bias=out_bias)
    return t


def mla_to_tucker(wq_a, q_norm, wq_b, wkv_a, kv_norm, wkv_b, wo, *, num_heads, q_lora_rank, kv_lora_rank,
                  qk_nope_head_dim, qk_rope_head_dim, v_head_dim, causal=False, scale=None, rope=None, eps=1e-6):
    """Exact Tucker form of mla (dense cores, latent MQA): keyword arguments for attention(x, **t).

    Per head i, wq_b gives W_UQ_i (nope) and W_QR_i (rope) columns, wkv_b gives W_UK_i and W_UV_i,
    wo gives row block W_O_i; W_DKV = wkv_a[:, :c]. The norm weights are diagonals and fold in:
      U2 = wq_a, query_norm = (eps, q_lora_rank)
      U3 = wkv_a = [W_DKV | W_KR], key_norm = (eps, c): c_kv normalized, k_pe not
      core_i = [diag(q_norm) W_UQ_i W_UK_i^T diag(kv_norm) | diag(q_norm) W_QR_i]   [r2, c + rope]
      U3o = W_DKV, value_norm = (eps, c); U2o = I_d, core_out_i = (diag(kv_norm) W_UV_i W_O_i)^T [d, c]
      U1 = U1o = I; rope moves from the per-head [nope | rope] vector to the latent key
      [c_kv | k_pe]: offset - nope + kv_lora_rank (it must not rotate nope dims, which pass
      through W_UK and cannot be fused).
    Without wq_a the query latent is x itself (the wq_a = I, no-norm special case): U2 = I_d, no
    query_norm, core_i = [W_UQ_i W_UK_i^T diag(kv_norm) | W_QR_i] with W_UQ_i, W_QR_i from wq_b
    [d, H*(nope+rope)]. Query rank d bounds the query mode anyway; U2 = wq_b would give rank
    H*(nope + rope) instead, larger whenever that exceeds d (DeepSeek-V2-Lite: 3072 vs 2048).
    """
    H, c, p, R, dv = num_heads, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim
    wq_a, wq_b, wkv_a, wkv_b, wo = map(_f64, (wq_a, wq_b, wkv_a, wkv_b, wo))
    _mla_dims(wq_a, q_norm, wq_b, wkv_a, wkv_b, wo, H, q_lora_rank, c, p, R, dv)
    d = wkv_a.shape[0]
    q_weight = np.ones(wq_b.shape[0]) if q_norm is None else _f64(q_norm)
    wq_b = wq_b.reshape(-1, H, p + R) * q_weight[:, None, None]
    wkv_b = wkv_b.reshape(c, H, p + dv) * _f64(kv_norm)[:, None, None]
    nope_scores = np.einsum("rip,cip->irc", wq_b[..., :p], wkv_b[..., :p])
    core = np.concatenate([nope_scores, wq_b[..., p:].transpose(1, 0, 2)], axis=-1)
    core_out = np.einsum("civ,ivd->idc", wkv_b[..., p:], wo.reshape(H, dv, d))
    latent_rope = None
    if rope is not None:
        r = _rope_for(rope, p + R)
        _require(r.offset >= p, f"rope {tuple(r)} rotates nope dims (< {p}), which do not fuse into the latent")
        latent_rope = r._replace(offset=r.offset - p + c)
    eye = np.eye(H)
    return dict(U1=eye, U2=np.eye(d) if wq_a is None else wq_a, U3=wkv_a, core=core,
                U1o=eye, U2o=np.eye(d), U3o=wkv_a[:, :c], core_out=core_out,
                causal=causal, scale=1.0 / np.sqrt(p + R) if scale is None else scale, rope=latent_rope,
                query_norm=None if wq_a is None else (eps, q_lora_rank), key_norm=(eps, c), value_norm=(eps, c))


def tucker_param_count(d, num_heads, ranks, ranks_out=None):
    """Parameters of a Tucker attention layer with dense cores: core and three factors for each
    of the pre- and post-softmax tensors (ranks_out defaults to ranks, giving the paper's
    2(r1 r2 r3 + n_H r1 + d r2 + d r3))."""
    def one(r1, r2, r3):
        return r1 * r2 * r3 + num_heads * r1 + d * r2 + d * r3
    return one(*ranks) + one(*(ranks if ranks_out is None else ranks_out))


def kv_bytes_per_token(r3, r3o=None, *, shared=False, element_bytes=2):
    """KV cache bytes per token of a Tucker layer: key latent (r3) plus value latent (r3o,
    default r3), or the key latent alone when U3o's columns are U3's (MLA's shared latent)."""
    values = r3 if shared else r3 + (r3 if r3o is None else r3o)
    return values * element_bytes
