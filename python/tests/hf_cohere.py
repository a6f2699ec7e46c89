"""HF Cohere and Cohere2 attention semantics in plain PyTorch (transformers 5's modeling_cohere.py
and modeling_cohere2.py, eager path), for the tests where transformers is missing.

As in transformers, this module holds the model's own rotary helpers: Cohere repeats each
frequency for a pair of consecutive dims (repeat_interleave where Llama concatenates) and its
rotate_half turns the pairs (2j, 2j + 1), where Llama's pairs (j, j + D/2). Modules are called
as HF models call them: forward(hidden_states, position_embeddings, attention_mask), with
position_embeddings = (cos, sin) from the model's CohereRotaryEmbedding(config) and HF's additive
attention_mask. Computation stays in the input dtype (HF upcasts the rotation to float32).
"""

from types import SimpleNamespace

import torch
from torch import nn

from hf_semantics import causal_mask, eager_attention_forward


def config(hidden_size=32, heads=4, kv_heads=2, theta=10000.0, attention_bias=False,
           use_qk_norm=False, layer_types=None, sliding_window=4096):
    """The CohereConfig / Cohere2Config fields the attention reads."""
    return SimpleNamespace(hidden_size=hidden_size, num_attention_heads=heads,
                           num_key_value_heads=kv_heads, head_dim=hidden_size // heads,
                           rope_parameters={"rope_type": "default", "rope_theta": theta},
                           attention_bias=attention_bias, attention_dropout=0.0,
                           use_qk_norm=use_qk_norm, layer_norm_eps=1e-5,
                           layer_types=layer_types, sliding_window=sliding_window)


class CohereRotaryEmbedding(nn.Module):
    """CohereRotaryEmbedding (default rope type): inv_freq = 1 / theta**(2j / dim), each
    frequency repeated for its pair of dims; forward(x, position_ids) -> (cos, sin)."""

    def __init__(self, config):
        super().__init__()
        dim = config.head_dim
        base = config.rope_parameters["rope_theta"]
        inv_freq = 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        freqs = position_ids[..., None].to(self.inv_freq.dtype) * self.inv_freq
        emb = torch.repeat_interleave(freqs, 2, dim=-1)  # Llama: cat((freqs, freqs), -1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    """Cohere's rotate_half: (x[2j], x[2j+1]) -> (-x[2j+1], x[2j])."""
    x1 = x[..., ::2]
    x2 = x[..., 1::2]
    return torch.stack([-x2, x1], dim=-1).flatten(-2)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


class CohereLayerNorm(nn.Module):
    """CohereLayerNorm over the last dim of [..., heads, head_dim], a weight per head (no bias)."""

    def __init__(self, hidden_size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        variance = (x - mean).pow(2).mean(-1, keepdim=True)
        return self.weight * (x - mean) * torch.rsqrt(variance + self.variance_epsilon)


class CohereAttention(nn.Module):
    """HF CohereAttention: Llama-style GQA with Cohere's interleaved rotation; q_norm / k_norm
    (per-head LayerNorms) where config.use_qk_norm."""

    def __init__(self, config, layer_idx=0):
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        self.attention_dropout = config.attention_dropout
        self.is_causal = True
        d, H, Hkv, bias = (config.hidden_size, config.num_attention_heads,
                           config.num_key_value_heads, config.attention_bias)
        self.q_proj = nn.Linear(d, H * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(d, Hkv * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(d, Hkv * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(H * self.head_dim, d, bias=bias)
        self.use_qk_norm = config.use_qk_norm
        if self.use_qk_norm:
            self.q_norm = CohereLayerNorm((H, self.head_dim), config.layer_norm_eps)
            self.k_norm = CohereLayerNorm((Hkv, self.head_dim), config.layer_norm_eps)

    def rotates(self):
        return True

    def forward(self, hidden_states, position_embeddings, attention_mask, past_key_values=None):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape)
        key_states = self.k_proj(hidden_states).view(hidden_shape)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        if self.use_qk_norm:
            query_states = self.q_norm(query_states)
            key_states = self.k_norm(key_states)
        query_states, key_states = query_states.transpose(1, 2), key_states.transpose(1, 2)
        if self.rotates():
            query_states, key_states = apply_rotary_pos_emb(query_states, key_states,
                                                            *position_embeddings)
        attn_output = eager_attention_forward(self, query_states, key_states, value_states,
                                              attention_mask, self.scaling)
        return self.o_proj(attn_output.reshape(*input_shape, -1)), None


class Cohere2Attention(CohereAttention):
    """HF Cohere2Attention: a sliding-window layer (config.layer_types[layer_idx] ==
    "sliding_attention") rotates as Cohere does; a full-attention layer does not rotate at all,
    which its forward decides without any attribute saying so."""

    def __init__(self, config, layer_idx=0):
        super().__init__(config, layer_idx)
        sliding = config.layer_types[layer_idx] == "sliding_attention"
        self.sliding_window = config.sliding_window if sliding else None

    def rotates(self):
        return self.sliding_window is not None


def run(attention, x, causal):
    """The module as the model runs it: position_embeddings from CohereRotaryEmbedding and HF's
    causal mask (or none)."""
    B, N = x.shape[:2]
    positions = CohereRotaryEmbedding(attention.config)(x, torch.arange(N)[None].expand(B, N))
    mask = causal_mask(N, x.dtype).expand(B, 1, N, N) if causal else None
    with torch.no_grad():
        return attention(x, positions, mask)[0]
