"""tucker.from_torch: the rope pairing read from the module's own rotation (Cohere and Llama 4
interleave), DETR-style position inputs refused with their reason, and the self-check that runs
each imported layer against its module (verify=True).

Modules are small rewritings of the transformers classes (hf_cohere.py, hf_llama4.py,
hf_semantics.py, test_from_torch_norope.py; test_hf_real.py runs the real ones where transformers
is installed). Compiled kernels are compared with the module's own forward on random data, max
abs error over max abs reference: f32 1e-5; bf16 2e-2 against the module in float32 with the same
bf16 weights on the same bf16 x.
"""

import copy
import re
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import hf_cohere
import hf_llama4
import tucker
from hf_semantics import DeepseekV3Attention, LlamaAttention
from test_from_torch_norope import BartAttention, build as build_norope

TOL = {torch.float32: 1e-5, torch.bfloat16: 2e-2}


def rel_err(out, expected):
    out = np.asarray(out, np.float64)
    expected = np.asarray(expected, np.float64)
    return np.abs(out - expected).max() / np.abs(expected).max()


def compiled(text, x):
    return tucker.compile(text)(x.numpy() if x.dtype == torch.float32 else x)


# ---------------------------------------------------------------------------------------------
# Cohere: rotate_half over pairs (2j, 2j + 1)

COHERE_CASES = [
    # B, N, d, H, Hkv, causal, attention_bias
    (2, 9, 32, 4, 2, True, False),
    (1, 12, 64, 4, 1, False, False),   # MQA
    (2, 7, 32, 4, 4, True, True),      # q/k/v/o biases -> tucker.mha, the key bias under RoPE
]


def cohere(d, H, Hkv, bias=False, seed=0, **kw):
    torch.manual_seed(seed)
    m = hf_cohere.CohereAttention(hf_cohere.config(d, H, Hkv, attention_bias=bias, **kw)).eval()
    if bias:
        with torch.no_grad():
            for lin in (m.q_proj, m.k_proj, m.v_proj, m.o_proj):
                lin.bias.normal_(0.0, 0.5)
    return m


@pytest.mark.parametrize("B,N,d,H,Hkv,causal,bias", COHERE_CASES)
def test_cohere_imports_interleaved(B, N, d, H, Hkv, causal, bias):
    m = cohere(d, H, Hkv, bias, seed=N)
    x = torch.randn(B, N, d)
    text = tucker.from_torch(m, x, causal=causal)
    assert f"width = {d // H}, offset = 0, repeat = 1, style = interleaved>" in text
    assert ("tucker.mha" if bias else "tucker.gqa") in text
    assert rel_err(compiled(text, x), hf_cohere.run(m, x, causal)) <= TOL[torch.float32]


def test_cohere_bf16():
    m = cohere(32, 4, 2, seed=3).to(torch.bfloat16)
    x = torch.randn(2, 8, 32).to(torch.bfloat16)
    text = tucker.from_torch(m, x)
    assert "xbf16>" in text and "style = interleaved" in text
    expected = hf_cohere.run(copy.deepcopy(m).float(), x.float(), True)
    assert rel_err(compiled(text, x).float(), expected) <= TOL[torch.bfloat16]


def test_cohere_qk_norm_refused():
    with pytest.raises(ValueError, match=r"q_norm \(a per-head query/key norm"):
        tucker.from_torch(cohere(32, 4, 2, use_qk_norm=True), torch.randn(1, 4, 32))


# ---------------------------------------------------------------------------------------------
# Llama 4: a complex product over pairs (2j, 2j + 1) on RoPE layers


def llama4(layer_idx, seed=0, **kw):
    torch.manual_seed(seed)
    return hf_llama4.Llama4TextAttention(hf_llama4.config(**kw), layer_idx).eval()


@pytest.mark.parametrize("layer_idx,B,N,causal", [(0, 2, 9, True), (0, 1, 11, False),
                                                  (1, 2, 9, True)])
def test_llama4(layer_idx, B, N, causal):
    """Layer 0 rotates (no_rope_layers [1, 0]): interleaved; layer 1 is a NoPE layer."""
    m = llama4(layer_idx, seed=N)
    x = torch.randn(B, N, 32)
    text = tucker.from_torch(m, x, causal=causal)
    assert ("style = interleaved" in text) == (layer_idx == 0) and "style = half" not in text
    assert rel_err(compiled(text, x), hf_llama4.run(m, x, causal)) <= TOL[torch.float32]


