"""tucker.flash_attention on Hopper: the compiled forward and the backward kernels under
torch.autograd, against torch autograd of the float32 reference (torch_flash_reference) on the
GPU; bf16, tolerance 2e-2 relative to the largest entry. A configuration without backward
kernels (rope on the fly) raises RuntimeError from backward(). With deterministic=True the
gradients are the same bits on every run.

Runs where torch sees a Hopper GPU. Without tucker-compile (the GPU machine has no MLIR tools)
the kernels come from $TUCKER_CUDA_LIBS, made here with

    python3 python/tests/test_flash_autograd_cuda.py prebuild DIR
"""

import hashlib
import json
import os
import sys

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import tucker  # noqa: E402
from tucker import flash as flash_module  # noqa: E402
from tucker.flash import flash_attention  # noqa: E402
from torch_flash_reference import torch_flash  # noqa: E402

needs_hopper = pytest.mark.skipif(
    not (torch.cuda.is_available() and torch.cuda.get_device_capability(0) == (9, 0)),
    reason="needs a Hopper GPU")

# (dtype, Hq, Hkv, Dqk, Dv, causal, lengths): what the tests call.
CASES = [
    (torch.bfloat16, 4, 4, 128, 128, True, None),
    (torch.bfloat16, 8, 2, 64, 64, False, [150, 0, 77]),
    (torch.bfloat16, 4, 2, 128, 128, True, [200, 31, 64]),
    (torch.bfloat16, 12, 1, 64, 64, True, None),  # latent MQA: heads split over CTAs
]
ROPE = (10000.0, 0, 64, 1, "half")


def config(dtype, hq, hkv, dqk, dv, causal, lengths, rope=None, deterministic=False):
    return (flash_module._DTYPES[str(dtype)], hq, hkv, dqk, dv, causal, None,
            flash_module._rope_attr(rope), lengths is not None, deterministic)


def texts():
    out = []
    for case in CASES:
        for backward in (False, True):
            out.append(flash_module._text(config(*case), backward))
        out.append(flash_module._text(config(*case, deterministic=True), True))
    out.append(flash_module._text(config(*CASES[0], rope=ROPE), False))
    return out


def _key(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _prebuilt(text, target="cpu", **kwargs):
    """tucker.compile where tucker-compile is found, else the library `prebuild` made; a text
    it did not make (a backward without kernels) fails as compilation would."""
    try:
        tucker.find_tool("tucker-compile")
        return tucker.compile(text, target=target, **kwargs)
    except tucker.ToolNotFoundError:
        pass
    base = os.path.join(os.environ.get("TUCKER_CUDA_LIBS", ""), _key(text))
    if not os.path.isfile(base + ".so"):
        if os.path.isfile(base + ".error"):
            with open(base + ".error") as f:
                raise tucker.CompileError(f.read())
        pytest.skip("tucker-compile is not found, nor this kernel in $TUCKER_CUDA_LIBS")
    with open(base + ".json") as f:
        return tucker.Kernel(base + ".so", json.load(f))


@pytest.fixture(autouse=True)
def prebuilt_kernels(monkeypatch):
    monkeypatch.setattr(flash_module, "_compile", _prebuilt)


def rel_err(out, expected):
    out, expected = out.double(), expected.double()
    return float((out - expected).abs().max() / expected.abs().max().clamp_min(1e-300))


@needs_hopper
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}-{c[2]}-d{c[3]}-causal{c[5]}-"
                                                      f"len{c[6] is not None}")
@pytest.mark.parametrize("sizes", [(3, 300, 300), (3, 130, 257)])
def test_gradients_match_torch_autograd(case, sizes):
    check_gradients(case, sizes, deterministic=False)


