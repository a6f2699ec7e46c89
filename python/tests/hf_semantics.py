"""HF transformers attention semantics in plain PyTorch, as independent oracles for the reference.

The transformers package is not available here, so these are small rewritings of HF's
modeling_llama.py and modeling_deepseek_v3.py (the eager attention path) that keep every step
that shapes the numbers: projection packing, head split, rotary helpers, repeat_kv, RMSNorm,
causal mask, scaling. Deliberate differences: computation stays in the input dtype (HF upcasts
RMSNorm, the rotary frequencies and the softmax to float32, which would cap float64 tests at
float32 precision), and there is no KV cache, dropout, rope scaling or padding mask.
"""

import torch
from torch import nn


class RotaryEmbedding(nn.Module):
    """LlamaRotaryEmbedding / DeepseekV3RotaryEmbedding, default rope type (attention_scaling 1):
    inv_freq = 1 / base**(arange(0, dim, 2) / dim), emb = cat(freqs, freqs), returns (cos, sin)."""

    def __init__(self, dim, base):
        super().__init__()
        inv_freq = 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        # HF: (inv_freq[None, :, None] @ position_ids[:, None, :]).transpose(1, 2) -> [B, N, dim/2]
        freqs = position_ids[..., None].to(self.inv_freq.dtype) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    """HF rotate_half: [x1 | x2] -> [-x2 | x1]."""
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    """HF Llama apply_rotary_pos_emb: pairs (j, j + D/2)."""
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def apply_rotary_pos_emb_interleave(q, k, cos, sin, unsqueeze_dim=1):
    """HF DeepseekV3 apply_rotary_pos_emb_interleave: rotates pairs (2j, 2j+1), but first
    de-interleaves to [evens | odds] and applies rotate-half there, so its output is the
    de-interleaved permutation of the pairwise rotation (q.k products are unaffected)."""
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    b, h, s, d = q.shape
    q = q.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    b, h, s, d = k.shape
    k = k.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def repeat_kv(hidden_states, n_rep):
    """HF repeat_kv: [B, Hkv, N, D] -> [B, Hkv*n_rep, N, D]; query head h reads kv head h // n_rep."""
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


class RMSNorm(nn.Module):
    """LlamaRMSNorm / DeepseekV3RMSNorm: weight * x * rsqrt(mean(x**2) + eps)."""

    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states


def causal_mask(n, dtype):
    """HF's additive 4D causal mask without cache: finfo.min above the diagonal."""
    return torch.full((n, n), torch.finfo(dtype).min, dtype=dtype).triu(1)[None, None]


def eager_attention_forward(module, query, key, value, attention_mask, scaling):
    """HF eager_attention_forward (no dropout); returns [B, N, H, Dv]."""
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)
    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask[:, :, :, : key_states.shape[-2]]
    attn_weights = nn.functional.softmax(attn_weights, dim=-1)
    attn_output = torch.matmul(attn_weights, value_states)
    return attn_output.transpose(1, 2).contiguous()


class LlamaAttention(nn.Module):
    """HF LlamaAttention: q/k/v/o_proj (biased with attention_bias, as config.attention_bias),
    rotate-half RoPE on whole heads, repeat_kv for GQA, scaling head_dim**-0.5. The rotary
    embedding, which HF keeps in LlamaModel, lives here."""

    def __init__(self, hidden_size, num_heads, num_kv_heads, head_dim, rope_theta, attention_bias=False):
        super().__init__()
        self.head_dim = head_dim
        self.num_key_value_groups = num_heads // num_kv_heads
        self.scaling = head_dim ** -0.5
        self.q_proj = nn.Linear(hidden_size, num_heads * head_dim, bias=attention_bias)
        self.k_proj = nn.Linear(hidden_size, num_kv_heads * head_dim, bias=attention_bias)
        self.v_proj = nn.Linear(hidden_size, num_kv_heads * head_dim, bias=attention_bias)
        self.o_proj = nn.Linear(num_heads * head_dim, hidden_size, bias=attention_bias)
        self.rotary_emb = RotaryEmbedding(head_dim, rope_theta)

    def forward(self, hidden_states, causal=True):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        position_ids = torch.arange(input_shape[1])[None].expand(input_shape[0], -1)
        cos, sin = self.rotary_emb(value_states, position_ids)
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        mask = causal_mask(input_shape[1], hidden_states.dtype) if causal else None
        attn_output = eager_attention_forward(self, query_states, key_states, value_states, mask, self.scaling)
        return self.o_proj(attn_output.reshape(*input_shape, -1).contiguous())


