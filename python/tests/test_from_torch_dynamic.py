"""from_torch's dynamic batch and sequence dims: one compiled kernel for every B and N.

Each kernel is compiled once and called on several (B, N) pairs, against the module itself
(independent reference): f32 within 1e-5 for nn.MultiheadAttention and the attention without
RoPE, 1e-4 for the HF-style RoPE classes (as test_from_torch.py); bf16 within 2e-2 of the module
in float32 with the same bf16 weights. Also: N pinned (with a warning) where the module computes
something else on longer sequences, static_shapes=True, tucker.compress of a module (dynamic as
from_torch's), and the GPU pipeline taking the dynamic bf16 layers (tucker-opt, no GPU needed).
"""

import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn

import tucker
from tucker import _tools
import hf_semantics as sem
from test_from_torch_norope import BartAttention

F32_TOL = 1e-5
HF_F32_TOL = 1e-4
BF16_TOL = 2e-2
SHAPES = [(1, 1), (2, 5), (3, 17), (1, 40), (4, 3)]


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


def init(module, seed, std=0.2):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return module.eval()


def mha_forward(m, x, causal):
    n = x.shape[1] if m.batch_first else x.shape[0]
    mask = torch.ones(n, n, dtype=torch.bool).triu(1 if causal else n)
    with torch.no_grad():
        return m(x, x, x, attn_mask=mask, need_weights=False)[0]


def signature(kernel):
    return str(kernel.signature.args[0]), str(kernel.signature.results[0])


@pytest.mark.parametrize("batch_first,bias,causal", [(True, True, True), (False, True, False),
                                                     (True, False, False), (False, False, True)])
def test_multihead_attention_any_shape(batch_first, bias, causal, compiler):
    m = init(nn.MultiheadAttention(32, 4, bias=bias, batch_first=batch_first), seed=1)
    x = torch.zeros(2, 5, 32)
    text = tucker.from_torch(m, x, causal=causal)
    assert "func.func @forward(%x: tensor<?x?x32xf32>) -> tensor<?x?x32xf32>" in text
    kernel = tucker.compile(text)
    assert signature(kernel) == ("f32(?, ?, 32)", "f32(?, ?, 32)")
    for B, N in SHAPES:
        torch.manual_seed(B * 100 + N)
        xs = torch.randn(B, N, 32) if batch_first else torch.randn(N, B, 32)
        y = kernel(xs)
        assert tuple(y.shape) == tuple(xs.shape)
        assert rel_err(y, mha_forward(m, xs, causal)) <= F32_TOL, (B, N)


def test_llama_gqa_rope_any_shape(compiler):
    """RoPE positions 0..N-1 of every N, causal alignment, GQA heads: one kernel."""
    m = init(sem.LlamaAttention(32, 4, 2, 8, 10000.0), seed=2)
    text = tucker.from_torch(m, torch.zeros(1, 4, 32), causal=True)
    assert "tucker.gqa" in text
    kernel = tucker.compile(text)
    for B, N in SHAPES:
        x = torch.randn(B, N, 32)
        with torch.no_grad():
            expected = m(x, causal=True)
        assert rel_err(kernel(x), expected) <= HF_F32_TOL, (B, N)


def test_mla_any_shape(compiler):
    m = init(sem.DeepseekV3Attention(32, 2, 16, 8, 4, 4, 4, 1e4), seed=3)
    kernel = tucker.compile(tucker.from_torch(m, torch.zeros(1, 3, 32), causal=True))
    assert signature(kernel)[0] == "f32(?, ?, 32)"
    for B, N in SHAPES:
        x = torch.randn(B, N, 32)
        with torch.no_grad():
            expected = m(x, causal=True)
        assert rel_err(kernel(x), expected) <= HF_F32_TOL, (B, N)


def test_no_rope_biases_any_shape(compiler):
    m = init(BartAttention(32, 4, is_causal=True), seed=4)
    kernel = tucker.compile(tucker.from_torch(m, torch.zeros(2, 6, 32)))
    for B, N in SHAPES:
        x = torch.randn(B, N, 32)
        with torch.no_grad():
            expected = m(x, causal=True)
        assert rel_err(kernel(x), expected) <= F32_TOL, (B, N)


def test_bf16_any_shape(compiler):
    m = init(nn.MultiheadAttention(32, 2, batch_first=True), seed=5).to(torch.bfloat16)
    kernel = tucker.compile(tucker.from_torch(m, torch.zeros(1, 4, 32, dtype=torch.bfloat16),
                                              causal=True))
    assert signature(kernel)[0] == "bf16(?, ?, 32)"
    reference = init(nn.MultiheadAttention(32, 2, batch_first=True), seed=5)
    reference.load_state_dict({k: v.float() for k, v in m.state_dict().items()})
    for B, N in SHAPES:
        x = torch.randn(B, N, 32).to(torch.bfloat16)
        assert rel_err(kernel(x), mha_forward(reference, x.float(), True)) <= BF16_TOL, (B, N)


def test_static_shapes():
    m = init(nn.MultiheadAttention(16, 2), seed=6)  # batch_first=False: x is [N, B, d]
    text = tucker.from_torch(m, torch.zeros(7, 3, 16), static_shapes=True)
    assert "func.func @forward(%x: tensor<7x3x16xf32>) -> tensor<7x3x16xf32>" in text
    assert "tensor.dim" not in text and "tensor<?" not in text


