"""tucker.from_torch on attention modules without RoPE, compiled for the CPU, against the modules'
own forward: GPT-2 (Conv1D c_attn) and GPTBigCode (MQA or per-head packed c_attn), BERT-style
self-attention (query, key, value; ViT's transformers 4 wrapper with its output projection), HF
attentions with q/k/v_proj and out_proj (BART, CLIP) or o_proj (ViT in transformers 5), and
SmolLM3's NoPE layers (use_rope = 0); and what is refused.

The modules here are small rewritings of the transformers classes (eager path; test_hf_real.py
runs the real ones where transformers is installed), with the same attribute names that
from_torch reads and, where the HF class takes one, HF's additive attention_mask, which
from_torch's self-check passes; causal= is the tests' own switch. Tolerances, max abs error over max abs reference: f32 1e-5; bf16 2e-2 against
the module in float32 with the same bf16 weights on the same bf16 x.
"""

import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

import tucker
from hf_semantics import RotaryEmbedding, apply_rotary_pos_emb

TOL = {torch.float32: 1e-5, torch.bfloat16: 2e-2}


def rel_err(out, expected):
    out = np.asarray(out, np.float64)
    expected = np.asarray(expected, np.float64)
    return np.abs(out - expected).max() / np.abs(expected).max()


def attend(q, k, v, heads, kv_heads, scaling, causal, attention_mask=None):
    """softmax(scaling q k^T + causal mask + attention_mask) v per head, key/value head j serving
    query heads j*heads/kv_heads..: q [B, N, heads*w], k, v [B, N, kv_heads*w] -> [B, N, heads*w];
    attention_mask is HF's additive [B, 1, N, N] mask or None."""
    B, N = q.shape[:2]
    rep = heads // kv_heads
    q = q.reshape(B, N, heads, -1).transpose(1, 2)
    k = k.reshape(B, N, kv_heads, -1).transpose(1, 2).repeat_interleave(rep, dim=1)
    v = v.reshape(B, N, kv_heads, -1).transpose(1, 2).repeat_interleave(rep, dim=1)
    scores = q @ k.transpose(-1, -2) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask
    if causal:
        scores = scores.masked_fill(torch.triu(torch.ones(N, N, dtype=torch.bool), 1), float("-inf"))
    return (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, N, -1)


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: a linear layer whose weight is stored [in, out]."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf, self.nx = nf, nx
        self.weight = nn.Parameter(0.3 * torch.randn(nx, nf))
        self.bias = nn.Parameter(0.3 * torch.randn(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, self.nx), self.weight).reshape(*x.shape[:-1], self.nf)


class GPT2Attention(nn.Module):
    """HF GPT2Attention (self-attention): c_attn = [q | k | v], scores / sqrt(head_dim) when
    scale_attn_weights, / (layer_idx + 1) when scale_attn_by_inverse_layer_idx."""

    def __init__(self, d, heads, scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False,
                 layer_idx=0):
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = d, heads, d // heads
        self.split_size = d
        self.scale_attn_weights = scale_attn_weights
        self.scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx
        self.layer_idx = layer_idx
        self.is_cross_attention = False
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        self.attn_dropout = nn.Dropout(0.1)
        self.resid_dropout = nn.Dropout(0.1)
        self.is_causal = True

    def forward(self, x, causal=True):
        q, k, v = self.c_attn(x).split(self.split_size, dim=2)
        scaling = self.head_dim ** -0.5 if self.scale_attn_weights else 1.0
        if self.scale_attn_by_inverse_layer_idx:
            scaling /= self.layer_idx + 1
        return self.resid_dropout(self.c_proj(attend(q, k, v, self.num_heads, self.num_heads,
                                                     scaling, causal)))


