"""tucker.flash's log-sum-exp and tucker.flash_backward on the CPU, against torch autograd in
float64.

Each case compiles one function: the flash forward with its `lse` result, then the backward from
that output, lse and a random output gradient dO:

    (q, k, v, dO [, lengths]) -> (o, lse, dq, dk, dv)

and compares o, lse and the three gradients with what torch autograd computes from the same
(rounded) inputs in float64 with explicit masks and a differentiable RoPE of its own. The
gradient of the loss <o, dO> is what training needs. Tolerances, relative to the largest entry of
the expected tensor: f32 1e-5; bf16 2e-2 (the inputs and o, dO are bf16, as in training).
"""

import numpy as np
import pytest

import tucker

torch = pytest.importorskip("torch")

from torch_flash_reference import torch_flash  # noqa: E402

TOLERANCE = {"f32": 1e-5, "bf16": 2e-2}
TORCH_DTYPE = {"f32": torch.float32, "bf16": torch.bfloat16}


def rel_err(out, expected):
    out = np.asarray(out, np.float64)
    expected = np.asarray(expected, np.float64)
    return np.abs(out - expected).max() / max(np.abs(expected).max(), 1e-300)


def _ty(shape, dt):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + dt + ">"


def _rope_attr(rope):
    theta, offset, width, repeat, style = rope
    return (f"#tucker.rope<theta = {float(theta):.17e}, offset = {offset}, width = {width}, "
            f"repeat = {repeat}, style = {style}>")


def kernel_text(B, Hq, Hkv, Nq, Nk, D, Dv, causal, rope, dtype, lengths, shared):
    """The forward + backward function; with `shared`, v is the first Dv columns of k."""
    tq, tk, tv = _ty((B, Hq, Nq, D), dtype), _ty((B, Hkv, Nk, D), dtype), _ty((B, Hkv, Nk, Dv), dtype)
    to, tl = _ty((B, Hq, Nq, Dv), dtype), _ty((B, Hq, Nq), "f32")
    attrs = [a for a in ("causal" if causal else "", f"rope = {_rope_attr(rope)}" if rope else "") if a]
    attrs = "{" + ", ".join(attrs) + "}"
    params = [f"%q: {tq}", f"%k: {tk}"] + ([] if shared else [f"%v: {tv}"]) + [f"%do: {to}"]
    len_use = ""
    if lengths is not None:
        params.append(f"%len: tensor<{B}xi32>")
        len_use = f" lengths(%len : tensor<{B}xi32>)"
    body = ""
    if shared:
        body = (f"  %v = tensor.extract_slice %k[0, 0, 0, 0] [{B}, {Hkv}, {Nk}, {Dv}] [1, 1, 1, 1] "
                f": {tk} to {tv}\n")
    results = f"{to}, {tl}, {tq}, {tk}, {tv}"
    return (f"func.func @flash_grad({', '.join(params)}) -> ({results}) {{\n{body}"
            f"  %o, %lse = tucker.flash %q, %k, %v{len_use} {attrs} : {tq}, {tk}, {tv} -> {to}, {tl}\n"
            f"  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do{len_use} {attrs} : "
            f"{tq}, {tk}, {tv}, {to}, {tl}, {to} -> {tq}, {tk}, {tv}\n"
            f"  return %o, %lse, %dq, %dk, %dv : {results}\n}}\n")


CASES = [
    # B, Hq, Hkv, Nq, Nk, D, Dv, causal, rope, dtype, lengths, shared, tiles
    pytest.param(2, 2, 2, 16, 16, 8, 8, False, None, "f32", None, False, None, id="mha"),
    pytest.param(1, 4, 2, 20, 37, 16, 8, True, None, "f32", None, False, (8, 16),
                 id="gqa-causal-nq-ne-nk-tails"),
    pytest.param(2, 4, 1, 13, 13, 16, 16, False, None, "f32", None, False, (8, 8), id="mqa"),
    pytest.param(1, 6, 1, 24, 24, 24, 16, True, None, "f32", None, True, (16, 8),
                 id="latent-mqa-v-slice-of-k"),
    pytest.param(1, 2, 1, 12, 5, 8, 8, True, None, "f32", None, False, (4, 4),
                 id="causal-fully-masked-rows"),
    pytest.param(3, 4, 2, 6, 19, 8, 12, True, None, "f32", [0, 7, 19], False, (4, 8),
                 id="ragged-lengths-causal"),
    pytest.param(3, 2, 2, 6, 19, 8, 8, False, None, "f32", [3, 0, 19], False, (4, 8),
                 id="ragged-lengths"),
    pytest.param(1, 2, 2, 18, 18, 16, 16, True, (10000.0, 0, 16, 1, "half"), "f32", None, False,
                 (8, 8), id="rope-half"),
    pytest.param(1, 2, 1, 10, 21, 8, 8, True, (500.0, 0, 8, 1, "interleaved"), "f32", None, False,
                 (4, 8), id="rope-interleaved"),
    pytest.param(2, 2, 1, 5, 14, 16, 8, True, (10000.0, 4, 8, 1, "half"), "f32", [9, 14], False,
                 (4, 4), id="rope-partial-lengths"),
    pytest.param(2, 4, 2, 64, 64, 32, 32, True, None, "bf16", None, False, None, id="gqa-causal-bf16"),
]


