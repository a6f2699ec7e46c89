"""from_torch(weights="resource"): the weights as MLIR dense_resource blobs.

Checked: the text (the blobs' keys, their 4-byte alignment prefix, the same bytes as the inline
constants), that the tools parse it and the compiled kernel computes what the inline one does
(f32 and bf16: the same outputs to the bit), that texts of two imports concatenated keep their
own weights (the keys hash the bytes; MLIR's parser gives every use of a key its last blob), and
that tucker.ranks / tucker.compress read resource input (f32 and bf16) as they read inline
input: --tucker-ranks itself sees no bf16 blob (no remark), which analysis.py's inlining covers.
"""

import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn

import tucker
from tucker import _tools
from tucker.analysis import _inline_resources
import hf_semantics as sem


@pytest.fixture
def tools():
    try:
        _tools.find_tool("tucker-compile")
        _tools.find_tool("tucker-opt")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))


def init(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return module.eval()


def constants(text):
    """{operand: (hex bytes, type)} of from_torch's weights, inline or in resource blobs."""
    blobs = dict(re.findall(r'^      (\w+): "0x04000000([0-9a-f]*)"', text, re.M))
    out = {}
    for name, kind, payload, ty in re.findall(
            r'%(\w+) = arith.constant (dense|dense_resource)<"?(?:0x)?([\w]*)"?> : (tensor<[^>]*>)', text):
        out[name] = ((blobs[payload] if kind == "dense_resource" else payload).lower(), ty)
    return out


def test_text_of_resource_weights():
    m = init(nn.MultiheadAttention(16, 2, batch_first=True), seed=1)
    with torch.no_grad():
        m.in_proj_bias.zero_()  # q, k, v biases equal: one blob
    x = torch.zeros(1, 3, 16)
    inline = tucker.from_torch(m, x, weights="inline")
    resource = tucker.from_torch(m, x, weights="resource")
    assert 'dense<"0x' not in resource and "dense_resource<wq_" in resource
    assert re.search(r"\{-#\n  dialect_resources: \{\n    builtin: \{\n      wq_[0-9a-f]{16}: \"0x04000000", resource)
    assert constants(resource) == constants(inline)
    assert len(constants(resource)) == 8
    assert len(re.findall(r'^      \w+: "0x', resource, re.M)) == 6  # bq, bk, bv share one
    # Both hex text: the same size but for the keys and the section (~60 characters a blob).
    assert abs(len(resource) - len(inline)) < 60 * 8
    with pytest.raises(ValueError, match=r"weights = 'binary': expected 'resource' or 'inline'"):
        tucker.from_torch(m, x, weights="binary")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_resource_kernel_equals_inline(dtype, tools):
    m = init(sem.LlamaAttention(32, 4, 2, 8, 10000.0), seed=2)
    x = torch.randn(2, 7, 32).to(dtype)
    name = "f32" if dtype == torch.float32 else "bf16"
    outs = [tucker.compile(tucker.from_torch(m, x, dtype=name, causal=True, weights=w))(x)
            for w in ("inline", "resource")]
    assert torch.equal(outs[0], outs[1])


def test_concatenated_imports_keep_their_weights(tools):
    """Two imports of layers with equally named weights in one module: each function computes its
    own layer (the keys differ by their bytes' hash)."""
    a, b = (init(nn.MultiheadAttention(16, 2, batch_first=True), seed=s) for s in (3, 4))
    x = torch.randn(2, 5, 16)
    text = "\n".join(tucker.from_torch(m, x, weights="resource").replace("@forward", f"@{n}")
                     for n, m in (("a", a), ("b", b)))
    for n, m in (("a", a), ("b", b)):
        with torch.no_grad():
            expected = m(x, x, x, need_weights=False)[0]
        y = tucker.compile(text, entry=n)(x)
        assert float((y - expected).abs().max() / expected.abs().max()) <= 1e-5


@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_ranks_and_compress_of_resource_input(dtype, tools, tmp_path):
    m = init(nn.MultiheadAttention(16, 4, batch_first=True), seed=5)
    x = torch.zeros(1, 4, 16)
    inline = tucker.from_torch(m, x, dtype=dtype, weights="inline")
    resource = tucker.from_torch(m, x, dtype=dtype, weights="resource")
    want, got = tucker.ranks(inline), tucker.ranks(resource)
    assert len(want) == len(got) == 1
    assert (got[0]["pre"], got[0]["post"]) == (want[0]["pre"], want[0]["post"])
    for key in ("pre_singular_values", "post_singular_values"):
        for u, v in zip(want[0][key], got[0][key]):
            np.testing.assert_array_equal(u, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = tucker.compress(inline, ranks=[2, 8, 8])
        b = tucker.compress(resource, ranks=[2, 8, 8])
    assert (a.error_pre, a.error_post, a.params_after) == (b.error_pre, b.error_post, b.params_after)
    assert a.mlir == b.mlir
    # What the inlining covers: --tucker-ranks on the blobs themselves reads f32 ones only.
    path = tmp_path / "layer.mlir"
    path.write_text(resource)
    err = _tools.run_tool("tucker-opt", [path, "--tucker-ranks"]).stderr
    assert ("remark: pre-softmax ranks" in err) == (dtype == "f32")


def test_inline_resources_of_printed_text(tools, tmp_path):
    """tucker-opt prints blobs under its own keys and layout; _inline_resources reads that too,
    and leaves other dialects' resources and text without blobs as they are."""
    m = init(nn.MultiheadAttention(16, 2, batch_first=True), seed=6)
    x = torch.zeros(1, 3, 16)
    path = tmp_path / "layer.mlir"
    path.write_text(tucker.from_torch(m, x, weights="resource"))
    printed = _tools.run_tool("tucker-opt", [path]).stdout
    assert "dense_resource<" in printed
    inlined = _inline_resources(printed)
    assert "dense_resource" not in inlined and "{-#" not in inlined
    assert sorted(h for h, _ in constants(tucker.from_torch(m, x)).values()) == \
        sorted(h.lower() for h in re.findall(r'dense<"0x([0-9A-F]+)">', inlined))
    plain = tucker.from_torch(m, x)
    assert _inline_resources(plain) is plain
    other = printed.replace("    builtin: {", '    other: {k: "0x01"},\n    builtin: {')
    kept = _inline_resources(other)
    assert "dense_resource" not in kept and 'other: {k: "0x01"}' in kept and "builtin" not in kept