class GPTBigCodeAttention(nn.Module):
    """HF GPTBigCodeAttention: nn.Linear c_attn; multi_query: [q | k | v] with one key/value
    head, else per head [q_h | k_h | v_h]."""

    def __init__(self, d, heads, multi_query):
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = d, heads, d // heads
        self.multi_query = multi_query
        self.kv_heads = 1 if multi_query else heads
        self.kv_dim = self.kv_heads * self.head_dim
        self.scale_attn_weights = True
        self.is_cross_attention = False
        self.layer_idx = 0
        self.c_attn = nn.Linear(d, d + 2 * self.kv_dim)
        self.c_proj = nn.Linear(d, d)
        self.is_causal = True

    def forward(self, x, causal=True):
        B, N, _ = x.shape
        qkv = self.c_attn(x)
        if self.multi_query:
            q, k, v = qkv.split((self.embed_dim, self.kv_dim, self.kv_dim), dim=-1)
        else:
            q, k, v = qkv.view(B, N, self.num_heads, 3 * self.head_dim).split(self.head_dim, dim=-1)
            q, k, v = (t.reshape(B, N, -1) for t in (q, k, v))
        out = attend(q, k, v, self.num_heads, self.kv_heads, self.head_dim ** -0.5, causal)
        return self.c_proj(out)


class BertSelfAttention(nn.Module):
    """HF BertSelfAttention (transformers 4, absolute positions): the concatenated heads, no
    output projection."""

    def __init__(self, d, heads, bias=True):
        super().__init__()
        self.num_attention_heads = heads
        self.attention_head_size = d // heads
        self.all_head_size = d
        self.query = nn.Linear(d, d, bias=bias)
        self.key = nn.Linear(d, d, bias=bias)
        self.value = nn.Linear(d, d, bias=bias)
        self.dropout = nn.Dropout(0.1)
        self.position_embedding_type = "absolute"

    def forward(self, x, causal=False):
        return attend(self.query(x), self.key(x), self.value(x), self.num_attention_heads,
                      self.num_attention_heads, 1 / math.sqrt(self.attention_head_size), causal)


class SelfOutput(nn.Module):
    """ViTSelfOutput (dense, dropout; the residual is added by the layer) or, with LayerNorm,
    BertSelfOutput (LayerNorm(dense(h) + x))."""

    def __init__(self, d, layer_norm):
        super().__init__()
        self.dense = nn.Linear(d, d)
        self.dropout = nn.Dropout(0.1)
        if layer_norm:
            self.LayerNorm = nn.LayerNorm(d)


class ViTAttention4(nn.Module):
    """HF ViTAttention of transformers 4: ViTSelfAttention (BERT-style) + ViTSelfOutput."""

    def __init__(self, d, heads):
        super().__init__()
        self.attention = BertSelfAttention(d, heads)
        self.output = SelfOutput(d, layer_norm=False)

    def forward(self, x, causal=False):
        return self.output.dropout(self.output.dense(self.attention(x, causal)))


class BertAttention(nn.Module):
    """HF BertAttention: BertSelfAttention + BertSelfOutput (residual and LayerNorm)."""

    def __init__(self, d, heads):
        super().__init__()
        setattr(self, "self", BertSelfAttention(d, heads))
        self.output = SelfOutput(d, layer_norm=True)


class BartAttention(nn.Module):
    """HF BartAttention (self-attention; CLIP, Whisper and OPT alike): q/k/v_proj and out_proj,
    the query scaled by head_dim**-0.5."""

    def __init__(self, d, heads, bias=True, is_causal=False, k_bias=True):
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = d, heads, d // heads
        self.scaling = self.head_dim ** -0.5
        self.dropout = 0.0
        self.is_decoder = self.is_causal = is_causal
        self.q_proj = nn.Linear(d, d, bias=bias)
        self.k_proj = nn.Linear(d, d, bias=bias and k_bias)
        self.v_proj = nn.Linear(d, d, bias=bias)
        self.out_proj = nn.Linear(d, d, bias=bias)

    def forward(self, hidden_states, key_value_states=None, attention_mask=None, causal=False):
        q = self.q_proj(hidden_states) * self.scaling
        out = attend(q, self.k_proj(hidden_states), self.v_proj(hidden_states), self.num_heads,
                     self.num_heads, 1.0, causal, attention_mask)
        return self.out_proj(out)


