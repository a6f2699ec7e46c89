"""tucker.ranks / tucker.compress (python/tucker/analysis.py); the CLI is in test_cli.py.

Ranks are checked against NumPy on the explicit n_H x d x d tensors (pre-softmax
W_i = W^Q_i W^K_i^T, post-softmax W~_i = W^O_i^T W^V_i^T, from reference.mha_to_tucker's factors)
for a random nn.MultiheadAttention and for synthetic low-rank weights; compression at full ranks
must be exact and compile to a kernel computing the original layer.

The mode singular values that tucker.ranks reports (the compiler's Gram analysis) are checked
against np.linalg.svd of the mode unfoldings of explicit tensors built here from the weights (MHA,
GQA through the HF-semantics Llama module, MLA through the HF-semantics DeepseekV3 module), on
random weights and on synthetic weights of designed ranks. Tolerance: rtol 1e-6 with an absolute
floor of 1e-6 * sigma_1 (the Grams square the singular values, so the analysis resolves them to
about 1e-7 * sigma_1; the remark prints 9 significant digits).
"""

import pathlib
import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tucker
from tucker import _tools
from tucker import reference as ref
from hf_semantics import DeepseekV3Attention, LlamaAttention

D, H, SEQ = 16, 4, 5


@pytest.fixture(autouse=True)
def _need_tools():
    try:
        _tools.find_tool("tucker-opt")
        _tools.find_tool("tucker-compile")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))


def make_mha(seed, bias=True, q_inner=None, v_inner=None):
    """A random nn.MultiheadAttention(D, H); with q_inner / v_inner, each head's W^Q_i / W^V_i
    ([in, out] layout) is A_i @ B_i with that inner dimension."""
    torch.manual_seed(seed)
    m = torch.nn.MultiheadAttention(D, H, bias=bias, batch_first=True).eval()
    rng = np.random.default_rng(seed)
    dh = D // H

    def low_rank(inner):
        return np.concatenate([rng.standard_normal((D, inner)) @ rng.standard_normal((inner, dh))
                               for _ in range(H)], axis=1) / np.sqrt(D)

    with torch.no_grad():
        if q_inner is not None:
            m.in_proj_weight[:D] = torch.tensor(low_rank(q_inner).T, dtype=torch.float32)
        if v_inner is not None:
            m.in_proj_weight[2 * D:] = torch.tensor(low_rank(v_inner).T, dtype=torch.float32)
        if bias:
            m.in_proj_bias.normal_(0, 0.1)
            m.out_proj.bias.normal_(0, 0.1)
    return m


def weights(m):
    """[in, out] weights of the module as float64 (f32-rounded, as the MLIR constants are)."""
    W = m.in_proj_weight.detach().numpy().astype(np.float64)
    return W[:D].T, W[D:2 * D].T, W[2 * D:].T, m.out_proj.weight.detach().numpy().astype(np.float64).T


def numpy_ranks(m, tol=1e-6):
    """Numerical ranks of the mode unfoldings of the explicit pre/post-softmax tensors."""
    wq, wk, wv, wo = weights(m)
    t = ref.mha_to_tucker(wq, wk, wv, wo, num_heads=H)
    dh = D // H
    pre = np.stack([t["U2"][:, i * dh:(i + 1) * dh] @ t["U3"][:, i * dh:(i + 1) * dh].T for i in range(H)])
    post = np.stack([t["U2o"][:, i * dh:(i + 1) * dh] @ t["U3o"][:, i * dh:(i + 1) * dh].T for i in range(H)])

    def mode_ranks(T):
        out = []
        for mode in range(3):
            s = np.linalg.svd(np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1), compute_uv=False)
            out.append(int(np.sum(s > tol * s[0])))
        return out

    return mode_ranks(pre), mode_ranks(post)


def test_ranks_random_mha_full():
    m = make_mha(0)
    got = tucker.ranks(m)
    assert len(got) == 1
    r = got[0]
    assert r["op"] == "tucker.mha"
    assert r["pre"] == [4, 16, 16] and r["post"] == [4, 16, 16]
    assert numpy_ranks(m) == ([4, 16, 16], [4, 16, 16])
    assert r["location"].startswith("input:") and r["tolerance"] == 1e-6


