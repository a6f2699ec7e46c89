"""The real HF transformers attention classes through tucker.from_torch and tucker.compile.

Skipped as a whole where transformers is not importable (CI here; the GPU machine has it); a
class the installed version lacks is skipped. Built from small configs through the config
classes: LlamaAttention (GQA, MQA, MHA-shaped; with and without attention_bias), Qwen2Attention
(q/k/v biases, the key bias nonzero) and DeepseekV3Attention (MLA; with and without the query
LoRA, interleaved and rotate-half rope) take hidden_states, position_embeddings = (cos, sin) from
the model's own RotaryEmbedding class, and an additive attention_mask (the causal mask of
hf_semantics, or None); the config is pinned to eager attention so that a None mask means no
mask; CohereAttention and Llama4TextAttention (interleaved RoPE; Llama 4's position_embeddings
are its complex freqs_cis) and Cohere2Attention alike. Attentions without RoPE take hidden_states
and that mask: GPT2Attention, GPTBigCodeAttention
(MQA and MHA), BertSelfAttention, ViTAttention (transformers 4's wrapper with its output
projection, or 5's q/k/v/o_proj), BartAttention (encoder and decoder), OPTAttention,
WhisperAttention, CLIPAttention and SmolLM3Attention on a NoPE layer.

Each case checks, in float32:
- *_semantics (no tool needed): the module's own forward against hf_semantics' (hf_cohere's,
  hf_llama4's) re-implementation with the same weights and rotary frequencies, rel. error
  <= 1e-5 (so the oracles that the CPU tests use where transformers is missing stay faithful);
- from_torch + compile(target="cpu") against the module's forward: rel. error (max abs error over
  max abs output) <= 1e-4, <= 1e-5 for Qwen2, Cohere, Llama 4 and the attentions without RoPE
  (skipped where tucker-compile is not found); Qwen2 also in bf16 (weights rounded by
  from_torch's dtype=), <= 2e-2 of the module with the same rounded weights in float32.
CUDA cases (CUDA_CASES, only where torch sees a Hopper GPU) export bf16 and compile(target="cuda"),
and compare the CUDA kernel on CUDA tensors with the module's float32 forward on the GPU: rel.
error <= 2e-2 (bf16 weights, activations and output). A compile failure is a test failure. The
GPU machine has no MLIR tools, so there these tests skip; bench/gpu/hf_real.py runs the same cases
and checks in three stages instead (export on the GPU machine, compile here, check there; see
docs/python.md).

What from_torch refuses is checked too: MLA projection biases (DeepseekV3 attention_bias=True),
BertAttention, whose output block adds the residual and a LayerNorm, and DETR's attention, which
adds position embeddings to the query and key inputs. Its self-check (no tool needed) passes on
Cohere's and Llama 4's interleaved imports and refuses rotate-half ones, and refuses Cohere2's
full-attention layers, which skip the rotation in their forward.
"""

import importlib
import warnings
from functools import partial

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import tucker
from tucker import _tools
import hf_cohere
import hf_llama4
import hf_semantics as sem

F32_TOL = 1e-4
QWEN2_F32_TOL = NOROPE_F32_TOL = INTERLEAVED_F32_TOL = 1e-5
BF16_TOL = 2e-2
SEMANTICS_TOL = 1e-5


@pytest.fixture
def compiler():
    """For the tests that compile: skips where tucker-compile is not found (the GPU machine has no
    MLIR unless a build is carried there); the semantics and refusal tests need no tool."""
    try:
        _tools.find_tool("tucker-compile")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))


def _is_hopper():
    try:
        return torch.cuda.is_available() and torch.cuda.get_device_capability(0)[0] == 9
    except (RuntimeError, AssertionError):
        return False


hopper = pytest.mark.skipif(not _is_hopper(), reason="needs an NVIDIA Hopper GPU (sm_90) for torch")


def rel_err(out, expected):
    out = np.asarray(out, np.float64)
    expected = np.asarray(expected, np.float64)
    return np.abs(out - expected).max() / np.abs(expected).max()


