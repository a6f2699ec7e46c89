#!/usr/bin/python3
"""Generates tucker-ranks.mlir, tucker-compress.mlir and tucker-compress-ranks.mlir next to this script.

Attention layers with constant weights of KNOWN Tucker ranks: small-integer matrices and products
of them (exact in f32 and bf16, and their Grams exact in float64), so every numerical rank is
exact. Each case states its designed ranks; this script checks them against NumPy on the explicit
n_H x d x d tensors (built independently, MLA through python/tucker/reference.py) before writing
the expected remarks, and computes the expected parameter and KV counts of the compressed op.

    /usr/bin/python3 gen_hosvd_tests.py          # rewrite the two .mlir files
    /usr/bin/python3 gen_hosvd_tests.py --check  # fail if they are not what this script writes
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, os.pardir, os.pardir, "python"))
from tucker import reference  # noqa: E402

RANKS_TOL = 1e-6      # --tucker-ranks default
COMPRESS_TOL = 1e-5   # --tucker-compress=tolerance=1e-5 in tucker-compress.mlir
D, SEQ = 16, 4


# ---------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------

class Rng:
    def __init__(self, seed):
        self.g = np.random.default_rng(seed)

    def ints(self, *shape, lo=-2, hi=2):
        return self.g.integers(lo, hi + 1, shape).astype(np.float64)

    def nonzero(self, *shape):
        return self.g.choice([-2.0, -1.0, 1.0, 2.0], shape)

    def low_rank(self, rows, cols, rank):
        return self.ints(rows, rank) @ self.ints(rank, cols)


def heads_of(w, h):
    """Column blocks of w, one per head."""
    return np.split(w, h, axis=1)


# ---------------------------------------------------------------------------------------------
# Explicit tensors (NumPy oracle; small d only)
# ---------------------------------------------------------------------------------------------

def multihead_tensors(wq, wk, wv, wo, h, hkv, bq=None):
    q, k, v = heads_of(wq, h), heads_of(wk, hkv), heads_of(wv, hkv)
    o = np.split(wo, h, axis=0)
    g = h // hkv
    if bq is not None:
        q = [np.vstack([qi, bi[None, :]]) for qi, bi in zip(q, np.split(bq, h))]
    pre = np.stack([q[i] @ k[i // g].T for i in range(h)])
    post = np.stack([(v[i // g] @ o[i]).T for i in range(h)])
    return pre, post


def tucker_tensors(t):
    """Explicit tensors of reference.attention's keyword arguments (selector or dense)."""
    core, core_out = t.get("core"), t.get("core_out")
    if core is None:
        head_dim, value_dim, groups = t["selector"]
        core = reference._selector_core(groups, head_dim, t["U2"].shape[1], t["U3"].shape[1], "pre")
        core_out = reference._selector_core(groups, value_dim, t["U2o"].shape[1], t["U3o"].shape[1], "post")
    g = np.einsum("ia,ars->irs", t["U1"], core)
    go = np.einsum("ia,ars->irs", t["U1o"], core_out)
    pre = np.einsum("dr,irs,es->ide", t["U2"], g, t["U3"])
    post = np.einsum("dr,irs,es->ide", t["U2o"], go, t["U3o"])
    return pre, post


def unfold(t, mode):
    return np.moveaxis(t, mode, 0).reshape(t.shape[mode], -1)


def mode_values(t, mode):
    """Squared singular values of the mode unfolding, descending."""
    s = np.linalg.svd(unfold(t, mode), compute_uv=False)
    return np.concatenate([s**2, np.zeros(t.shape[mode] - len(s))])


def numerical_ranks(t, tol):
    out = []
    for m in range(3):
        s = np.sqrt(mode_values(t, m))
        out.append(0 if s[0] == 0 else int(np.sum(s > tol * s[0])))
    return out


