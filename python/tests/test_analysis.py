"""tucker.ranks / tucker.compress (python/tucker/analysis.py) and the `python -m tucker` CLI.

Ranks are checked against NumPy on the explicit n_H x d x d tensors (pre-softmax
W_i = W^Q_i W^K_i^T, post-softmax W~_i = W^O_i^T W^V_i^T, from reference.mha_to_tucker's factors)
for a random nn.MultiheadAttention and for synthetic low-rank weights; compression at full ranks
must be exact and compile to a kernel computing the original layer.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tucker
from tucker import _tools
from tucker import reference as ref

D, H, SEQ = 16, 4, 5
PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)


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
    res = tucker.compress(m, ranks=[2, 4, 4], causal=True)
    assert res.ranks_pre == [2, 4, 4] and res.ranks_post == [2, 4, 4]
    assert res.error_pre > 0 and res.error_post > 0
    assert res.error_pre_bound is None and res.error_post_bound is None
    assert res.params_after < res.params_before and res.kv_after < res.kv_before
    assert "causal" in res.mlir
    # Six ranks, and a tolerance on designed low-rank weights recovers the designed ranks.
    res6 = tucker.compress(m, ranks=[4, 8, 8, 4, 16, 16])
    assert (res6.ranks_pre, res6.ranks_post) == ([4, 8, 8], [4, 16, 16])
    low = make_mha(4, bias=False, q_inner=2, v_inner=1)
    rt = tucker.compress(low, tol=1e-5)
    assert (rt.ranks_pre, rt.ranks_post) == ([4, 8, 8], [4, 4, 4])
    assert rt.error_pre < 1e-5 and rt.error_post < 1e-5


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


# ---------------------------------------------------------------------------------------------
# CLI


def cli(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.abspath(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "tucker", *map(str, args)], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def mlir_file(tmp_path):
    path = tmp_path / "layer.mlir"
    path.write_text(tucker.from_torch(make_mha(6), torch.zeros(1, SEQ, D)))
    return path


def test_cli_ranks(mlir_file):
    p = cli("ranks", mlir_file, "--tol", "1e-6")
    assert p.returncode == 0, p.stderr
    assert "tucker.mha" in p.stdout and "[4, 16, 16]" in p.stdout and str(mlir_file) in p.stdout


def test_cli_compress_and_compile(mlir_file, tmp_path):
    out = tmp_path / "small.mlir"
    p = cli("compress", mlir_file, "--ranks", "2,4,4", "-o", out)
    assert p.returncode == 0, p.stderr
    assert "ranks [2, 4, 4], [2, 4, 4]" in p.stdout and "params: 1088 -> " in p.stdout
    assert "tucker.attention" in out.read_text()
    p = cli("compress", mlir_file, "--tol", "1e-9")
    assert p.returncode == 0, p.stderr
    assert "relative error: pre <1e-07" in p.stdout and "tucker.attention" in p.stdout
    lib = tmp_path / "libsmall.so"
    p = cli("compile", out, "-o", lib)
    assert p.returncode == 0, p.stderr
    assert lib.is_file()


@pytest.mark.parametrize("args", [
    ("ranks", "{missing}"),
    ("compile", "{missing}", "-o", "{tmp}/x.so"),
    ("compress", "{file}"),                                    # neither --ranks nor --tol
    ("compress", "{file}", "--ranks", "4,4", "--tol", "1e-3"),  # both
    ("compress", "{file}", "--ranks", "a,b,c"),
    ("compress", "{file}", "--ranks", "4,4"),
    ("compress", "{file}", "--ranks", "0,4,4"),
    ("compress", "{nonconst}", "--ranks", "2,4,4"),             # tucker-opt refuses
    ("ranks", "{file}", "--tol", "abc"),
    ("frobnicate", "{file}"),
    ("compile", "{bad}", "-o", "{tmp}/x.so"),                 # tucker-compile fails
])
def test_cli_errors(args, mlir_file, tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f( {\n")
    nonconst = tmp_path / "nonconst.mlir"
    nonconst.write_text(NON_CONSTANT)
    fmt = dict(missing=tmp_path / "nope.mlir", file=mlir_file, tmp=tmp_path, bad=bad, nonconst=nonconst)
    p = cli(*(a.format(**fmt) for a in args))
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr.strip() and "Traceback" not in p.stderr


def test_ranks_keeps_remark_notes():
    """Remarks with notes inside the parentheses (rope, norms) parse, notes included."""
    path = pathlib.Path(__file__).resolve().parents[2] / "test/Dialect/Tucker/Transforms/tucker-ranks.mlir"
    found = tucker.ranks(path)
    notes = [n for r in found for n in r["notes"]]
    assert "rope left out" in notes
    assert any(r["op"] == "tucker.mla" and r["pre"] == [2, 8, 6] for r in found)