def hf(model, *names):
    """Classes of transformers.models.<model>.modeling_<model>; skips where this version lacks one."""
    try:
        module = importlib.import_module(f"transformers.models.{model}.modeling_{model}")
    except ImportError as e:
        pytest.skip(f"transformers {transformers.__version__} has no {model}: {e}")
    missing = [n for n in names if not hasattr(module, n)]
    if missing:
        pytest.skip(f"transformers {transformers.__version__} lacks {', '.join(missing)}")
    return [getattr(module, n) for n in names]


def eager_config(cls_name, **kwargs):
    """A config of class `cls_name` for a one-layer toy model, pinned to eager attention."""
    cls = getattr(transformers, cls_name, None)
    if cls is None:
        pytest.skip(f"transformers {transformers.__version__} has no {cls_name}")
    kwargs.setdefault("vocab_size", 64)
    kwargs.setdefault("num_hidden_layers", 1)
    kwargs.setdefault("max_position_embeddings", 64)
    config = cls(**kwargs)
    config._attn_implementation = "eager"
    return config


class Layer:
    """A real HF attention module with its rotary embedding: forward(x, causal) -> [B, N, d]."""

    def __init__(self, attention, rotary):
        self.attention, self.rotary = attention.eval(), rotary

    def to(self, device):
        self.attention.to(device)
        self.rotary.to(device)
        return self

    def __call__(self, x, causal):
        B, N = x.shape[:2]
        position_ids = torch.arange(N, device=x.device)[None].expand(B, N)
        positions = self.rotary(x, position_ids)  # (cos, sin); Llama 4: complex freqs_cis
        mask = sem.causal_mask(N, x.dtype).to(x.device).expand(B, 1, N, N) if causal else None
        with torch.no_grad():
            out = self.attention(hidden_states=x, position_embeddings=positions, attention_mask=mask)
        return out[0] if isinstance(out, tuple) else out


def randomize(module, std=0.3):
    """Non-trivial biases and norm weights (HF initializes biases to zero or uniform, norms to 1)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, std)
            elif "layernorm" in name:
                p.add_(std * torch.randn_like(p))


def check_semantics(layer, oracle, x, causal):
    """hf_semantics' module with the real module's weights and rotary frequencies computes the
    same layer."""
    missing, unexpected = oracle.load_state_dict(layer.attention.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("rotary_emb.") for k in missing), (missing, unexpected)
    assert oracle.rotary_emb.inv_freq.shape == layer.rotary.inv_freq.shape
    oracle.rotary_emb.inv_freq = layer.rotary.inv_freq.detach().to(torch.float64).clone()
    with torch.no_grad():
        expected = oracle.eval()(x, causal=causal)
    assert rel_err(layer(x, causal), expected) <= SEMANTICS_TOL


def check_cpu(layer, x, causal, op):
    text = tucker.from_torch(layer.attention, x, causal=causal)
    assert op in text
    assert rel_err(tucker.compile(text, target="cpu")(x.numpy()), layer(x, causal)) <= F32_TOL


def round_to_bf16(module):
    """The module's parameters rounded to bf16, kept float32 (the bf16 layer's reference)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(torch.bfloat16).float())


def export_cuda(layer, x, causal):
    """On the GPU: the bf16 MLIR of the layer and the module's float32 forward (the reference, on
    the CPU). from_torch is pure Python: this needs no tool."""
    layer.to("cuda")
    x = x.to("cuda")
    expected = layer(x, causal).float().cpu()
    return tucker.from_torch(layer.attention, x, causal=causal, dtype=torch.bfloat16), expected


def run_cuda(kernel, x, expected):
    """The CUDA kernel on x as a bf16 CUDA tensor: its rel. error against `expected` (NaN where
    an output element was never written)."""
    x = x.to("cuda", torch.bfloat16)
    # Freed at once: torch's caching allocator hands this block to the kernel's output.
    torch.full(tuple(expected.shape), float("nan"), dtype=torch.bfloat16, device="cuda")
    y = kernel(x)
    assert y.is_cuda and y.dtype == torch.bfloat16
    torch.cuda.synchronize()
    return rel_err(y.float().cpu(), expected)


