"""Decode on the CPU: tucker.flash with a `lengths` operand (few queries per sequence over a KV
cache filled to a different length per sequence), compiled with tucker.compile and compared with
two independent oracles: the float64 NumPy reference (python/tucker/reference.py) and an explicit
PyTorch float64 computation below (masks built from the semantics, torch.softmax, and rope
written out again).

Semantics (docs/spec.md, tucker.flash): L_b = clamp(lengths[b], 0, Nk); query m of sequence b
sees key n iff n < L_b, and with causal also n <= m + L_b - Nq; rope puts query m at position
m + L_b - Nq and key n at n. Rows that see no key are exactly 0.

Each class (heads, widths, causal, rope, shared latent, dtype) is compiled once with dynamic B,
Nq, Nk and lengths, then called with CASES_PER_CLASS seeded random configurations: B 1..6,
Nq 1..8, Nk from KEY_COUNTS, lengths drawn from {0, 1, Nk, primes below Nk, anything}; in half of
the cases the cache past each length holds NaN and Inf, which must not reach the output.

Tolerances (max |out - oracle| / max |oracle|), per element type, those of test_sweeps.py: f32
1e-5, f16 5e-3, bf16 2e-2 (inputs are rounded to the element type before the oracles see them).
The two oracles agree to 1e-12.
"""

import functools
import zlib

import numpy as np
import pytest

import tucker
from tucker import reference as ref
from test_sweeps import TOLERANCE, FlashClass, from_kernel, rel_err, to_kernel

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

SEED = 20260405
KEY_COUNTS = [1, 2, 7, 13, 31, 64, 97, 130]
PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
          89, 97, 101, 103, 107, 109, 113, 127]
CASES_PER_CLASS = 8


def rng_for(name):
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


# ---- the independent PyTorch oracle -----------------------------------------------------------

def torch_rope(x, rope, positions):
    """x [B, H, N, D] rotated at positions [B, N] (float64 torch)."""
    theta, offset, width, repeat, style = rope
    half = width // 2
    freq = theta ** (-2.0 * torch.arange(half, dtype=torch.float64) / width)
    angle = positions.to(torch.float64)[:, None, :, None] * freq  # [B, 1, N, half]
    cos, sin = torch.cos(angle), torch.sin(angle)
    out = x.clone()
    for block in range(repeat):
        start = offset + block * width
        if style == "half":
            a_idx = torch.arange(start, start + half)
            b_idx = a_idx + half
        else:
            a_idx = torch.arange(start, start + width, 2)
            b_idx = a_idx + 1
        a, b = x[..., a_idx], x[..., b_idx]
        out[..., a_idx] = a * cos - b * sin
        out[..., b_idx] = b * cos + a * sin
    return out


