"""--tucker-ranks and --tucker-compress (tucker-opt) against NumPy on the explicit tensors.

The oracle builds the n_H x d x d pre- and post-softmax tensors explicitly (small d) from the
Tucker forms of python/tucker/reference.py (mha_to_tucker, gqa_to_tucker, mla_to_tucker), takes
numerical ranks and truncated HOSVDs with np.linalg.svd of the unfoldings, and runs layers with
reference.mha / gqa / mla / attention. Checked:
  * the ranks in the remarks are the designed ranks and NumPy's;
  * the compressed op's factors reconstruct NumPy's truncated HOSVD, and the remark's relative
    errors are NumPy's (to the 3 digits printed);
  * at full ranks the compressed op computes the original layer (biases, causal, scale, MLA's
    RMS norms), through reference.attention on the parsed factors;
  * tolerance=eps keeps the fewest directions of the eps-rule and meets the error bound.

tucker-opt is found as the package finds it: $TUCKER_BUILD_DIR, PATH, <repo>/build.
"""

import ast
import re

import numpy as np
import pytest

from tucker import _tools
from tucker import reference as ref

D, SEQ = 12, 5


# ---------------------------------------------------------------------------------------------
# Running tucker-opt
# ---------------------------------------------------------------------------------------------

def tucker_opt(tmp_path, text, *args):
    """Runs tucker-opt on `text`; returns (stdout, remarks). Skips when the tool is missing."""
    try:
        _tools.find_tool("tucker-opt")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))
    path = tmp_path / "input.mlir"
    path.write_text(text)
    proc = _tools.run_tool("tucker-opt", [str(path), *args, "--mlir-print-elementsattrs-with-hex-if-larger=-1"])
    remarks = re.findall(r"remark: (.*)", proc.stderr)
    return proc.stdout, remarks


# ---------------------------------------------------------------------------------------------
# Writing IR
# ---------------------------------------------------------------------------------------------

def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def ttype(shape):
    return "tensor<" + "x".join(str(s) for s in shape) + "xf32>"


def literal(a):
    def rec(x):
        if x.ndim == 1:
            return "[" + ", ".join(repr(float(v)) for v in x) + "]"
        return "[" + ", ".join(rec(r) for r in x) + "]"
    return f"dense<{rec(np.asarray(a, dtype=np.float64))}>"


def function(op_text, operands, attrs):
    """A function of x with `operands` (name, array) as constants and one op."""
    xt = ttype((1, SEQ, D))
    lines = [f"func.func @layer(%x: {xt}) -> {xt} {{"]
    lines += [f"  %{n} = arith.constant {literal(v)} : {ttype(v.shape)}" for n, v in operands]
    types = ", ".join([xt] + [ttype(v.shape) for _, v in operands])
    lines += [f"  %y = {op_text} {{{attrs}}}", f"      : ({types}) -> {xt}", f"  return %y : {xt}", "}"]
    return "\n".join(lines) + "\n"


def mha_ir(w, num_heads, num_kv_heads=None, causal=False):
    names = ["wq", "wk", "wv", "wo"] + [b for b in ("bq", "bk", "bv", "bo") if w.get(b) is not None]
    if num_kv_heads is None:
        op = "tucker.mha %x, %wq, %wk, %wv, %wo" + "".join(f" {b}(%{b})" for b in names[4:])
        attrs = f"num_heads = {num_heads} : i64"
    else:
        op = "tucker.gqa %x, %wq, %wk, %wv, %wo"
        attrs = f"num_heads = {num_heads} : i64, num_kv_heads = {num_kv_heads} : i64"
    return function(op, [(n, w[n]) for n in names], attrs + (", causal" if causal else ""))


def mla_ir(w, cfg, causal=False):
    names = (["wq_a", "q_norm"] if w.get("wq_a") is not None else []) + ["wq_b", "wkv_a", "kv_norm", "wkv_b", "wo"]
    qa = "q_a(%wq_a, %q_norm), " if "wq_a" in names else ""
    op = f"tucker.mla %x, {qa}%wq_b, %wkv_a, %kv_norm, %wkv_b, %wo"
    attrs = (f"num_heads = {cfg['num_heads']} : i64, "
             + (f"q_lora_rank = {cfg['q_lora_rank']} : i64, " if qa else "")
             + f"kv_lora_rank = {cfg['kv_lora_rank']} : i64, qk_nope_head_dim = {cfg['qk_nope_head_dim']} : i64, "
             f"qk_rope_head_dim = {cfg['qk_rope_head_dim']} : i64, v_head_dim = {cfg['v_head_dim']} : i64"
             + (", causal" if causal else ""))
    return function(op, [(n, w[n]) for n in names], attrs)


