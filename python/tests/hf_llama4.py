"""HF Llama 4 text attention semantics in plain PyTorch (transformers 5's modeling_llama4.py,
eager path), for the tests where transformers is missing.

As in transformers, this module holds the model's own rotary helpers: the rotary embedding is
complex (freqs_cis = e^(i p f_j)) and apply_rotary_emb multiplies each consecutive pair
(2j, 2j + 1) of a head, read as one complex number, by it. RoPE layers (config.no_rope_layers
[layer_idx] = 1) rotate and, with config.use_qk_norm, L2-normalize q and k; NoPE layers scale
the queries by 1 + attn_scale * log1p(floor((m + 1) / floor_scale)) under attn_temperature_tuning.
Modules are called as HF models call them: forward(hidden_states, position_embeddings,
attention_mask), with position_embeddings = freqs_cis from the model's
Llama4TextRotaryEmbedding(config). Computation stays in the input dtype (HF rotates in float32).
"""

from types import SimpleNamespace

import torch
from torch import nn

from hf_semantics import causal_mask, eager_attention_forward


def config(hidden_size=32, heads=4, kv_heads=2, theta=500000.0, no_rope_layers=(1, 0),
           use_qk_norm=False, attention_chunk_size=8192, floor_scale=8192):
    """The Llama4TextConfig fields the attention reads; layer_types as transformers 5 derives
    them (a RoPE layer is chunked)."""
    return SimpleNamespace(
        hidden_size=hidden_size, num_attention_heads=heads, num_key_value_heads=kv_heads,
        head_dim=hidden_size // heads, rope_parameters={"rope_type": "default", "rope_theta": theta},
        no_rope_layers=list(no_rope_layers), use_qk_norm=use_qk_norm, rms_norm_eps=1e-5,
        attention_bias=False, attention_dropout=0.0, attn_temperature_tuning=True,
        floor_scale=floor_scale, attn_scale=0.1, attention_chunk_size=attention_chunk_size,
        layer_types=["chunked_attention" if rope else "full_attention" for rope in no_rope_layers])


class Llama4TextRotaryEmbedding(nn.Module):
    """Llama4TextRotaryEmbedding (default rope type): forward(x, position_ids) -> freqs_cis
    [B, N, dim/2], e^(i p / theta**(2j / dim))."""

    def __init__(self, config):
        super().__init__()
        dim = config.head_dim
        base = config.rope_parameters["rope_theta"]
        inv_freq = 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        freqs = position_ids[..., None].to(self.inv_freq.dtype) * self.inv_freq
        return torch.polar(torch.ones_like(freqs), freqs)


def apply_rotary_emb(xq, xk, freqs_cis):
    """xq, xk [B, N, H, D]: pairs (2j, 2j + 1) as complex numbers times freqs_cis [B, N, D/2]."""
    xq_ = torch.view_as_complex(xq.reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.reshape(*xk.shape[:-1], -1, 2))
    xq_out = torch.view_as_real(xq_ * freqs_cis[:, :, None, :]).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis[:, :, None, :]).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


class Llama4TextL2Norm(nn.Module):
    def __init__(self, eps):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class Llama4TextAttention(nn.Module):
    """HF Llama4TextAttention."""

    def __init__(self, config, layer_idx):
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.head_dim = config.head_dim
        self.num_attention_heads = config.num_attention_heads
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.num_key_value_heads = config.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        self.attn_scale = config.attn_scale
        self.floor_scale = config.floor_scale
        self.attn_temperature_tuning = config.attn_temperature_tuning
        self.attention_dropout = config.attention_dropout
        self.is_causal = True
        self.use_rope = config.no_rope_layers[layer_idx]
        d, H, Hkv = config.hidden_size, config.num_attention_heads, config.num_key_value_heads
        self.q_proj = nn.Linear(d, H * self.head_dim, bias=config.attention_bias)
        self.k_proj = nn.Linear(d, Hkv * self.head_dim, bias=config.attention_bias)
        self.v_proj = nn.Linear(d, Hkv * self.head_dim, bias=config.attention_bias)
        self.o_proj = nn.Linear(H * self.head_dim, d, bias=config.attention_bias)
        if config.use_qk_norm and self.use_rope:
            self.qk_norm = Llama4TextL2Norm(config.rms_norm_eps)

    def forward(self, hidden_states, position_embeddings, attention_mask, past_key_values=None):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape)
        key_states = self.k_proj(hidden_states).view(hidden_shape)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        if self.use_rope:
            query_states, key_states = apply_rotary_emb(query_states, key_states, position_embeddings)
        if hasattr(self, "qk_norm"):
            query_states = self.qk_norm(query_states)
            key_states = self.qk_norm(key_states)
        if self.attn_temperature_tuning and not self.use_rope:
            positions = torch.arange(input_shape[-1], dtype=hidden_states.dtype)
            scales = torch.log1p(torch.floor((positions + 1.0) / self.floor_scale)) * self.attn_scale + 1.0
            query_states = query_states * scales.view(1, -1, 1, 1)
        query_states, key_states = query_states.transpose(1, 2), key_states.transpose(1, 2)
        attn_output = eager_attention_forward(self, query_states, key_states, value_states,
                                              attention_mask, self.scaling)
        return self.o_proj(attn_output.reshape(*input_shape, -1)), None


def run(attention, x, causal):
    """The module as the model runs it (N within one chunk): freqs_cis from
    Llama4TextRotaryEmbedding and HF's causal mask (or none)."""
    B, N = x.shape[:2]
    freqs_cis = Llama4TextRotaryEmbedding(attention.config)(x, torch.arange(N)[None].expand(B, N))
    mask = causal_mask(N, x.dtype).expand(B, 1, N, N) if causal else None
    with torch.no_grad():
        return attention(x, freqs_cis, mask)[0]