# ---------------------------------------------------------------------------------------------
# Llama (GQA with RoPE)

LLAMA = [
    # B, N, d, H, Hkv, head_dim, theta, causal, attention_bias
    (2, 11, 32, 4, 2, 8, 10000.0, True, False),    # GQA
    (1, 13, 32, 4, 1, 8, 500000.0, False, False),  # MQA
    (2, 9, 48, 6, 6, 8, 10000.0, False, True),     # MHA-shaped, q/v/o biases
    (1, 10, 32, 4, 2, 16, 1000.0, True, True),     # GQA, q/v/o biases
]


def llama(B, N, d, H, Hkv, dh, theta, bias, seed):
    attention_cls, rotary_cls = hf("llama", "LlamaAttention", "LlamaRotaryEmbedding")
    torch.manual_seed(seed)
    config = eager_config("LlamaConfig", hidden_size=d, intermediate_size=2 * d,
                          num_attention_heads=H, num_key_value_heads=Hkv, head_dim=dh,
                          rope_theta=theta, attention_bias=bias)
    layer = Layer(attention_cls(config, layer_idx=0), rotary_cls(config=config))
    randomize(layer.attention)
    x = torch.randn(B, N, d)
    return layer, x


@pytest.mark.parametrize("B,N,d,H,Hkv,dh,theta,causal,bias", LLAMA)
def test_llama_semantics(B, N, d, H, Hkv, dh, theta, causal, bias):
    layer, x = llama(B, N, d, H, Hkv, dh, theta, bias, seed=N * 10 + H)
    oracle = sem.LlamaAttention(d, H, Hkv, dh, theta)
    if bias:
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            lin = getattr(oracle, name)
            lin.bias = torch.nn.Parameter(torch.zeros(lin.out_features))
    check_semantics(layer, oracle, x, causal)


@pytest.mark.parametrize("B,N,d,H,Hkv,dh,theta,causal,bias", LLAMA)
def test_llama(B, N, d, H, Hkv, dh, theta, causal, bias, compiler):
    layer, x = llama(B, N, d, H, Hkv, dh, theta, bias, seed=N * 10 + H)
    check_cpu(layer, x, causal, "tucker.mha" if bias else "tucker.gqa")


# ---------------------------------------------------------------------------------------------
# Qwen2 (GQA with RoPE, q/k/v biases)


def qwen2(B, N, d, H, Hkv, seed):
    attention_cls, rotary_cls = hf("qwen2", "Qwen2Attention", "Qwen2RotaryEmbedding")
    torch.manual_seed(seed)
    config = eager_config("Qwen2Config", hidden_size=d, intermediate_size=2 * d,
                          num_attention_heads=H, num_key_value_heads=Hkv, rope_theta=1000000.0,
                          use_sliding_window=False)
    layer = Layer(attention_cls(config, layer_idx=0), rotary_cls(config=config))
    randomize(layer.attention)  # the key bias too: it does not cancel under RoPE
    return layer, torch.randn(B, N, d)


@pytest.mark.parametrize("causal", [True, False])
def test_qwen2(causal, compiler):
    layer, x = qwen2(2, 12, 64, 4, 2, seed=21)
    assert layer.attention.k_proj.bias is not None, "Qwen2Attention has q/k/v biases"
    text = tucker.from_torch(layer.attention, x, causal=causal)
    assert "tucker.mha" in text and " bk(%bk)" in text
    y = tucker.compile(text)(x.numpy())
    assert rel_err(y, layer(x, causal)) <= QWEN2_F32_TOL
    # The key bias matters: without it the module is 100 tolerances away from the kernel.
    with torch.no_grad():
        layer.attention.k_proj.bias.zero_()
    assert rel_err(y, layer(x, causal)) > 100 * QWEN2_F32_TOL