def attention_ir(t):
    """A dense-core tucker.attention from reference.attention keyword arguments."""
    names = [("u1", "U1"), ("u2", "U2"), ("u3", "U3"), ("core", "core"),
             ("u1_out", "U1o"), ("u2_out", "U2o"), ("u3_out", "U3o"), ("core_out", "core_out")]
    op = "tucker.attention %x, pre(%u1, %u2, %u3, core %core), post(%u1_out, %u2_out, %u3_out, core %core_out)"
    rp, rq = list(t["core"].shape), list(t["core_out"].shape)
    attrs = f"ranks = #tucker.ranks<{rp}, {rq}>, scale = {t['scale']!r} : f64"
    return function(op, [(n, t[k]) for n, k in names], attrs)


# ---------------------------------------------------------------------------------------------
# Reading the output
# ---------------------------------------------------------------------------------------------

def parse_constants(text):
    out = {}
    for name, payload, shape in re.findall(r"(%\w+) = arith\.constant dense<(.*?)> : tensor<([0-9x]+)xf32>", text):
        dims = [int(s) for s in shape.split("x")]
        values = f32(ast.literal_eval(payload))  # printed with the digits that round-trip f32
        out[name] = np.broadcast_to(values, dims).copy() if values.ndim == 0 else values.reshape(dims)
    return out


def parse_attention(text):
    """The compressed tucker.attention as reference.attention keyword arguments."""
    consts = parse_constants(text)
    line = next(l for l in text.splitlines() if "tucker.attention" in l)
    pre = re.search(r"pre\((%\w+), (%\w+), (%\w+), core (%\w+)\)", line).groups()
    post = re.search(r"post\((%\w+), (%\w+), (%\w+), core (%\w+)\)", line).groups()
    t = dict(zip(["U1", "U2", "U3", "core"], (consts[n] for n in pre)))
    t.update(zip(["U1o", "U2o", "U3o", "core_out"], (consts[n] for n in post)))
    for key, op_key in (("q_bias", "query_bias"), ("out_bias", "out_bias")):
        m = re.search(op_key + r"\((%\w+)\)", line)
        t[key] = consts[m.group(1)] if m else None
    attrs = line[line.index("{"):line.index("}") + 1]
    t["scale"] = float(re.search(r"scale = ([-+0-9.eE]+) : f64", attrs).group(1))
    t["causal"] = re.search(r"[{ ]causal[,}]", attrs) is not None
    for norm in ("query_norm", "key_norm", "value_norm"):
        m = re.search(norm + r" = #tucker\.rms_norm<epsilon = ([-+0-9.eE]+), width = (\d+)>", attrs)
        t[norm] = (float(m.group(1)), int(m.group(2))) if m else None
    assert "selector" not in attrs and "rope" not in attrs
    return t


REMARK = re.compile(r"compressed 'tucker\.\w+' to ranks \[(.*?)\], \[(.*?)\]: relative error pre (\S+), "
                    r"post (\S+); params (\d+) -> (\d+), KV values per token (\d+) -> (\d+)")


def parse_compress_remark(remarks):
    m = next(REMARK.match(r) for r in remarks if REMARK.match(r))
    ranks = ([int(v) for v in m.group(1).split(", ")], [int(v) for v in m.group(2).split(", ")])
    errors = [0.0 if e == "<1e-07" else float(e) for e in (m.group(3), m.group(4))]
    return ranks, errors, (int(m.group(5)), int(m.group(6))), (int(m.group(7)), int(m.group(8)))


RANKS_REMARK = re.compile(r"pre-softmax ranks \[(.*?)\], post-softmax ranks \[(.*?)\]")


def parse_ranks_remark(remarks):
    m = next(RANKS_REMARK.match(r) for r in remarks if RANKS_REMARK.match(r))
    return [int(v) for v in m.group(1).split(", ")], [int(v) for v in m.group(2).split(", ")]


# ---------------------------------------------------------------------------------------------
# The NumPy oracle
# ---------------------------------------------------------------------------------------------

