"""RoPE scalings (rope_type) through from_torch: exact where #tucker.rope expresses them, else a
ValueError naming the rope_type and why.

#tucker.rope turns pair j of a head by position * theta^(-2j/width): one theta, pair 0 at
frequency 1. So:
- linear (every frequency / factor) and llama3 (Llama 3.1's per-frequency rescaling) are
  refused, except with settings that change no frequency (factor 1; llama3 whose wavelengths
  all stay below original_max_position_embeddings / high_freq_factor), which import as default
  RoPE;
- dynamic NTK is one theta for one sequence length N (the base grows past
  max_position_embeddings M): imported with N pinned to example_x's (a warning; static_shapes
  silences it), theta * (factor * N / M - (factor - 1))^(D / (D - 2)) past M;
- yarn, longrope (per-frequency blends or factors, cos and sin scaled) and unknown types are
  refused.

Without transformers: hf_semantics' LlamaAttention with a config carrying the scaling (its own
rotary stays default, so a refusal is the only right answer for a scaling that changes
frequencies). With transformers (skipped where it is not importable): the real LlamaAttention
and LlamaRotaryEmbedding of such configs; accepted imports compiled and compared with the module
fed the model rotary's cos and sin for its positions (f32, rel. error <= 1e-4, as the other HF
classes).
"""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tucker
from tucker import _tools, importer
import hf_semantics as sem

F32_TOL = 1e-4
LLAMA31 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
           "original_max_position_embeddings": 8192}


@pytest.fixture
def compiler():
    try:
        _tools.find_tool("tucker-compile")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))


def rel_err(out, expected):
    out = np.asarray(torch.as_tensor(out).double())
    expected = np.asarray(torch.as_tensor(expected).double())
    return np.abs(out - expected).max() / np.abs(expected).max()


def semantics_llama(scaling, theta=500000.0, dh=16, source="rope_scaling", M=64):
    torch.manual_seed(0)
    m = sem.LlamaAttention(64, 4, 2, dh, theta).eval()
    m.config = SimpleNamespace(num_attention_heads=4, num_key_value_heads=2,
                               max_position_embeddings=M, rope_theta=theta)
    setattr(m.config, source, scaling)
    return m


@pytest.mark.parametrize("scaling,why", [
    ({"rope_type": "linear", "factor": 4.0},
     r"it divides every frequency by factor \(positions / factor\); here 8 of the 8 frequencies "
     r"\(j = 0..7\) are divided by 4"),
    (dict(LLAMA31), r"it rescales the frequencies one by one \(Llama 3.1: .*\); here 4 of the 8 "
                    r"frequencies \(j = 4..7\) are divided by 2.695 to 8"),
    ({"rope_type": "yarn", "factor": 4.0}, r"it blends interpolated and extrapolated frequencies"),
    ({"rope_type": "longrope", "short_factor": [1.0] * 8, "long_factor": [4.0] * 8},
     r"it divides each frequency by its own factor"),
    ({"rope_type": "mystery"}, r"from_torch knows the rope types default, linear, llama3 and dynamic"),
])
@pytest.mark.parametrize("source", ["rope_scaling", "rope_parameters"])
def test_inexpressible_scalings_refused(scaling, why, source):
    m = semantics_llama(scaling, source=source)
    kind = scaling["rope_type"]
    pattern = (rf"^{source} = .*: rope_type '{kind}' is not supported: {why}.*#tucker.rope turns "
               r"pair j of a head by position \* theta\^\(-2j/width\), one theta for all pairs")
    for kwargs in ({}, {"verify": False}, {"static_shapes": True}):  # never bypassed
        with pytest.raises(ValueError, match=pattern):
            tucker.from_torch(m, torch.randn(1, 6, 64), **kwargs)


@pytest.mark.parametrize("scaling", [
    {"rope_type": "linear", "factor": 1.0},
    dict(LLAMA31, original_max_position_embeddings=10 ** 12),  # every wavelength "high frequency"
    dict(LLAMA31, factor=1.0),
    {"rope_type": "default"},
])
def test_scalings_that_change_nothing_import_as_default(scaling, compiler):
    m = semantics_llama(scaling)
    x = torch.randn(2, 9, 64)
    text = tucker.from_torch(m, x, causal=True)
    assert "theta = 5.00000000000000000e+05" in text
    with torch.no_grad():
        assert rel_err(tucker.compile(text)(x), m(x, causal=True)) <= F32_TOL


