"""The exact rewrites, executed: for random weights and many shapes, the original op
(tucker.mha / gqa / mla), its Tucker form (tucker.attention built from the factors of
reference.*_to_tucker) and its folded form (the IR that --tucker-lift --tucker-fold produce)
all compile through --tucker-cpu-pipeline and agree with the float64 NumPy reference.

Tolerances (max abs error over max abs reference): f32 1e-5, bf16 2e-2 (inputs are rounded to
bf16 before the reference sees them, so only the kernel's arithmetic is measured).
"""

import subprocess

import numpy as np
import pytest

import tucker
from tucker import _tools
from tucker import reference as ref
# The importer's MLIR spelling of attributes and float literals (MLIR rejects `1e-06`).
from tucker.importer import _attrs_text as attrs_text, _fmt as fmt

TOLERANCE = {"f32": 1e-5, "bf16": 2e-2}


def rel_err(out, expected):
    return np.abs(np.asarray(out, np.float64) - expected).max() / np.abs(expected).max()


def tensor_type(shape, dtype):
    return "tensor<" + "x".join(str(s) for s in shape) + f"x{dtype}>"


def rope_attr(rope):
    if rope is None:
        return None
    r = ref.Rope(*rope)
    parts = [f"theta = {fmt(r.theta)}", f"width = {r.width}", f"offset = {r.offset}",
             f"repeat = {r.repeat}"]
    if r.stride is not None:
        parts.append(f"stride = {r.stride}")
    parts.append(f"style = {r.style}")
    return "#tucker.rope<" + ", ".join(parts) + ">"


def function(op_text, args, out_shape, dtype, constants=()):
    """A func.func whose arguments are `args` [(name, array)] and whose body is one op;
    `constants` [(name, array)] become arith.constant operands named like arguments."""
    types = [tensor_type(a.shape, dtype) for _, a in args]
    params = ", ".join(f"%{name}: {t}" for (name, _), t in zip(args, types))
    result = tensor_type(out_shape, dtype)
    body = ""
    for name, array in constants:
        rows = ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in array)
        body += f"  %{name} = arith.constant dense<[{rows}]> : {tensor_type(array.shape, dtype)}\n"
    op_types = {name: t for (name, _), t in zip(args, types)}
    op_types.update({name: tensor_type(a.shape, dtype) for name, a in constants})
    operand_names = [tok[1:].rstrip(",)") for tok in op_text.replace("(", " ").split()
                     if tok.startswith("%")]
    operand_types = ", ".join(op_types[n] for n in operand_names)
    return (f"func.func @layer({params}) -> {result} {{\n{body}"
            f"  %y = {op_text} : ({operand_types}) -> {result}\n"
            f"  return %y : {result}\n}}\n")


def cast(arrays, dtype):
    """Inputs in the kernel's element type, and the float64 values the reference sees."""
    if dtype == "f32":
        inputs = [a.astype(np.float32) for a in arrays]
        return inputs, [a.astype(np.float64) for a in inputs]
    bits = [tucker.to_bf16_bits(a.astype(np.float32)) for a in arrays]
    return bits, [tucker.from_bf16_bits(b).astype(np.float64) for b in bits]


def run(text, inputs, dtype):
    out = tucker.compile(text)(*inputs)
    return tucker.from_bf16_bits(out) if dtype == "bf16" else out


