"""Whole layers on the GPU, what can be checked without one (issue 9).

- the signature of a `tucker-compile --target=cuda` layer carries its workspace size, equal to
  what the compiled entry takes, and tucker.Kernel passes one workspace per stream as the last
  argument;
- the references of test/Integration/GPU/layers/check_layer.py (nn.MultiheadAttention, HF Llama
  and DeepseekV3 semantics, the Tucker form) agree with the CPU pipeline on the f32 versions of
  those cases, so a GPU failure is the GPU's;
- the eager torch layers bench/gpu/bench_layers.py times agree with the same references.

The tools are found as tucker.compile finds them: $TUCKER_BUILD_DIR, PATH, <repo>/build.
"""

import contextlib
import ctypes
import glob
import json
import os
import re
import subprocess
import sys

import pytest

import tucker
from tucker import _tools
from tucker import compiler

torch = pytest.importorskip("torch")

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LAYERS = os.path.join(REPO, "test", "Integration", "GPU", "layers")
sys.path.insert(0, LAYERS)
sys.path.insert(0, os.path.join(REPO, "bench", "gpu"))

import bench_layers  # noqa: E402
import check_layer  # noqa: E402
from check_flash import read_case  # noqa: E402  (the // CASE: line of both check scripts)

TUCKER_LAYER = open(os.path.join(LAYERS, "layer-tucker.mlir")).read()


def test_signature_reads_workspace_bytes():
    base = {"entry": "f", "symbol": "_mlir_ciface_f", "target": "cuda",
            "inputs": [{"dtype": "bf16", "shape": [2, 3]}],
            "outputs": [{"dtype": "bf16", "shape": [2, 3], "dims": [2, 3]}]}
    assert compiler.Signature.from_json(base).workspace_bytes == 0
    assert compiler.Signature.from_json(dict(base, workspace_bytes=4096)).workspace_bytes == 4096


def test_cuda_layer_signature_has_its_workspace(tmp_path):
    src = tmp_path / "layer.mlir"
    src.write_text(TUCKER_LAYER)
    lib, sig = tmp_path / "layer.so", tmp_path / "layer.json"
    _tools.run_tool("tucker-compile", [str(src), "--target=cuda", "-o", str(lib),
                                       f"--signature={sig}"], what="tucker-compile")
    signature = json.loads(sig.read_text())
    assert signature["workspace_bytes"] > 0 and signature["workspace_bytes"] % 256 == 0
    lowered = _tools.run_tool("tucker-compile", [str(src), "--target=cuda", "--emit=mlir", "-o", "-"],
                              what="tucker-compile").stdout
    entry = re.search(r"llvm\.func @layer\(.*tucker\.workspace_bytes = (\d+) : i64", lowered)
    assert entry and int(entry.group(1)) == signature["workspace_bytes"]
    # The C interface: stream, 9 inputs, 1 output, the workspace.
    wrapper = re.search(r"llvm\.func @_mlir_ciface_layer\(([^)]*)\)", lowered).group(1)
    assert wrapper.count("!llvm.ptr") == 1 + 9 + 1 + 1


@pytest.fixture
def fake_cuda_library(tmp_path):
    """A C library with a cuda-target entry that records the pointers it gets."""
    src = tmp_path / "fake.c"
    src.write_text(r"""
        #include <stdint.h>
        typedef struct { void *allocated, *aligned; int64_t offset, sizes[1], strides[1]; } D1;
        void *seen[4];
        int64_t seen_size;
        void _mlir_ciface_f(void *stream, D1 *x, D1 *y, D1 *ws) {
          seen[0] = stream; seen[1] = x->aligned; seen[2] = y->aligned; seen[3] = ws->aligned;
          seen_size = ws->sizes[0];
        }
    """)
    lib = tmp_path / "libfake.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return str(lib)


