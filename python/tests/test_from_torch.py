"""tucker.from_torch: the imported layer, compiled for the CPU, matches the module's own forward.

Tolerances, max abs error over max abs reference: f32 1e-4 for the HF-style modules (from
hf_semantics, forward(x, causal=...)) and 1e-5 for nn.MultiheadAttention and the Qwen2-style key
bias; bf16 2e-2 and f16 1e-2. Attentions without RoPE are in test_from_torch_norope.py.
nn.MultiheadAttention runs in eval mode with need_weights=False and a causal attn_mask when
causal, on x in its own layout ([N, B, d] when batch_first=False), which is the compiled
function's layout too.
"""

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

import tucker
from hf_semantics import DeepseekV3Attention, LlamaAttention

TOL = {torch.float32: 1e-5, torch.bfloat16: 2e-2, torch.float16: 1e-2}


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
    """The module on x in its own layout ([N, B, d] when batch_first=False)."""
    n = x.shape[1] if m.batch_first else x.shape[0]
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1) if causal else None
    with torch.no_grad():
        y, _ = m(x, x, x, attn_mask=mask, need_weights=False)
    return y


def randomize_biases(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.3)


def make_mha(d, H, bias=True, batch_first=True, seed=0):
    torch.manual_seed(seed)
    m = nn.MultiheadAttention(d, H, bias=bias, batch_first=batch_first).eval()
    randomize_biases(m)
    return m


def mha_x(m, B, N, d):
    return torch.randn(B, N, d) if m.batch_first else torch.randn(N, B, d)


MHA_CASES = [
    # B, N, d, H, bias, batch_first, causal
    (2, 13, 32, 4, True, True, True),
    (1, 20, 48, 3, False, False, False),
    (3, 7, 16, 2, True, False, False),
    (2, 9, 32, 8, False, True, True),
    (4, 6, 32, 4, True, False, True),
]


@pytest.mark.parametrize("B,N,d,H,bias,batch_first,causal", MHA_CASES)
def test_multihead_attention(B, N, d, H, bias, batch_first, causal):
    m = make_mha(d, H, bias, batch_first, seed=B * 100 + N)
    x = mha_x(m, B, N, d)
    text = tucker.from_torch(m, x, causal=causal, static_shapes=True)
    xt = f"tensor<{B}x{N}x{d}xf32>" if batch_first else f"tensor<{N}x{B}x{d}xf32>"
    assert f"func.func @forward(%x: {xt}) -> {xt}" in text
    assert ("linalg.transpose" in text) == (not batch_first)
    assert rel_err(tucker.compile(text)(x.numpy()), mha_forward(m, x, causal)) <= TOL[torch.float32]
    # By default B and N are dynamic (test_from_torch_dynamic.py calls such kernels on many shapes).
    assert f"func.func @forward(%x: tensor<?x?x{d}xf32>) -> tensor<?x?x{d}xf32>" in \
        tucker.from_torch(m, x, causal=causal)


def test_sequence_first_layout_is_not_batch_first():
    """batch_first=False: the kernel reads x as [N, B, d]; the same x read as [B, N, d] (a
    different layer input) gives a different answer, so the layouts cannot be confused."""
    m = make_mha(16, 2, batch_first=False, seed=1)
    x = torch.randn(5, 5, 16)  # N = B: the shapes alone cannot tell the layouts apart
    y = tucker.compile(tucker.from_torch(m, x))(x.numpy())
    assert rel_err(y, mha_forward(m, x, False)) <= TOL[torch.float32]
    swapped = mha_forward(m, x.transpose(0, 1).contiguous(), False).transpose(0, 1)
    assert rel_err(y, swapped) > 0.1


def test_sequence_first_example_shape_errors():
    m = make_mha(16, 2, batch_first=False)
    with pytest.raises(ValueError, match=r"example_x must be \[N, B, d\], the layout of this "
                                         r"batch_first=False module, got shape \[4, 16\]"):
        tucker.from_torch(m, torch.randn(4, 16))
    with pytest.raises(ValueError, match="example_x has d = 8"):
        tucker.from_torch(m, torch.randn(4, 1, 8))
    with pytest.raises(ValueError, match=r"must be \[B, N, d\] \(batch_first=True\)"):
        tucker.from_torch(make_mha(16, 2), torch.randn(2, 3, 4, 16))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("batch_first,causal", [(True, True), (False, False), (False, True)])