def test_llama3_frequencies_of_llama31():
    """Llama 3.1 8B's head (128 dims, theta 500000): of its 64 frequencies the first 29 are kept
    (wavelengths below 8192 / 4), the last 29 divided by 8 (above 8192), the 6 between
    interpolated."""
    freqs = importer._default_frequencies(500000.0, 128)
    scaled = importer._llama3_frequencies(freqs, LLAMA31)
    wavelength = 2 * math.pi / freqs
    kept, divided = wavelength < 8192 / 4, wavelength > 8192
    assert (kept.sum(), divided.sum()) == (29, 29)
    np.testing.assert_array_equal(scaled[kept], freqs[kept])
    np.testing.assert_allclose(scaled[divided], freqs[divided] / 8, rtol=1e-15)
    middle = ~kept & ~divided
    assert np.all((scaled[middle] < freqs[middle]) & (scaled[middle] > freqs[middle] / 8))


def test_dynamic_ntk_pins_n_and_scales_theta():
    """N <= M: the default base; N > M: the grown one; dynamic dims would follow neither."""
    m = semantics_llama({"rope_type": "dynamic", "factor": 2.0}, theta=10000.0, M=16)
    with pytest.warns(UserWarning, match=r"uses rope_type 'dynamic' \(dynamic NTK RoPE, factor 2\), "
                                         r"whose base grows with the sequence length past "
                                         r"max_position_embeddings = 16, so the function takes "
                                         r"sequences of N = 8 tokens only"):
        short = tucker.from_torch(m, torch.zeros(1, 8, 64), verify=False)
    assert "tensor<?x8x64xf32>" in short and "theta = 1.00000000000000000e+04" in short
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        long = tucker.from_torch(m, torch.zeros(1, 32, 64), verify=False, static_shapes=True)
    theta = 10000.0 * (2.0 * 32 / 16 - 1.0) ** (16 / 14)
    assert f"theta = {importer._fmt(theta)}" in long and "tensor<1x32x64xf32>" in long


def test_attention_scaling_refused():
    m = semantics_llama(None)
    m.rotary_emb.attention_scaling = 1.2
    with pytest.raises(ValueError, match=r"rotary_emb.attention_scaling = 1.2 is not supported"):
        tucker.from_torch(m, torch.randn(1, 4, 64))


def test_mla_scaling_refused():
    m = sem.DeepseekV3Attention(32, 2, 16, 8, 4, 4, 4, 1e4).eval()
    m.config = SimpleNamespace(rope_scaling={"rope_type": "yarn", "factor": 40.0})
    with pytest.raises(ValueError, match=r"rope_type 'yarn' is not supported"):
        tucker.from_torch(m, torch.randn(1, 4, 32))


# ---------------------------------------------------------------------------------------------
# The real transformers classes


@pytest.fixture
def transformers():
    return pytest.importorskip("transformers")


def real_llama(transformers, scaling, M=64, theta=500000.0, dh=16):
    from transformers.models.llama import modeling_llama
    if int(transformers.__version__.split(".")[0]) >= 5:  # the base inside rope_parameters
        rope = {"rope_parameters": {"rope_type": "default", **(scaling or {}), "rope_theta": theta}}
    else:
        rope = {"rope_theta": theta, "rope_scaling": scaling}
    config = transformers.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
        head_dim=dh, max_position_embeddings=M, vocab_size=64, num_hidden_layers=1, **rope)
    config._attn_implementation = "eager"
    torch.manual_seed(1)
    attention = modeling_llama.LlamaAttention(config, layer_idx=0).eval()
    return attention, modeling_llama.LlamaRotaryEmbedding(config=config)