def error_rule_ranks(t, eps, keep, kept_widths):
    """The eps-rule of hosvd::ranksForError: fewest directions whose tail is <= eps^2 |W|^2 / T."""
    truncated = max(1, 3 - sum(keep))
    out = []
    for m in range(3):
        if keep[m]:
            out.append(kept_widths[m])
            continue
        lam = mode_values(t, m)
        budget = eps * eps * lam.sum() / truncated
        r, tail = len(lam), 0.0
        while r > 1 and tail + lam[r - 1] <= budget:
            tail += lam[r - 1]
            r -= 1
        out.append(r)
    return out


def hosvd_error(t, ranks, keep):
    """Relative error of the truncated HOSVD (kept modes not projected)."""
    approx = t
    for m in range(3):
        if keep[m]:
            continue
        u = np.linalg.svd(unfold(t, m), full_matrices=True)[0][:, :ranks[m]]
        approx = np.moveaxis(np.tensordot(u @ u.T, np.moveaxis(approx, m, 0), axes=1), 0, m)
    norm = np.linalg.norm(t)
    return 0.0 if norm == 0 else np.linalg.norm(t - approx) / norm


def format_error(err):
    """The remark's format; refuses values within 1e-4 (relative) of a rounding boundary, where
    float64 Gram and SVD computations could print different digits."""
    if err < 1e-7:
        assert err < 5e-8, f"error {err} too close to the 1e-7 floor"
        return "<1e-07"
    text = f"{err:.2e}"
    assert f"{err * (1 - 1e-4):.2e}" == text == f"{err * (1 + 1e-4):.2e}", f"error {err} is ambiguous"
    return text


# ---------------------------------------------------------------------------------------------
# MLIR text
# ---------------------------------------------------------------------------------------------

V = "%{{[a-z0-9_]+}}"  # any SSA value in a CHECK line


def ttype(shape, et):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + et + ">"


def literal(a):
    a = np.asarray(a, dtype=np.float64)
    if a.size and np.all(a == a.flat[0]):
        return f"dense<{a.flat[0]!r}>"

    def rec(x):
        if x.ndim == 1:
            return "[" + ", ".join(repr(float(v)) for v in x) + "]"
        return "[" + ", ".join(rec(r) for r in x) + "]"
    return f"dense<{rec(a)}>"