def test_ranks_low_rank_weights():
    # W^Q_i of rank 2 per head: query and key modes 4 x 2 = 8; W^V_i of rank 1: post 4 x 1 = 4.
    m = make_mha(1, bias=False, q_inner=2, v_inner=1)
    expected = ([4, 8, 8], [4, 4, 4])
    assert numpy_ranks(m) == expected
    got = tucker.ranks(m, example_x=torch.zeros(2, 3, D))
    assert [(r["pre"], r["post"]) for r in got] == [expected]
    # Same answer from the MLIR text.
    text = tucker.from_torch(m, torch.zeros(1, 2, D))
    assert [(r["pre"], r["post"], r["op"]) for r in tucker.ranks(text)] == [expected + ("tucker.mha",)]


NON_CONSTANT = f"""func.func @f(%x: tensor<1x2x{D}xf32>, %w: tensor<{D}x{D}xf32>) -> tensor<1x2x{D}xf32> {{
  %y = tucker.mha %x, %w, %w, %w, %w {{num_heads = {H} : i64}} : (tensor<1x2x{D}xf32>, tensor<{D}x{D}xf32>, tensor<{D}x{D}xf32>, tensor<{D}x{D}xf32>, tensor<{D}x{D}xf32>) -> tensor<1x2x{D}xf32>
  return %y : tensor<1x2x{D}xf32>
}}
"""


def test_ranks_non_constant_weights_gives_nothing():
    text = NON_CONSTANT
    assert tucker.ranks(text) == []
    with pytest.raises(tucker.CompileError, match="not a constant"):
        tucker.compress(text, ranks=[2, 2, 2])


