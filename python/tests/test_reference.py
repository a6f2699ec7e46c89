"""The NumPy reference (tucker/reference.py) against PyTorch's own attention and HF semantics.

Everything runs in float64 and must agree to a relative error of 1e-12 (max abs difference over
max abs value). Oracles: torch.nn.MultiheadAttention, torch's scaled-dot-product attention
kernel, HF Llama / DeepseekV3 attention and rotary helpers (hf_semantics.py), and the paper's
bilinear-tensor definition of Tucker attention.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import hf_semantics as hf
from tucker import reference as ref

TOL = 1e-12


def assert_close(actual, expected, tol=TOL):
    actual = np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape
    err = np.abs(actual - expected).max() / np.abs(expected).max()
    assert err <= tol, f"relative error {err:.3e}"


def tt(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def randomize(module, rng):
    """Random float64 parameters: matrices scaled by 1/sqrt(fan_in) to keep softmax unsaturated,
    vectors (biases, norm weights) in [0.5, 1.5]."""
    module.double()
    with torch.no_grad():
        for p in module.parameters():
            if p.ndim == 2:
                p.copy_(tt(rng.standard_normal(p.shape) / np.sqrt(p.shape[1])))
            else:
                p.copy_(tt(rng.uniform(0.5, 1.5, p.shape)))
    return module


def weight(linear):
    """nn.Linear stores [out, in]; the dialect wants [in, out]."""
    return linear.weight.detach().numpy().T


def torch_sdpa(q, k, v, mask, scale):
    """torch's own scaled-dot-product attention; mask True means attend."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    # torch 1.13: private kernel with the scale fixed at 1/sqrt(D), so pre-scale q.
    return F._scaled_dot_product_attention(q * (scale * q.shape[-1] ** 0.5), k, v, mask, 0.0, False, False)[0]


def interleave(y):
    """[evens | odds] -> (e0, o0, e1, o1, ...): undoes the de-interleaving of HF's
    apply_rotary_pos_emb_interleave."""
    return y.reshape(*y.shape[:-1], 2, y.shape[-1] // 2).transpose(-1, -2).reshape(y.shape)


def torch_rope(x, desc, position_ids):
    """A rope descriptor applied through HF's helpers, block by block (x [B,H,N,D], position_ids
    [B,N]). HF's interleaved output is de-interleaved; it is re-interleaved here so the layout
    matches the descriptor's (test_interleaved_rope_is_hf_permuted checks HF's own layout)."""
    theta, offset, width, repeat, style = desc
    cos, sin = hf.RotaryEmbedding(width, theta)(x, position_ids)
    out = x.clone()
    for b in range(repeat):
        block = slice(offset + b * width, offset + (b + 1) * width)
        xb = x[..., block].contiguous()
        if style == "half":
            out[..., block] = hf.apply_rotary_pos_emb(xb, xb, cos, sin)[0]
        else:
            out[..., block] = interleave(hf.apply_rotary_pos_emb_interleave(xb, xb, cos, sin)[0])
    return out


# ----------------------------------------------------------------------------------- rope

ROPE_CASES = [  # B, H, N, D, (theta, offset, width, repeat, style)
    (2, 3, 37, 16, (10000.0, 0, 16, 1, "half")),
    (1, 1, 1, 8, (10000.0, 0, 8, 1, "half")),
    (2, 2, 19, 24, (500.0, 4, 6, 3, "half")),  # offset > 0, repeat > 1, dims 22..23 untouched
    (2, 3, 37, 16, (10000.0, 0, 16, 1, "interleaved")),
    (3, 2, 11, 20, (1000.0, 2, 8, 2, "interleaved")),
    (1, 2, 5, 2, (10.0, 0, 2, 1, "interleaved")),  # one pair
]


@pytest.mark.parametrize("B,H,N,D,desc", ROPE_CASES)
@pytest.mark.parametrize("positions", ["default", "per-token", "per-batch"])
def test_rope_matches_hf(B, H, N, D, desc, positions):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, H, N, D))
    if positions == "default":
        pos, pos_ids = None, torch.arange(N)[None].expand(B, -1)
    elif positions == "per-token":
        pos = rng.integers(0, 1000, N)
        pos_ids = torch.from_numpy(pos)[None].expand(B, -1)
    else:
        pos = rng.integers(0, 1000, (B, N))
        pos_ids = torch.from_numpy(pos)
    assert_close(ref.rope(x, desc, pos), torch_rope(tt(x), desc, pos_ids))