@pytest.mark.parametrize("causal", [True, False])
def test_qwen2_bf16(causal, compiler):
    """from_torch(dtype=bf16) rounds the weights; reference: the module with its weights rounded
    to bf16, in float32, on the bf16-rounded x."""
    layer, x = qwen2(2, 12, 64, 4, 2, seed=24)
    text = tucker.from_torch(layer.attention, x, causal=causal, dtype=torch.bfloat16)
    assert "xbf16>" in text and " bk(%bk)" in text
    round_to_bf16(layer.attention)
    xb = x.to(torch.bfloat16)
    y = tucker.compile(text)(xb)
    assert rel_err(y.float(), layer(xb.float(), causal)) <= BF16_TOL


# ---------------------------------------------------------------------------------------------
# Interleaved RoPE: Cohere (rotate_half over pairs (2j, 2j + 1)), Llama 4 (a complex product over
# the same pairs); Cohere2, whose full-attention layers skip the rotation in their forward


def cohere(B, N, d, H, Hkv, seed, cls="Cohere", layer_idx=0, **kwargs):
    attention_cls, rotary_cls = hf(cls.lower(), f"{cls}Attention", f"{cls}RotaryEmbedding")
    torch.manual_seed(seed)
    config = eager_config(f"{cls}Config", hidden_size=d, intermediate_size=2 * d,
                          num_attention_heads=H, num_key_value_heads=Hkv, rope_theta=10000.0,
                          **kwargs)
    return Layer(attention_cls(config, layer_idx), rotary_cls(config=config)), torch.randn(B, N, d)


def llama4(B, N, d, H, Hkv, seed, layer_idx=0):
    attention_cls, rotary_cls = hf("llama4", "Llama4TextAttention", "Llama4TextRotaryEmbedding")
    torch.manual_seed(seed)
    config = eager_config("Llama4TextConfig", hidden_size=d, intermediate_size=2 * d,
                          intermediate_size_mlp=2 * d, num_attention_heads=H,
                          num_key_value_heads=Hkv, head_dim=d // H, rope_theta=500000.0,
                          num_hidden_layers=2, no_rope_layers=[1, 0], use_qk_norm=False)
    return Layer(attention_cls(config, layer_idx), rotary_cls(config=config)), torch.randn(B, N, d)


INTERLEAVED = {
    # name: (build() -> (layer, x), the hf_cohere / hf_llama4 re-implementation of its layer)
    "cohere": (partial(cohere, 2, 9, 32, 4, 2, seed=31),
               lambda: hf_cohere.CohereAttention(hf_cohere.config(32, 4, 2))),
    "llama4-rope": (partial(llama4, 2, 9, 32, 4, 2, seed=32),
                    lambda: hf_llama4.Llama4TextAttention(hf_llama4.config(32, 4, 2), 0)),
}


@pytest.mark.parametrize("name", INTERLEAVED)
@pytest.mark.parametrize("causal", [True, False])
def test_interleaved_semantics(name, causal):
    """hf_cohere's and hf_llama4's layers, with the real module's weights, compute its forward."""
    build, oracle = INTERLEAVED[name]
    layer, x = build()
    oracle = oracle().eval()
    oracle.load_state_dict(layer.attention.state_dict())
    run = hf_cohere.run if name == "cohere" else hf_llama4.run
    assert rel_err(layer(x, causal), run(oracle, x, causal)) <= SEMANTICS_TOL


@pytest.mark.parametrize("name", INTERLEAVED)
def test_interleaved_rope_self_checked(name, monkeypatch):
    """from_torch reads the interleaved pairing, which passes its self-check against the real
    module; made to emit rotate-half instead, the self-check refuses it (no tool needed)."""
    layer, x = INTERLEAVED[name][0]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the check ran
        assert "style = interleaved" in tucker.from_torch(layer.attention, x)
    monkeypatch.setattr(tucker.importer, "_rope_style", lambda module, dim: "half")
    with pytest.raises(ValueError, match=rf"from_torch imported {type(layer.attention).__name__} "
                                         r"as tucker.gqa \(rope style half, .*\), but the op does "
                                         r"not compute the module's forward"):
        tucker.from_torch(layer.attention, x)


@pytest.mark.parametrize("name", INTERLEAVED)
@pytest.mark.parametrize("causal", [True, False])
def test_interleaved(name, causal, compiler):
    layer, x = INTERLEAVED[name][0]()
    text = tucker.from_torch(layer.attention, x, causal=causal)
    assert "style = interleaved" in text
    assert rel_err(tucker.compile(text)(x.numpy()), layer(x, causal)) <= INTERLEAVED_F32_TOL