def explicit(t):
    """Explicit pre- and post-softmax tensors of reference.attention keyword arguments."""
    core, core_out = t.get("core"), t.get("core_out")
    if core is None:
        head_dim, value_dim, groups = t["selector"]
        core = ref._selector_core(groups, head_dim, t["U2"].shape[1], t["U3"].shape[1], "pre")
        core_out = ref._selector_core(groups, value_dim, t["U2o"].shape[1], t["U3o"].shape[1], "post")
    g = np.einsum("ia,ars->irs", t["U1"], core)
    go = np.einsum("ia,ars->irs", t["U1o"], core_out)
    return (np.einsum("dr,irs,es->ide", t["U2"], g, t["U3"]),
            np.einsum("dr,irs,es->ide", t["U2o"], go, t["U3o"]))


def unfold(t, mode):
    return np.moveaxis(t, mode, 0).reshape(t.shape[mode], -1)


def numerical_ranks(t, tol):
    out = []
    for m in range(3):
        s = np.linalg.svd(unfold(t, m), compute_uv=False)
        out.append(int(np.sum(s > tol * s[0])))
    return out


def hosvd(t, ranks, keep=(False, False, False)):
    """NumPy's truncated HOSVD approximation and its relative error (kept modes unprojected)."""
    approx = t
    for m in range(3):
        if not keep[m]:
            u = np.linalg.svd(unfold(t, m))[0][:, :ranks[m]]
            approx = np.moveaxis(np.tensordot(u @ u.T, np.moveaxis(approx, m, 0), axes=1), 0, m)
    return approx, np.linalg.norm(t - approx) / np.linalg.norm(t)


def eps_rule(t, eps, keep=(False, False, False)):
    truncated = 3 - sum(keep)
    out = []
    for m in range(3):
        lam = np.linalg.svd(unfold(t, m), compute_uv=False) ** 2
        r = len(lam)
        budget, tail = eps * eps * lam.sum() / truncated, 0.0
        while r > 1 and tail + lam[r - 1] <= budget:
            tail += lam[r - 1]
            r -= 1
        out.append(r)
    return out


def rel_err(out, expected):
    return np.abs(out - expected).max() / np.abs(expected).max()


# ---------------------------------------------------------------------------------------------
# Layers with random weights (float32 values, scaled to keep the softmax unsaturated)
# ---------------------------------------------------------------------------------------------

def gauss(rng, *shape, fan_in=None):
    return f32(rng.standard_normal(shape) / np.sqrt(fan_in or shape[0]))


def low_rank(rng, rows, cols, rank):
    return f32(rng.standard_normal((rows, rank)) @ rng.standard_normal((rank, cols)) / np.sqrt(rows * rank))


class Layer:
    """An attention layer: IR, the reference function and its exact Tucker form."""

    def __init__(self, ir, run, tucker):
        self.ir, self.run, self.tucker = ir, run, tucker


def mha_layer(rng, heads=3, head_dim=4, biases=False, causal=False, q_rank=None):
    wq = (np.hstack([low_rank(rng, D, head_dim, q_rank) for _ in range(heads)]) if q_rank
          else gauss(rng, D, heads * head_dim))
    w = dict(wq=wq, wk=gauss(rng, D, heads * head_dim), wv=gauss(rng, D, heads * head_dim),
             wo=gauss(rng, heads * head_dim, D))
    if biases:
        w.update(bq=gauss(rng, heads * head_dim, fan_in=1), bk=gauss(rng, heads * head_dim, fan_in=1),
                 bv=gauss(rng, heads * head_dim, fan_in=1), bo=gauss(rng, D, fan_in=1))
    return Layer(mha_ir(w, heads, causal=causal),
                 lambda x: ref.mha(x, **w, num_heads=heads, causal=causal),
                 ref.mha_to_tucker(**w, num_heads=heads, causal=causal))


def gqa_layer(rng, heads=4, kv_heads=2, head_dim=3, causal=False):
    w = dict(wq=gauss(rng, D, heads * head_dim), wk=gauss(rng, D, kv_heads * head_dim),
             wv=gauss(rng, D, kv_heads * head_dim), wo=gauss(rng, heads * head_dim, D))
    return Layer(mha_ir(w, heads, kv_heads, causal=causal),
                 lambda x: ref.gqa(x, **w, num_heads=heads, num_kv_heads=kv_heads, causal=causal),
                 ref.gqa_to_tucker(**w, num_heads=heads, num_kv_heads=kv_heads, causal=causal))