def test_llama4_qk_norm_refused():
    """Llama 4's RoPE layers L2-normalize q and k where config.use_qk_norm."""
    with pytest.raises(ValueError, match=r"qk_norm \(a per-head query/key norm"):
        tucker.from_torch(llama4(0, use_qk_norm=True), torch.randn(1, 4, 32))


def test_llama4_chunked_attention():
    """The model masks Llama 4's RoPE layers to chunks of attention_chunk_size keys: refused once
    N exceeds a chunk; within one chunk it is causal attention. NoPE layers are not chunked."""
    m = llama4(0, seed=5, attention_chunk_size=8)
    with pytest.raises(ValueError, match=r"attention_chunk_size = 8 is shorter than the sequence "
                                         r"\(N = 9\): chunked attention .* is not supported"):
        tucker.from_torch(m, torch.randn(1, 9, 32))
    x = torch.randn(2, 8, 32)
    assert rel_err(compiled(tucker.from_torch(m, x), x), hf_llama4.run(m, x, True)) <= TOL[torch.float32]
    nope = llama4(1, seed=5, attention_chunk_size=8)
    x = torch.randn(1, 12, 32)
    assert rel_err(compiled(tucker.from_torch(nope, x), x), hf_llama4.run(nope, x, True)) <= TOL[torch.float32]


# ---------------------------------------------------------------------------------------------
# The pairing is read from the rotation the module's forward calls


def test_rope_style_of_each_family():
    assert "style = half" in tucker.from_torch(LlamaAttention(32, 4, 2, 8, 1e4), torch.randn(1, 3, 32))
    for m in (cohere(32, 4, 2), llama4(0)):
        assert "style = interleaved" in tucker.from_torch(m, torch.randn(1, 3, 32))


def test_rotation_of_neither_pairing_refused():
    """A rotate_half beside the attention class that pairs dims some other way is refused, naming
    the function."""
    # A class whose forward's module holds this rotate_half, as a model file would.
    scope = {"nn": nn, "rotate_half": lambda x: torch.roll(x, 1, dims=-1)}
    exec("class OddAttention(nn.Module):\n"
         "    def forward(self, hidden_states, position_embeddings, attention_mask):\n"
         "        return rotate_half(hidden_states)\n", scope)
    m = scope["OddAttention"]()
    m.head_dim, m.rope_theta = 8, 1e4
    for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
        setattr(m, name, nn.Linear(32, 32, bias=False))
    with pytest.raises(ValueError, match=r"<lambda> \(the rotary embedding of OddAttention\) "
                                         r"rotates pairs that are neither \(j, j \+ 4\) \(style "
                                         r"half\) nor \(2j, 2j \+ 1\) \(interleaved\)"):
        tucker.from_torch(m, torch.randn(1, 3, 32))


# ---------------------------------------------------------------------------------------------
# DETR-style position inputs


class DetrSelfAttention(nn.Module):
    """HF DetrSelfAttention (transformers 5): position_embeddings are added to the query and key
    inputs (q = (x + pos) Wq, k = (x + pos) Wk, v = x Wv); its config has no rotary."""

    def __init__(self, d=32, heads=4):
        super().__init__()
        self.config = type("DetrConfig", (), {"position_embedding_type": "sine"})()
        self.head_dim = d // heads
        self.scaling = self.head_dim ** -0.5
        self.attention_dropout = 0.0
        self.is_causal = False
        self.k_proj, self.v_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.q_proj, self.o_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, hidden_states, attention_mask=None, position_embeddings=None):
        raise NotImplementedError  # from_torch refuses it before running it


class DetrAttention(nn.Module):
    """HF DetrAttention (transformers 4): the same with the embeddings named object_queries."""

    def __init__(self, d=32, heads=4):
        super().__init__()
        self.num_heads, self.head_dim, self.dropout = heads, d // heads, 0.0
        self.k_proj, self.v_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.q_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, hidden_states, attention_mask=None, object_queries=None,
                key_value_states=None, spatial_position_embeddings=None, output_attentions=False):
        raise NotImplementedError


class SpeechT5Attention(DetrAttention):
    """HF SpeechT5Attention (transformers 4): a relative position bias added to the scores."""

    def forward(self, hidden_states, key_value_states=None, attention_mask=None,
                layer_head_mask=None, position_bias=None, output_attentions=False):
        raise NotImplementedError