def test_cohere2_full_attention_layer_refused_by_the_self_check():
    """Cohere2's full-attention layers do not rotate, which only their forward says: the import
    (with RoPE) fails its self-check, naming the class. Its sliding-window layers import."""
    config = dict(num_hidden_layers=2, layer_types=["sliding_attention", "full_attention"],
                  sliding_window=16)
    full, x = cohere(2, 9, 32, 4, 2, seed=33, cls="Cohere2", layer_idx=1, **config)
    with pytest.raises(ValueError, match=r"from_torch imported Cohere2Attention as tucker.gqa "
                                         r"\(rope style interleaved, .*\), but the op does not "
                                         r"compute the module's forward"):
        tucker.from_torch(full.attention, x)
    sliding = Layer(type(full.attention)(full.attention.config, layer_idx=0), full.rotary)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "style = interleaved" in tucker.from_torch(sliding.attention, x)


def test_detr_refused():
    """DETR adds its position embeddings to the query and key inputs (transformers 4:
    object_queries; 5: position_embeddings, a name it shares with RoPE's (cos, sin))."""
    try:
        (cls,) = hf("detr", "DetrSelfAttention")
        config = eager_config("DetrConfig", d_model=32, encoder_attention_heads=4,
                              use_timm_backbone=False, use_pretrained_backbone=False,
                              backbone_config=transformers.ResNetConfig())  # none from the hub
        m = cls(config, hidden_size=32, num_attention_heads=4)
        message = (r"DetrSelfAttention.forward takes position_embeddings, but neither .* has a "
                   r"rotary embedding .* DETR and its family add position embeddings to the query "
                   r"and key inputs")
    except pytest.skip.Exception:
        (cls,) = hf("detr", "DetrAttention")
        m = cls(32, 4)
        message = r"DetrAttention.forward takes object_queries: DETR's position embeddings"
    with pytest.raises(ValueError, match=message):
        tucker.from_torch(m.eval(), torch.randn(1, 4, 32))


# ---------------------------------------------------------------------------------------------
# Attention without RoPE: GPT-2, GPTBigCode, BERT, ViT, BART, OPT, Whisper, CLIP, SmolLM3's NoPE
# layers


def hf_forward(attention, x, causal):
    """The module on x; causal: HF's additive causal mask as attention_mask."""
    B, N = x.shape[:2]
    kwargs = {"attention_mask": sem.causal_mask(N, x.dtype).expand(B, 1, N, N)} if causal else {}
    with torch.no_grad():
        out = attention(hidden_states=x, **kwargs)
    return out[0] if isinstance(out, tuple) else out