def test_compress_full_ranks_is_exact_and_compiles():
    m = make_mha(2)
    x = np.random.default_rng(2).standard_normal((1, SEQ, D)).astype(np.float32)
    original = tucker.from_torch(m, x)
    with pytest.warns(UserWarning, match="does not reduce its parameter count: 1088 -> 3136"):
        res = tucker.compress(original, ranks=[4, 16, 16])
    assert res.ranks_pre == [4, 16, 16] and res.ranks_post == [4, 16, 16]
    assert res.error_pre < 1e-6 and res.error_post < 1e-6
    assert "tucker.attention" in res.mlir and "tucker.mha" not in res.mlir
    assert res.params_before == 4 * D * D + 4 * D and res.kv_before == 2 * D
    y_orig = tucker.compile(original)(x)
    y_comp = tucker.compile(res.mlir)(x)
    np.testing.assert_allclose(y_comp, y_orig, atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        y_torch = m(*(torch.tensor(x),) * 3, need_weights=False)[0].numpy()
    np.testing.assert_allclose(y_comp, y_torch, atol=1e-4, rtol=1e-4)


def test_compress_smaller_ranks_and_tolerance():
    m = make_mha(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a compression that reduces the count does not warn
        res = tucker.compress(m, ranks=[2, 4, 4], causal=True)
    assert res.warnings == []
    assert res.ranks_pre == [2, 4, 4] and res.ranks_post == [2, 4, 4]
    assert res.error_pre > 0 and res.error_post > 0
    assert res.error_pre_bound is None and res.error_post_bound is None
    assert res.params_after < res.params_before and res.kv_after < res.kv_before
    assert "causal" in res.mlir
    # Six ranks, and a tolerance on designed low-rank weights recovers the designed ranks.
    with pytest.warns(UserWarning, match="does not reduce"):  # post-softmax at full ranks
        res6 = tucker.compress(m, ranks=[4, 8, 8, 4, 16, 16])
    assert (res6.ranks_pre, res6.ranks_post) == ([4, 8, 8], [4, 16, 16])
    low = make_mha(4, bias=False, q_inner=2, v_inner=1)
    rt = tucker.compress(low, tol=1e-5)
    assert (rt.ranks_pre, rt.ranks_post) == ([4, 8, 8], [4, 4, 4])
    assert rt.error_pre < 1e-5 and rt.error_post < 1e-5


def test_compress_module_follows_is_causal():
    """A module is imported with from_torch's defaults: an HF decoder attention (is_causal) gives
    a causal layer, causal=False a non-causal one. At full ranks the compressed kernel computes
    the module's forward with that mask (f32, 1e-4 as above); with or without example_x it takes
    x of any [B, N, d] (from_torch's dynamic dims)."""
    from test_from_torch_norope import BartAttention
    torch.manual_seed(8)
    m = BartAttention(D, H, is_causal=True).eval()
    x = torch.randn(2, SEQ, D)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # full ranks do not reduce the count
        default = tucker.compress(m, ranks=[H, D, D], example_x=x)
        override = tucker.compress(m, ranks=[H, D, D], example_x=x, causal=False)
        dummy = tucker.compress(m, ranks=[2, 4, 4])
    for res, causal in ((default, True), (override, False)):
        assert ("causal" in res.mlir) == causal
        with torch.no_grad():
            expected = m(x, causal=causal).numpy()
        np.testing.assert_allclose(tucker.compile(res.mlir)(x.numpy()), expected, atol=1e-4, rtol=1e-4)
    assert "causal" in dummy.mlir
    assert re.search(rf"@forward\(%\w+: tensor<\?x\?x{D}xf32>\)", dummy.mlir)


def tucker_params(d, heads, pre, post, bias_terms):
    """DESIGN.md "Counts per layer": r1 r2 r3 + n_H r1 + d r2 + d r3 per tensor, plus biases."""
    return sum(r1 * r2 * r3 + heads * r1 + d * (r2 + r3) for r1, r2, r3 in (pre, post)) + bias_terms


def test_compress_that_does_not_reduce_parameters_warns():
    """Full ranks: the dense Tucker form of MHA (n_H d^2 core entries per tensor) is larger than
    the layer's 4 d^2 + 4 d. The warning and the report both give the two counts."""
    m = make_mha(6)
    with pytest.warns(UserWarning) as caught:
        res = tucker.compress(m, ranks=[H, D, D])
    before, after = 4 * D * D + 4 * D, tucker_params(D, H, [H, D, D], [H, D, D], D + D)
    assert (res.params_before, res.params_after) == (before, after)
    assert len(caught) == 1 and len(res.warnings) == 1
    assert str(caught[0].message) == res.warnings[0]
    assert res.warnings[0] == (
        f"compressing the tucker.mha at {res.ops[0]['location']} to ranks [4, 16, 16], "
        f"[4, 16, 16] does not reduce its parameter count: {before} -> {after} (+{after - before}); "
        "smaller ranks or a larger tol are needed for a smaller layer")


def test_compress_warns_per_op():
    """Two ops compressed to the same ranks: only the one whose count does not drop warns."""
    torch.manual_seed(7)
    small = torch.nn.MultiheadAttention(4, 2, batch_first=True).eval()  # 4 d^2 + 4 d = 80
    text = (tucker.from_torch(small, torch.zeros(1, 3, 4)).replace("@forward", "@small")
            + tucker.from_torch(make_mha(7), torch.zeros(1, 3, D)).replace("@forward", "@large"))
    with pytest.warns(UserWarning) as caught:
        res = tucker.compress(text, ranks=[2, 4, 4])
    grew = [o for o in res.ops if o["params_after"] >= o["params_before"]]
    assert [o["params_before"] for o in grew] == [80] and len(res.ops) == 2
    assert grew[0]["params_after"] == tucker_params(4, 2, [2, 4, 4], [2, 4, 4], 4 + 4)
    assert [str(w.message) for w in caught] == res.warnings
    assert len(res.warnings) == 1 and grew[0]["location"] in res.warnings[0]
    assert f"80 -> {grew[0]['params_after']}" in res.warnings[0]


def test_compress_argument_errors():
    m = make_mha(5)
    with pytest.raises(ValueError, match="exactly one"):
        tucker.compress(m)
    with pytest.raises(ValueError, match="exactly one"):
        tucker.compress(m, ranks=[4, 4, 4], tol=1e-3)
    with pytest.raises(ValueError, match="3 or 6"):
        tucker.compress(m, ranks=[4, 4])
    with pytest.raises(TypeError):
        tucker.ranks(42)


def test_ranks_keeps_remark_notes():
    """Remarks with notes inside the parentheses (rope, norms) parse, notes included."""
    path = pathlib.Path(__file__).resolve().parents[2] / "test/Dialect/Tucker/Transforms/tucker-ranks.mlir"
    found = tucker.ranks(path)
    notes = [n for r in found for n in r["notes"]]
    assert "rope left out" in notes
    assert any(r["op"] == "tucker.mla" and r["pre"] == [2, 8, 6] for r in found)


# ---------------------------------------------------------------------------------------------
# Mode singular values against NumPy


def unfolding_singular_values(T):
    """Singular values of the three mode unfoldings of a 3-tensor (head, row, column)."""
    return [np.linalg.svd(np.moveaxis(T, m, 0).reshape(T.shape[m], -1), compute_uv=False)
            for m in range(3)]


def f64(t):
    return t.detach().numpy().astype(np.float64)


def gqa_tensors(wq, wk, wv, wo, heads, kv_heads):
    """Explicit pre/post-softmax tensors of MHA/GQA weights in [in, out] layout: head i reads key /
    value head i // (heads / kv_heads)."""
    dh, dv = wq.shape[1] // heads, wv.shape[1] // kv_heads
    g = heads // kv_heads
    pre = np.stack([wq[:, i * dh:(i + 1) * dh] @ wk[:, i // g * dh:(i // g + 1) * dh].T
                    for i in range(heads)])
    post = np.stack([(wv[:, i // g * dv:(i // g + 1) * dv] @ wo[i * dv:(i + 1) * dv]).T
                     for i in range(heads)])
    return pre, post


def mla_tensors(m):
    """Explicit tensors of an HF-semantics DeepseekV3Attention (DESIGN.md section 1, MLA): norm
    weights folded, per-token 1/rms and rope left out."""
    H, p, r, e, c = m.num_heads, m.qk_nope_head_dim, m.qk_rope_head_dim, m.v_head_dim, m.kv_lora_rank
    if m.q_lora_rank is None:
        q = f64(m.q_proj.weight).T
    else:
        q = f64(m.q_a_proj.weight).T * f64(m.q_a_layernorm.weight) @ f64(m.q_b_proj.weight).T
    kv_a = f64(m.kv_a_proj_with_mqa.weight).T
    latent = kv_a[:, :c] * f64(m.kv_a_layernorm.weight)
    kv_b = f64(m.kv_b_proj.weight).T
    wo = f64(m.o_proj.weight).T
    pre, post = [], []
    for i in range(H):
        qi = q[:, i * (p + r):(i + 1) * (p + r)]
        ki = np.concatenate([latent @ kv_b[:, i * (p + e):i * (p + e) + p], kv_a[:, c:]], axis=1)
        vi = latent @ kv_b[:, i * (p + e) + p:(i + 1) * (p + e)]
        pre.append(qi @ ki.T)
        post.append((vi @ wo[i * e:(i + 1) * e]).T)
    return np.stack(pre), np.stack(post)


def check_spectra(row, pre, post):
    """The reported spectra match NumPy's; NumPy's values past a reported mode size are zero."""
    for tensor, T in (("pre", pre), ("post", post)):
        ours = row[tensor + "_singular_values"]
        assert len(ours) == 3
        for mode, theirs in enumerate(unfolding_singular_values(T)):
            k = len(ours[mode])
            assert 1 <= k <= len(theirs), (tensor, mode, k, len(theirs))
            floor = 1e-6 * theirs[0]
            np.testing.assert_allclose(ours[mode], theirs[:k], rtol=1e-6, atol=floor,
                                       err_msg=f"{tensor}-softmax mode {mode}")
            assert np.all(theirs[k:] <= 1e-10 * theirs[0]), (tensor, mode, theirs[k:])
            assert np.all(np.diff(ours[mode]) <= 0), "not descending"


def numpy_rank(values, tol=1e-6):
    return int(np.sum(values > tol * values[0])) if values[0] > 0 else 0


def test_singular_values_random_mha():
    m = make_mha(10)
    (row,) = tucker.ranks(m)
    check_spectra(row, *gqa_tensors(*weights(m), H, H))
    assert [len(v) for v in row["pre_singular_values"]] == [H, D, D]


def test_singular_values_low_rank_mha():
    m = make_mha(11, bias=False, q_inner=2, v_inner=1)
    (row,) = tucker.ranks(m)
    pre, post = gqa_tensors(*weights(m), H, H)
    check_spectra(row, pre, post)
    # Past the designed ranks ([4, 8, 8], [4, 4, 4]) the reported values are below the tolerance.
    assert [numpy_rank(v) for v in row["pre_singular_values"]] == [4, 8, 8] == row["pre"]
    assert [numpy_rank(v) for v in row["post_singular_values"]] == [4, 4, 4] == row["post"]


def low_rank(rng, rows, cols, inner):
    return rng.standard_normal((rows, inner)) @ rng.standard_normal((inner, cols)) / np.sqrt(rows)


def set_linear(lin, w_in_out):
    """Sets an nn.Linear's weight from an [in, out] matrix."""
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w_in_out.T, dtype=torch.float32))


@pytest.mark.parametrize("designed", [False, True])
def test_singular_values_gqa(designed):
    # d 32, 4 query heads, 2 key/value heads of 8. Designed: W^Q_i of rank 3 and W^O_i of rank 2
    # per head: query 4x3 = 12, key 2 groups x (2 heads x 3) = 12, output 4x2 = 8, value 2x(2x2) = 8.
    torch.manual_seed(12)
    m = LlamaAttention(32, 4, 2, 8, 10000.0).eval()
    if designed:
        rng = np.random.default_rng(12)
        set_linear(m.q_proj, np.concatenate([low_rank(rng, 32, 8, 3) for _ in range(4)], axis=1))
        set_linear(m.o_proj, np.concatenate([low_rank(rng, 8, 32, 2) for _ in range(4)], axis=0))
    (row,) = tucker.ranks(m)
    assert row["op"] == "tucker.gqa" and "rope left out" in row["notes"]
    wq, wk, wv, wo = (f64(lin.weight).T for lin in (m.q_proj, m.k_proj, m.v_proj, m.o_proj))
    pre, post = gqa_tensors(wq, wk, wv, wo, 4, 2)
    check_spectra(row, pre, post)
    expected = ([4, 12, 12], [4, 8, 8]) if designed else ([4, 32, 16], [4, 32, 16])
    assert (row["pre"], row["post"]) == expected
    assert [[numpy_rank(s) for s in unfolding_singular_values(T)] for T in (pre, post)] == list(expected)


@pytest.mark.parametrize("q_lora", [8, None])
@pytest.mark.parametrize("designed", [False, True])
def test_singular_values_mla(q_lora, designed):
    # d 32, 2 heads, kv_lora 6, nope 4, rope 2, v 4; norm weights non-trivial. Designed: the
    # query path and the c_kv part of wkv_a of ranks 5 and 3: pre [2, 5, 3 + 2], post [2, 6, 3]
    # (output: 2 heads x rank 3 of their value maps; value: the rank-3 latent).
    torch.manual_seed(13)
    m = DeepseekV3Attention(32, 2, q_lora, 6, 4, 2, 4, 10000.0, rms_norm_eps=1e-5).eval()
    with torch.no_grad():
        for norm in (m.kv_a_layernorm, getattr(m, "q_a_layernorm", None)):
            if norm is not None:
                norm.weight.add_(0.3 * torch.randn_like(norm.weight))
    if designed:
        rng = np.random.default_rng(13)
        if q_lora is None:
            set_linear(m.q_proj, low_rank(rng, 32, 2 * 6, 5))
        else:
            set_linear(m.q_a_proj, low_rank(rng, 32, q_lora, 5))
        kv_a = f64(m.kv_a_proj_with_mqa.weight).T
        kv_a[:, :6] = low_rank(rng, 32, 6, 3)
        set_linear(m.kv_a_proj_with_mqa, kv_a)
    (row,) = tucker.ranks(m)
    assert row["op"] == "tucker.mla"
    pre, post = mla_tensors(m)
    check_spectra(row, pre, post)
    if designed:
        assert (row["pre"], row["post"]) == ([2, 5, 5], [2, 6, 3])
    assert [[numpy_rank(s) for s in unfolding_singular_values(T)] for T in (pre, post)] == \
        [row["pre"], row["post"]]