class DeepseekV3Attention(nn.Module):
    """HF DeepseekV3Attention (attention_bias False, rope_scaling None, num_key_value_heads =
    num_heads): q_proj or q_a_proj + q_a_layernorm + q_b_proj; kv_a_proj_with_mqa split into
    [c_kv | k_rot], kv_a_layernorm on c_kv only, kv_b_proj to per-head [k_pass | v]; k_rot shared
    by all heads; RoPE on the rope dims only (interleaved or rotate-half per rope_interleave);
    scaling qk_head_dim**-0.5."""

    def __init__(self, hidden_size, num_heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim,
                 v_head_dim, rope_theta, rope_interleave=True, rms_norm_eps=1e-6):
        super().__init__()
        self.num_heads = num_heads
        self.num_key_value_groups = 1
        self.q_lora_rank = q_lora_rank
        self.kv_lora_rank = kv_lora_rank
        self.qk_nope_head_dim = qk_nope_head_dim
        self.qk_rope_head_dim = qk_rope_head_dim
        self.v_head_dim = v_head_dim
        self.qk_head_dim = qk_nope_head_dim + qk_rope_head_dim
        self.rope_interleave = rope_interleave
        if q_lora_rank is None:
            self.q_proj = nn.Linear(hidden_size, num_heads * self.qk_head_dim, bias=False)
        else:
            self.q_a_proj = nn.Linear(hidden_size, q_lora_rank, bias=False)
            self.q_a_layernorm = RMSNorm(q_lora_rank, rms_norm_eps)
            self.q_b_proj = nn.Linear(q_lora_rank, num_heads * self.qk_head_dim, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(hidden_size, kv_lora_rank + qk_rope_head_dim, bias=False)
        self.kv_a_layernorm = RMSNorm(kv_lora_rank, rms_norm_eps)
        self.kv_b_proj = nn.Linear(kv_lora_rank, num_heads * (qk_nope_head_dim + v_head_dim), bias=False)
        self.o_proj = nn.Linear(num_heads * v_head_dim, hidden_size, bias=False)
        self.scaling = self.qk_head_dim ** -0.5
        self.rotary_emb = RotaryEmbedding(qk_rope_head_dim, rope_theta)

    def forward(self, hidden_states, causal=True):
        batch_size, seq_length = hidden_states.shape[:-1]
        query_shape = (batch_size, seq_length, -1, self.qk_head_dim)
        key_shape = (batch_size, seq_length, -1, self.qk_nope_head_dim + self.v_head_dim)

        if self.q_lora_rank is None:
            q_states = self.q_proj(hidden_states)
        else:
            q_states = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(hidden_states)))
        q_states = q_states.view(query_shape).transpose(1, 2)
        q_pass, q_rot = torch.split(q_states, [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1)

        compressed_kv = self.kv_a_proj_with_mqa(hidden_states)
        k_pass, k_rot = torch.split(compressed_kv, [self.kv_lora_rank, self.qk_rope_head_dim], dim=-1)
        k_pass = self.kv_b_proj(self.kv_a_layernorm(k_pass)).view(key_shape).transpose(1, 2)
        k_pass, value_states = torch.split(k_pass, [self.qk_nope_head_dim, self.v_head_dim], dim=-1)
        k_rot = k_rot.view(batch_size, 1, seq_length, self.qk_rope_head_dim)

        position_ids = torch.arange(seq_length)[None].expand(batch_size, -1)
        cos, sin = self.rotary_emb(value_states, position_ids)
        if self.rope_interleave:
            q_rot, k_rot = apply_rotary_pos_emb_interleave(q_rot, k_rot, cos, sin)
        else:
            q_rot, k_rot = apply_rotary_pos_emb(q_rot, k_rot, cos, sin)
        k_rot = k_rot.expand(*k_pass.shape[:-1], -1)

        query_states = torch.cat((q_pass, q_rot), dim=-1)
        key_states = torch.cat((k_pass, k_rot), dim=-1)
        mask = causal_mask(seq_length, hidden_states.dtype) if causal else None
        attn_output = eager_attention_forward(self, query_states, key_states, value_states, mask, self.scaling)
        return self.o_proj(attn_output.reshape(batch_size, seq_length, -1).contiguous())
