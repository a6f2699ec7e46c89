"""tucker.from_torch: the imported layer, compiled for the CPU, matches the module's own forward.

Float32 tolerance: max abs error over max abs reference <= 1e-4 (bf16 export: 2e-2, against the
float32 module). HF-style modules come from hf_semantics (forward(x, causal=...)).
nn.MultiheadAttention runs in eval mode with need_weights=False and a causal attn_mask when
causal; batch_first=False modules get x transposed to [N, B, d] (the function is batch-first).
"""

import numpy as np
import pytest
import torch
from torch import nn

import tucker
from hf_semantics import DeepseekV3Attention, LlamaAttention


def rel_err(out, expected):
    out = np.asarray(out, np.float64)
    expected = np.asarray(expected, np.float64)
    return np.abs(out - expected).max() / np.abs(expected).max()


def run(module, x, causal, dtype=None):
    text = tucker.from_torch(module, x, causal=causal, dtype=dtype)
    kernel = tucker.compile(text)
    if dtype == "bf16":
        return tucker.from_bf16_bits(kernel(tucker.to_bf16_bits(x.numpy())))
    return kernel(x.numpy())


def mha_forward(m, x, causal):
    n = x.shape[1]
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1) if causal else None
    xin = x if m.batch_first else x.transpose(0, 1)
    with torch.no_grad():
        y, _ = m(xin, xin, xin, attn_mask=mask, need_weights=False)
    return (y if m.batch_first else y.transpose(0, 1)).numpy()


def randomize_biases(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.3)


MHA_CASES = [
    # B, N, d, H, bias, batch_first, causal
    (2, 13, 32, 4, True, True, True),
    (1, 20, 48, 3, False, False, False),
    (3, 7, 16, 2, True, False, False),
    (2, 9, 32, 8, False, True, True),
]


@pytest.mark.parametrize("B,N,d,H,bias,batch_first,causal", MHA_CASES)
def test_multihead_attention(B, N, d, H, bias, batch_first, causal):
    torch.manual_seed(B * 100 + N)
    m = nn.MultiheadAttention(d, H, bias=bias, batch_first=batch_first).eval()
    randomize_biases(m)
    x = torch.randn(B, N, d)
    assert rel_err(run(m, x, causal), mha_forward(m, x, causal)) <= 1e-4


LLAMA_CASES = [
    # B, N, d, H, Hkv, head_dim, theta, causal, biases (Qwen2-style)
    (2, 11, 32, 4, 2, 8, 10000.0, True, False),    # GQA
    (1, 17, 32, 4, 1, 8, 500000.0, False, False),  # MQA
    (2, 9, 48, 6, 6, 8, 10000.0, True, False),     # MHA-shaped
    (1, 10, 32, 4, 2, 16, 1000.0, True, True),     # GQA with q/v/o biases -> tucker.mha
]


@pytest.mark.parametrize("B,N,d,H,Hkv,dh,theta,causal,biases", LLAMA_CASES)
def test_llama_attention(B, N, d, H, Hkv, dh, theta, causal, biases):
    torch.manual_seed(N * 10 + H)
    m = LlamaAttention(d, H, Hkv, dh, theta).eval()
    if biases:  # q/v/o biases (a zero k bias is dropped; a nonzero one is refused, see below)
        for name in ("q_proj", "v_proj", "o_proj"):
            lin = getattr(m, name)
            lin.bias = nn.Parameter(0.3 * torch.randn(lin.out_features))
        m.k_proj.bias = nn.Parameter(torch.zeros(m.k_proj.out_features))
    x = torch.randn(B, N, d)
    text = tucker.from_torch(m, x, causal=causal)
    assert ("tucker.mha" if biases else "tucker.gqa") in text
    with torch.no_grad():
        expected = m(x, causal=causal).numpy()
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= 1e-4


def test_llama_explicit_scaling():
    torch.manual_seed(3)
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    m.scaling = 0.2
    x = torch.randn(1, 8, 32)
    text = tucker.from_torch(m, x, causal=True)
    assert "scale = 2.0" in text
    with torch.no_grad():
        expected = m(x, causal=True).numpy()
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= 1e-4


MLA_CASES = [
    # B, N, d, H, q_lora, kv_lora, nope, rope, v, interleave, causal
    (2, 10, 64, 4, 32, 16, 8, 4, 8, True, True),
    (1, 13, 48, 2, None, 16, 8, 8, 12, False, False),
    (2, 7, 32, 3, 16, 8, 8, 4, 8, False, True),
    (1, 9, 32, 2, None, 8, 4, 4, 4, True, False),
]


@pytest.mark.parametrize("B,N,d,H,ql,kvl,nope,rp,vd,interleave,causal", MLA_CASES)
def test_deepseek_v3_attention(B, N, d, H, ql, kvl, nope, rp, vd, interleave, causal):
    torch.manual_seed(d + N)
    m = DeepseekV3Attention(d, H, ql, kvl, nope, rp, vd, 10000.0, rope_interleave=interleave,
                            rms_norm_eps=1e-5).eval()
    with torch.no_grad():  # non-trivial norm weights
        for norm in (m.kv_a_layernorm, getattr(m, "q_a_layernorm", None)):
            if norm is not None:
                norm.weight.add_(0.2 * torch.randn_like(norm.weight))
    x = torch.randn(B, N, d)
    text = tucker.from_torch(m, x, causal=causal)
    assert "tucker.mla" in text and ("interleaved" if interleave else "half") in text
    with torch.no_grad():
        expected = m(x, causal=causal).numpy()
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= 1e-4