class Case:
    """One attention op with constant weights, as .mlir text plus its expectations."""

    def __init__(self, name, comment, op, operands, attrs, et="f32", pre=None, post=None,
                 keep_pre=(False, False, False), keep_post=(False, False, False), kept_widths=None,
                 shared_kv=False, kv_before=0, query_bias=False, out_bias=False, causal=False,
                 scale_text=None, rope=False, ranks_note="", tensors=None, mode_sizes=None):
        self.__dict__.update(locals())
        del self.__dict__["self"]

    def function(self, checks=""):
        et = self.et
        xt = ttype((1, SEQ, D), et)
        lines = [f"func.func @{self.name}(%x: {xt}) -> {xt} {{"]
        types = [xt]
        names = []
        for name, value in self.operands:
            t = ttype(value.shape, et)
            lines.append(f"  %{name} = arith.constant {literal(value)} : {t}")
            types.append(t)
            names.append(name)
        return lines, types, names, xt

    def text(self, expectation, checks=""):
        lines, types, names, xt = self.function()
        head = f"  %y = {self.op_text(names)} {{{self.attrs}}}"
        sig = "      : (" + ", ".join(types) + f") -> {xt}"
        out = [f"// Tests that: {self.comment}"]
        out += checks.splitlines()
        out += lines[:1] + lines[1:]
        expectations = [expectation] if isinstance(expectation, str) else expectation
        for i, e in enumerate(expectations):
            out.append(f"  // expected-remark @+{len(expectations) - i} {{{{{e}}}}}")
        out += [head, sig, f"  return %y : {xt}", "}"]
        return "\n".join(out)

    def op_text(self, names):
        n = {k: f"%{k}" for k in names}
        if self.op == "mha":
            s = f"tucker.mha %x, {n['wq']}, {n['wk']}, {n['wv']}, {n['wo']}"
            for b in ("bq", "bk", "bv", "bo"):
                if b in n:
                    s += f" {b}({n[b]})"
            return s
        if self.op == "gqa":
            return f"tucker.gqa %x, {n['wq']}, {n['wk']}, {n['wv']}, {n['wo']}"
        if self.op == "mla":
            qa = f"q_a({n['wq_a']}, {n['q_norm']}), " if "wq_a" in n else ""
            return f"tucker.mla %x, {qa}{n['wq_b']}, {n['wkv_a']}, {n['kv_norm']}, {n['wkv_b']}, {n['wo']}"
        core = f", core {n['core']}" if "core" in n else ""
        core_out = f", core {n['core_out']}" if "core_out" in n else ""
        return (f"tucker.attention %x, pre({n['u1']}, {n['u2']}, {n['u3']}{core}), "
                f"post({n['u1_out']}, {n['u2_out']}, {n['u3_out']}{core_out})")

    # Expectations -----------------------------------------------------------------------------

    def check_designed_ranks(self):
        pre_t, post_t = self.tensors(False)
        got = (numerical_ranks(pre_t, RANKS_TOL), numerical_ranks(post_t, RANKS_TOL))
        assert got == (self.pre, self.post), f"{self.name}: designed {self.pre}, {self.post}, NumPy {got}"

    def ranks_remark(self):
        self.check_designed_ranks()
        note = self.ranks_note + ("; rope left out" if self.rope else "")
        return (f"pre-softmax ranks {self.pre}, post-softmax ranks {self.post} "
                f"(tolerance 1e-06{note})")

    def compress_expectation(self, want=None):
        """Ranks, expected remarks of --tucker-compress: at COMPRESS_TOL (exact cases) or at the
        requested `want` = (pre, post) ranks, clamped to the mode sizes."""
        pre_t, post_t = self.tensors(True)
        kw_pre, kw_post = self.kept_widths or ((0, 0, 0), (0, 0, 0))
        remarks = []
        if want is None:
            rp = error_rule_ranks(pre_t, COMPRESS_TOL, self.keep_pre, kw_pre)
            rq = error_rule_ranks(post_t, COMPRESS_TOL, self.keep_post, kw_post)
        else:
            assert not any(self.keep_pre) and not any(self.keep_post)
            sizes = self.mode_sizes or (list(pre_t.shape), list(post_t.shape))
            rp = [min(w, s) for w, s in zip(want[0], sizes[0])]
            rq = [min(w, s) for w, s in zip(want[1], sizes[1])]
            if (rp, rq) != (list(want[0]), list(want[1])):
                remarks.append(f"ranks {list(want[0])}, {list(want[1])} clamped to the mode sizes: {rp}, {rq}")
        errors = []
        for t, r, k in ((pre_t, rp, self.keep_pre), (post_t, rq, self.keep_post)):
            err = hosvd_error(t, r, k)
            if want is None:
                assert err < 1e-9, f"{self.name}: exact-rank case has HOSVD error {err}"
            errors.append(format_error(err))
        params_before = sum(v.size for _, v in self.operands)
        n = pre_t.shape[0]

        def count(r):
            return n * r[0] + D * r[1] + D * r[2] + r[0] * r[1] * r[2]
        params_after = count(rp) + count(rq) + (rp[1] if self.query_bias else 0) + (D if self.out_bias else 0)
        kv_after = rp[2] if self.shared_kv else rp[2] + rq[2]
        remark = (f"compressed 'tucker.{self.op}' to ranks {rp}, {rq}: relative error pre {errors[0]}, "
                  f"post {errors[1]}; params {params_before} -> {params_after}, KV values per token "
                  f"{self.kv_before} -> {kv_after}")
        if self.query_bias:
            remark += "; query bias compressed as an extra query row"
        if any(self.keep_pre) or any(self.keep_post):
            remark += "; RMS-normalized latents kept whole"
        return rp, rq, remarks + [remark]

    def compress_checks(self, rp, rq):
        et = self.et
        n = self.tensors(True)[0].shape[0]
        ft = [ttype((1, SEQ, D), et), ttype((n, rp[0]), et), ttype((D, rp[1]), et), ttype((D, rp[2]), et),
              ttype(rp, et), ttype((n, rq[0]), et), ttype((D, rq[1]), et), ttype((D, rq[2]), et), ttype(rq, et)]
        if self.query_bias:
            ft.append(ttype((rp[1],), et))
        if self.out_bias:
            ft.append(ttype((D,), et))
        c = [f"// CHECK-LABEL: func @{self.name}",
             "// CHECK-SAME: (%[[X:.*]]: " + ft[0] + ")",
             f"// CHECK: %[[Y:.*]] = tucker.attention %[[X]], pre({V}, {V}, {V}, core {V}), "
             f"post({V}, {V}, {V}, core {V})"
             + (f" query_bias({V})" if self.query_bias else "")
             + (f" out_bias({V})" if self.out_bias else "")]
        if self.causal:
            c.append("// CHECK-SAME: causal")
        if self.keep_pre[2]:
            c.append("// CHECK-SAME: key_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, "
                     f"width = {self.kv_lora}>")
        if self.keep_pre[1]:
            c.append("// CHECK-SAME: query_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, "
                     f"width = {self.q_lora}>")
        c.append(f"// CHECK-SAME: ranks = #tucker.ranks<{list(rp)}, {list(rq)}>")
        c.append(f"// CHECK-SAME: scale = {self.scale_text} : f64")
        if self.keep_post[2]:
            c.append("// CHECK-SAME: value_norm = #tucker.rms_norm<epsilon = 9.9999999999999995E-7, "
                     f"width = {self.kv_lora}>")
        c.append("// CHECK-SAME: : (" + ", ".join(ft) + ") -> " + ft[0])
        c.append("// CHECK-NOT: tucker.mha")
        c.append("// CHECK: return %[[Y]]")
        return "\n".join(c)


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

