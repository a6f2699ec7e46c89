"""Numerical sweeps: hundreds of seeded random configurations of tucker.flash and of the layer ops,
compiled with tucker.compile (--tucker-cpu-pipeline) and compared with the float64 reference
(python/tucker/reference.py). docs/reliability.md describes them.

Each "shape class" (heads, widths, causal, dtype, scale, rope, tiles) is compiled once with
dynamic batch and sequence lengths and then called with many random lengths: 1, primes, tile
multiples, Nq > Nk (causal rows that see no key), Nq < Nk. The cases are drawn from a
numpy Generator seeded with SEED and the class name, so a failure names a configuration that
reproduces alone (pytest -k CLASS).

What is checked:
  - agreement: max |out - ref| / max |ref| <= TOLERANCE[dtype] (the bf16/f16 inputs are rounded
    before the reference sees them, so only the kernel's arithmetic and the rounding of the output
    count);
  - rows that see no key (causal, Nq > Nk, query m < Nq - Nk) are exactly 0;
  - extreme logits (|scale * q.k| up to 1e4, scale attributes 1e-6 and 1e4);
  - NaN / Inf in q, k or v: the output is NaN exactly where the reference's is, +-Inf where its
    is, and the finite entries agree.

Tolerances (max abs error / max abs reference), per output element type:
  f32 1e-5, f16 5e-3, bf16 2e-2 (bf16 keeps 8 significant bits: one rounding of the output
  is 2^-9 = 2e-3 relative; the rest is headroom for accumulation over long rows).
"""

import functools
import zlib

import numpy as np
import pytest

import tucker
from tucker import reference as ref
from tucker.importer import _fmt as fmt

try:
    import torch
except ImportError:  # the f16/bf16 classes skip themselves
    torch = None

SEED = 20260308
TOLERANCE = {"f32": 1e-5, "f16": 5e-3, "bf16": 2e-2}
LENGTHS = [1, 2, 3, 5, 7, 13, 16, 17, 31, 37, 61, 64, 67, 97]


def rng_for(name):
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def rel_err(out, expected):
    out = np.asarray(out, np.float64)
    scale = np.abs(expected).max()
    return np.abs(out - expected).max() / (scale if scale > 0 else 1.0)


# ---- element types ---------------------------------------------------------------------------

def to_kernel(a, dtype):
    """float64 array -> (kernel input, the float64 values the kernel sees)."""
    if dtype == "f32":
        x = np.asarray(a, np.float32)
        return x, x.astype(np.float64)
    if dtype == "f16":
        x = np.asarray(a, np.float16)
        return x, x.astype(np.float64)
    bits = tucker.to_bf16_bits(np.asarray(a, np.float32))
    return bits, tucker.from_bf16_bits(bits).astype(np.float64)


def from_kernel(y, dtype):
    return tucker.from_bf16_bits(y).astype(np.float64) if dtype == "bf16" else np.asarray(y, np.float64)


def needs_dtype(dtype):
    if dtype == "bf16" and not hasattr(tucker, "to_bf16_bits"):
        pytest.skip("no bf16 helpers")


# ---- tucker.flash ----------------------------------------------------------------------------

class FlashClass:
    """One compiled kernel: fixed heads and widths, dynamic B, Nq and Nk."""

    def __init__(self, name, hq, hkv, d, dv, causal=False, dtype="f32", scale=None, rope=None,
                 tiles=(16, 16)):
        self.name, self.hq, self.hkv, self.d, self.dv = name, hq, hkv, d, dv
        self.causal, self.dtype, self.scale, self.rope, self.tiles = causal, dtype, scale, rope, tiles

    def __repr__(self):
        return self.name

    def text(self):
        dt = self.dtype
        tq, tk, tv = (f"tensor<?x{h}x?x{w}x{dt}>" for h, w in
                      ((self.hq, self.d), (self.hkv, self.d), (self.hkv, self.dv)))
        to = f"tensor<?x{self.hq}x?x{self.dv}x{dt}>"
        attrs = []
        if self.causal:
            attrs.append("causal")
        if self.scale is not None:
            attrs.append(f"scale = {fmt(self.scale)} : f64")
        if self.rope is not None:
            r = ref.Rope(*self.rope)
            attrs.append(f"rope = #tucker.rope<theta = {fmt(r.theta)}, width = {r.width}, "
                         f"offset = {r.offset}, repeat = {r.repeat}, style = {r.style}>")
        attr_text = (" {" + ", ".join(attrs) + "}") if attrs else ""
        return (f"func.func @flash(%q: {tq}, %k: {tk}, %v: {tv}) -> {to} {{\n"
                f"  %o = tucker.flash %q, %k, %v{attr_text} : {tq}, {tk}, {tv} -> {to}\n"
                f"  return %o : {to}\n}}\n")

    def reference(self, q, k, v):
        return ref.flash(q, k, v, scale=self.scale, causal=self.causal, rope=self.rope)