def test_deepseek_v3_without_q_lora_has_q_a_proj_none():
    # transformers 5.x sets q_a_proj = None when q_lora_rank is None; that is no query LoRA.
    torch.manual_seed(3)
    m = DeepseekV3Attention(32, 2, None, 8, 4, 4, 4, 10000.0, rms_norm_eps=1e-5).eval()
    m.q_a_proj = None
    x = torch.randn(1, 6, 32)
    text = tucker.from_torch(m, x, causal=True)
    with torch.no_grad():
        expected = m(x, causal=True).numpy()
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= 1e-4


def test_bf16_export():
    torch.manual_seed(7)
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    x = torch.randn(2, 9, 32)
    text = tucker.from_torch(m, x, causal=True, dtype=torch.bfloat16)
    assert "xbf16>" in text and "xf32>" not in text
    with torch.no_grad():
        expected = m(x, causal=True).numpy()
    assert rel_err(run(m, x, True, dtype="bf16"), expected) <= 2e-2


def test_signature_and_hex_constants():
    torch.manual_seed(0)
    m = nn.MultiheadAttention(16, 2, batch_first=True).eval()
    x = torch.randn(3, 5, 16)
    text = tucker.from_torch(m, x)
    assert "func.func @forward(%x: tensor<3x5x16xf32>) -> tensor<3x5x16xf32>" in text
    assert 'dense<"0x' in text and "causal" not in text and "scale" not in text
    assert rel_err(tucker.compile(text)(x.numpy()), mha_forward(m, x, False)) <= 1e-4


def test_unsupported_module_type():
    with pytest.raises(TypeError, match="nn.modules.linear.Linear.*expected torch.nn.MultiheadAttention"):
        tucker.from_torch(nn.Linear(4, 4), torch.randn(1, 2, 4))


def test_add_bias_kv_refused():
    m = nn.MultiheadAttention(16, 2, add_bias_kv=True).eval()
    with pytest.raises(ValueError, match="add_bias_kv"):
        tucker.from_torch(m, torch.randn(1, 4, 16))


def test_add_zero_attn_refused():
    m = nn.MultiheadAttention(16, 2, add_zero_attn=True).eval()
    with pytest.raises(ValueError, match="add_zero_attn"):
        tucker.from_torch(m, torch.randn(1, 4, 16))


def test_cross_attention_kdim_refused():
    m = nn.MultiheadAttention(16, 2, kdim=8, vdim=8).eval()
    with pytest.raises(ValueError, match="kdim = 8.*cross-attention"):
        tucker.from_torch(m, torch.randn(1, 4, 16))


def test_training_dropout_refused():
    m = nn.MultiheadAttention(16, 2, dropout=0.1)  # training mode by default
    with pytest.raises(ValueError, match="dropout"):
        tucker.from_torch(m, torch.randn(1, 4, 16))
    tucker.from_torch(m.eval(), torch.randn(1, 4, 16))  # eval mode: dropout is inactive


def test_bad_dtype_and_shape():
    m = nn.MultiheadAttention(16, 2).eval()
    with pytest.raises(ValueError, match="dtype"):
        tucker.from_torch(m, torch.randn(1, 4, 16), dtype="f64")
    with pytest.raises(ValueError, match="example_x has d = 8"):
        tucker.from_torch(m, torch.randn(1, 4, 8))


def test_mla_mismatched_norm_eps_refused():
    m = DeepseekV3Attention(32, 2, 16, 8, 4, 4, 4, 10000.0)
    m.q_a_layernorm.variance_epsilon = 1e-3
    with pytest.raises(ValueError, match="norm_epsilon"):
        tucker.from_torch(m.eval(), torch.randn(1, 4, 32))


def test_llama_key_bias_refused():
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    m.k_proj.bias = nn.Parameter(torch.ones(m.k_proj.out_features))
    with pytest.raises(ValueError, match="k_proj bias"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


def test_llama_rope_parameters():
    """transformers 5 style: the rotary base in config.rope_parameters, no rope_theta anywhere;
    a rope_type other than default is refused, naming rope_parameters."""
    from types import SimpleNamespace
    torch.manual_seed(4)
    m = LlamaAttention(32, 4, 2, 8, 1000.0).eval()
    x = torch.randn(1, 9, 32)
    m.config = SimpleNamespace(rope_parameters={"rope_type": "default", "rope_theta": 1000.0},
                               num_attention_heads=4, num_key_value_heads=2)
    text = tucker.from_torch(m, x, causal=True)
    assert "theta = 1.00000000000000000e+03" in text
    with torch.no_grad():
        expected = m(x, causal=True).numpy()
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= 1e-4
    # The base is read from rope_parameters: one that disagrees with the module's frequencies is
    # caught.
    m.config.rope_parameters = {"rope_type": "default", "rope_theta": 500000.0}
    with pytest.raises(ValueError, match="inv_freq is not the default"):
        tucker.from_torch(m, x)
    m.config.rope_parameters = {"rope_type": "yarn", "rope_theta": 1000.0, "factor": 4.0}
    with pytest.raises(ValueError, match="rope_parameters = .*yarn.* not supported"):
        tucker.from_torch(m, x)