def norope(name, d, H, seed):
    """A real HF attention without RoPE: (module, forward(x, causal), causal values it has)."""
    torch.manual_seed(seed)
    if name == "gpt2":
        (cls,) = hf("gpt2", "GPT2Attention")
        config = eager_config("GPT2Config", n_embd=d, n_head=H, n_positions=64,
                              scale_attn_by_inverse_layer_idx=True)
        m = cls(config, layer_idx=1)
        # transformers 4's GPT2Attention masks causally itself (its `bias` buffer); 5's takes
        # the model's mask.
        causals = (True,) if isinstance(getattr(m, "bias", None), torch.Tensor) else (True, False)
    elif name in ("gpt-bigcode-mqa", "gpt-bigcode"):
        (cls,) = hf("gpt_bigcode", "GPTBigCodeAttention")
        config = eager_config("GPTBigCodeConfig", n_embd=d, n_head=H, n_positions=64,
                              multi_query=name.endswith("mqa"))
        # transformers 4 takes a boolean mask of another shape: the non-causal layer only.
        m, causals = cls(config, layer_idx=0), (False,)
    elif name == "bert":
        (cls,) = hf("bert", "BertSelfAttention")
        m, causals = cls(eager_config("BertConfig", hidden_size=d, num_attention_heads=H,
                                      intermediate_size=2 * d)), (False, True)
    elif name == "vit":
        (cls,) = hf("vit", "ViTAttention")
        m, causals = cls(eager_config("ViTConfig", hidden_size=d, num_attention_heads=H,
                                      intermediate_size=2 * d, qkv_bias=True)), (False,)
    elif name in ("bart-encoder", "bart-decoder"):
        (cls,) = hf("bart", "BartAttention")
        config = eager_config("BartConfig", d_model=d, encoder_attention_heads=H,
                              decoder_attention_heads=H)
        decoder = name == "bart-decoder"
        m = cls(d, H, is_decoder=decoder, is_causal=decoder, config=config)
        causals = (decoder,)
    elif name == "opt":
        (cls,) = hf("opt", "OPTAttention")
        m = cls(eager_config("OPTConfig", hidden_size=d, num_attention_heads=H, ffn_dim=2 * d),
                layer_idx=0)
        causals = (True, False)
    elif name == "whisper":  # no key bias
        (cls,) = hf("whisper", "WhisperAttention")
        m = cls(d, H, is_decoder=True, is_causal=True, layer_idx=0,
                config=eager_config("WhisperConfig", d_model=d))
        causals = (True, False)
    elif name == "clip":
        (cls,) = hf("clip", "CLIPAttention")
        m, causals = cls(eager_config("CLIPVisionConfig", hidden_size=d, num_attention_heads=H,
                                      intermediate_size=2 * d)), (False,)
    elif name == "smollm3-nope":
        attention_cls, rotary_cls = hf("smollm3", "SmolLM3Attention", "SmolLM3RotaryEmbedding")
        config = eager_config("SmolLM3Config", hidden_size=d, intermediate_size=2 * d,
                              num_attention_heads=H, num_key_value_heads=H // 2,
                              no_rope_layers=[0], use_sliding_window=False)
        layer = Layer(attention_cls(config, layer_idx=0), rotary_cls(config=config))
        assert not layer.attention.use_rope
        randomize(layer.attention)
        return layer.attention, layer, (True, False)
    m = m.eval()
    randomize(m)
    return m, partial(hf_forward, m), causals


NOROPE = ["gpt2", "gpt-bigcode-mqa", "gpt-bigcode", "bert", "vit", "bart-encoder", "bart-decoder",
          "opt", "whisper", "clip", "smollm3-nope"]


@pytest.mark.parametrize("name", NOROPE)
def test_without_rope(name, compiler):
    """from_torch's default causal (the module's is_causal) and every mask the module can
    compute, against the module's forward."""
    m, forward, causals = norope(name, 32, 4, seed=len(name))
    x = torch.randn(2, 9, 32)
    default = bool(getattr(m, "is_causal", False))
    for causal in causals:
        text = tucker.from_torch(m, x) if causal == default else \
            tucker.from_torch(m, x, causal=causal)
        assert "rope" not in text and ("causal" in text) == causal
        y = tucker.compile(text)(x.numpy())
        assert rel_err(y, forward(x, causal)) <= NOROPE_F32_TOL