def run_real(attention, rotary, x, causal=True):
    """The module as the model calls it on a fresh sequence: its rotary's cos and sin of
    positions 0..N-1 (a dynamic one sets its base by N), HF's additive causal mask."""
    B, N = x.shape[:2]
    positions = rotary(x, torch.arange(N)[None].expand(B, N))
    mask = sem.causal_mask(N, x.dtype).expand(B, 1, N, N) if causal else None
    with torch.no_grad():
        out = attention(hidden_states=x, position_embeddings=positions, attention_mask=mask)
    return out[0] if isinstance(out, tuple) else out


def test_real_llama31_refused_and_its_frequencies(transformers):
    """The real Llama 3.1 rotary computes the frequencies the refusal describes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # transformers' check of original_max vs max positions
        attention, rotary = real_llama(transformers, dict(LLAMA31))
    expected = importer._llama3_frequencies(importer._default_frequencies(500000.0, 16), LLAMA31)
    np.testing.assert_allclose(rotary.inv_freq.double().numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"rope_type 'llama3' is not supported: .*4 of the 8 "
                                         r"frequencies \(j = 4..7\)"):
        tucker.from_torch(attention, torch.randn(1, 6, 64))


@pytest.mark.parametrize("scaling", [{"rope_type": "linear", "factor": 2.0},
                                     {"rope_type": "yarn", "factor": 4.0},
                                     {"rope_type": "longrope", "short_factor": [1.0] * 8,
                                      "long_factor": [2.0] * 8, "factor": 2.0}])
def test_real_scalings_refused(transformers, scaling):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attention, rotary = real_llama(transformers, scaling)
    assert not np.allclose(rotary.inv_freq.double().numpy(),
                           importer._default_frequencies(500000.0, 16), rtol=1e-6) or \
        getattr(rotary, "attention_scaling", 1.0) != 1.0  # the scaling does change the rotation
    with pytest.raises(ValueError, match=rf"rope_type '{scaling['rope_type']}' is not supported"):
        tucker.from_torch(attention, torch.randn(1, 6, 64))


def test_real_linear_factor_one(transformers, compiler):
    attention, rotary = real_llama(transformers, {"rope_type": "linear", "factor": 1.0})
    x = torch.randn(2, 7, 64)
    kernel = tucker.compile(tucker.from_torch(attention, x))
    assert rel_err(kernel(x), run_real(attention, rotary, x)) <= F32_TOL


@pytest.mark.parametrize("N", [8, 16, 40])
def test_real_dynamic_ntk(transformers, compiler, N):
    """M = 16: N = 8 and 16 run default RoPE, N = 40 the grown base; from_torch's self-check runs
    the module's own rotary at N (the first tokens' cos and sin of a 40-token sequence)."""
    attention, rotary = real_llama(transformers, {"rope_type": "dynamic", "factor": 2.0}, M=16,
                                   theta=10000.0)
    x = torch.randn(2, N, 64)
    text = tucker.from_torch(attention, x, static_shapes=True)
    theta = 10000.0 * (2.0 * N / 16 - 1.0) ** (16 / 14) if N > 16 else 10000.0
    assert f"theta = {importer._fmt(theta)}" in text
    kernel = tucker.compile(text)
    assert rel_err(kernel(x), run_real(attention, rotary, x)) <= F32_TOL
    if N > 16:  # the default base is far off there: the scaling matters
        default = tucker.compile(text.replace(f"theta = {importer._fmt(theta)}",
                                              f"theta = {importer._fmt(10000.0)}"))
        assert rel_err(default(x), run_real(attention, rotary, x)) > 100 * F32_TOL


def test_real_dynamic_ntk_self_check(transformers, monkeypatch):
    """Without a tool: from_torch's self-check runs the real module with its rotary at N = 40
    and passes with the grown base, and catches a base left at the default."""
    attention, _ = real_llama(transformers, {"rope_type": "dynamic", "factor": 2.0}, M=16,
                              theta=10000.0)
    x = torch.randn(1, 40, 64)
    tucker.from_torch(attention, x, static_shapes=True)
    real_rope = importer._rope
    monkeypatch.setattr(importer, "_rope", lambda *a: real_rope(*a)._replace(theta=10000.0))
    with pytest.raises(ValueError, match=r"from_torch imported LlamaAttention as tucker.gqa .* "
                                         r"does not compute the module's forward"):
        tucker.from_torch(attention, x, static_shapes=True)