def test_sequence_first_dynamic_transposes():
    """[N, B, d] in and out: the transposes read their dynamic sizes from their input."""
    m = init(nn.MultiheadAttention(16, 2), seed=7)
    text = tucker.from_torch(m, torch.zeros(7, 3, 16))
    assert text.count("linalg.transpose") == 2 and text.count("tensor.dim") == 4
    assert "tensor.empty(%xb_d0, %xb_d1) : tensor<?x?x16xf32>" in text


def sliding_llama(window):
    m = init(sem.LlamaAttention(32, 4, 2, 8, 10000.0), seed=8)
    m.sliding_window = window
    return m


def test_window_pins_the_sequence(compiler):
    """A window of at least N keys is causal attention on N tokens but not on longer sequences:
    N stays the example's (a warning says why), the batch is dynamic; other N are refused by
    the kernel's shape check. static_shapes=True: both static, no warning."""
    m = sliding_llama(8)
    x = torch.randn(2, 6, 32)
    with pytest.warns(UserWarning, match=r"from_torch: LlamaAttention has sliding_window = 8, which "
                                         r"sequences longer than 8 tokens would reach, so the "
                                         r"function takes sequences of N = 6 tokens only"):
        text = tucker.from_torch(m, x, causal=True)
    kernel = tucker.compile(text)
    assert signature(kernel) == ("f32(?, 6, 32)", "f32(?, 6, 32)")
    for B in (1, 3):
        xb = torch.randn(B, 6, 32)
        with torch.no_grad():
            assert rel_err(kernel(xb), m(xb, causal=True)) <= HF_F32_TOL
    with pytest.raises(ValueError, match=r"has shape \(1, 9, 32\), expected \(\?, 6, 32\)"):
        kernel(torch.randn(1, 9, 32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "tensor<2x6x32xf32>" in tucker.from_torch(m, x, causal=True, static_shapes=True)


def test_temperature_tuning_and_chunks_pin_the_sequence():
    m = init(sem.LlamaAttention(32, 4, 2, 8, 10000.0), seed=9)
    m.config = type("Config", (), {"attention_chunk_size": 16, "layer_types": None})()
    with pytest.warns(UserWarning, match=r"has attention_chunk_size = 16 \(chunked attention\)"):
        text = tucker.from_torch(m, torch.zeros(1, 5, 32))
    assert "tensor<?x5x32xf32>" in text


def test_compress_module_is_dynamic(compiler):
    """tucker.compress(module): the compressed layer takes any [B, N, d] (at full ranks it is the
    module's forward); static_shapes=True takes example_x's shape and needs one."""
    m = init(nn.MultiheadAttention(16, 4, batch_first=True), seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # full ranks do not reduce the count
        res = tucker.compress(m, ranks=[4, 16, 16])
        static = tucker.compress(m, ranks=[4, 16, 16], example_x=torch.zeros(2, 3, 16),
                                 static_shapes=True)
    assert re.search(r"@forward\(%\w+: tensor<\?x\?x16xf32>\) -> tensor<\?x\?x16xf32>", res.mlir)
    assert re.search(r"@forward\(%\w+: tensor<2x3x16xf32>\)", static.mlir)
    kernel = tucker.compile(res.mlir)
    for B, N in SHAPES:
        x = torch.randn(B, N, 16)
        assert rel_err(kernel(x), mha_forward(m, x, False)) <= F32_TOL, (B, N)
    with pytest.raises(ValueError, match="static_shapes=True gives the function example_x's shape"):
        tucker.compress(m, ranks=[2, 4, 4], static_shapes=True)


GPU_LAYERS = {
    "mha batch_first": lambda: init(nn.MultiheadAttention(128, 2, batch_first=True), seed=11),
    "mha seq-first": lambda: init(nn.MultiheadAttention(128, 2), seed=12),
    "llama gqa": lambda: init(sem.LlamaAttention(256, 4, 2, 64, 10000.0), seed=13),
    "deepseek mla": lambda: init(sem.DeepseekV3Attention(256, 4, 64, 64, 64, 32, 64, 1e4), seed=14),
}


@pytest.mark.parametrize("name", list(GPU_LAYERS))
def test_gpu_pipeline_takes_dynamic_layers(name, tmp_path):
    """--tucker-gpu-pipeline (what compile(target="cuda") runs) lowers the bf16 layers with
    dynamic B and N to the host and device code; running them needs the GPU (docs/python.md)."""
    try:
        _tools.find_tool("tucker-opt")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))
    m = GPU_LAYERS[name]()
    d = 128 if name.startswith("mha") else 256
    text = tucker.from_torch(m, torch.zeros(2, 64, d), dtype="bf16", causal=True)
    assert f"tensor<?x?x{d}xbf16>" in text
    path = tmp_path / "layer.mlir"
    path.write_text(text)
    out = _tools.run_tool("tucker-opt", [str(path), "--tucker-gpu-pipeline"]).stdout
    assert "gpu.launch_func" in out or "gpu.module" in out