@pytest.mark.parametrize("module,message", [
    (DetrSelfAttention(), r"DetrSelfAttention.forward takes position_embeddings, but neither "
                          r"DetrSelfAttention nor its config has a rotary embedding .* so they "
                          r"are not RoPE's \(cos, sin\): DETR and its family add position "
                          r"embeddings to the query and key inputs, an input of the layer beside "
                          r"x, which tucker's ops do not take"),
    (DetrAttention(), r"DetrAttention.forward takes object_queries: DETR's position embeddings "
                      r"\(transformers 4\), which the model adds to the query and key inputs; "
                      r"that is an input of the layer beside x, which tucker's ops do not take"),
    (SpeechT5Attention(), r"SpeechT5Attention.forward takes position_bias: a relative position "
                          r"bias, which the model adds to the attention scores"),
])
def test_position_inputs_refused(module, message):
    with pytest.raises(ValueError, match=message):
        tucker.from_torch(module.eval(), torch.randn(1, 4, 32))


# ---------------------------------------------------------------------------------------------
# The self-check

CHECK_ERROR = (r"from_torch imported {cls} as {op}, but the op does not compute the module's "
               r"forward: on a random float64 x of shape \[{B}, {N}, {d}\] \({mask}\) they "
               r"differ by (\S+) \(max abs difference over max abs output; rounding alone stays "
               r"below 1e-05\), so the MLIR would compute something else. {cls} computes "
               r"something the importer does not see; verify=False returns the MLIR unchecked")


@pytest.mark.parametrize("family", ["cohere", "llama4", "llama"])
def test_self_check_catches_a_wrong_rope_style(family, monkeypatch):
    """With the importer made to emit the other pairing, from_torch raises, naming the class and
    the difference; with verify=False the same MLIR comes back and is indeed that far from the
    module (the check is what stands between it and the user)."""
    x = torch.randn(2, 9, 32)
    if family == "cohere":
        m, run, wrong, cls = cohere(32, 4, 2, seed=1), hf_cohere.run, "half", "CohereAttention"
    elif family == "llama4":
        m, run, wrong, cls = llama4(0, seed=1), hf_llama4.run, "half", "Llama4TextAttention"
    else:
        torch.manual_seed(1)
        m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
        run, wrong, cls = (lambda mod, xx, c: mod(xx, causal=c).detach()), "interleaved", "LlamaAttention"
    theta = "500000" if family == "llama4" else "10000"
    monkeypatch.setattr(tucker.importer, "_rope_style", lambda module, dim: wrong)
    # hf_semantics' Llama takes no attention_mask: compared on the last token of each sequence.
    mask = "causal" + (", last token of each sequence" if family == "llama" else "")
    message = CHECK_ERROR.format(cls=cls, op=rf"tucker.gqa \(rope style {wrong}, theta {theta}\)",
                                 B=2, N=6, d=32, mask=mask)
    with pytest.raises(ValueError, match=message) as caught:
        tucker.from_torch(m, x, causal=True)
    assert float(re.search(message, str(caught.value)).group(1)) > 1e-2
    text = tucker.from_torch(m, x, causal=True, verify=False)
    assert f"style = {wrong}" in text
    assert rel_err(compiled(text, x), run(m, x, True)) > 1e-2


def test_self_check_catches_what_the_importer_cannot_see():
    """Cohere2's full-attention layers skip the rotation in their forward, with no attribute
    saying so: imported with RoPE, which the self-check refuses. Its sliding-window layers rotate
    and import (a window of at least N keys is causal attention)."""
    config = hf_cohere.config(layer_types=["sliding_attention", "full_attention"], sliding_window=16)
    torch.manual_seed(2)
    full = hf_cohere.Cohere2Attention(config, layer_idx=1).eval()
    with pytest.raises(ValueError, match=CHECK_ERROR.format(
            cls="Cohere2Attention", op=r"tucker.gqa \(rope style interleaved, theta 10000\)",
            B=2, N=6, d=32, mask="causal")):
        tucker.from_torch(full, torch.randn(2, 9, 32))
    sliding = hf_cohere.Cohere2Attention(config, layer_idx=0).eval()
    x = torch.randn(2, 9, 32)
    assert rel_err(compiled(tucker.from_torch(sliding, x), x), hf_cohere.run(sliding, x, True)) \
        <= TOL[torch.float32]