@functools.lru_cache(maxsize=None)
def compiled(cls):
    return tucker.compile(cls.text(), pipeline_options={"query-tile": cls.tiles[0], "key-tile": cls.tiles[1]})


FLASH_CLASSES = [
    FlashClass("mha-f32", 2, 2, 8, 8),
    FlashClass("mha-causal-f32", 2, 2, 8, 8, causal=True),
    FlashClass("gqa-causal-f32", 6, 2, 16, 8, causal=True, tiles=(8, 32)),
    FlashClass("mqa-causal-d1-f32", 3, 1, 1, 1, causal=True, tiles=(4, 4)),
    FlashClass("mqa-odd-widths-f32", 4, 1, 5, 3, tiles=(7, 5)),
    FlashClass("gqa-rope-half-f32", 4, 2, 16, 16, causal=True, rope=(10000.0, 0, 16, 1, "half")),
    FlashClass("mha-rope-interleaved-f32", 2, 2, 12, 8, causal=True, rope=(500.0, 4, 8, 1, "interleaved"),
               tiles=(16, 8)),
    FlashClass("mha-scale-tiny-f32", 2, 1, 8, 8, causal=True, scale=1e-6),
    FlashClass("mha-scale-huge-f32", 2, 1, 8, 8, causal=True, scale=1e4),
    FlashClass("gqa-causal-default-tiles-f32", 4, 2, 8, 8, causal=True, tiles=(64, 64)),
    FlashClass("gqa-causal-f16", 4, 2, 16, 16, causal=True, dtype="f16"),
    FlashClass("mha-f16", 2, 2, 8, 4, dtype="f16", tiles=(8, 8)),
    FlashClass("gqa-causal-bf16", 4, 2, 16, 16, causal=True, dtype="bf16"),
    FlashClass("mqa-rope-bf16", 4, 1, 8, 8, causal=True, dtype="bf16", rope=(10000.0, 0, 8, 1, "half"),
               tiles=(8, 8)),
]
CASES_PER_CLASS = 24


def flash_cases(cls, count=CASES_PER_CLASS):
    """(B, Nq, Nk) triples: random lengths from LENGTHS, plus Nq > Nk and Nq = Nk = 1."""
    rng = rng_for(cls.name)
    cases = [(1, 1, 1), (2, 17, 5), (1, 5, 17), (1, 67, 64)]
    while len(cases) < count:
        nq, nk = (int(x) for x in rng.choice(LENGTHS, 2))
        cases.append((int(rng.integers(1, 3)), nq, nk))
    return cases