def folded(text):
    """The IR after --tucker-lift --tucker-fold (what the pipeline then lowers)."""
    proc = subprocess.run([_tools.find_tool("tucker-opt"), "--tucker-lift", "--tucker-fold"],
                          input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def merged(text):
    """The folded IR after --tucker-merge-products (the GPU pipeline's next step): products of
    x as one over their weights side by side, their results column slices of it."""
    proc = subprocess.run([_tools.find_tool("tucker-opt"), "--tucker-lift", "--tucker-fold",
                           "--canonicalize", "--cse", "--tucker-merge-products"],
                          input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def check_three_forms(op_text, names, arrays, out_shape, dtype, reference, tucker_form):
    """Original op, folded form and Tucker form against reference(values)."""
    inputs, values = cast(arrays, dtype)
    expected = reference(values)
    args = list(zip(names, inputs))
    text = function(op_text, args, out_shape, dtype)
    tol = TOLERANCE[dtype]
    assert rel_err(run(text, inputs, dtype), expected) <= tol, "original op"
    assert rel_err(run(folded(text), inputs, dtype), expected) <= tol, "folded form"
    t_text, t_arrays = tucker_form(values)
    t_inputs, t_values = cast(t_arrays, dtype)
    # The Tucker form's factors are rounded too: compare against the reference on them.
    t_names = [f"a{i}" for i in range(len(t_inputs))]
    t_expected = reference(values) if dtype == "f32" else None
    constant = tucker_form.constant_positions()
    t_args = [(n, a) for i, (n, a) in enumerate(zip(t_names, t_inputs)) if i not in constant]
    t_consts = [(t_names[i], t_arrays[i]) for i in sorted(constant)]
    out = run(function(t_text(t_names), t_args, out_shape, dtype, t_consts),
              [a for _, a in t_args], dtype)
    if t_expected is None:  # bf16: the rounded factors define a slightly different layer
        t_expected = tucker_form.reference(t_values)
    assert rel_err(out, t_expected) <= tol, "Tucker form"


class TuckerForm:
    """tucker.attention text and operands from reference.*_to_tucker's factors."""

    def __init__(self, make_factors):
        self.make_factors = make_factors

    def __call__(self, values):
        t = self.make_factors(values)
        self.last = t
        operands = [values[0], t["U1"], t["U2"], t["U3"]]
        dense = t["core"] is not None
        if dense:
            operands.append(t["core"])
        operands += [t["U1o"], t["U2o"], t["U3o"]]
        if dense:
            operands.append(t["core_out"])
        if t.get("q_bias") is not None:
            operands.append(t["q_bias"])
        if t.get("out_bias") is not None:
            operands.append(t["out_bias"])

        def text(n):
            i = 4
            pre = f"%{n[1]}, %{n[2]}, %{n[3]}"
            if dense:
                pre += f", core %{n[4]}"
                i = 5
            post = f"%{n[i]}, %{n[i + 1]}, %{n[i + 2]}"
            i += 3
            if dense:
                post += f", core %{n[i]}"
                i += 1
            extra = ""
            if t.get("q_bias") is not None:
                extra += f" query_bias(%{n[i]})"
                i += 1
            if t.get("out_bias") is not None:
                extra += f" out_bias(%{n[i]})"
            ranks = (list(np.shape(t["U1"])[1:]) + [np.shape(t["U2"])[1], np.shape(t["U3"])[1]],
                     [np.shape(t["U1o"])[1], np.shape(t["U2o"])[1], np.shape(t["U3o"])[1]])
            attrs = {"ranks": f"#tucker.ranks<{ranks[0]}, {ranks[1]}>", "causal": t["causal"],
                     "scale": float(t["scale"]), "rope": rope_attr(t["rope"])}
            if not dense:
                hd, vd, groups = t["selector"]
                attrs["selector"] = (f"#tucker.selector<head_dim = {hd}, groups = {list(groups)}"
                                     + (f", value_dim = {vd}" if vd != hd else "") + ">")
            for key in ("query_norm", "key_norm", "value_norm"):
                if t.get(key) is not None:
                    eps, width = t[key]
                    attrs[key] = f"#tucker.rms_norm<epsilon = {fmt(eps)}, width = {width}>"
            return (f"tucker.attention %{n[0]}, pre({pre}), post({post}){extra} "
                    + attrs_text(attrs))

        return text, operands

    def constant_positions(self):
        """Operands that must be constants: a selector's identity head factors."""
        if self.last["core"] is not None:
            return set()
        return {1, 4}

    def reference(self, values):
        t = dict(self.last)
        factors = values[1:]
        keys = ["U1", "U2", "U3"] + (["core"] if t["core"] is not None else []) + \
               ["U1o", "U2o", "U3o"] + (["core_out"] if t["core"] is not None else [])
        keys += [k for k in ("q_bias", "out_bias") if t.get(k) is not None]
        t.update(zip(keys, factors))
        return ref.attention(values[0], **t)


def weights(rng, *shapes):
    return [rng.standard_normal(s) / np.sqrt(s[0]) for s in shapes]


MHA_CASES = [
    # B, N, d, H, dh, dv, biases, causal, rope
    (2, 37, 32, 4, 8, 8, "qkvo", True, None),
    (1, 50, 48, 3, 16, 8, "qo", False, (10000.0, 0, 16, 1, "half")),
    (3, 1, 16, 2, 8, 8, "", True, None),
    (2, 23, 32, 2, 16, 16, "v", True, (500.0, 4, 8, 1, "interleaved")),
    (2, 9, 16, 1, 16, 16, "qkvo", True, None),  # one head: identity head factors of size 1
]


@pytest.mark.parametrize("B,N,d,H,dh,dv,biases,causal,rope", MHA_CASES)
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_mha(B, N, d, H, dh, dv, biases, causal, rope, dtype):
    rng = np.random.default_rng(B * 1000 + N)
    x = rng.standard_normal((B, N, d))
    wq, wk, wv, wo = weights(rng, (d, H * dh), (d, H * dh), (d, H * dv), (H * dv, d))
    names, arrays, clauses = ["x", "wq", "wk", "wv", "wo"], [x, wq, wk, wv, wo], ""
    width = {"q": H * dh, "k": H * dh, "v": H * dv, "o": d}
    for b in "qkvo":
        if b in biases:
            names.append("b" + b)
            arrays.append(0.3 * rng.standard_normal(width[b]))
            clauses += f" b{b}(%b{b})"
    kw = dict(num_heads=H, causal=causal, rope=rope)

    def bias_args(v):
        it = iter(v[5:])
        return {"b" + b: (next(it) if b in biases else None) for b in "qkvo"}

    op = (f"tucker.mha %x, %wq, %wk, %wv, %wo{clauses} "
          + attrs_text({"num_heads": H, "causal": causal, "rope": rope_attr(rope)}))
    check_three_forms(op, names, arrays, (B, N, d), dtype,
                      lambda v: ref.mha(*v[:5], **bias_args(v), **kw),
                      TuckerForm(lambda v: ref.mha_to_tucker(*v[1:5], **bias_args(v), **kw)))


GQA_CASES = [
    # B, N, d, H, Hkv, dh, dv, causal, rope
    (2, 33, 64, 8, 2, 8, 8, True, (10000.0, 0, 8, 1, "half")),
    (1, 65, 32, 4, 1, 8, 4, False, (10000.0, 2, 4, 1, "interleaved")),
    (2, 19, 32, 4, 2, 8, 8, True, (10000.0, 2, 4, 1, "half")),
    (1, 17, 48, 6, 3, 8, 8, False, (500.0, 0, 2, 2, "interleaved", 4)),
    (2, 12, 16, 1, 1, 16, 16, True, (10000.0, 0, 16, 1, "half")),  # one head
]


@pytest.mark.parametrize("B,N,d,H,Hkv,dh,dv,causal,rope", GQA_CASES)
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_gqa(B, N, d, H, Hkv, dh, dv, causal, rope, dtype):
    rng = np.random.default_rng(N * 7 + H)
    x = rng.standard_normal((B, N, d))
    ws = weights(rng, (d, H * dh), (d, Hkv * dh), (d, Hkv * dv), (H * dv, d))
    kw = dict(num_heads=H, num_kv_heads=Hkv, causal=causal, rope=rope)
    op = "tucker.gqa %x, %wq, %wk, %wv, %wo " + attrs_text(
        {"num_heads": H, "num_kv_heads": Hkv, "causal": causal, "rope": rope_attr(rope)})
    check_three_forms(op, ["x", "wq", "wk", "wv", "wo"], [x, *ws], (B, N, d), dtype,
                      lambda v: ref.gqa(*v, **kw),
                      TuckerForm(lambda v: ref.gqa_to_tucker(*v[1:], **kw)))


MLA_CASES = [
    # B, N, d, H, q_lora, kv_lora, nope, rope_dim, v, causal, rope style
    (2, 29, 64, 4, 32, 16, 8, 4, 8, True, "interleaved"),
    (1, 40, 48, 2, None, 16, 8, 8, 12, False, "half"),
    (2, 9, 32, 3, 16, 8, 0, 4, 8, True, "interleaved"),
]


@pytest.mark.parametrize("B,N,d,H,ql,kvl,nope,rp,vd,causal,style", MLA_CASES)
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_mla(B, N, d, H, ql, kvl, nope, rp, vd, causal, style, dtype):
    rng = np.random.default_rng(d + N)
    x = rng.standard_normal((B, N, d))
    rope = (10000.0, nope, rp, 1, style)
    names, arrays, head = ["x"], [x], "%x, "
    if ql is not None:
        wq_a, = weights(rng, (d, ql))
        names += ["wq_a", "q_norm"]
        arrays += [wq_a, 1.0 + 0.2 * rng.standard_normal(ql)]
        head += "q_a(%wq_a, %q_norm), "
    q_in = ql if ql is not None else d
    wq_b, wkv_a, wkv_b, wo = weights(rng, (q_in, H * (nope + rp)), (d, kvl + rp),
                                     (kvl, H * (nope + vd)), (H * vd, d))
    names += ["wq_b", "wkv_a", "kv_norm", "wkv_b", "wo"]
    arrays += [wq_b, wkv_a, 1.0 + 0.2 * rng.standard_normal(kvl), wkv_b, wo]
    kw = dict(num_heads=H, q_lora_rank=ql, kv_lora_rank=kvl, qk_nope_head_dim=nope,
              qk_rope_head_dim=rp, v_head_dim=vd, causal=causal, rope=rope)
    attrs = {"num_heads": H, "q_lora_rank": ql, "kv_lora_rank": kvl, "qk_nope_head_dim": nope,
             "qk_rope_head_dim": rp, "v_head_dim": vd, "causal": causal, "rope": rope_attr(rope)}
    op = f"tucker.mla {head}%wq_b, %wkv_a, %kv_norm, %wkv_b, %wo " + attrs_text(attrs)

    def split(v):
        return ([v[0], v[1], v[2]] + v[3:]) if ql is not None else [v[0], None, None] + v[1:]

    check_three_forms(op, names, arrays, (B, N, d), dtype,
                      lambda v: ref.mla(*split(v), **kw),
                      TuckerForm(lambda v: ref.mla_to_tucker(*split(v)[1:], **kw)))


DENSE_CASES = [
    # B, N, d, H, pre ranks, post ranks, causal, biases, products merged
    (2, 31, 32, 4, (2, 12, 8), (3, 10, 6), True, True, 2),  # x·U3, x·Ũ3 (x·U2 has a bias)
    (1, 20, 16, 2, (1, 1, 1), (1, 1, 1), False, False, 3),
    (3, 5, 24, 3, (3, 24, 16), (2, 8, 12), True, False, 0),  # weights outweigh x
]


@pytest.mark.parametrize("B,N,d,H,pre,post,causal,biases,merges", DENSE_CASES)
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_dense_tucker(B, N, d, H, pre, post, causal, biases, merges, dtype):
    """Dense cores (latent MQA): the op, its folded form and the folded form with its
    projections of x merged (column slices of one product) against reference.attention."""
    rng = np.random.default_rng(d * 3 + N)
    (r1, r2, r3), (s1, s2, s3) = pre, post
    arrays = [rng.standard_normal((B, N, d)),
              rng.standard_normal((H, r1)), *weights(rng, (d, r2), (d, r3)),
              rng.standard_normal((r1, r2, r3)) / np.sqrt(r2),
              rng.standard_normal((H, s1)), *weights(rng, (d, s2), (d, s3)),
              rng.standard_normal((s1, s2, s3)) / np.sqrt(s2)]
    names = ["x", "u1", "u2", "u3", "c", "v1", "v2", "v3", "cv"]
    extra = ""
    if biases:
        arrays += [0.3 * rng.standard_normal(r2), 0.3 * rng.standard_normal(d)]
        names += ["bq", "bo"]
        extra = " query_bias(%bq) out_bias(%bo)"
    scale = 1.0 / np.sqrt(r3)
    op = (f"tucker.attention %x, pre(%u1, %u2, %u3, core %c), post(%v1, %v2, %v3, core %cv){extra} "
          + attrs_text({"ranks": f"#tucker.ranks<{list(pre)}, {list(post)}>", "causal": causal,
                        "scale": float(scale)}))
    inputs, values = cast(arrays, dtype)
    expected = ref.attention(*values, scale=scale, causal=causal)
    text = function(op, list(zip(names, inputs)), (B, N, d), dtype)
    assert rel_err(run(text, inputs, dtype), expected) <= TOLERANCE[dtype]
    assert rel_err(run(folded(text), inputs, dtype), expected) <= TOLERANCE[dtype]
    m_text = merged(text)
    concat = [line for line in m_text.splitlines() if "tensor.concat" in line]
    assert len(concat) == (1 if merges else 0), concat
    assert not merges or concat[0].count("%arg") == merges, concat[0]
    assert rel_err(run(m_text, inputs, dtype), expected) <= TOLERANCE[dtype]


# ---- forms the spec defines that do not run as plain MHA/GQA heads -------------------------

@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_mha_key_bias_under_rope(causal, dtype):
    """A nonzero key bias under rope (Qwen2) does not cancel in the softmax: --tucker-lift keeps
    it as the weight row of a constant input feature 1; the op and its folded form against
    reference.mha."""
    B, N, d, H, dh = 2, 19, 32, 4, 8
    rng = np.random.default_rng(91 + causal)
    x = rng.standard_normal((B, N, d))
    ws = weights(rng, (d, H * dh), (d, H * dh), (d, H * dh), (H * dh, d))
    bq, bk, bv, bo = (s * rng.standard_normal(w)
                      for s, w in ((0.5, H * dh), (1.5, H * dh), (0.5, H * dh), (0.5, d)))
    rope = (10000.0, 0, dh, 1, "half")
    op = ("tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo) "
          + attrs_text({"num_heads": H, "causal": causal, "rope": rope_attr(rope)}))
    inputs, values = cast([x, *ws, bq, bk, bv, bo], dtype)
    expected = ref.mha(*values[:5], *values[5:], num_heads=H, causal=causal, rope=rope)
    # The key bias matters: without it the reference differs by far more than the tolerance.
    assert rel_err(ref.mha(*values[:5], values[5], None, *values[7:], num_heads=H, causal=causal,
                           rope=rope), expected) > 3 * TOLERANCE[dtype]
    text = function(op, list(zip(["x", "wq", "wk", "wv", "wo", "bq", "bk", "bv", "bo"], inputs)),
                    (B, N, d), dtype)
    assert rel_err(run(text, inputs, dtype), expected) <= TOLERANCE[dtype]
    assert rel_err(run(folded(text), inputs, dtype), expected) <= TOLERANCE[dtype]


SELECTOR_CASES = [
    # name, H, r1, head_dim, groups, u1 ("eye" constant, "arg" identity argument, "mix"), rope
    ("head_mixing", 4, 2, 8, [0, 1], "mix", None),
    ("head_mixing_rope", 4, 3, 8, [0, 0, 1], "mix", (10000.0, 0, 8, 2, "half")),
    ("regrouped", 4, 4, 8, [1, 0, 1, 2], "eye", (10000.0, 2, 4, 3, "interleaved", 8)),
    ("identity_argument", 4, 4, 8, [0, 0, 1, 1], "arg", None),
    ("rope_not_per_head", 2, 2, 8, [0, 1], "eye", (10000.0, 0, 4, 1, "half")),
]


@pytest.mark.parametrize("name,H,r1,hd,groups,u1,rope", SELECTOR_CASES,
                         ids=[c[0] for c in SELECTOR_CASES])
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_selector_forms(name, H, r1, hd, groups, u1, rope, dtype):
    """Selector cores that do not run as MHA/GQA heads as they are (head-mixing factors,
    identities passed as arguments, key blocks read in any order, a rope that rotates key
    blocks differently) against reference.attention: regrouped heads or a dense core."""
    B, N, d, causal = 2, 11, 24, True
    K = max(groups) + 1
    rng = np.random.default_rng(H * 31 + r1 + len(name))
    mix = np.eye(H) if u1 != "mix" else rng.standard_normal((H, r1))
    x = rng.standard_normal((B, N, d))
    u2, u3, v2, v3 = weights(rng, (d, r1 * hd), (d, K * hd), (d, r1 * hd), (d, K * hd))
    names = ["x", "u1", "u2", "u3", "v2", "v3"]
    arrays = [x, mix, u2, u3, v2, v3]
    constants = []
    if u1 == "eye":  # a constant identity: the only head factor known to be one at compile time
        names, arrays = names[:1] + names[2:], arrays[:1] + arrays[2:]
        constants = [("u1", mix)]
    selector = f"#tucker.selector<head_dim = {hd}, groups = {groups}>"
    op = ("tucker.attention %x, pre(%u1, %u2, %u3), post(%u1, %v2, %v3) "
          + attrs_text({"ranks": f"#tucker.ranks<{[r1, r1 * hd, K * hd]}, {[r1, r1 * hd, K * hd]}>",
                        "causal": causal, "rope": rope_attr(rope), "selector": selector}))
    inputs, values = cast(arrays, dtype)
    v = dict(zip(names, values))
    u1v = v.get("u1", mix)
    expected = ref.attention(v["x"], u1v, v["u2"], v["u3"], None, u1v, v["v2"], v["v3"], None,
                             selector=(hd, hd, groups), causal=causal, rope=rope)
    text = function(op, list(zip(names, inputs)), (B, N, d), dtype,
                    [(n, a) for n, a in constants])
    assert rel_err(run(text, inputs, dtype), expected) <= TOLERANCE[dtype]
    assert rel_err(run(folded(text), inputs, dtype), expected) <= TOLERANCE[dtype]


# ---- the compiled ops against HF's attention semantics directly ----------------------------

def linear_weight(layer):
    """An nn.Linear's weight as the dialect's [in, out] matrix."""
    return layer.weight.detach().numpy().T.copy()


@pytest.mark.parametrize("causal", [False, True])
def test_gqa_matches_hf_llama_attention(causal):
    torch = pytest.importorskip("torch")
    import hf_semantics as hf
    torch.manual_seed(0)
    B, N, d, H, Hkv, dh = 2, 21, 64, 8, 2, 8
    m = hf.LlamaAttention(d, H, Hkv, dh, 10000.0).double()
    x = np.random.default_rng(1).standard_normal((B, N, d))
    expected = m(torch.from_numpy(x), causal=causal).detach().numpy()
    ws = [linear_weight(l) for l in (m.q_proj, m.k_proj, m.v_proj, m.o_proj)]
    op = "tucker.gqa %x, %wq, %wk, %wv, %wo " + attrs_text(
        {"num_heads": H, "num_kv_heads": Hkv, "causal": causal,
         "rope": rope_attr((10000.0, 0, dh, 1, "half"))})
    inputs = [a.astype(np.float32) for a in [x, *ws]]
    text = function(op, list(zip(["x", "wq", "wk", "wv", "wo"], inputs)), (B, N, d), "f32")
    assert rel_err(run(text, inputs, "f32"), expected) <= 1e-5


@pytest.mark.parametrize("q_lora", [24, None])
def test_mla_matches_hf_deepseek_v3_attention(q_lora):
    torch = pytest.importorskip("torch")
    import hf_semantics as hf
    torch.manual_seed(1)
    B, N, d, H, kvl, nope, rp, vd = 2, 13, 48, 3, 16, 8, 4, 8
    m = hf.DeepseekV3Attention(d, H, q_lora, kvl, nope, rp, vd, 10000.0).double()
    with torch.no_grad():  # norm weights away from one, so that folding them matters
        for norm in [m.kv_a_layernorm] + ([m.q_a_layernorm] if q_lora else []):
            norm.weight.uniform_(0.5, 1.5)
    x = np.random.default_rng(2).standard_normal((B, N, d))
    expected = m(torch.from_numpy(x), causal=True).detach().numpy()
    names, arrays, head = ["x"], [x], "%x, "
    if q_lora:
        names += ["wq_a", "q_norm"]
        arrays += [linear_weight(m.q_a_proj), m.q_a_layernorm.weight.detach().numpy()]
        head += "q_a(%wq_a, %q_norm), "
    names += ["wq_b", "wkv_a", "kv_norm", "wkv_b", "wo"]
    arrays += [linear_weight(m.q_b_proj if q_lora else m.q_proj), linear_weight(m.kv_a_proj_with_mqa),
               m.kv_a_layernorm.weight.detach().numpy(), linear_weight(m.kv_b_proj),
               linear_weight(m.o_proj)]
    attrs = {"num_heads": H, "q_lora_rank": q_lora, "kv_lora_rank": kvl, "qk_nope_head_dim": nope,
             "qk_rope_head_dim": rp, "v_head_dim": vd, "causal": True,
             "rope": rope_attr((10000.0, nope, rp, 1, "interleaved"))}
    op = f"tucker.mla {head}%wq_b, %wkv_a, %kv_norm, %wkv_b, %wo " + attrs_text(attrs)
    inputs = [a.astype(np.float32) for a in arrays]
    text = function(op, list(zip(names, inputs)), (B, N, d), "f32")
    assert rel_err(run(text, inputs, "f32"), expected) <= 1e-5