def mha_case(name, comment, wq, wk, wv, wo, h, hkv, pre, post, et="f32", biases=None, causal=False,
             rope=None, scale_text="5.000000e-01"):
    op = name.split("_")[0] if name.startswith(("mha", "gqa")) else "gqa"
    operands = [("wq", wq), ("wk", wk), ("wv", wv), ("wo", wo)] + list((biases or {}).items())
    attrs = f"num_heads = {h} : i64"
    if op == "gqa":
        attrs += f", num_kv_heads = {hkv} : i64"
    if causal:
        attrs += ", causal"
    if rope:
        attrs += f", rope = {rope}"
    b = biases or {}
    hd, vd = wq.shape[1] // h, wv.shape[1] // hkv

    def tensors(fold):
        return multihead_tensors(wq, wk, wv, wo, h, hkv, b.get("bq") if fold else None)
    return Case(name, comment, op, operands, attrs, et, pre, post, kv_before=hkv * (hd + vd),
                query_bias="bq" in b, out_bias="bv" in b or "bo" in b, causal=causal,
                scale_text=scale_text, rope=rope is not None, tensors=tensors)


def mla_case(name, comment, rng, h, q_lora, c, p, r, dv, pre, post):
    wq_a = rng.ints(D, q_lora) if q_lora else None
    q_norm = rng.nonzero(q_lora) if q_lora else None
    wq_b = rng.ints(q_lora or D, h * (p + r))
    wkv_a = rng.ints(D, c + r)
    kv_norm = rng.nonzero(c)
    wkv_b = rng.ints(c, h * (p + dv))
    wo = rng.ints(h * dv, D)
    operands = ([("wq_a", wq_a), ("q_norm", q_norm)] if q_lora else []) + [
        ("wq_b", wq_b), ("wkv_a", wkv_a), ("kv_norm", kv_norm), ("wkv_b", wkv_b), ("wo", wo)]
    attrs = (f"num_heads = {h} : i64, " + (f"q_lora_rank = {q_lora} : i64, " if q_lora else "")
             + f"kv_lora_rank = {c} : i64, qk_nope_head_dim = {p} : i64, "
             f"qk_rope_head_dim = {r} : i64, v_head_dim = {dv} : i64")

    def tensors(fold):
        t = reference.mla_to_tucker(wq_a, q_norm, wq_b, wkv_a, kv_norm, wkv_b, wo, num_heads=h,
                                    q_lora_rank=q_lora, kv_lora_rank=c, qk_nope_head_dim=p,
                                    qk_rope_head_dim=r, v_head_dim=dv)
        return tucker_tensors(t)
    case = Case(name, comment, "mla", operands, attrs, "f32", pre, post,
                keep_pre=(False, bool(q_lora), True), keep_post=(False, False, True),
                kept_widths=((h, q_lora or D, c + r), (h, D, c)), shared_kv=True, kv_before=c + r,
                scale_text="5.000000e-01" if p + r == 4 else None,
                ranks_note="; RMS-norm weights folded, per-token 1/rms left out", tensors=tensors)
    case.q_lora, case.kv_lora = q_lora, c
    return case