class ViTAttention5(nn.Module):
    """HF ViTAttention of transformers 5: q/k/v_proj, o_proj, no rotary embedding."""

    def __init__(self, d, heads, qkv_bias=True):
        super().__init__()
        self.num_attention_heads, self.head_dim = heads, d // heads
        self.attention_dropout = 0.0
        self.scaling = self.head_dim ** -0.5
        self.is_causal = False
        self.q_proj = nn.Linear(d, d, bias=qkv_bias)
        self.k_proj = nn.Linear(d, d, bias=qkv_bias)
        self.v_proj = nn.Linear(d, d, bias=qkv_bias)
        self.o_proj = nn.Linear(d, d)

    def forward(self, hidden_states, attention_mask=None, causal=False):
        out = attend(self.q_proj(hidden_states), self.k_proj(hidden_states),
                     self.v_proj(hidden_states), self.num_attention_heads,
                     self.num_attention_heads, self.scaling, causal, attention_mask)
        return self.o_proj(out)


class SmolLM3RotaryEmbedding(RotaryEmbedding):
    """HF SmolLM3RotaryEmbedding (default rope type), built from the model's config as the model
    builds it: forward(x, position_ids) -> (cos, sin)."""

    def __init__(self, config):
        super().__init__(config.head_dim, config.rope_parameters["rope_theta"])