def test_module_dtype_is_kept(dtype, batch_first, causal):
    """A bf16 / f16 module gives a bf16 / f16 function. Reference: bf16 the module itself; f16
    the module's weights in float32 on the f16-rounded x (torch's CPU has no f16 matmul in every
    version this runs on, e.g. 1.13: "addmm_impl_cpu_" not implemented for 'Half')."""
    m = make_mha(32, 4, batch_first=batch_first, seed=5).to(dtype)
    x = mha_x(m, 3, 7, 32).to(dtype)
    text = tucker.from_torch(m, x, causal=causal)
    name = {torch.bfloat16: "bf16", torch.float16: "f16"}[dtype]
    assert f"x{name}>" in text and "xf32>" not in text
    y = tucker.compile(text)(x)
    assert y.dtype == dtype
    if dtype == torch.bfloat16:
        expected = mha_forward(m, x, causal)
    else:
        expected = mha_forward(copy.deepcopy(m).float(), x.float(), causal)
    assert rel_err(y.float(), expected.float()) <= TOL[dtype]


def test_explicit_dtype_wins():
    m = make_mha(16, 2, seed=6).to(torch.bfloat16)
    x = torch.randn(2, 5, 16)
    text = tucker.from_torch(m, x, dtype="f32")
    assert "xf32>" in text and "xbf16>" not in text
    # The bf16 weights are exact in f32: the f32 module with the same weights is the reference.
    expected = mha_forward(copy.deepcopy(m).float(), x, False)
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= TOL[torch.float32]


def test_mixed_and_unsupported_parameter_dtypes():
    m = make_mha(16, 2, seed=7)
    m.out_proj.to(torch.bfloat16)
    x = torch.randn(2, 5, 16)
    with pytest.raises(ValueError, match=r"different dtypes \(in_proj_weight: float32, "
                                         r"out_proj.weight: bfloat16\): pass dtype="):
        tucker.from_torch(m, x)
    text = tucker.from_torch(m, x, dtype=torch.float32)
    expected = mha_forward(copy.deepcopy(m).float(), x, False)
    assert rel_err(tucker.compile(text)(x.numpy()), expected) <= TOL[torch.float32]
    with pytest.raises(ValueError, match="parameters are float64.*pass dtype="):
        tucker.from_torch(make_mha(16, 2).double(), x)
    assert "xf32>" in tucker.from_torch(make_mha(16, 2).double(), x, dtype="f32")


def test_integer_weights_refused():
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    m.q_proj.weight = nn.Parameter(torch.ones(32, 32, dtype=torch.int8), requires_grad=False)
    x = torch.randn(1, 4, 32)
    with pytest.raises(ValueError, match="different dtypes"):
        tucker.from_torch(m, x)
    with pytest.raises(ValueError, match="torch.int8 tensor.*only floating-point weights"):
        tucker.from_torch(m, x, dtype="f32")


LLAMA_CASES = [
    # B, N, d, H, Hkv, head_dim, theta, causal, biases
    (2, 11, 32, 4, 2, 8, 10000.0, True, False),    # GQA
    (1, 17, 32, 4, 1, 8, 500000.0, False, False),  # MQA
    (2, 9, 48, 6, 6, 8, 10000.0, True, False),     # MHA-shaped
    (1, 10, 32, 4, 2, 16, 1000.0, True, True),     # GQA with q/k/v/o biases -> tucker.mha
]


def add_biases(m, names=("q_proj", "k_proj", "v_proj", "o_proj"), std=0.3):
    for name in names:
        lin = getattr(m, name)
        lin.bias = nn.Parameter(std * torch.randn(lin.out_features))


@pytest.mark.parametrize("B,N,d,H,Hkv,dh,theta,causal,biases", LLAMA_CASES)
def test_llama_attention(B, N, d, H, Hkv, dh, theta, causal, biases):
    torch.manual_seed(N * 10 + H)
    m = LlamaAttention(d, H, Hkv, dh, theta).eval()
    if biases:
        add_biases(m)
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


@pytest.mark.parametrize("kind", ["llama", "mla"])
def test_hf_module_dtype_is_kept(kind):
    """A bf16 HF-style module gives a bf16 function. Its rotary frequencies stay float64 (a bf16
    inv_freq is the default form of no theta, which from_torch refuses). Reference: the module in
    float32 with the same (bf16) weights."""
    torch.manual_seed(8)
    if kind == "llama":
        m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    else:
        m = DeepseekV3Attention(32, 2, 16, 8, 4, 4, 4, 10000.0, rms_norm_eps=1e-5).eval()
    inv_freq = m.rotary_emb.inv_freq
    m.to(torch.bfloat16)
    m.rotary_emb.inv_freq = inv_freq
    x = torch.randn(2, 9, 32).to(torch.bfloat16)
    text = tucker.from_torch(m, x, causal=True)
    assert "xbf16>" in text and "xf32>" not in text
    ref = copy.deepcopy(m).float()
    ref.rotary_emb.inv_freq = inv_freq
    with torch.no_grad():
        expected = ref(x.float(), causal=True)
    assert rel_err(tucker.compile(text)(x).float(), expected) <= TOL[torch.bfloat16]