def cases():
    out = []

    # MHA whose query projection has rank 2 inside each head.
    g = Rng(1)
    h, hd = 4, 4
    wq = np.hstack([g.low_rank(D, hd, 2) for _ in range(h)])
    wk, wv, wo = g.ints(D, h * hd), g.ints(D, h * hd), g.ints(h * hd, D)
    out.append(mha_case("mha_rank2_query", "an MHA whose W^Q has rank 2 in each of its 4 heads has "
                        "query and key ranks 4x2 = 8; the post-softmax tensor is generic",
                        wq, wk, wv, wo, h, h, [4, 8, 8], [4, 16, 16], causal=True))
    selector_weights = (wq, wk, wv, wo)

    # The same structure with all four biases (ranks ignore them; compression folds them).
    g = Rng(2)
    wq = np.hstack([g.low_rank(D, hd, 2) for _ in range(h)])
    wk, wv, wo = g.ints(D, h * hd), g.ints(D, h * hd), g.ints(h * hd, D)
    biases = {"bq": g.nonzero(h * hd), "bk": g.ints(h * hd), "bv": g.ints(h * hd), "bo": g.ints(D)}
    out.append(mha_case("mha_biases", "biases are not part of the weight tensors: an MHA with all "
                        "four biases has the ranks of its projections; compressed, the query bias "
                        "adds one query direction (the extra coordinate of the augmented query "
                        "[x, 1]: 8 + 1 = 9) and raises each head's key rank to 3 (4x3 = 12)",
                        wq, wk, wv, wo, h, h, [4, 8, 8], [4, 16, 16], biases=biases))

    # GQA whose heads 0 and 1 share their query block and (up to 2x) their output block.
    g = Rng(3)
    wq = g.ints(D, h * hd)
    wq[:, hd:2 * hd] = wq[:, :hd]
    wk, wv = g.ints(D, 2 * hd), g.ints(D, 2 * hd)
    wo = g.ints(h * hd, D)
    wo[hd:2 * hd] = 2 * wo[:hd]
    out.append(mha_case("gqa_shared_heads", "a GQA (2 KV heads) whose heads 0 and 1 read the same "
                        "KV head with the same query block and proportional output blocks: head "
                        "rank 3, query/output rank 3x4 = 12, key/value rank 2x4 = 8",
                        wq, wk, wv, wo, h, 2, [3, 12, 8], [3, 12, 8]))

    # MQA.
    g = Rng(4)
    out.append(mha_case("mqa", "an MQA has key and value ranks head_dim = 4",
                        g.ints(D, h * hd), g.ints(D, hd), g.ints(D, hd), g.ints(h * hd, D), h, 1,
                        [4, 16, 4], [4, 16, 4]))

    # bf16 MHA whose whole query projection has rank 3.
    g = Rng(5)
    out.append(mha_case("mha_bf16_rank3", "a bf16 MHA (2 heads of 8) whose W^Q has rank 3 overall: "
                        "query rank 3, key rank 2x3 = 6",
                        g.low_rank(D, 16, 3), g.ints(D, 16), g.ints(D, 16), g.ints(16, D), 2, 2,
                        [2, 3, 6], [2, 16, 16], et="bf16", scale_text="0.35355339059327373"))

    # A GQA with rope: the ranks ignore the rotation (ranks file only; compression refuses it).
    g = Rng(6)
    out.append(mha_case("gqa_rope", "the rope is not part of the weight tensors and the remark says so",
                        g.ints(D, h * hd), g.ints(D, 2 * hd), g.ints(D, 2 * hd), g.ints(h * hd, D),
                        h, 2, [4, 16, 8], [4, 16, 8],
                        rope="#tucker.rope<theta = 10000.0, width = 4, style = half>"))

    # MLA with and without the query LoRA.
    out.append(mla_case("mla_q_lora", "an MLA (2 heads, q_lora 8, kv_lora 6, nope 2, rope 2, v 3) "
                        "has query rank 8 (two heads of nope+rope = 4 in the q_lora latent), key "
                        "rank 2x2 + 2 = 6 (per-head nope keys plus the shared rope key), output and "
                        "value rank 2x3 = 6; compression keeps its normalized latents whole",
                        Rng(7), 2, 8, 6, 2, 2, 3, [2, 8, 6], [2, 6, 6]))
    out.append(mla_case("mla_no_q_lora", "an MLA without wq_a has an unnormalized query (x·wq_b) "
                        "whose mode compression may truncate",
                        Rng(8), 2, None, 6, 2, 2, 3, [2, 8, 6], [2, 6, 6]))

    # tucker.attention with dense cores: ranks (2, 3, 5) and (2, 4, 3).
    g = Rng(9)
    t = dict(U1=g.ints(h, 2), U2=g.ints(D, 3), U3=g.ints(D, 5), core=g.ints(2, 3, 5),
             U1o=g.ints(h, 2), U2o=g.ints(D, 4), U3o=g.ints(D, 3), core_out=g.ints(2, 4, 3))
    operands = [("u1", t["U1"]), ("u2", t["U2"]), ("u3", t["U3"]), ("core", t["core"]),
                ("u1_out", t["U1o"]), ("u2_out", t["U2o"]), ("u3_out", t["U3o"]), ("core_out", t["core_out"])]
    out.append(Case("attention_dense", "a dense-core tucker.attention with r1 = 2 < 4 heads has its "
                    "factor ranks [2, 3, 5], [2, 4, 3]", "attention", operands,
                    "ranks = #tucker.ranks<[2, 3, 5], [2, 4, 3]>, scale = 0.25 : f64", "f32",
                    [2, 3, 5], [2, 4, 3], kv_before=8, scale_text="2.500000e-01",
                    mode_sizes=((4, 3, 5), (4, 4, 3)),
                    tensors=lambda fold, t=t: tucker_tensors(t)))

    # tucker.attention with a selector core: the lifted form of mha_rank2_query.
    wq, wk, wv, wo = selector_weights
    t = dict(U1=np.eye(h), U2=wq, U3=wk, U1o=np.eye(h), U2o=wo.T, U3o=wv, selector=(hd, hd, list(range(h))))
    operands = [("u1", t["U1"]), ("u2", t["U2"]), ("u3", t["U3"]),
                ("u1_out", t["U1o"]), ("u2_out", t["U2o"]), ("u3_out", t["U3o"])]
    out.append(Case("attention_selector", "a selector-core tucker.attention (the lifted "
                    "mha_rank2_query) has the ranks of that MHA", "attention", operands,
                    "ranks = #tucker.ranks<[4, 16, 16], [4, 16, 16]>, "
                    "selector = #tucker.selector<head_dim = 4, groups = [0, 1, 2, 3]>", "f32",
                    [4, 8, 8], [4, 16, 16], kv_before=32, scale_text="5.000000e-01",
                    tensors=lambda fold, t=t: tucker_tensors(t)))

    # A zero query projection: the pre-softmax tensor is 0.
    g = Rng(10)
    out.append(mha_case("mha_zero_query", "a zero W^Q gives a zero pre-softmax tensor, of ranks "
                        "[0, 0, 0]; compressed, it keeps rank 1 in each mode",
                        np.zeros((D, h * hd)), g.ints(D, h * hd), g.ints(D, h * hd), g.ints(h * hd, D),
                        h, h, [0, 0, 0], [4, 16, 16]))
    return out