def mla_layer(rng, q_lora=True, causal=False):
    cfg = dict(num_heads=3, q_lora_rank=6 if q_lora else None, kv_lora_rank=5, qk_nope_head_dim=2,
               qk_rope_head_dim=2, v_head_dim=3)
    h, c, p, r, dv = 3, 5, 2, 2, 3
    w = dict(wq_a=gauss(rng, D, 6) if q_lora else None,
             q_norm=f32(rng.uniform(0.5, 1.5, 6)) if q_lora else None,
             wq_b=gauss(rng, 6 if q_lora else D, h * (p + r)), wkv_a=gauss(rng, D, c + r),
             kv_norm=f32(rng.uniform(0.5, 1.5, c)), wkv_b=gauss(rng, c, h * (p + dv)), wo=gauss(rng, h * dv, D))
    return Layer(mla_ir(w, cfg, causal=causal),
                 lambda x: ref.mla(x, **w, **cfg, causal=causal),
                 ref.mla_to_tucker(**w, **cfg, causal=causal))


def attention_layer(rng, heads=3, ranks=(2, 5, 4), ranks_out=(3, 4, 6)):
    t = dict(U1=gauss(rng, heads, ranks[0]), U2=gauss(rng, D, ranks[1]), U3=gauss(rng, D, ranks[2]),
             core=gauss(rng, *ranks), U1o=gauss(rng, heads, ranks_out[0]), U2o=gauss(rng, D, ranks_out[1]),
             U3o=gauss(rng, D, ranks_out[2]), core_out=gauss(rng, *ranks_out), scale=0.5)
    return Layer(attention_ir(t), lambda x: ref.attention(x, **t), t)


LAYERS = {
    "mha": lambda rng: mha_layer(rng),
    "mha_biases_causal": lambda rng: mha_layer(rng, biases=True, causal=True),
    "gqa": lambda rng: gqa_layer(rng),
    "mqa_causal": lambda rng: gqa_layer(rng, kv_heads=1, causal=True),
    "mla": lambda rng: mla_layer(rng),
    "mla_no_q_lora_causal": lambda rng: mla_layer(rng, q_lora=False, causal=True),
    "attention_dense": lambda rng: attention_layer(rng),
}


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,designed", [
    ("mha_rank2", ([3, 6, 6], [3, 12, 12])),
    ("gqa", ([4, 12, 6], [4, 12, 6])),
    ("mla", ([3, 6, 7], [3, 9, 5])),
    ("mla_no_q_lora", ([3, 12, 7], [3, 9, 5])),
    ("attention_dense", ([2, 5, 4], [3, 4, 6])),
])
def test_ranks_match_numpy(tmp_path, name, designed):
    """The remark's ranks are the designed ones and NumPy's (tolerance 1e-4: the float32 weights
    are low rank only up to rounding)."""
    rng = np.random.default_rng(1)
    layer = {"mha_rank2": lambda: mha_layer(rng, heads=3, q_rank=2),
             "gqa": lambda: gqa_layer(rng), "mla": lambda: mla_layer(rng),
             "mla_no_q_lora": lambda: mla_layer(rng, q_lora=False),
             "attention_dense": lambda: attention_layer(rng)}[name]()
    _, remarks = tucker_opt(tmp_path, layer.ir, "--tucker-ranks=tolerance=1e-4")
    pre, post = explicit(layer.tucker)
    assert (numerical_ranks(pre, 1e-4), numerical_ranks(post, 1e-4)) == designed
    assert parse_ranks_remark(remarks) == designed