def check_gradients(case, sizes, deterministic):
    """Runs the forward and backward on random inputs (NaN/Inf in the cache past each length)
    against float32 torch autograd; returns the gradients."""
    dtype, hq, hkv, dqk, dv, causal, lengths = case
    B, Nq, Nk = sizes
    if lengths is not None:
        lengths = [min(x, Nk) for x in lengths]
    gen = torch.Generator(device="cuda").manual_seed(11)
    q = torch.randn(B, hq, Nq, dqk, device="cuda", generator=gen).to(dtype).requires_grad_()
    k = torch.randn(B, hkv, Nk, dqk, device="cuda", generator=gen).to(dtype).requires_grad_()
    v = torch.randn(B, hkv, Nk, dv, device="cuda", generator=gen).to(dtype).requires_grad_()
    if lengths is not None:  # a cache past each length holds garbage
        with torch.no_grad():
            for b, n in enumerate(lengths):
                k[b, :, n:] = float("nan")
                v[b, :, n:] = float("inf")
    weight = torch.randn(B, hq, Nq, dv, device="cuda", generator=gen)
    lens = None if lengths is None else torch.tensor(lengths, dtype=torch.int32, device="cuda")

    out = flash_attention(q, k, v, causal=causal, lengths=lens, deterministic=deterministic)
    (out.float() * weight).sum().backward()

    leaves = [t.detach().float().nan_to_num(0.0, 0.0, 0.0).requires_grad_() for t in (q, k, v)]
    expected, _ = torch_flash(*leaves, dqk ** -0.5, causal, None, lengths)
    (expected * weight).sum().backward()
    assert rel_err(out.detach(), expected.detach()) <= 2e-2
    for name, ours, ref in zip("qkv", (q.grad, k.grad, v.grad), leaves):
        assert ours.dtype == dtype and ours.shape == ref.shape, name
        assert not ours.isnan().any(), name
        assert rel_err(ours, ref.grad) <= 2e-2, name
    return q.grad, k.grad, v.grad


@needs_hopper
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}-{c[2]}-d{c[3]}-causal{c[5]}-"
                                                      f"len{c[6] is not None}")
def test_deterministic_backward_repeats_its_bits(case):
    """deterministic=True: correct, and three runs on the same inputs give the same bits
    (many key tiles add into each dQ row: Nk 1000 is 8 tiles)."""
    runs = [check_gradients(case, (3, 700, 1000), deterministic=True) for _ in range(3)]
    for run in runs[1:]:
        for name, first, again in zip("qkv", runs[0], run):
            assert torch.equal(first, again), name


@needs_hopper
def test_backward_without_kernels_raises():
    q = torch.randn(1, 4, 64, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    k = torch.randn(1, 4, 64, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    out = flash_attention(q, k, k, causal=True, rope=ROPE)
    with pytest.raises(RuntimeError, match="has no Hopper kernel"):
        out.sum().backward()


@needs_hopper
def test_empty_sizes():
    """The compiled forward of dynamic B, Nq and Nk at empty sizes: Nk = 0 gives zeros and an
    LSE of -inf (filled without launching the kernel), Nq = 0 and B = 0 give empty results;
    nothing aborts."""
    kernel = flash_module._kernel(config(*CASES[0]), "cuda", backward=False)
    bf16 = dict(device="cuda", dtype=torch.bfloat16)
    q = torch.randn(2, 4, 5, 128, **bf16)
    none = torch.empty(2, 4, 0, 128, **bf16)
    o, lse = kernel(q, none, none)
    torch.cuda.synchronize()
    assert torch.equal(o, torch.zeros_like(o))
    assert bool((lse == float("-inf")).all())
    kv = torch.randn(2, 4, 7, 128, **bf16)
    o, lse = kernel(q[:, :, :0], kv, kv)
    assert o.shape == (2, 4, 0, 128) and lse.shape == (2, 4, 0)
    o, lse = kernel(q[:0], kv[:0], kv[:0])
    torch.cuda.synchronize()
    assert o.shape == (0, 4, 5, 128) and lse.shape == (0, 4, 5)


def prebuild(directory):
    """Compiles texts() for the GPU machine (no GPU needed here); a text that does not compile
    leaves its diagnostics in <hash>.error."""
    import shutil
    from tucker import _tools
    os.makedirs(directory, exist_ok=True)
    root = os.path.dirname(os.path.dirname(_tools.find_tool("tucker-compile")))
    shutil.copy(os.path.join(root, "lib/Runtime/libTuckerCudaRuntime.so"), directory)
    for text in texts():
        base = os.path.join(directory, _key(text))
        with open(base + ".mlir", "w") as f:
            f.write(text)
        try:
            _tools.run_tool("tucker-compile", [base + ".mlir", "-o", base + ".so", "--target=cuda",
                                               f"--signature={base}.json"])
            print(base + ".so")
        except tucker.CompileError as e:
            with open(base + ".error", "w") as f:
                f.write(str(e))
            print(base + ".error")
    # The backward of the rope configuration: refused by the compiler, as a user would see.
    text = flash_module._text(config(*CASES[0], rope=ROPE), True)
    base = os.path.join(directory, _key(text))
    with open(base + ".mlir", "w") as f:
        f.write(text)
    try:
        _tools.run_tool("tucker-compile", [base + ".mlir", "-o", base + ".so", "--target=cuda"])
    except tucker.CompileError as e:
        with open(base + ".error", "w") as f:
            f.write(str(e))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "prebuild":
        sys.exit("usage: test_flash_autograd_cuda.py prebuild DIR")
    prebuild(sys.argv[2])