NONCONSTANT = """// Tests that: an op whose weights are not constants gets no remark.
// CHECK-LABEL: func @not_constant
// CHECK: tucker.mha %
func.func @not_constant(%x: tensor<1x4x16xf32>, %w: tensor<16x16xf32>) -> tensor<1x4x16xf32> {
  %y = tucker.mha %x, %w, %w, %w, %w {num_heads = 4 : i64}
      : (tensor<1x4x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>,
         tensor<16x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}"""

HEADER = "// GENERATED by gen_hosvd_tests.py in this directory; edit that script, not this file.\n"


def ranks_file():
    head = (HEADER + "// RUN: tucker-opt %s --tucker-ranks -split-input-file -verify-diagnostics "
            "| FileCheck %s\n\n// The pass only reports: every op stays as it is.")
    body = []
    for case in cases():
        checks = f"// CHECK-LABEL: func @{case.name}\n// CHECK: tucker.{case.op} %"
        body.append(case.text(case.ranks_remark(), checks))
    body.append(NONCONSTANT)
    return head + "\n\n" + "\n\n// -----\n\n".join(body) + "\n"


def compress_file():
    head = (HEADER + "// RUN: tucker-opt %s --tucker-compress=tolerance=1e-5 -split-input-file "
            "-verify-diagnostics | FileCheck %s\n\n"
            "// Every case has exact low ranks, which the error bound 1e-5 recovers exactly, so\n"
            "// the compressed tensors are exact (relative error below the 1e-7 resolution).")
    body = []
    for case in cases():
        if case.rope:
            continue
        rp, rq, remarks = case.compress_expectation()
        body.append(case.text(remarks, case.compress_checks(rp, rq)))
    return head + "\n\n" + "\n\n// -----\n\n".join(body) + "\n"