@pytest.mark.parametrize("name,ranks", [
    ("mha", ((2, 5, 6), (3, 7, 4))),
    ("gqa", ((3, 4, 5), (2, 6, 6))),
    ("attention_dense", ((2, 3, 3), (2, 4, 5))),
])
def test_compress_is_numpy_hosvd(tmp_path, name, ranks):
    """Truncated below the ranks: the factors are orthonormal, reconstruct NumPy's truncated
    HOSVD of the explicit tensors, and the remark's errors are NumPy's."""
    layer = LAYERS[name](np.random.default_rng(2))
    option = ",".join(str(r) for r in ranks[0] + ranks[1])
    out, remarks = tucker_opt(tmp_path, layer.ir, f"--tucker-compress=ranks={option}")
    got_ranks, errors, _, _ = parse_compress_remark(remarks)
    assert got_ranks == (list(ranks[0]), list(ranks[1]))
    t = parse_attention(out)
    for u in ("U1", "U2", "U3", "U1o", "U2o", "U3o"):
        assert np.allclose(t[u].T @ t[u], np.eye(t[u].shape[1]), atol=1e-6), u
    ours = explicit(t)
    for k, (w, r) in enumerate(zip(explicit(layer.tucker), ranks)):
        approx, err = hosvd(w, r)
        norm = np.linalg.norm(w)
        assert np.linalg.norm(ours[k] - approx) / norm < 1e-5
        assert abs(np.linalg.norm(w - ours[k]) / norm - err) < 1e-5
        assert errors[k] == pytest.approx(err, rel=6e-3)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_full_rank_compression_is_the_layer(tmp_path, name):
    """At ranks the modes cannot exceed (clamped) the compressed op computes the original layer:
    biases (the query bias as an extra query row), causal, the scale and MLA's norms."""
    layer = LAYERS[name](np.random.default_rng(3))
    out, remarks = tucker_opt(tmp_path, layer.ir, "--tucker-compress=ranks=99,99,99")
    assert any("clamped to the mode sizes" in r for r in remarks)
    _, errors, _, _ = parse_compress_remark(remarks)
    assert errors == [0.0, 0.0]
    t = parse_attention(out)
    x = np.random.default_rng(4).standard_normal((2, SEQ, D))
    assert rel_err(ref.attention(x, **t), layer.run(x)) < 2e-5


def test_tolerance_meets_the_bound(tmp_path):
    """tolerance=eps keeps the fewest directions of the eps-rule; the error is at most eps."""
    layer = mha_layer(np.random.default_rng(5), heads=4, head_dim=3)
    out, remarks = tucker_opt(tmp_path, layer.ir, "--tucker-compress=tolerance=0.3")
    ranks, errors, _, _ = parse_compress_remark(remarks)
    for w, r, e in zip(explicit(layer.tucker), ranks, errors):
        assert r == eps_rule(w, 0.3)
        assert 0 < e <= 0.3
        assert e == pytest.approx(hosvd(w, r)[1], rel=6e-3)


def test_mla_truncation_keeps_the_latents(tmp_path):
    """MLA compressed: U2 = wq_a, U3 = wkv_a and U3o = its first kv_lora_rank columns with their
    norms; only the head and output modes are truncated, with NumPy's errors; the KV cache
    stays the shared latent."""
    rng = np.random.default_rng(6)
    layer = mla_layer(rng)
    out, remarks = tucker_opt(tmp_path, layer.ir, "--tucker-compress=ranks=2,6,7,2,5,5")
    ranks, errors, params, kv = parse_compress_remark(remarks)
    assert ranks == ([2, 6, 7], [2, 5, 5]) and kv == (7, 7)
    t = parse_attention(out)
    assert np.array_equal(t["U2"], layer.tucker["U2"]) and np.array_equal(t["U3"], layer.tucker["U3"])
    assert np.array_equal(t["U3o"], layer.tucker["U3"][:, :5])
    assert t["query_norm"][1] == 6 and t["key_norm"][1] == 5 and t["value_norm"][1] == 5
    for k, (w, keep, r) in enumerate(zip(explicit(layer.tucker), ((False, True, True), (False, False, True)),
                                         ranks)):
        approx, err = hosvd(w, r, keep)
        assert np.linalg.norm(explicit(t)[k] - approx) / np.linalg.norm(w) < 1e-5
        assert errors[k] == pytest.approx(err, rel=6e-3)


def test_ranks_skip_non_constant_weights(tmp_path):
    text = mha_ir(dict(wq=np.eye(D), wk=np.eye(D), wv=np.eye(D), wo=np.eye(D)), 3)
    text = text.replace("%wk = arith.constant", "%unused = arith.constant").replace(
        "func.func @layer(%x: tensor<1x5x12xf32>)", "func.func @layer(%x: tensor<1x5x12xf32>, %wk: tensor<12x12xf32>)")
    _, remarks = tucker_opt(tmp_path, text, "--tucker-ranks")
    assert remarks == []
    _, remarks = tucker_opt(tmp_path, text, "--tucker-ranks=report-skipped")
    assert remarks == ["ranks not computed: operand 'wk' is not a constant"]