def test_interleaved_rope_is_hf_permuted():
    """HF DeepseekV3's apply_rotary_pos_emb_interleave returns the pairwise rotation de-interleaved
    to [evens | odds]; the same permutation of q and k leaves every q.k product unchanged."""
    rng = np.random.default_rng(2)
    B, H, N, D = 2, 3, 23, 12
    q, k = rng.standard_normal((2, B, H, N, D))
    cos, sin = hf.RotaryEmbedding(D, 10000.0)(tt(q), torch.arange(N)[None].expand(B, -1))
    hq, hk = hf.apply_rotary_pos_emb_interleave(tt(q), tt(k), cos, sin)
    desc = (10000.0, 0, D, 1, "interleaved")
    mq, mk = ref.rope(q, desc), ref.rope(k, desc)
    assert_close(np.concatenate([mq[..., 0::2], mq[..., 1::2]], -1), hq)
    assert_close(np.concatenate([mk[..., 0::2], mk[..., 1::2]], -1), hk)
    assert_close(mq @ mk.swapaxes(-1, -2), hq @ hk.transpose(-1, -2))


# ---------------------------------------------------------------------------------- flash

FLASH_CASES = [  # B, Hq, Hkv, Nq, Nk, Dqk, Dv
    (2, 4, 4, 37, 37, 16, 16),
    (1, 6, 2, 19, 53, 12, 20),  # GQA, fewer queries than keys
    (3, 4, 1, 70, 70, 8, 5),  # MQA
    (2, 2, 1, 1, 33, 16, 16),  # one query (decode)
    (2, 3, 3, 1, 1, 4, 4),  # length 1
    (1, 4, 2, 45, 17, 8, 8),  # more queries than keys: causal rows that see no key
    (1, 1, 1, 5, 9, 1, 3),  # rank-1 scores
]


def causal_mask(Nq, Nk):
    """True where query m sees key n: n <= m + Nk - Nq."""
    return torch.ones(Nq, Nk).tril(Nk - Nq).bool()


@pytest.mark.parametrize("B,Hq,Hkv,Nq,Nk,D,Dv", FLASH_CASES)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_flash_matches_torch(B, Hq, Hkv, Nq, Nk, D, Dv, causal, scale):
    rng = np.random.default_rng(3)
    q = rng.standard_normal((B, Hq, Nq, D))
    k = rng.standard_normal((B, Hkv, Nk, D))
    v = rng.standard_normal((B, Hkv, Nk, Dv))
    g = Hq // Hkv
    mask = causal_mask(Nq, Nk) if causal else torch.ones(Nq, Nk).bool()
    expected = torch_sdpa(tt(q), tt(k).repeat_interleave(g, 1), tt(v).repeat_interleave(g, 1), mask,
                          D ** -0.5 if scale is None else scale).numpy()
    out = ref.flash(q, k, v, scale=scale, causal=causal)
    seen = mask.any(-1).numpy()
    assert_close(out[:, :, seen], expected[:, :, seen])
    assert np.all(out[:, :, ~seen] == 0)  # torch gives NaN there; the dialect says zeros


@pytest.mark.parametrize("desc", [(10000.0, 0, 16, 1, "half"), (500.0, 2, 4, 3, "interleaved")])
@pytest.mark.parametrize("causal", [False, True])
def test_flash_rope_positions(desc, causal):
    """rope inside flash rotates queries at positions m + Nk - Nq and keys at n."""
    rng = np.random.default_rng(4)
    B, Hq, Hkv, Nq, Nk, D, Dv = 2, 4, 2, 13, 29, 16, 8
    q = rng.standard_normal((B, Hq, Nq, D))
    k = rng.standard_normal((B, Hkv, Nk, D))
    v = rng.standard_normal((B, Hkv, Nk, Dv))
    qr = torch_rope(tt(q), desc, (torch.arange(Nq) + Nk - Nq)[None].expand(B, -1))
    kr = torch_rope(tt(k), desc, torch.arange(Nk)[None].expand(B, -1))
    mask = causal_mask(Nq, Nk) if causal else torch.ones(Nq, Nk).bool()
    expected = torch_sdpa(qr, kr.repeat_interleave(2, 1), tt(v).repeat_interleave(2, 1), mask, D ** -0.5)
    assert_close(ref.flash(q, k, v, causal=causal, rope=desc), expected)


# ------------------------------------------------------------------------ mha, gqa, mla

MHA_CASES = [(2, 37, 24, 3), (1, 1, 8, 2), (3, 70, 32, 8), (2, 5, 6, 6)]  # B, N, d, H


