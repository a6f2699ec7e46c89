"""Progress of from_torch, tucker.ranks and tucker.compress on stderr (progress=), and the command
line's -q. tqdm is used where importable: a stand-in records what the bar is given."""

import os
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn

import tucker
from tucker import _progress, _tools

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)


@pytest.fixture
def opt():
    try:
        _tools.find_tool("tucker-opt")
    except _tools.ToolNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(autouse=True)
def no_tqdm(monkeypatch):
    monkeypatch.setattr(_progress, "_tqdm", lambda: None)


def mha():
    return nn.MultiheadAttention(16, 2, batch_first=True).eval()


def test_from_torch_progress(capsys):
    tucker.from_torch(mha(), torch.zeros(1, 4, 16), progress=True)
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" ...")[0] for line in err] == [
        "from_torch: reading MultiheadAttention (0.0M parameters)",
        "from_torch: checking the import against MultiheadAttention",
        "from_torch: writing the weights"]
    assert all(" ... done in " in line and line.endswith(" s") for line in err)


def test_quiet_by_default_off_a_terminal(capsys):
    tucker.from_torch(mha(), torch.zeros(1, 4, 16))
    tucker.from_torch(mha(), torch.zeros(1, 4, 16), progress=False)
    assert capsys.readouterr().err == ""


def test_auto_on_a_terminal_for_large_layers():
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty
    assert _progress.enabled(None, _progress.LARGE, Stream(True))
    assert not _progress.enabled(None, _progress.LARGE - 1, Stream(True))
    assert not _progress.enabled(None, 10 ** 9, Stream(False))
    assert _progress.enabled(True, 1) and not _progress.enabled(False, 10 ** 9, Stream(True))


def test_tqdm_bar_for_the_weights(monkeypatch, capsys):
    bars = []

    class Bar:
        def __init__(self, **kwargs):
            self.kwargs, self.n, self.closed = kwargs, 0, False
            bars.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    monkeypatch.setattr(_progress, "_tqdm", lambda: Bar)
    tucker.from_torch(mha(), torch.zeros(1, 4, 16), progress=True)
    (bar,) = bars
    nbytes = 4 * (4 * 16 * 16 + 4 * 16)  # f32 wq, wk, wv, wo and four biases
    assert bar.kwargs["desc"] == "from_torch: writing the weights" and bar.kwargs["total"] == nbytes
    assert bar.n == nbytes and bar.closed and bar.kwargs["file"] is sys.stderr
    err = capsys.readouterr().err  # the steps without a total stay plain lines
    assert "from_torch: reading MultiheadAttention" in err


def test_ranks_and_compress_progress(opt, capsys):
    text = tucker.from_torch(mha(), torch.zeros(1, 4, 16))
    tucker.ranks(text, progress=True)
    err = capsys.readouterr().err
    assert err.startswith("tucker-opt --tucker-ranks=tolerance=1e-06 singular-values ... done in ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tucker.compress(mha(), ranks=[2, 4, 4], progress=True)
    lines = [line.split(" ...")[0] for line in capsys.readouterr().err.splitlines()]
    assert lines == ["from_torch: reading MultiheadAttention (0.0M parameters)",
                     "from_torch: checking the import against MultiheadAttention",
                     "from_torch: writing the weights", "tucker-opt --tucker-compress=ranks=2,4,4"]
    tucker.ranks(text)
    assert capsys.readouterr().err == ""


def cli(*args):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(PYTHON_DIR))
    return subprocess.run([sys.executable, "-m", "tucker", *map(str, args)], capture_output=True,
                          text=True, env=env)


def test_cli_quiet(opt, tmp_path):
    path = tmp_path / "layer.mlir"
    path.write_text(tucker.from_torch(mha(), torch.zeros(1, 4, 16), weights="resource"))
    loud, quiet = cli("ranks", path), cli("-q", "ranks", path)
    assert loud.returncode == quiet.returncode == 0
    assert loud.stdout == quiet.stdout and "tucker.mha  [2, 16, 16]" in loud.stdout  # resource weights read
    assert "[1/1] tucker-opt --tucker-ranks" in loud.stderr and quiet.stderr == ""