def test_kernel_passes_one_workspace_per_stream(fake_cuda_library, monkeypatch):
    """tucker.Kernel (target cuda) appends the workspace descriptor, allocates it zero-filled (the
    decode kernels' counters start at zero) once per stream and reuses it; here torch's CUDA calls
    are stood in for by CPU ones."""
    monkeypatch.setattr(compiler, "_require_hopper", lambda: None)
    sig = {"entry": "f", "symbol": "_mlir_ciface_f", "target": "cuda", "workspace_bytes": 1024,
           "inputs": [{"dtype": "f32", "shape": [4]}],
           "outputs": [{"dtype": "f32", "shape": [4], "dims": [4]}]}
    kernel = compiler.Kernel(fake_cuda_library, sig)
    assert len(kernel._fn.argtypes) == 4  # stream, x, y, workspace
    streams = iter([111, 111, 222])

    class FakeCuda:
        @staticmethod
        def current_stream(device):
            return type("S", (), {"cuda_stream": next(streams)})()

        @staticmethod
        def is_current_stream_capturing():
            return False

        @staticmethod
        def Stream(device):
            return type("S", (), {"synchronize": lambda self: None})()

        @staticmethod
        def stream(s):
            return contextlib.nullcontext()

    class FakeTorch:  # torch with CPU memory for the workspace, a fake current stream
        cuda = FakeCuda
        uint8 = torch.uint8

        @staticmethod
        def empty(*shape, dtype, device):  # poisoned, as fresh device memory may be
            return torch.empty(*shape, dtype=dtype).fill_(77)

        @staticmethod
        def zeros(*shape, dtype, device):
            return torch.zeros(*shape, dtype=dtype)

        def __getattr__(self, name):
            return getattr(torch, name)

    monkeypatch.setattr(compiler, "_torch", lambda: FakeTorch())
    # Workspaces in CPU memory (tucker's runtime makes them on a GPU).
    monkeypatch.setattr(compiler.Kernel, "_device_zeros",
                        lambda self, nbytes: torch.zeros(nbytes, dtype=torch.uint8))
    lib = ctypes.CDLL(fake_cuda_library)
    seen = (ctypes.c_void_p * 4).in_dll(lib, "seen")
    x = torch.arange(4, dtype=torch.float32)
    monkeypatch.setattr(compiler.Kernel, "_prepare",
                        lambda self, i, a, spec: (a, a.data_ptr(), tuple(a.shape)))
    spaces = []
    for _ in range(3):
        kernel(x)
        spaces.append(seen[3])
        assert ctypes.c_int64.in_dll(lib, "seen_size").value == 1024
    assert seen[0] == 222  # the last call's stream
    assert spaces[0] == spaces[1] != spaces[2]  # one workspace per stream, reused
    assert set(kernel._workspaces) == {111, 222}
    assert all(not buf.any() for buf, _ in kernel._workspaces.values())


def layer_cases():
    return sorted(glob.glob(os.path.join(LAYERS, "layer-*.mlir")))


@pytest.mark.parametrize("path", layer_cases(), ids=os.path.basename)
def test_check_layer_reference_matches_cpu_pipeline(path):
    """The GPU checker's reference against the compiled f32 layer on the CPU (tol 1e-5)."""
    case = read_case(path)
    kernel = tucker.compile(open(path).read().replace("bf16", "f32"))
    gen = torch.Generator().manual_seed(1)
    names, inputs = check_layer.random_inputs(case, kernel.signature.args, torch.float32, gen)
    with torch.no_grad():
        ref = check_layer.reference(case, {n: t.double() for n, t in zip(names, inputs)})
    out = kernel(*inputs)
    assert float((out.double() - ref).norm() / ref.norm()) < 1e-5


def reference_attention(q, k, v, causal, scale):
    """Attention of H query heads over Hkv kv heads, float64."""
    g = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
    s = q @ k.transpose(-1, -2) * scale
    if causal:
        n = s.shape[-1]
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


@pytest.mark.parametrize("case", bench_layers.CASES, ids=lambda c: c["name"])
def test_bench_eager_layers_match_references(case, monkeypatch):
    """bench_layers.py's eager torch layers (at reduced sizes) against check_layer's references
    (float64, exact to rounding): the eager baseline computes the same layer as ours."""
    monkeypatch.setattr(bench_layers, "SIZES", {"llama1b": (2, 40, 64, 4), "gpt2": (2, 24, 48, 3)})
    case = dict(case)
    if case["kind"] == "gqa":
        case["kv_heads"] = 2
    if case["kind"] == "tucker":
        case["ranks"] = [4, 8, 16] if case["size"] == "llama1b" else [2, 8, 8]
    gen = torch.Generator().manual_seed(0)
    w = {n: torch.randn(s, generator=gen, dtype=torch.float64) for n, s in bench_layers.arguments(case)}
    y = bench_layers.Eager(case, w, torch, reference_attention)(w["x"])
    B, N, d, H = bench_layers.shape_of(case)
    spec = {"layer": case["kind"], "heads": H, "causal": case["causal"], "scale": bench_layers.scale_of(case),
            "kv_heads": case.get("kv_heads"), "theta": case.get("theta")}
    with torch.no_grad():
        ref = check_layer.reference(spec, w)
    assert float((y - ref).norm() / ref.norm()) < 1e-12


def test_bench_layers_sources_compile_for_cuda(tmp_path):
    """Each benchmark layer is valid tucker IR that the GPU pipeline takes (checked on one
    size each: the sources only differ in shapes)."""
    bench_layers.write(str(tmp_path))
    cases = json.loads((tmp_path / "cases.json").read_text())
    assert [c["name"] for c in cases] == [c["name"] for c in bench_layers.CASES]
    for name in ("gpt2-mha", "gpt2-tucker-8-128-64-causal", "llama1b-gqa8"):
        _tools.run_tool("tucker-compile", [str(tmp_path / f"{name}.mlir"), "--target=cuda", "-o",
                                           str(tmp_path / f"{name}.so")], what="tucker-compile")