class SmolLM3Attention(nn.Module):
    """HF SmolLM3Attention (transformers 5): Llama-style GQA that takes position_embeddings =
    (cos, sin), made by the model's SmolLM3RotaryEmbedding, and an additive attention_mask, and
    applies the rotation only where use_rope (config.no_rope_layers[layer_idx]) is 1."""

    def __init__(self, d, heads, kv_heads, head_dim, theta, use_rope):
        super().__init__()
        self.config = SimpleNamespace(head_dim=head_dim,
                                      rope_parameters={"rope_type": "default", "rope_theta": theta})
        self.head_dim = head_dim
        self.num_key_value_groups = heads // kv_heads
        self.scaling = head_dim ** -0.5
        self.attention_dropout = 0.0
        self.is_causal = True
        self.use_rope = use_rope
        self.q_proj = nn.Linear(d, heads * head_dim, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(heads * head_dim, d, bias=False)

    def forward(self, hidden_states, position_embeddings, attention_mask=None, causal=False):
        B, N, _ = hidden_states.shape
        shape = (B, N, -1, self.head_dim)
        q = self.q_proj(hidden_states).view(shape).transpose(1, 2)
        k = self.k_proj(hidden_states).view(shape).transpose(1, 2)
        if self.use_rope:
            q, k = apply_rotary_pos_emb(q, k, *position_embeddings)
        q, k = (t.transpose(1, 2).reshape(B, N, -1) for t in (q, k))
        H = q.shape[-1] // self.head_dim
        out = attend(q, k, self.v_proj(hidden_states), H, H // self.num_key_value_groups,
                     self.scaling, causal, attention_mask)
        return self.o_proj(out)


def smollm3_forward(m, x, causal):
    rotary = SmolLM3RotaryEmbedding(m.config)
    cos, sin = rotary(x, torch.arange(x.shape[1])[None].expand(x.shape[0], -1))
    return m(x, (cos, sin), causal=causal)


def check(m, x, causal, op, forward=None):
    """from_torch (causal default: the module's is_causal, unless `causal` is given) + compile
    against the module's forward; returns the MLIR."""
    forward = forward or (lambda mod, xx, c: mod(xx, causal=c))
    text = tucker.from_torch(m, x) if causal is None else tucker.from_torch(m, x, causal=causal)
    causal = bool(getattr(m, "is_causal", False)) if causal is None else causal
    assert op in text and "rope" not in text and ("causal" in text) == causal
    with torch.no_grad():
        expected = forward(m, x, causal)
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= TOL[torch.float32]
    return text


def build(kind, seed):
    torch.manual_seed(seed)
    return {
        "gpt2": lambda: GPT2Attention(32, 4),
        "gpt2-layer-scaled": lambda: GPT2Attention(32, 4, scale_attn_by_inverse_layer_idx=True, layer_idx=2),
        "gpt2-unscaled": lambda: GPT2Attention(16, 2, scale_attn_weights=False),
        "gpt-bigcode-mqa": lambda: GPTBigCodeAttention(32, 4, multi_query=True),
        "gpt-bigcode-mha": lambda: GPTBigCodeAttention(32, 4, multi_query=False),
        "bert-self": lambda: BertSelfAttention(32, 4),
        "vit4": lambda: ViTAttention4(32, 4),
        "vit5": lambda: ViTAttention5(48, 6),
        "vit5-no-qkv-bias": lambda: ViTAttention5(32, 2, qkv_bias=False),
        "bart-encoder": lambda: BartAttention(32, 4),
        "bart-decoder": lambda: BartAttention(32, 4, is_causal=True),
        "whisper": lambda: BartAttention(32, 4, k_bias=False, is_causal=True),
        "smollm3-nope": lambda: SmolLM3Attention(32, 4, 2, 8, 5e6, use_rope=0),
    }[kind]().eval()


CASES = [
    # kind, B, N, causal (None: the module's is_causal)
    ("gpt2", 2, 9, None),
    ("gpt2", 1, 7, False),
    ("gpt2-layer-scaled", 2, 6, None),
    ("gpt2-unscaled", 1, 8, None),
    ("gpt-bigcode-mqa", 2, 9, None),
    ("gpt-bigcode-mha", 1, 10, False),
    ("bert-self", 2, 11, None),
    ("bert-self", 1, 6, True),
    ("vit4", 2, 10, None),
    ("vit5", 2, 7, None),
    ("vit5-no-qkv-bias", 1, 12, True),
    ("bart-encoder", 2, 8, None),
    ("bart-decoder", 2, 8, None),
    ("whisper", 1, 9, None),
    ("smollm3-nope", 2, 11, None),
    ("smollm3-nope", 1, 5, False),
]


def forward_of(kind):
    return smollm3_forward if kind.startswith("smollm3") else None


@pytest.mark.parametrize("kind,B,N,causal", CASES)
def test_module_without_rope(kind, B, N, causal):
    m = build(kind, seed=B * 100 + N)
    x = torch.randn(B, N, 48 if kind == "vit5" else 16 if kind == "gpt2-unscaled" else 32)
    text = check(m, x, causal, "tucker.gqa" if kind.startswith("smollm3") else "tucker.mha",
                 forward_of(kind))
    if kind == "gpt2-layer-scaled":  # 1/sqrt(8)/3, not the op's default
        assert f"scale = {tucker.importer._fmt(8 ** -0.5 / 3)}" in text
    if kind == "gpt2-unscaled":
        assert f"scale = {tucker.importer._fmt(1.0)}" in text


@pytest.mark.parametrize("kind", ["gpt2", "gpt-bigcode-mqa", "bert-self", "bart-decoder", "smollm3-nope"])
def test_module_without_rope_bf16(kind):
    """A bf16 module gives a bf16 function; reference: the module in float32 with the same
    (bf16) weights on the same bf16 x."""
    m = build(kind, seed=3).to(torch.bfloat16)
    x = torch.randn(2, 8, 32).to(torch.bfloat16)
    text = tucker.from_torch(m, x)
    assert "xbf16>" in text and "xf32>" not in text
    causal = bool(getattr(m, "is_causal", False))
    forward = forward_of(kind) or (lambda mod, xx, c: mod(xx, causal=c))
    with torch.no_grad():
        expected = forward(copy.deepcopy(m).float(), x.float(), causal)
    assert rel_err(tucker.compile(text)(x).float(), expected) <= TOL[torch.bfloat16]


def test_use_rope_decides():
    """The same SmolLM3 module imports with its rope where use_rope = 1 and without where 0."""
    torch.manual_seed(4)
    x = torch.randn(2, 9, 32)
    for use_rope in (1, 0):
        m = SmolLM3Attention(32, 4, 2, 8, 1000.0, use_rope).eval()
        text = tucker.from_torch(m, x)
        assert ("rope = #tucker.rope<theta = 1.00000000000000000e+03" in text) == bool(use_rope)
        with torch.no_grad():
            expected = smollm3_forward(m, x, True)
        assert rel_err(tucker.compile(text)(x.numpy()), expected) <= TOL[torch.float32]


def test_ranks_and_compress_of_module_without_rope():
    """ranks / compress take these modules too (d from their projections, no example_x)."""
    m = build("gpt2", seed=5)
    assert [(r["op"], r["pre"], r["post"]) for r in tucker.ranks(m)] == \
        [("tucker.mha", [4, 32, 32], [4, 32, 32])]
    res = tucker.compress(m, ranks=[2, 8, 8])
    assert "causal" in res.mlir and res.params_after < res.params_before


def test_bert_attention_with_layer_norm_refused():
    m = BertAttention(32, 4).eval()
    with pytest.raises(ValueError, match=r"BertAttention.output adds the residual x and applies a "
                                         r"LayerNorm \(SelfOutput.LayerNorm\).*import "
                                         r"BertAttention.self \(the self-attention\)"):
        tucker.from_torch(m, torch.randn(1, 4, 32))
    # Its self-attention imports.
    check(getattr(m, "self"), torch.randn(1, 4, 32), None, "tucker.mha")


def test_relative_position_scores_refused():
    m = BertSelfAttention(32, 4).eval()
    m.position_embedding_type = "relative_key"
    with pytest.raises(ValueError, match="position_embedding_type = 'relative_key' is not supported"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


def test_parameters_outside_the_projections_refused():
    """A Swin-style relative position bias table would be dropped: refused, named."""
    m = ViTAttention5(32, 4).eval()
    m.relative_position_bias_table = nn.Parameter(torch.zeros(9, 4))
    with pytest.raises(ValueError, match=r"ViTAttention5 has parameters outside its attention "
                                         r"projections \(q_proj, k_proj, v_proj, o_proj\): "
                                         r"relative_position_bias_table"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


def test_gpt2_cross_attention_refused():
    m = GPT2Attention(32, 4).eval()
    m.is_cross_attention = True
    m.q_attn = Conv1D(32, 32)
    with pytest.raises(ValueError, match=r"cross-attention \(is_cross_attention, q_attn\) is not supported"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


def test_gpt2_training_dropout_refused():
    m = GPT2Attention(32, 4)  # training mode: attn_dropout and resid_dropout are active
    with pytest.raises(ValueError, match=r"attn_dropout = 0.1 in training mode"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


class OPTAttention(BartAttention):
    """HF OPTAttention of transformers 4: BART's attention whose forward also takes position_ids,
    which it does not use."""

    def forward(self, hidden_states, attention_mask=None, position_ids=None, causal=True):
        return super().forward(hidden_states, causal=causal)


def test_position_ids_alone_is_no_rope():
    torch.manual_seed(7)
    check(OPTAttention(32, 4, is_causal=True).eval(), torch.randn(2, 6, 32), None, "tucker.mha")


def test_gptj_rotary_dim_is_rope():
    """GPT-J keeps its rotary in the module (rotary_dim, an embed_positions table) and takes
    position_ids: it has RoPE, and no rope_theta from_torch could read, so it is refused."""
    m = OPTAttention(32, 4).eval()
    m.rotary_dim = 4
    with pytest.raises(ValueError, match="cannot find the rotary base"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


def test_rope_module_without_rotary_base_refused():
    """A module that takes position_embeddings and has a rotary config applies RoPE: without a
    base to read, refused rather than imported without it."""
    m = SmolLM3Attention(32, 4, 2, 8, 1000.0, use_rope=1).eval()
    del m.use_rope
    m.config.rope_parameters = {"rope_type": "default"}
    with pytest.raises(ValueError, match="cannot find the rotary base"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


def test_llama4_temperature_tuning():
    """Llama 4's NoPE layers scale query m by 1 + attn_scale*log1p(floor((m + 1)/floor_scale)),
    which is 1 while N < floor_scale: imported then, refused past it."""
    m = build("smollm3-nope", seed=6)
    m.attn_temperature_tuning, m.floor_scale, m.attn_scale = True, 8, 0.1
    x = torch.randn(1, 7, 32)
    check(m, x, None, "tucker.gqa", smollm3_forward)
    with pytest.raises(ValueError, match=r"attn_temperature_tuning scales the queries of positions "
                                         r">= floor_scale - 1 = 7, which N = 8 reaches"):
        tucker.from_torch(m, torch.randn(1, 8, 32))


def test_bert_output_width_must_match():
    m = BertSelfAttention(32, 4).eval()
    m.query, m.key, m.value = nn.Linear(32, 16), nn.Linear(32, 16), nn.Linear(32, 16)
    with pytest.raises(ValueError, match="returns 16 features per token, not its input's 32"):
        tucker.from_torch(m, torch.randn(1, 4, 32))
