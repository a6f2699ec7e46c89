"""tucker.flash_attention on the CPU: the compiled forward (with its log-sum-exp) and backward
under torch.autograd, against torch autograd of the float64 reference (torch_flash_reference).
Tolerances relative to the largest entry of the expected tensor: f32 1e-5, bf16 2e-2."""

import pytest

torch = pytest.importorskip("torch")

from tucker.flash import flash_attention  # noqa: E402
from torch_flash_reference import torch_flash  # noqa: E402

TOLERANCE = {torch.float32: 1e-5, torch.bfloat16: 2e-2}


def rel_err(out, expected):
    out, expected = out.double(), expected.double()
    return float((out - expected).abs().max() / expected.abs().max().clamp_min(1e-300))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("causal,rope,lengths", [
    (False, None, None),
    (True, (10000.0, 0, 8, 1, "half"), None),
    (True, None, [3, 11]),
])
def test_gradients_match_torch_autograd(dtype, causal, rope, lengths):
    gen = torch.Generator().manual_seed(5)
    B, Hq, Hkv, Nq, Nk, D, Dv = 2, 4, 2, 9, 11, 16, 8
    q = torch.randn(B, Hq, Nq, D, generator=gen).to(dtype).requires_grad_()
    k = torch.randn(B, Hkv, Nk, D, generator=gen).to(dtype).requires_grad_()
    v = torch.randn(B, Hkv, Nk, Dv, generator=gen).to(dtype).requires_grad_()
    weight = torch.randn(B, Hq, Nq, Dv, generator=gen)
    lens = None if lengths is None else torch.tensor(lengths, dtype=torch.int32)

    out = flash_attention(q, k, v, causal=causal, rope=rope, lengths=lens)
    assert out.dtype == dtype and out.shape == (B, Hq, Nq, Dv)
    (out.float() * weight).sum().backward()

    leaves = [t.detach().double().requires_grad_() for t in (q, k, v)]
    expected, _ = torch_flash(*leaves, D ** -0.5, causal, rope, lengths)
    (expected * weight.double()).sum().backward()
    tol = TOLERANCE[dtype]
    assert rel_err(out.detach(), expected.detach()) <= tol
    for ours, ref in zip((q.grad, k.grad, v.grad), leaves):
        assert ours.dtype == dtype
        assert rel_err(ours, ref.grad) <= tol


def test_one_kernel_serves_any_batch_and_length():
    """B, Nq and Nk are dynamic: calls of other sizes reuse the compiled kernels."""
    from tucker import flash as module

    before = len(module._kernels)
    for B, N in ((1, 5), (3, 17)):
        q = torch.randn(B, 2, N, 8, requires_grad=True)
        kv = torch.randn(B, 1, N, 8, requires_grad=True)
        flash_attention(q, kv, kv, causal=True, scale=0.3).sum().backward()
        leaf = kv.detach().double().requires_grad_()
        lq = q.detach().double().requires_grad_()
        ref, _ = torch_flash(lq, leaf, leaf, 0.3, True, None, None)
        ref.sum().backward()
        assert rel_err(q.grad, lq.grad) <= 1e-5
        # kv is both k and v: autograd adds the two gradients.
        assert rel_err(kv.grad, leaf.grad) <= 1e-5
    assert len(module._kernels) - before <= 2  # one forward, one backward


def test_deterministic_backward_on_the_cpu():
    """deterministic=True compiles the op with `deterministic` (the CPU sums in one order
    anyway): the same gradients, bit for bit, as without it and from run to run, and one forward
    kernel for both."""
    from tucker import flash as module

    gen = torch.Generator().manual_seed(9)
    q = torch.randn(2, 4, 7, 8, generator=gen)
    k = torch.randn(2, 2, 10, 8, generator=gen)
    v = torch.randn(2, 2, 10, 8, generator=gen)
    grads = []
    for deterministic in (False, True, True):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        flash_attention(*leaves, causal=True, deterministic=deterministic).sum().backward()
        grads.append([t.grad for t in leaves])
    for run in grads[1:]:
        assert all(torch.equal(a, b) for a, b in zip(grads[0], run))
    texts = [module._text(key[0], key[2]) for key in module._kernels
             if key[0][1:5] == (4, 2, 8, 8) and key[0][5]]
    assert any("deterministic" in t and "flash_backward" in t for t in texts)
    assert sum("tucker.flash %q" in t for t in texts) == 1


def test_bad_inputs_are_refused():
    q = torch.randn(1, 3, 4, 8)
    kv = torch.randn(1, 2, 4, 8)
    with pytest.raises(ValueError, match="multiple of the key/value heads"):
        flash_attention(q, kv, kv)
    with pytest.raises(TypeError, match="share one dtype"):
        flash_attention(q, kv.double(), kv)
    with pytest.raises(ValueError, match="4-D torch tensor"):
        flash_attention(q[0], kv, kv)
    with pytest.raises(TypeError, match="int32"):
        flash_attention(torch.randn(1, 2, 4, 8), kv, kv, lengths=torch.tensor([3]))