def test_causal_default_follows_is_causal():
    """HF decoder attentions carry is_causal = True (their model applies a causal mask): without
    causal=, from_torch compiles the causal layer; causal=False overrides it."""
    torch.manual_seed(9)
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    m.is_causal = True
    x = torch.randn(2, 8, 32)
    for causal, text in ((True, tucker.from_torch(m, x)),
                         (False, tucker.from_torch(m, x, causal=False))):
        assert ("causal" in text) == causal
        with torch.no_grad():
            expected = m(x, causal=causal)
        assert rel_err(tucker.compile(text)(x.numpy()), expected) <= 1e-4


@pytest.mark.parametrize("config", [
    None,                                                  # the module's own sliding_window
    SimpleNamespace(sliding_window=8),                     # Mistral: a configured window applies
    SimpleNamespace(sliding_window=8, use_sliding_window=True),  # Qwen2, switched on
])
def test_sliding_window_shorter_than_sequence_refused(config):
    torch.manual_seed(10)
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    if config is None:
        m.sliding_window = 8
    else:
        m.config = config
    with pytest.raises(ValueError, match=r"sliding_window = 8 is shorter than the sequence "
                                         r"\(N = 9\): sliding-window attention is not supported"):
        tucker.from_torch(m, torch.randn(1, 9, 32), causal=True)
    # A window of N keys covers every key a causal query sees: plain causal attention.
    x = torch.randn(2, 8, 32)
    with torch.no_grad():
        expected = m(x, causal=True)
    assert rel_err(tucker.compile(tucker.from_torch(m, x, causal=True))(x.numpy()), expected) <= 1e-4


@pytest.mark.parametrize("setting", ["full-attention layer", "switched off"])
def test_inactive_sliding_window_accepted(setting):
    torch.manual_seed(11)
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    if setting == "full-attention layer":  # the module's None wins over the config's window
        m.sliding_window = None
        m.config = SimpleNamespace(sliding_window=4)
    else:
        m.config = SimpleNamespace(sliding_window=4, use_sliding_window=False)
    x = torch.randn(1, 9, 32)
    with torch.no_grad():
        expected = m(x, causal=True)
    assert rel_err(tucker.compile(tucker.from_torch(m, x, causal=True))(x.numpy()), expected) <= 1e-4


def test_signature_and_hex_constants():
    torch.manual_seed(0)
    m = nn.MultiheadAttention(16, 2, batch_first=True).eval()
    x = torch.randn(3, 5, 16)
    text = tucker.from_torch(m, x, static_shapes=True)
    assert "func.func @forward(%x: tensor<3x5x16xf32>) -> tensor<3x5x16xf32>" in text
    assert "linalg.transpose" not in text
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


QWEN2_CASES = [
    # B, N, d, H, Hkv, causal, dtype
    (2, 12, 64, 4, 2, True, torch.float32),
    (1, 9, 64, 4, 2, False, torch.float32),
    (2, 7, 32, 4, 1, True, torch.float32),   # MQA
    (2, 12, 64, 4, 2, True, torch.bfloat16),
    (1, 9, 32, 4, 4, False, torch.bfloat16),
]


@pytest.mark.parametrize("B,N,d,H,Hkv,causal,dtype", QWEN2_CASES)
def test_qwen2_key_bias(B, N, d, H, Hkv, causal, dtype):
    """Qwen2: q/k/v biases, the key bias nonzero (under RoPE it does not cancel in the softmax);
    imported as tucker.mha with it. bf16 reference: the module in float32 with the same bf16
    weights on the same bf16 x."""
    torch.manual_seed(B * 100 + N + Hkv)
    m = LlamaAttention(d, H, Hkv, d // H, 1e6).eval()
    add_biases(m, ("q_proj", "k_proj", "v_proj"), std=1.0)
    inv_freq = m.rotary_emb.inv_freq
    m.to(dtype)
    m.rotary_emb.inv_freq = inv_freq  # float64, as a bf16 inv_freq has no exact theta
    x = torch.randn(B, N, d).to(dtype)
    text = tucker.from_torch(m, x, causal=causal)
    assert "tucker.mha" in text and " bk(%bk)" in text
    ref = copy.deepcopy(m).float()
    ref.rotary_emb.inv_freq = inv_freq
    with torch.no_grad():
        expected = ref(x.float(), causal=causal)
        # The key bias matters: the layer without it is far from the module.
        ref.k_proj.bias.zero_()
        without = ref(x.float(), causal=causal)
    assert rel_err(without, expected) > 0.05
    assert rel_err(tucker.compile(text)(x).float(), expected) <= TOL[dtype]


def test_llama_rope_parameters():
    """transformers 5 style: the rotary base in config.rope_parameters, no rope_theta anywhere;
    a rope_type other than default is refused, naming rope_parameters."""
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