def every_kind():
    """(name, module, x) for each kind of module from_torch imports."""
    torch.manual_seed(0)
    qwen2 = LlamaAttention(32, 4, 2, 8, 1e6).eval()
    for lin in (qwen2.q_proj, qwen2.k_proj, qwen2.v_proj):
        lin.bias = nn.Parameter(torch.randn(lin.out_features))
    x = torch.randn(2, 7, 32)
    kinds = [
        ("nn.MultiheadAttention", nn.MultiheadAttention(32, 4, batch_first=True).eval(), x),
        ("nn.MultiheadAttention seq-first", nn.MultiheadAttention(32, 4).eval(), x.transpose(0, 1)),
        ("nn.MultiheadAttention no bias", nn.MultiheadAttention(32, 4, bias=False, batch_first=True).eval(), x),
        ("Llama", LlamaAttention(32, 4, 2, 8, 1e4).eval(), x),
        ("Qwen2 key bias", qwen2, x),
        ("Cohere", cohere(32, 4, 2), x),
        ("Llama 4 RoPE", llama4(0), x),
        ("Llama 4 NoPE", llama4(1), x),
        ("DeepseekV3 interleaved", DeepseekV3Attention(32, 2, 16, 8, 4, 4, 4, 1e4).eval(), x),
        ("DeepseekV3 half", DeepseekV3Attention(32, 2, None, 8, 4, 4, 4, 1e4, rope_interleave=False).eval(), x),
    ]
    for kind in ("gpt2", "gpt-bigcode-mqa", "gpt-bigcode-mha", "bert-self", "vit4", "vit5",
                 "bart-decoder", "smollm3-nope"):
        kinds.append((kind, build_norope(kind, seed=1), x if kind != "vit5" else torch.randn(2, 7, 48)))
    return kinds


KINDS = every_kind()


@pytest.mark.parametrize("name,module,x", KINDS, ids=[k[0] for k in KINDS])
def test_self_check_runs_for_every_kind(name, module, x, monkeypatch):
    """Every kind passes its self-check with no warning (the check ran) and leaves the module as
    it was; with the reference put 1e-4 off, every kind's check raises."""
    state = {k: v.clone() for k, v in module.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # static: Cohere's and Llama 4's configs pin N, with a warning
        tucker.from_torch(module, x, static_shapes=True)
        tucker.from_torch(module, x, causal=True, static_shapes=True)
    assert all(torch.equal(v, module.state_dict()[k]) and v.dtype == module.state_dict()[k].dtype
               for k, v in state.items())
    exact = tucker.importer._reference
    monkeypatch.setattr(tucker.importer, "_reference", lambda layer, xx: exact(layer, xx) * (1 + 1e-4))
    with pytest.raises(ValueError, match=rf"from_torch imported {type(module).__name__} as .* "
                                         r"they differ by (\S+) ") as caught:
        tucker.from_torch(module, x)
    assert float(re.search(r"differ by (\S+) ", str(caught.value)).group(1)) == pytest.approx(1e-4, rel=1e-3)


def test_module_that_cannot_be_run_warns():
    """A forward that needs an input the check cannot make: a warning that the import is
    unchecked, the same MLIR; verify=False skips the check without it."""

    class CachedAttention(BartAttention):
        def forward(self, hidden_states, past_key_values, attention_mask=None):
            raise NotImplementedError

    torch.manual_seed(3)
    m = CachedAttention(32, 4).eval()
    x = torch.randn(1, 5, 32)
    with pytest.warns(UserWarning, match=r"from_torch could not run CachedAttention to check its "
                                         r"import \(its forward also takes past_key_values\); "
                                         r"the MLIR is unchecked \(verify=False skips the check "
                                         r"without this warning\)"):
        text = tucker.from_torch(m, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tucker.from_torch(m, x, verify=False) == text


def test_check_rounds_nothing_of_the_import():
    """dtype= rounds the emitted weights, not the check: a bf16 import of a float32 module passes
    it (the reference runs the same weights unrounded), and the MLIR is that of verify=False."""
    m = cohere(32, 4, 2, seed=4)
    x = torch.randn(1, 6, 32)
    text = tucker.from_torch(m, x, dtype="bf16")
    assert text == tucker.from_torch(m, x, dtype="bf16", verify=False) and "xbf16>" in text