@pytest.mark.parametrize("B,N,d,H", MHA_CASES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
def test_mha_matches_torch_multihead_attention(B, N, d, H, bias, causal, batch_first):
    rng = np.random.default_rng(5)
    m = randomize(torch.nn.MultiheadAttention(d, H, bias=bias, batch_first=batch_first), rng).eval()
    x = rng.standard_normal((B, N, d))
    xt = tt(x) if batch_first else tt(x).transpose(0, 1)
    # Grad stays enabled: it keeps torch 1.13 off its native fast path, which rejects bias=False.
    y = m(xt, xt, xt, attn_mask=torch.ones(N, N).triu(1).bool() if causal else None, need_weights=False)[0]
    y = y.detach() if batch_first else y.detach().transpose(0, 1)
    # in_proj_weight packs q, k, v as [3d, d] in [out, in] layout.
    wq, wk, wv = np.split(m.in_proj_weight.detach().numpy().T, 3, axis=1)
    biases = (*np.split(m.in_proj_bias.detach().numpy(), 3), m.out_proj.bias.detach().numpy()) if bias else ()
    assert_close(ref.mha(x, wq, wk, wv, weight(m.out_proj), *biases, num_heads=H, causal=causal), y)


GQA_CASES = [(2, 37, 32, 4, 2, 8), (1, 1, 16, 4, 1, 4), (3, 50, 24, 6, 3, 6), (2, 17, 16, 2, 2, 16)]  # B,N,d,H,Hkv,dh


@pytest.mark.parametrize("B,N,d,H,Hkv,dh", GQA_CASES)
@pytest.mark.parametrize("causal", [False, True])
def test_gqa_matches_hf_llama(B, N, d, H, Hkv, dh, causal):
    rng = np.random.default_rng(6)
    m = randomize(hf.LlamaAttention(d, H, Hkv, dh, rope_theta=10000.0), rng)
    x = rng.standard_normal((B, N, d))
    with torch.no_grad():
        y = m(tt(x), causal=causal)
    out = ref.gqa(x, weight(m.q_proj), weight(m.k_proj), weight(m.v_proj), weight(m.o_proj), num_heads=H,
                  num_kv_heads=Hkv, causal=causal, rope=(10000.0, 0, dh, 1, "half"))
    assert_close(out, y)


MLA_CASES = [  # B, N, d, H, q_lora_rank, kv_lora_rank, nope, rope, v
    (2, 37, 32, 4, 12, 16, 8, 4, 6),
    (1, 1, 16, 2, None, 8, 4, 2, 4),
    (3, 21, 24, 3, None, 10, 6, 8, 5),
    (2, 50, 16, 1, 4, 4, 2, 2, 3),
]
MLA_KEYS = ("num_heads", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")


def mla_weights(m):
    """The operands of tucker.mla, in order, from an HF-style DeepseekV3Attention."""
    lora = m.q_lora_rank is not None
    return (weight(m.q_a_proj) if lora else None, m.q_a_layernorm.weight.detach().numpy() if lora else None,
            weight(m.q_b_proj if lora else m.q_proj), weight(m.kv_a_proj_with_mqa),
            m.kv_a_layernorm.weight.detach().numpy(), weight(m.kv_b_proj), weight(m.o_proj))


@pytest.mark.parametrize("B,N,d,H,ql,kvl,nope,rp,vd", MLA_CASES)
@pytest.mark.parametrize("interleave", [True, False])
@pytest.mark.parametrize("causal", [False, True])
def test_mla_matches_hf_deepseek_v3(B, N, d, H, ql, kvl, nope, rp, vd, interleave, causal):
    rng = np.random.default_rng(7)
    m = randomize(hf.DeepseekV3Attention(d, H, ql, kvl, nope, rp, vd, 10000.0, interleave, 1e-6), rng)
    x = rng.standard_normal((B, N, d))
    with torch.no_grad():
        y = m(tt(x), causal=causal)
    desc = (10000.0, nope, rp, 1, "interleaved" if interleave else "half")
    out = ref.mla(x, *mla_weights(m), **dict(zip(MLA_KEYS, (H, ql, kvl, nope, rp, vd))), causal=causal, rope=desc)
    assert_close(out, y)


# ------------------------------------------------------------------------- Tucker form

@pytest.mark.parametrize("B,N,d,H,ranks,ranks_out", [
    (2, 37, 16, 4, (2, 8, 6), (3, 5, 7)),
    (1, 19, 8, 3, (1, 1, 1), (1, 1, 1)),
    (3, 1, 12, 2, (2, 12, 4), (2, 12, 9)),
])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_bilinear_definition(B, N, d, H, ranks, ranks_out, causal):
    """Execution form vs DESIGN.md section 1's definition through the full d x d slices:
    Y = sum_i softmax(s X W_i X^T) X Wt_i^T, W = C x1 U1 x2 U2 x3 U3, Wt likewise."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((B, N, d))
    U1, U2, U3, U1o, U2o, U3o = (rng.standard_normal(shape) / np.sqrt(shape[0]) for shape in (
        (H, ranks[0]), (d, ranks[1]), (d, ranks[2]), (H, ranks_out[0]), (d, ranks_out[1]), (d, ranks_out[2])))
    core, core_out = rng.standard_normal(ranks), rng.standard_normal(ranks_out)
    W = np.einsum("abc,ia,xb,yc->ixy", core, U1, U2, U3)
    Wt = np.einsum("abc,ia,xb,yc->ixy", core_out, U1o, U2o, U3o)
    scores = 0.7 * np.einsum("bnx,ixy,bmy->binm", x, W, x)
    if causal:
        scores = np.where(np.tril(np.ones((N, N), bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    expected = np.einsum("binm,bmy,ixy->bnx", p, x, Wt)
    out = ref.attention(x, U1, U2, U3, core, U1o, U2o, U3o, core_out, scale=0.7, causal=causal)
    assert_close(out, expected)


def per_head_rope(kind, dh):
    return {"none": None, "half": (10000.0, 0, dh, 1, "half"),
            "interleaved x2": (300.0, 0, dh // 2, 2, "interleaved")}[kind]


@pytest.mark.parametrize("B,N,d,H,dh,dv", [(2, 37, 24, 3, 8, 8), (1, 1, 8, 2, 4, 4), (3, 20, 16, 4, 4, 5)])
@pytest.mark.parametrize("biases", [True, False])
@pytest.mark.parametrize("rope_kind", ["none", "half", "interleaved x2"])
@pytest.mark.parametrize("causal", [False, True])
def test_mha_to_tucker_is_exact(B, N, d, H, dh, dv, biases, rope_kind, causal):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((B, N, d))
    wq, wk = rng.standard_normal((2, d, H * dh)) / np.sqrt(d)
    wv = rng.standard_normal((d, H * dv)) / np.sqrt(d)
    wo = rng.standard_normal((H * dv, d)) / np.sqrt(H * dv)
    rope = per_head_rope(rope_kind, dh)
    bq, bk, bv, bo = (rng.standard_normal(n) for n in (H * dh, H * dh, H * dv, d)) if biases else (None,) * 4
    if rope is not None:
        bk = None  # refused under rope, see test_key_bias_under_rope_is_refused
    expected = ref.mha(x, wq, wk, wv, wo, bq, bk, bv, bo, num_heads=H, causal=causal, rope=rope)
    t = ref.mha_to_tucker(wq, wk, wv, wo, bq, bk, bv, bo, num_heads=H, causal=causal, rope=rope)
    assert t["core"] is None and t["core_out"] is None
    assert_close(ref.attention(x, **t), expected)


@pytest.mark.parametrize("B,N,d,H,Hkv,dh,dv,rope", [
    (2, 37, 32, 4, 2, 8, 8, (10000.0, 0, 8, 1, "half")),
    (3, 50, 24, 6, 3, 4, 6, (300.0, 0, 2, 2, "interleaved")),
    (2, 17, 16, 4, 1, 8, 3, (10000.0, 2, 4, 1, "half")),  # MQA: a partial rope needs no repeat
    (2, 19, 32, 4, 2, 8, 8, (10000.0, 2, 4, 1, "half")),  # partial rope: strided over key blocks
    (1, 23, 48, 6, 3, 8, 4, (500.0, 0, 2, 2, "interleaved", 4)),  # strided blocks tiling a head
    (1, 1, 16, 4, 4, 4, 4, None),
])
@pytest.mark.parametrize("causal", [False, True])
def test_gqa_to_tucker_is_exact(B, N, d, H, Hkv, dh, dv, rope, causal):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((B, N, d))
    wq = rng.standard_normal((d, H * dh)) / np.sqrt(d)
    wk = rng.standard_normal((d, Hkv * dh)) / np.sqrt(d)
    wv = rng.standard_normal((d, Hkv * dv)) / np.sqrt(d)
    wo = rng.standard_normal((H * dv, d)) / np.sqrt(H * dv)
    kw = dict(num_heads=H, num_kv_heads=Hkv, causal=causal, rope=rope)
    assert_close(ref.attention(x, **ref.gqa_to_tucker(wq, wk, wv, wo, **kw)), ref.gqa(x, wq, wk, wv, wo, **kw))


@pytest.mark.parametrize("B,N,d,H,ql,kvl,nope,rp,vd", MLA_CASES)
@pytest.mark.parametrize("rope_kind", ["interleaved", "half", "partial", "none"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("q_norm", [True, False])
def test_mla_to_tucker_is_exact(B, N, d, H, ql, kvl, nope, rp, vd, rope_kind, causal, q_norm):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((B, N, d))
    m = randomize(hf.DeepseekV3Attention(d, H, ql, kvl, nope, rp, vd, 10000.0), rng)
    wq_a, qn, *rest = mla_weights(m)
    rope = {"interleaved": (10000.0, nope, rp, 1, "interleaved"), "half": (10000.0, nope, rp, 1, "half"),
            "partial": (50.0, nope + rp // 2, 2, rp // 4, "half") if rp >= 4 else None, "none": None}[rope_kind]
    kw = dict(zip(MLA_KEYS, (H, ql, kvl, nope, rp, vd)), causal=causal, rope=rope, eps=1e-5)
    args = (wq_a, qn if q_norm else None, *rest)
    expected = ref.mla(x, *args, **kw)
    assert_close(ref.attention(x, **ref.mla_to_tucker(*args, **kw)), expected)


# ------------------------------------------------------------------- refusals and counts

def test_key_bias_under_rope_is_refused():
    rng = np.random.default_rng(12)
    w = rng.standard_normal((8, 8))
    with pytest.raises(ValueError, match="key bias"):
        ref.mha_to_tucker(w, w, w, w, bk=np.ones(8), num_heads=2, rope=(10000.0, 0, 4, 1, "half"))


def test_unevenly_spaced_per_head_rope_is_refused_with_several_kv_blocks():
    w, wo = np.ones((8, 16)), np.ones((16, 8))  # heads of 8 with two rotated pairs at the front
    with pytest.raises(ValueError, match="evenly spaced"):
        ref.gqa_to_tucker(w, w, w, wo, num_heads=2, num_kv_heads=2, rope=(10000.0, 0, 2, 2, "half"))


def test_mla_rope_on_nope_dims_is_refused():
    m = hf.DeepseekV3Attention(16, 2, None, 8, 4, 4, 4, 10000.0)
    with pytest.raises(ValueError, match="nope"):
        ref.mla_to_tucker(*mla_weights(m), **dict(zip(MLA_KEYS, (2, None, 8, 4, 4, 4))),
                          rope=(10000.0, 2, 4, 1, "half"))


def test_dense_cores_need_scale():
    x, U = np.ones((1, 2, 4)), np.ones((4, 2))
    with pytest.raises(ValueError, match="scale"):
        ref.attention(x, np.ones((2, 1)), U, U, np.ones((1, 2, 2)), np.ones((2, 1)), U, U, np.ones((1, 2, 2)))


def test_counts_match_paper():
    # GPT-2 (d 768, 12 heads) at [8, 128, 64]: about 18% of MHA's 4 d^2 attention parameters.
    n = ref.tucker_param_count(768, 12, (8, 128, 64))
    assert n == 2 * (8 * 128 * 64 + 12 * 8 + 768 * 128 + 768 * 64)
    assert abs(n / (4 * 768 ** 2) - 0.18) < 0.005
    assert ref.tucker_param_count(2048, 32, (32, 128, 64), (16, 64, 32)) == (
        32 * 128 * 64 + 32 * 32 + 2048 * 128 + 2048 * 64 + 16 * 64 * 32 + 32 * 16 + 2048 * 64 + 2048 * 32)
    assert ref.kv_bytes_per_token(64) == 2 * 64 * 2
    assert ref.kv_bytes_per_token(64, 32, element_bytes=4) == 96 * 4
    # Lifted MHA caches 2d values per token (paper: KV 2Nd); lifted MLA its shared latent.
    d, H = 24, 3
    t = ref.mha_to_tucker(*np.ones((4, d, d)), num_heads=H)
    assert ref.kv_bytes_per_token(t["U3"].shape[1], t["U3o"].shape[1], element_bytes=1) == 2 * d
    m = hf.DeepseekV3Attention(16, 2, None, 8, 4, 4, 4, 10000.0)
    t = ref.mla_to_tucker(*mla_weights(m), **dict(zip(MLA_KEYS, (2, None, 8, 4, 4, 4))))
    assert ref.kv_bytes_per_token(t["U3"].shape[1], shared=True, element_bytes=1) == 8 + 4