def test_bert_attention_refused():
    """BertAttention adds the residual and a LayerNorm: refused, pointing at its .self."""
    (cls,) = hf("bert", "BertAttention")
    m = cls(eager_config("BertConfig", hidden_size=32, num_attention_heads=4,
                         intermediate_size=64)).eval()
    with pytest.raises(ValueError, match=r"adds the residual x and applies a LayerNorm.*import "
                                         r"BertAttention.self"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


# ---------------------------------------------------------------------------------------------
# DeepseekV3 (MLA)

MLA = [
    # B, N, d, H, q_lora, kv_lora, nope, rope, v, interleave, causal
    (2, 10, 64, 4, 32, 16, 8, 4, 8, True, True),
    (1, 13, 48, 2, 16, 16, 8, 8, 12, False, False),
    (1, 9, 32, 2, None, 8, 4, 4, 4, True, False),
    (2, 7, 32, 3, None, 8, 8, 4, 8, False, True),
]


def deepseek(B, N, d, H, ql, kvl, nope, rp, vd, interleave, seed, bias=False):
    attention_cls, rotary_cls = hf("deepseek_v3", "DeepseekV3Attention", "DeepseekV3RotaryEmbedding")
    torch.manual_seed(seed)
    config = eager_config("DeepseekV3Config", hidden_size=d, intermediate_size=2 * d,
                          moe_intermediate_size=16, num_attention_heads=H, num_key_value_heads=H,
                          n_shared_experts=1, n_routed_experts=4, n_group=1, topk_group=1,
                          num_experts_per_tok=2, first_k_dense_replace=1, q_lora_rank=ql,
                          kv_lora_rank=kvl, qk_nope_head_dim=nope, qk_rope_head_dim=rp,
                          v_head_dim=vd, rope_theta=10000.0, rope_interleave=interleave,
                          attention_bias=bias)
    try:
        attention = attention_cls(config, layer_idx=0)
    except TypeError as e:  # versions whose MLA always has the query LoRA
        if ql is None:
            pytest.skip(f"this DeepseekV3Attention needs q_lora_rank: {e}")
        raise
    layer = Layer(attention, rotary_cls(config=config))
    randomize(layer.attention)
    return layer, torch.randn(B, N, d)


@pytest.mark.parametrize("B,N,d,H,ql,kvl,nope,rp,vd,interleave,causal", MLA)
def test_deepseek_v3_semantics(B, N, d, H, ql, kvl, nope, rp, vd, interleave, causal):
    layer, x = deepseek(B, N, d, H, ql, kvl, nope, rp, vd, interleave, seed=d + N)
    eps = layer.attention.kv_a_layernorm.variance_epsilon
    oracle = sem.DeepseekV3Attention(d, H, ql, kvl, nope, rp, vd, 10000.0, rope_interleave=interleave,
                                     rms_norm_eps=eps)
    check_semantics(layer, oracle, x, causal)


@pytest.mark.parametrize("B,N,d,H,ql,kvl,nope,rp,vd,interleave,causal", MLA)
def test_deepseek_v3(B, N, d, H, ql, kvl, nope, rp, vd, interleave, causal, compiler):
    layer, x = deepseek(B, N, d, H, ql, kvl, nope, rp, vd, interleave, seed=d + N)
    check_cpu(layer, x, causal, "tucker.mla")


def test_deepseek_v3_biases_refused():
    layer, x = deepseek(1, 4, 32, 2, 16, 8, 4, 4, 4, True, seed=5, bias=True)
    with pytest.raises(ValueError, match="attention_bias = True"):
        tucker.from_torch(layer.attention, x)


# ---------------------------------------------------------------------------------------------
# CUDA: bf16 layers on a Hopper GPU. The one list of cases, which bench/gpu/hf_real.py also runs
# (its stages export, compile and check split test_cuda across the GPU machine and a machine
# with the tools).

CUDA_CASES = {
    # name: (build() -> (layer, x) on the CPU, seeded; causal)
    "llama-gqa-causal": (partial(llama, 2, 64, 128, 4, 2, 32, 10000.0, False, seed=68), True),
    "llama-mha-biases": (partial(llama, 1, 48, 128, 4, 4, 32, 10000.0, True, seed=52), False),
    "qwen2-causal": (partial(qwen2, 2, 64, 128, 4, 2, seed=23), True),
    "qwen2": (partial(qwen2, 2, 64, 128, 4, 2, seed=23), False),
    # B, N, d, H, q_lora, kv_lora, nope, rope, v, interleave
    "deepseek-v3-qlora-interleaved-causal":
        (partial(deepseek, 2, 64, 128, 4, 64, 32, 32, 16, 32, True, seed=192), True),
    "deepseek-v3-no-qlora-half": (partial(deepseek, 1, 48, 128, 2, None, 32, 16, 16, 32, False, seed=176), False),
}


@hopper
@pytest.mark.parametrize("name", CUDA_CASES)
def test_cuda(name, compiler):
    build, causal = CUDA_CASES[name]
    layer, x = build()
    text, expected = export_cuda(layer, x, causal)
    assert run_cuda(tucker.compile(text, target="cuda"), x, expected) <= BF16_TOL