def flash_inputs(cls, rng, b, nq, nk, logit=None):
    """Random q, k, v (kernel inputs and their float64 values). `logit` rescales q so that the
    largest |scale * q.k| is about that value."""
    q = rng.standard_normal((b, cls.hq, nq, cls.d))
    k = rng.standard_normal((b, cls.hkv, nk, cls.d))
    v = rng.standard_normal((b, cls.hkv, nk, cls.dv))
    if logit is not None:
        scale = cls.scale if cls.scale is not None else 1.0 / np.sqrt(cls.d)
        kk = np.repeat(k, cls.hq // cls.hkv, axis=1)
        biggest = np.abs(scale * q @ kk.swapaxes(-1, -2)).max()
        q = q * (logit / biggest)
    (qk, qe), (kk, ke), (vk, ve) = (to_kernel(a, cls.dtype) for a in (q, k, v))
    return (qk, kk, vk), (qe, ke, ve)


def check_blind_rows(cls, y, nq, nk, what):
    """Causal rows that see no key are exactly zero."""
    if cls.causal and nq > nk:
        blind = y[:, :, :nq - nk, :]
        assert np.all(blind == 0), f"{what}: rows that see no key are not 0: {blind[blind != 0][:4]}"


@pytest.mark.parametrize("cls", FLASH_CLASSES, ids=repr)
def test_flash_sweep(cls):
    needs_dtype(cls.dtype)
    kernel = compiled(cls)
    rng = rng_for(cls.name + "/values")
    failures = []
    for b, nq, nk in flash_cases(cls):
        args, exact = flash_inputs(cls, rng, b, nq, nk)
        y = from_kernel(kernel(*args), cls.dtype)
        assert y.shape == (b, cls.hq, nq, cls.dv)
        what = f"{cls.name} B={b} Nq={nq} Nk={nk}"
        err = rel_err(y, cls.reference(*exact))
        if not err <= TOLERANCE[cls.dtype]:
            failures.append(f"{what}: rel. error {err:.3g} > {TOLERANCE[cls.dtype]:g}")
        check_blind_rows(cls, y, nq, nk, what)
    assert not failures, "\n".join(failures)


EXTREME_CLASSES = [c for c in FLASH_CLASSES if c.name in
                   ("mha-causal-f32", "gqa-causal-f32", "mqa-causal-d1-f32", "mha-scale-tiny-f32",
                    "mha-scale-huge-f32", "gqa-causal-f16", "gqa-causal-bf16")]


@pytest.mark.parametrize("cls", EXTREME_CLASSES, ids=repr)
@pytest.mark.parametrize("logit", [1e2, 1e4, -1e4])
def test_flash_extreme_logits(cls, logit):
    """Logits up to +-1e4 (softmax close to one-hot): no overflow, no NaN, same weights.

    In f32 a logit of 1e4 carries an absolute error of about 1e4 * 2^-24 = 6e-4 (the kernel computes
    q.k in f32, the reference in float64), which moves a softmax weight by up to 6e-4 relative:
    the tolerance is TOLERANCE + 2 * |logit| * 2^-24 for f32 (f16/bf16 tolerances cover it).
    """
    needs_dtype(cls.dtype)
    kernel = compiled(cls)
    rng = rng_for(f"{cls.name}/extreme/{logit}")
    tol = TOLERANCE[cls.dtype] + (2 * abs(logit) * 2.0 ** -24 if cls.dtype == "f32" else 0.0)
    failures = []
    for b, nq, nk in flash_cases(cls, 8):
        args, exact = flash_inputs(cls, rng, b, nq, nk, logit=abs(logit))
        if logit < 0:  # the largest logits negative: k -> -k
            args = (args[0], to_kernel(-exact[1], cls.dtype)[0], args[2])
            exact = (exact[0], -exact[1], exact[2])
        y = from_kernel(kernel(*args), cls.dtype)
        expected = cls.reference(*exact)
        what = f"{cls.name} logit={logit:g} B={b} Nq={nq} Nk={nk}"
        assert np.all(np.isfinite(y)), f"{what}: non-finite output"
        err = rel_err(y, expected)
        if not err <= tol:
            failures.append(f"{what}: rel. error {err:.3g} > {tol:.3g}")
        check_blind_rows(cls, y, nq, nk, what)
    assert not failures, "\n".join(failures)


NONFINITE_CLASSES = [c for c in FLASH_CLASSES if c.name in
                     ("mha-f32", "mha-causal-f32", "gqa-causal-f32", "gqa-causal-f16", "gqa-causal-bf16")]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the reference's NaN arithmetic
@pytest.mark.parametrize("cls", NONFINITE_CLASSES, ids=repr)
@pytest.mark.parametrize("operand", ["q", "k", "v"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_flash_nonfinite_inputs(cls, operand, bad):
    """A NaN or Inf in one operand propagates exactly as in the reference: the same entries are
    NaN, the same are +-Inf, the finite ones agree. Keys a row does not see never affect it."""
    needs_dtype(cls.dtype)
    kernel = compiled(cls)
    rng = rng_for(f"{cls.name}/nonfinite/{operand}/{bad}")
    which = "qkv".index(operand)
    failures = []
    for b, nq, nk in flash_cases(cls, 8):
        args, exact = flash_inputs(cls, rng, b, nq, nk)
        raw = list(exact)
        poisoned = raw[which].copy()
        for _ in range(2):  # two poisoned entries
            poisoned[tuple(int(rng.integers(0, s)) for s in poisoned.shape)] = bad
        raw[which] = poisoned
        args = list(args)
        args[which], raw[which] = to_kernel(poisoned, cls.dtype)
        y = from_kernel(kernel(*args), cls.dtype)
        expected = cls.reference(*raw)
        what = f"{cls.name} {operand}={bad} B={b} Nq={nq} Nk={nk}"
        nan_y, nan_r = np.isnan(y), np.isnan(expected)
        if not np.array_equal(nan_y, nan_r):
            failures.append(f"{what}: NaN at {np.argwhere(nan_y != nan_r)[:3].tolist()} "
                            f"(kernel {int(nan_y.sum())}, reference {int(nan_r.sum())} NaNs)")
            continue
        inf_y, inf_r = np.isinf(y), np.isinf(expected)
        if not (np.array_equal(inf_y, inf_r) and np.array_equal(y[inf_y], expected[inf_r])):
            failures.append(f"{what}: Inf entries differ")
            continue
        finite = np.isfinite(expected)
        if finite.any():
            err = rel_err(np.where(finite, y, 0.0), np.where(finite, expected, 0.0))
            if not err <= TOLERANCE[cls.dtype]:
                failures.append(f"{what}: finite entries: rel. error {err:.3g}")
        check_blind_rows(cls, y, nq, nk, what)
    assert not failures, "\n".join(failures)


def test_masked_nan_value_does_not_leak():
    """Regression (issue 8): a NaN value at key 20, which rows 16-19 of the same 16-row diagonal tile
    do not see, made those rows NaN (0 * NaN in P.V); the old reference made every row NaN. Now only
    the rows that see key 20 are NaN, in the kernel and in the reference."""
    cls = FLASH_CLASSES[2]  # gqa-causal-f32, tiles (8, 32)
    kernel = compiled(cls)
    rng = rng_for("masked-nan")
    (q, k, v), _ = flash_inputs(cls, rng, 1, 40, 40)
    v[0, 0, 20, 3] = np.nan
    with np.errstate(invalid="ignore"):
        expected = cls.reference(q, k, v)
    y = kernel(q, k, v)
    rows = np.arange(40)
    for out in (y, expected):
        np.testing.assert_array_equal(np.isnan(out[0, 0, :, 3]), rows >= 20)
        assert not np.isnan(out[0, 0, :, :3]).any()


# ---- layer ops -------------------------------------------------------------------------------

def _rope_text(rope):
    r = ref.Rope(*rope)
    return (f"#tucker.rope<theta = {fmt(r.theta)}, width = {r.width}, offset = {r.offset}, "
            f"repeat = {r.repeat}, style = {r.style}>")


class LayerClass:
    """A layer op with weights as kernel arguments (fixed shapes) and x [?, ?, d]: one kernel
    for every batch, length and set of weights."""

    def __init__(self, name, op, d, shapes, attrs, reference, dtype="f32", weight_scales=None, operands=None):
        self.name, self.op, self.d, self.shapes, self.attrs = name, op, d, shapes, attrs
        self.reference, self.dtype, self.operands = reference, dtype, operands
        self.weight_scales = weight_scales or [1.0 / np.sqrt(s[0]) for s in shapes]

    def __repr__(self):
        return self.name

    def text(self):
        dt = self.dtype
        x = f"tensor<?x?x{self.d}x{dt}>"
        types = [x] + ["tensor<" + "x".join(map(str, s)) + f"x{dt}>" for s in self.shapes]
        params = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
        operands = self.operands or ", ".join(f"%a{i}" for i in range(len(types)))
        return (f"func.func @layer({params}) -> {x} {{\n"
                f"  %y = {self.op} {operands} {{{', '.join(self.attrs)}}} : ({', '.join(types)}) -> {x}\n"
                f"  return %y : {x}\n}}\n")


@functools.lru_cache(maxsize=None)
def compiled_layer(cls):
    return tucker.compile(cls.text())


def _mha(name, d, H, biases, causal, rope, dtype="f32"):
    dh = d // H
    shapes = [(d, d), (d, d), (d, d), (d, d)] + [(d,)] * len(biases)
    operands = "%a0, %a1, %a2, %a3, %a4" + "".join(f" {b}(%a{5 + i})" for i, b in enumerate(biases))
    attrs = [f"num_heads = {H} : i64"] + (["causal"] if causal else []) + \
        ([f"rope = {_rope_text(rope)}"] if rope else [])

    def reference(x, *w):
        named = dict(zip(biases, w[4:]))
        return ref.mha(x, *w[:4], **named, num_heads=H, causal=causal, rope=rope)
    scales = [d ** -0.5] * 4 + [0.1] * len(biases)
    assert dh * H == d
    return LayerClass(name, "tucker.mha", d, shapes, attrs, reference, dtype, scales, operands)


def _gqa(name, d, H, Hkv, dh, causal, rope, dtype="f32"):
    shapes = [(d, H * dh), (d, Hkv * dh), (d, Hkv * dh), (H * dh, d)]
    attrs = [f"num_heads = {H} : i64", f"num_kv_heads = {Hkv} : i64"] + (["causal"] if causal else []) + \
        ([f"rope = {_rope_text(rope)}"] if rope else [])

    def reference(x, *w):
        return ref.gqa(x, *w, num_heads=H, num_kv_heads=Hkv, causal=causal, rope=rope)
    return LayerClass(name, "tucker.gqa", d, shapes, attrs, reference, dtype)


def _dense(name, d, H, ranks, causal, dtype="f32"):
    r1, r2, r3 = ranks
    scale = r3 ** -0.5
    shapes = [(H, r1), (d, r2), (d, r3), (r1, r2, r3)] * 2
    operands = "%a0, pre(%a1, %a2, %a3, core %a4), post(%a5, %a6, %a7, core %a8)"
    attrs = [f"ranks = #tucker.ranks<[{r1}, {r2}, {r3}], [{r1}, {r2}, {r3}]>", f"scale = {fmt(scale)} : f64"] + \
        (["causal"] if causal else [])

    def reference(x, *w):
        return ref.attention(x, *w, scale=scale, causal=causal)
    scales = [0.5, d ** -0.5, d ** -0.5, 0.3] * 2
    return LayerClass(name, "tucker.attention", d, shapes, attrs, reference, dtype, scales, operands)


def _mla(name, d, H, q_lora, c, p, R, dv, causal):
    rope = (10000.0, p, R, 1, "interleaved")
    shapes = [(d, q_lora), (q_lora,), (q_lora, H * (p + R)), (d, c + R), (c,), (c, H * (p + dv)), (H * dv, d)]
    operands = "%a0, q_a(%a1, %a2), %a3, %a4, %a5, %a6, %a7"
    attrs = [f"num_heads = {H} : i64", f"q_lora_rank = {q_lora} : i64", f"kv_lora_rank = {c} : i64",
             f"qk_nope_head_dim = {p} : i64", f"qk_rope_head_dim = {R} : i64", f"v_head_dim = {dv} : i64",
             f"rope = {_rope_text(rope)}"] + (["causal"] if causal else [])

    def reference(x, *w):
        return ref.mla(x, *w, num_heads=H, q_lora_rank=q_lora, kv_lora_rank=c, qk_nope_head_dim=p,
                       qk_rope_head_dim=R, v_head_dim=dv, causal=causal, rope=rope)
    scales = [d ** -0.5, None, q_lora ** -0.5, d ** -0.5, None, c ** -0.5, (H * dv) ** -0.5]
    return LayerClass(name, "tucker.mla", d, shapes, attrs, reference, "f32", scales, operands)


LAYER_CLASSES = [
    _mha("mha-biases-causal-f32", 32, 4, ("bq", "bk", "bv", "bo"), True, None),
    _mha("mha-rope-f32", 16, 2, ("bq", "bv"), True, (10000.0, 0, 8, 1, "half")),
    _mha("mha-biases-bf16", 32, 4, ("bq", "bo"), False, None, "bf16"),
    _gqa("gqa-rope-causal-f32", 32, 8, 2, 4, True, (10000.0, 0, 4, 1, "interleaved")),
    _gqa("mqa-f16", 24, 3, 1, 8, True, None, "f16"),
    _dense("dense-rank-1-f32", 16, 4, (1, 1, 1), True),
    _dense("dense-full-rank-f32", 12, 3, (3, 12, 12), True),
    _dense("dense-mixed-ranks-f32", 16, 4, (2, 16, 5), False),
    _mla("mla-causal-f32", 32, 4, 16, 8, 4, 4, 8, True),
]
LAYER_CASES = [(1, 1), (2, 2), (1, 3), (1, 13), (2, 17), (1, 31), (1, 61), (2, 64), (1, 67), (1, 97)]


@pytest.mark.parametrize("cls", LAYER_CLASSES, ids=repr)
def test_layer_sweep(cls):
    needs_dtype(cls.dtype)
    kernel = compiled_layer(cls)
    rng = rng_for(cls.name)
    failures = []
    for b, n in LAYER_CASES:  # new random weights for every case
        raw = [rng.standard_normal((b, n, cls.d))]
        for shape, s in zip(cls.shapes, cls.weight_scales):
            w = rng.standard_normal(shape)
            raw.append(1.0 + 0.1 * w if s is None else s * w)  # None: a norm weight near one
        args, exact = zip(*(to_kernel(a, cls.dtype) for a in raw))
        y = from_kernel(kernel(*args), cls.dtype)
        assert y.shape == (b, n, cls.d)
        err = rel_err(y, cls.reference(*exact))
        if not err <= TOLERANCE[cls.dtype]:
            failures.append(f"{cls.name} B={b} N={n}: rel. error {err:.3g} > {TOLERANCE[cls.dtype]:g}")
    assert not failures, "\n".join(failures)