def torch_decode(q, k, v, lengths, causal, rope):
    """Masked softmax attention in float64 with explicit [B, Nq, Nk] masks."""
    q, k, v = (torch.from_numpy(np.asarray(a, np.float64)) for a in (q, k, v))
    B, Hq, Nq, D = q.shape
    Hkv, Nk = k.shape[1], k.shape[2]
    length = torch.from_numpy(np.asarray(lengths, np.int64)).clamp(0, Nk)
    query_pos = torch.arange(Nq)[None, :] + length[:, None] - Nq  # [B, Nq]
    key = torch.arange(Nk)
    mask = (key[None, None, :] < length[:, None, None]).expand(B, Nq, Nk)
    if causal:
        mask = mask & (key[None, None, :] <= query_pos[:, :, None])
    if rope is not None:
        q = torch_rope(q, rope, query_pos)
        k = torch_rope(k, rope, key[None, :].expand(B, Nk))
    k = k.repeat_interleave(Hq // Hkv, dim=1)
    v = v.repeat_interleave(Hq // Hkv, dim=1)
    scores = (q @ k.transpose(-1, -2)) / D ** 0.5
    scores = scores.masked_fill(~mask[:, None], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    weights = torch.where(mask[:, None].any(-1, keepdim=True), weights, torch.zeros(()))
    # Keys a row does not see contribute nothing, whatever their values (NaN, Inf).
    seen_v = torch.where(mask[:, None, :, :, None], v[:, :, None], torch.zeros(()))
    return torch.einsum("bhmn,bhmnd->bhmd", weights, seen_v).numpy()


# ---- kernel classes ---------------------------------------------------------------------------

class DecodeClass(FlashClass):
    """A FlashClass kernel with a `lengths` argument (tensor<?xi32>) after q, k, v. With
    `shared`, v is not an argument but columns [0, dv) of k (one latent cache), sliced inside
    the kernel."""

    def __init__(self, name, hq, hkv, d, dv, shared=False, tiles=(4, 16), **kwargs):
        super().__init__(name, hq, hkv, d, dv, tiles=tiles, **kwargs)
        self.shared = shared

    def text(self):
        tk, tv = (f"tensor<?x{self.hkv}x?x{w}x{self.dtype}>" for w in (self.d, self.dv))
        lengths = "%len: tensor<?xi32>"
        text = FlashClass.text(self).replace(f"%v: {tv})", f"%v: {tv}, {lengths})").replace(
            "tucker.flash %q, %k, %v", "tucker.flash %q, %k, %v lengths(%len : tensor<?xi32>)")
        if self.shared:
            text = text.replace(f"%v: {tv}, ", "").replace(
                "{\n", "{\n  %c0 = arith.constant 0 : index\n  %c2 = arith.constant 2 : index\n"
                f"  %b = tensor.dim %k, %c0 : {tk}\n  %n = tensor.dim %k, %c2 : {tk}\n"
                f"  %v = tensor.extract_slice %k[0, 0, 0, 0] [%b, {self.hkv}, %n, {self.dv}] "
                f"[1, 1, 1, 1] : {tk} to {tv}\n", 1)
        return text


@functools.lru_cache(maxsize=None)
def compiled(cls):
    return tucker.compile(cls.text(), pipeline_options={"query-tile": cls.tiles[0], "key-tile": cls.tiles[1]})


CLASSES = [
    DecodeClass("gqa-8-2-causal-f32", 8, 2, 16, 16, causal=True),
    DecodeClass("gqa-6-3-f32", 6, 3, 16, 8, tiles=(3, 8)),
    DecodeClass("mha-rope-half-causal-f32", 4, 4, 16, 16, causal=True, rope=(10000.0, 0, 16, 1, "half")),
    DecodeClass("mqa-rope-interleaved-f32", 4, 1, 24, 8, rope=(500.0, 8, 8, 2, "interleaved"), tiles=(8, 32)),
    DecodeClass("latent-shared-causal-f32", 8, 1, 24, 16, causal=True, shared=True, tiles=(2, 16)),
    DecodeClass("latent-shared-mla-rope-causal-bf16", 16, 1, 40, 32, causal=True, dtype="bf16", shared=True,
                rope=(10000.0, 32, 8, 1, "interleaved"), tiles=(8, 32)),
    DecodeClass("gqa-4-2-causal-bf16", 4, 2, 32, 32, causal=True, dtype="bf16", tiles=(64, 64)),
    DecodeClass("gqa-4-2-rope-f16", 4, 2, 16, 16, dtype="f16", rope=(10000.0, 0, 16, 1, "half")),
]


def draw_lengths(rng, b, nk):
    """B key counts covering 0, 1, Nk and primes below Nk first, then anything in [0, Nk]."""
    special = [0, 1, nk] + [p for p in PRIMES if p < nk][-2:]
    picks = list(rng.permutation(special))[:b]
    while len(picks) < b:
        picks.append(int(rng.integers(0, nk + 1)))
    return np.array(rng.permutation(picks), np.int32)


def decode_cases(cls, count=CASES_PER_CLASS):
    """(B, Nq, Nk, lengths, poison) tuples."""
    rng = rng_for(cls.name)
    cases = []
    for i in range(count):
        b, nq = int(rng.integers(1, 7)), int(rng.integers(1, 9))
        nk = int(rng.choice(KEY_COUNTS))
        cases.append((b, nq, nk, draw_lengths(rng, b, nk), i % 2 == 1))
    return cases


def decode_inputs(cls, rng, b, nq, nk, lengths, poison):
    """Kernel arguments and the float64 q, k, v the oracles see."""
    q = rng.standard_normal((b, cls.hq, nq, cls.d))
    k = rng.standard_normal((b, cls.hkv, nk, cls.d))
    v = rng.standard_normal((b, cls.hkv, nk, cls.dv))
    if poison:
        past = np.broadcast_to((np.arange(nk)[None, :] >= lengths[:, None])[:, None], (b, cls.hkv, nk))
        k[past] = np.nan
        v[past] = np.where(rng.random(v[past].shape) < 0.5, np.inf, np.nan)
    (qk, qe), (kk, ke), (vk, ve) = (to_kernel(a, cls.dtype) for a in (q, k, v))
    if cls.shared:
        return (qk, kk, lengths), (qe, ke, ke[..., :cls.dv])
    return (qk, kk, vk, lengths), (qe, ke, ve)


def blind_rows(cls, lengths, nq):
    """[B, Nq] mask of the rows that see no key."""
    last_seen = np.arange(nq)[None, :] + lengths[:, None] - nq  # causal: keys n <= this
    return (lengths[:, None] == 0) | (cls.causal & (last_seen < 0))


@needs_torch
@pytest.mark.parametrize("cls", CLASSES, ids=repr)
def test_decode_sweep(cls):
    kernel = compiled(cls)
    rng = rng_for(cls.name + "/values")
    failures = []
    for b, nq, nk, lengths, poison in decode_cases(cls):
        args, (q, k, v) = decode_inputs(cls, rng, b, nq, nk, lengths, poison)
        what = f"{cls.name} B={b} Nq={nq} Nk={nk} lengths={lengths.tolist()} poison={poison}"
        y = from_kernel(kernel(*args), cls.dtype)
        assert y.shape == (b, cls.hq, nq, cls.dv), what
        expected = ref.flash(q, k, v, causal=cls.causal, rope=cls.rope, lengths=lengths)
        independent = torch_decode(q, k, v, lengths, cls.causal, cls.rope)
        assert np.all(np.isfinite(expected)), what
        assert rel_err(independent, expected) <= 1e-12, f"{what}: the two oracles disagree"
        for name, oracle in (("reference", expected), ("torch", independent)):
            err = rel_err(y, oracle)
            if not err <= TOLERANCE[cls.dtype]:
                failures.append(f"{what}: rel. error {err:.3g} against {name} > {TOLERANCE[cls.dtype]:g}")
        blind = blind_rows(cls, lengths, nq)
        if not np.all(y.transpose(0, 2, 1, 3)[blind] == 0):
            failures.append(f"{what}: rows that see no key are not exactly 0")
    assert not failures, "\n".join(failures)


@needs_torch
def test_decode_torch_tensors():
    """torch CPU tensors in (int32 lengths included), torch tensors out, same numbers."""
    cls = CLASSES[0]
    kernel = compiled(cls)
    rng = rng_for("torch-tensors")
    lengths = np.array([5, 0, 31], np.int32)
    args, (q, k, v) = decode_inputs(cls, rng, 3, 2, 31, lengths, poison=False)
    y = kernel(*(torch.from_numpy(a) for a in args))
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    assert rel_err(y.numpy(), ref.flash(q, k, v, causal=True, lengths=lengths)) <= TOLERANCE["f32"]


def test_lengths_signature():
    """The signature marks the lengths argument with the flash's B (q dim 0) and Nk (k dim 2)."""
    kernel = compiled(CLASSES[0])
    specs = kernel.signature.args
    assert [s.dtype for s in specs] == ["f32", "f32", "f32", "i32"]
    assert specs[3].lengths == (((0, 0), (1, 2)),)
    assert all(not s.lengths for s in specs[:3])


@pytest.mark.parametrize("bad, message", [
    (np.array([1, 2, 3], np.int64), "must be int32, got int64"),
    (np.array([1.0, 2.0, 3.0], np.float32), "must be int32, got float32"),
    (np.array([1, 2], np.int32), r"must have shape \(3,\), one key count per sequence"),
    (np.array([1, 32, 3], np.int32), r"must hold values in \[0, 31\] \(Nk = 31 keys\), got lengths\[1\] = 32"),
    (np.array([1, 2, -1], np.int32), r"must hold values in \[0, 31\] \(Nk = 31 keys\), got lengths\[2\] = -1"),
])
def test_lengths_validation(bad, message):
    """Kernel refuses lengths of the wrong dtype, size or range with a ValueError naming them."""
    cls = CLASSES[0]
    kernel = compiled(cls)
    args, _ = decode_inputs(cls, rng_for("validation"), 3, 1, 31, np.array([1, 2, 3], np.int32), False)
    with pytest.raises(ValueError, match=r"argument 3 of @flash \(the lengths of a tucker.flash\) " + message):
        kernel(*args[:3], bad)


@needs_torch
def test_lengths_validation_torch():
    cls = CLASSES[0]
    kernel = compiled(cls)
    args, _ = decode_inputs(cls, rng_for("validation"), 2, 1, 13, np.array([1, 2], np.int32), False)
    q, k, v = (torch.from_numpy(a) for a in args[:3])
    with pytest.raises(ValueError, match="must be int32, got torch.int64"):
        kernel(q, k, v, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"got lengths\[0\] = 14"):
        kernel(q, k, v, torch.tensor([14, 2], dtype=torch.int32))


def test_reference_clamps_out_of_range_lengths():
    """The op (and its reference) clamps lengths to [0, Nk]: -3 acts as 0 and Nk + 5 as Nk."""
    rng = rng_for("clamp")
    q, k, v = (rng.standard_normal(s) for s in ((2, 2, 3, 8), (2, 1, 9, 8), (2, 1, 9, 4)))
    clamped = ref.flash(q, k, v, causal=True, lengths=np.array([-3, 14]))
    assert np.array_equal(clamped, ref.flash(q, k, v, causal=True, lengths=np.array([0, 9])))
    assert np.all(clamped[0] == 0)