@pytest.mark.parametrize("B,Hq,Hkv,Nq,Nk,D,Dv,causal,rope,dtype,lengths,shared,tiles", CASES)
def test_backward_matches_torch_autograd(B, Hq, Hkv, Nq, Nk, D, Dv, causal, rope, dtype, lengths,
                                         shared, tiles):
    text = kernel_text(B, Hq, Hkv, Nq, Nk, D, Dv, causal, rope, dtype, lengths, shared)
    options = None if tiles is None else {"query-tile": tiles[0], "key-tile": tiles[1]}
    kernel = tucker.compile(text, pipeline_options=options)

    gen = torch.Generator().manual_seed(11)
    dt = TORCH_DTYPE[dtype]
    q = torch.randn(B, Hq, Nq, D, generator=gen).to(dt)
    k = torch.randn(B, Hkv, Nk, D, generator=gen).to(dt)
    v = torch.randn(B, Hkv, Nk, Dv, generator=gen).to(dt)
    do = torch.randn(B, Hq, Nq, Dv, generator=gen).to(dt)
    args = [q, k] + ([] if shared else [v]) + [do]
    if lengths is not None:
        args.append(torch.tensor(lengths, dtype=torch.int32))
    if dtype == "f32":
        args = [a.numpy() for a in args]
    o, lse, dq, dk, dv = (torch.as_tensor(np.asarray(r)) if isinstance(r, np.ndarray) else r
                          for r in kernel(*args))

    # The reference, from the same rounded inputs, in float64.
    q64, k64 = q.double().requires_grad_(), k.double().requires_grad_()
    v64 = k64[..., :Dv] if shared else v.double().requires_grad_()
    o64, lse64 = torch_flash(q64, k64, v64, D ** -0.5, causal, rope, lengths)
    leaves = (q64, k64) if shared else (q64, k64, v64)
    grads = torch.autograd.grad(o64, leaves, do.double())

    tol = TOLERANCE[dtype]
    assert rel_err(o.double(), o64.detach()) <= tol
    finite = torch.isfinite(lse64)
    assert torch.equal(torch.isfinite(lse), finite), "lse is -inf exactly where a row sees no key"
    assert torch.all(lse[~finite] == float("-inf"))
    if finite.any():
        assert rel_err(lse[finite].double(), lse64.detach()[finite]) <= tol
    assert rel_err(dq.double(), grads[0]) <= tol
    if shared:
        # The shared tensor's gradient: dk with dv added to its first Dv columns.
        dkv = dk.double().clone()
        dkv[..., :Dv] += dv.double()
        assert rel_err(dkv, grads[1]) <= tol
    else:
        assert rel_err(dk.double(), grads[1]) <= tol
        assert rel_err(dv.double(), grads[2]) <= tol
    if lengths is not None:
        # Keys past a sequence's length get exactly zero gradients.
        for b, n in enumerate(lengths):
            n = max(0, min(n, Nk))
            assert not dk[b, :, n:].any() and not dv[b, :, n:].any()


def test_hidden_keys_do_not_reach_the_gradients():
    """NaN and Inf in the cache past a sequence's length change nothing."""
    B, H, Nq, Nk, D = 2, 2, 3, 12, 8
    kernel = tucker.compile(kernel_text(B, H, H, Nq, Nk, D, D, True, None, "f32", [5, 12], False),
                            pipeline_options={"query-tile": 2, "key-tile": 4})
    rng = np.random.default_rng(3)
    q, k, v, do = (rng.standard_normal(s).astype(np.float32)
                   for s in ((B, H, Nq, D), (B, H, Nk, D), (B, H, Nk, D), (B, H, Nq, D)))
    lengths = np.array([5, 12], np.int32)
    clean = kernel(q, k, v, do, lengths)
    k[0, :, 5:] = np.nan
    v[0, :, 5:] = np.inf
    dirty = kernel(q, k, v, do, lengths)
    for a, b in zip(clean, dirty):
        np.testing.assert_array_equal(a[0] if a.ndim else a, b[0] if b.ndim else b)