RANKS_OPTION = ((2, 4, 4), (8, 32, 32))


def compress_ranks_file():
    head = (HEADER + "// RUN: tucker-opt %s --tucker-compress=ranks=2,4,4,8,32,32 -split-input-file "
            "-verify-diagnostics | FileCheck %s\n\n"
            "// Explicit ranks: the pre-softmax tensors are truncated below their ranks (errors as\n"
            "// NumPy's truncated HOSVD of the explicit tensors gives them, to 3 digits); the post-\n"
            "// softmax ranks exceed the mode sizes and are clamped to them (exact).")
    body = []
    for case in cases():
        if case.name not in ("mha_rank2_query", "mha_bf16_rank3", "gqa_shared_heads", "attention_dense"):
            continue
        rp, rq, remarks = case.compress_expectation(RANKS_OPTION)
        body.append(case.text(remarks, case.compress_checks(rp, rq)))
    return head + "\n\n" + "\n\n// -----\n\n".join(body) + "\n"


def main():
    files = {"tucker-ranks.mlir": ranks_file(), "tucker-compress.mlir": compress_file(),
             "tucker-compress-ranks.mlir": compress_ranks_file()}
    stale = []
    for name, text in files.items():
        path = os.path.join(HERE, name)
        if "--check" in sys.argv:
            if not os.path.exists(path) or open(path).read() != text:
                stale.append(name)
        else:
            with open(path, "w") as f:
                f.write(text)
    if stale:
        sys.exit("stale (rerun gen_hosvd_tests.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()
