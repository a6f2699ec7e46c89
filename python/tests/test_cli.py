"""The command line `python -m tucker {compile,ranks,compress}`: plain-text reports on stdout,
progress on stderr, --plot PNGs, and exit code 1 with a message (never a traceback) on bad input."""

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tucker
from test_analysis import D, NON_CONSTANT, SEQ, _need_tools, make_mha  # noqa: F401 (autouse fixture)

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


def read_png(path):
    """(height, width) of a PNG written by --plot; fails unless it is a valid, non-empty image."""
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), data[:16]
    from matplotlib.image import imread
    image = imread(str(path))
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert np.ptp(image[..., :3]) > 0.5, "blank image"
    return image.shape[:2]


def test_ranks(mlir_file):
    p = cli("ranks", mlir_file, "--tol", "1e-6")
    assert p.returncode == 0, p.stderr
    assert "tucker.mha" in p.stdout and str(mlir_file) in p.stdout and "@forward" in p.stdout
    # ranks / mode sizes of the random MHA: full.
    assert "[4, 16, 16] / [4, 16, 16]" in p.stdout
    # Progress on stderr, silenced by -q.
    assert "[1/1] tucker-opt --tucker-ranks" in p.stderr and "done in" in p.stderr
    q = cli("-q", "ranks", mlir_file)
    assert q.returncode == 0 and q.stderr == "" and q.stdout == p.stdout


def test_ranks_plot(mlir_file, tmp_path):
    png = tmp_path / "spectra.png"
    p = cli("ranks", mlir_file, "--plot", png)
    assert p.returncode == 0, p.stderr
    assert f"wrote {png}" in p.stdout and "[2/2] plotting 1 op(s)" in p.stderr
    read_png(png)


def test_compress_plot(mlir_file, tmp_path):
    png, out = tmp_path / "kept.png", tmp_path / "small.mlir"
    p = cli("compress", mlir_file, "--ranks", "2,4,4", "-o", out, "--plot", png)
    assert p.returncode == 0, p.stderr
    assert f"wrote {png}" in p.stdout and f"wrote {out}" in p.stdout
    assert "[3/3] plotting" in p.stderr
    read_png(png)


def test_plot_of_shipped_test_file(tmp_path):
    """Several ops of every kind (MHA, GQA, MQA, MLA, tucker.attention) in one figure."""
    path = os.path.join(PYTHON_DIR, os.pardir, "test/Dialect/Tucker/Transforms/tucker-ranks.mlir")
    png = tmp_path / "all.png"
    p = cli("-q", "ranks", path, "--plot", png)
    assert p.returncode == 0, p.stderr
    assert "@mla_q_lora" in p.stdout and "[2, 8, 6] / [2, 8, 8]" in p.stdout
    read_png(png)


@pytest.mark.parametrize("where,message", [
    ("{tmp}/no/such/dir/x.png", "no such directory"),
    ("{tmp}/x.jpg", "must end in .png"),
    ("{tmp}/adir.png", "it is a directory"),
])
def test_plot_bad_path(where, message, mlir_file, tmp_path):
    (tmp_path / "adir.png").mkdir()
    path = where.format(tmp=tmp_path)
    for args in (("ranks", mlir_file), ("compress", mlir_file, "--ranks", "2,4,4")):
        p = cli(*args, "--plot", path)
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert "--plot" in p.stderr and message in p.stderr and path in p.stderr
        assert "Traceback" not in p.stderr and p.stdout == ""  # refused before any work


def test_plot_nothing_to_plot(tmp_path):
    nonconst = tmp_path / "nonconst.mlir"
    nonconst.write_text(NON_CONSTANT)
    png = tmp_path / "x.png"
    p = cli("ranks", nonconst, "--plot", png)
    assert p.returncode == 1 and "nothing to plot" in p.stderr and not png.exists()


def test_compress_and_compile(mlir_file, tmp_path):
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
    assert f"@forward(f32(?, ?, {D})) -> (f32(?, ?, {D}))" in p.stdout  # from_torch's dynamic B, N
    assert "[1/1] tucker-compile --target=cpu" in p.stderr


def test_compress_report_warns(mlir_file):
    """Full ranks do not reduce MHA's parameter count: the report says so under the op (stdout,
    with or without -q), with CompressResult.warnings' message; Python's own warning is not
    printed on top of it."""
    p = cli("compress", mlir_file, "--ranks", "4,16,16")
    assert p.returncode == 0, p.stderr
    with pytest.warns(UserWarning):
        res = tucker.compress(mlir_file, ranks=[4, 16, 16])
    assert f"  warning: {res.warnings[0]}\n" in p.stdout
    assert "params: 1088 -> 3136" in p.stdout and "UserWarning" not in p.stderr
    q = cli("-q", "compress", mlir_file, "--ranks", "4,16,16")
    assert q.returncode == 0 and q.stderr == "" and q.stdout == p.stdout
    small = cli("compress", mlir_file, "--ranks", "2,4,4")
    assert small.returncode == 0 and "warning" not in small.stdout


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
def test_errors(args, mlir_file, tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f( {\n")
    nonconst = tmp_path / "nonconst.mlir"
    nonconst.write_text(NON_CONSTANT)
    fmt = dict(missing=tmp_path / "nope.mlir", file=mlir_file, tmp=tmp_path, bad=bad, nonconst=nonconst)
    p = cli(*(a.format(**fmt) for a in args))
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr.strip() and "Traceback" not in p.stderr
