"""Bad input everywhere (issue 8): the python -m tucker command line, tucker.compile and a compiled
Kernel refuse missing files, bad paths and options, and arrays of the wrong shape, rank, dtype,
layout or device with a clear message (and exit code 1 on the command line), never a crash or a
call into the kernel with memory it would misread."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tucker

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)

OK = """func.func @ok(%a: tensor<2x3xf32>, %b: tensor<?x3xf16>) -> tensor<2x3xf32> {
  return %a : tensor<2x3xf32>
}
"""

FLASH = """func.func @f(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>)
    -> tensor<1x2x8x16xf32> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>,
      tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}
"""


CUDA_FLASH = """func.func @f(%q: tensor<1x2x64x64xbf16>, %k: tensor<1x2x64x64xbf16>,
    %v: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>,
      tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}
"""


def have_hopper():
    return torch is not None and torch.cuda.is_available() and torch.cuda.get_device_capability(0)[0] == 9


def cli(*args):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-m", "tucker", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture(scope="module")
def ok_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad-input") / "ok.mlir"
    path.write_text(OK)
    (path.parent / "flash.mlir").write_text(FLASH)
    return path


# ---- python -m tucker ------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["compile", "/no/such/file.mlir", "-o", "x.so"], "no such file: /no/such/file.mlir"),
    (["ranks", "/no/such/file.mlir"], "no such file: /no/such/file.mlir"),
    (["compress", "/no/such/file.mlir", "--tol", "0.1"], "no such file: /no/such/file.mlir"),
    ([], "the following arguments are required"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["compile", "{ok}"], "the following arguments are required: -o/--output"),
    (["ranks", "{ok}", "--tol", "abc"], "invalid float value: 'abc'"),
    (["compress", "{ok}"], "one of the arguments --ranks --tol is required"),
    (["compress", "{ok}", "--ranks", "1,x"], "--ranks must be r1,r2,r3 or r1,r2,r3,s1,s2,s3 (integers), got '1,x'"),
    (["compress", "{ok}", "--tol", "-1"], "tol must be a finite number >= 0, got -1.0"),
    (["compile", "{ok}", "-o", "{tmp}/no/such/dir/x.so"], "cannot write -o"),
    (["compile", "{ok}", "-o", "{tmp}/x.so", "--pipeline-options", "query-tile=abc"],
     "invalid --pipeline-options='query-tile=abc'"),
    (["compile", "{flash}", "-o", "{tmp}/x.so", "--pipeline-options", "query-tile=0"],
     "needs positive tile sizes"),
    (["compile", "{ok}", "-o", "{tmp}/x.so", "--target", "tpu"], "unknown --target='tpu'"),
    (["compile", "{ok}", "-o", "{tmp}/x.so", "--entry", "nope"], "--entry=nope: the module has no func.func"),
])
def test_cli_errors_exit_1(args, message, ok_file, tmp_path):
    args = [a.format(ok=ok_file, flash=ok_file.parent / "flash.mlir", tmp=tmp_path) for a in args]
    proc = cli(*args)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_help_exits_0():
    proc = cli("--help")
    assert proc.returncode == 0 and "compile" in proc.stdout


# ---- tucker.compile --------------------------------------------------------------------------

def test_compile_rejects_bad_arguments():
    with pytest.raises(tucker.CompileError, match="cannot parse or verify"):
        tucker.compile("this is not MLIR")
    with pytest.raises(tucker.CompileError, match="no entry function"):
        tucker.compile("")
    with pytest.raises(tucker.CompileError, match="needs positive tile sizes"):
        tucker.compile(FLASH, pipeline_options={"key-tile": -1})
    with pytest.raises(tucker.CompileError, match="invalid --pipeline-options"):
        tucker.compile(OK, pipeline_options="query-tile=many")
    with pytest.raises(ValueError, match="opt_level must be 0, 1, 2 or 3, got 4"):
        tucker.compile(OK, opt_level=4)


def test_opt_level_from_the_environment(monkeypatch):
    """$TUCKER_OPT_LEVEL picks LLVM's level where opt_level is not given, and is checked."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 8, 16)).astype(np.float32) for _ in range(3))
    monkeypatch.setenv("TUCKER_OPT_LEVEL", "fast")
    with pytest.raises(ValueError, match="TUCKER_OPT_LEVEL must be 0, 1, 2 or 3, got 'fast'"):
        tucker.compile(FLASH)
    monkeypatch.setenv("TUCKER_OPT_LEVEL", "0")
    unoptimized = tucker.compile(FLASH)
    assert np.allclose(unoptimized(q, k, v), tucker.compile(FLASH, opt_level=3)(q, k, v),
                       rtol=1e-6, atol=1e-6)


@needs_torch
def test_cuda_target_without_a_usable_driver(tmp_path):
    # In a child process: loading a --target=cuda library loads its kernels, and where the driver
    # is missing the runtime aborts the process; Kernel must refuse before that. The child sees
    # no GPU (CUDA_VISIBLE_DEVICES) and no driver library (TUCKER_CUDA_DRIVER), here or on a GPU
    # machine.
    script = f"import tucker; tucker.compile({CUDA_FLASH!r}, target='cuda')"
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, CUDA_VISIBLE_DEVICES="",
               TUCKER_CUDA_DRIVER=str(tmp_path / "no-such-libcuda.so.1"))
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.rstrip().splitlines()[-1] == (
        "RuntimeError: the cuda target needs an NVIDIA Hopper GPU (sm_90a) with its driver, and "
        "torch finds no CUDA device here (torch.cuda.is_available() is False)")


def test_cuda_target_without_torch(tmp_path):
    # A child whose `import torch` fails (a module named torch that raises ImportError first on
    # the path): the cuda target names what is missing instead of failing on a None.
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n")
    script = f"import tucker; tucker.compile({CUDA_FLASH!r}, target='cuda')"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), PYTHON_DIR]))
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.rstrip().splitlines()[-1] == (
        "RuntimeError: the cuda target runs on torch CUDA tensors, and torch is not installed")


# ---- Kernel arguments ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kernel():
    return tucker.compile(OK)


def good():
    return np.zeros((2, 3), np.float32), np.zeros((5, 3), np.float16)


def test_good_call(kernel):
    a, b = good()
    a[:] = 1.5
    np.testing.assert_array_equal(kernel(a, b), a)
    np.testing.assert_array_equal(kernel(a, np.zeros((0, 3), np.float16)), a)  # an empty dynamic dim


@pytest.mark.parametrize("index,value,error,message", [
    (0, np.zeros((2, 3, 1), np.float32), ValueError, r"argument 0 of @ok has shape \(2, 3, 1\), expected \(2, 3\)"),
    (0, np.zeros((3,), np.float32), ValueError, r"argument 0 of @ok has shape \(3,\), expected \(2, 3\)"),
    (0, np.zeros((), np.float32), ValueError, r"argument 0 of @ok has shape \(.*\), expected \(2, 3\)"),
    (0, np.zeros((3, 2), np.float32), ValueError, r"has shape \(3, 2\), expected \(2, 3\)"),
    (1, np.zeros((5, 4), np.float16), ValueError, r"argument 1 of @ok has shape \(5, 4\), expected \(\?, 3\)"),
    (1, np.zeros((5,), np.float16), ValueError, r"argument 1 of @ok has shape \(5,\), expected \(\?, 3\)"),
    (0, np.zeros((2, 3), np.float64), TypeError, r"argument 0 of @ok must be f32 \(numpy float32\), got float64"),
    (0, np.zeros((2, 3), ">f4"), TypeError, r"must be f32 \(numpy float32\), got >f4"),
    (0, np.zeros((2, 3), np.int32), TypeError, r"must be f32"),
    (0, np.zeros((2, 3), np.complex64), TypeError, r"must be f32"),
    (0, np.zeros((2, 3), object), TypeError, r"must be f32"),
    (1, np.zeros((5, 3), np.float32), TypeError, r"argument 1 of @ok must be f16 \(numpy float16\), got float32"),
    (0, [[0.0] * 3] * 2, TypeError, "must be a NumPy array or a torch tensor, got list"),
    (0, 1.0, TypeError, "must be a NumPy array or a torch tensor, got float"),
    (0, None, TypeError, "must be a NumPy array or a torch tensor, got NoneType"),
])
def test_wrong_arrays_are_refused(kernel, index, value, error, message):
    args = list(good())
    args[index] = value
    with pytest.raises(error, match=message):
        kernel(*args)


def test_wrong_argument_count(kernel):
    a, b = good()
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        kernel(a)
    with pytest.raises(TypeError, match="takes 2 arguments, got 3"):
        kernel(a, b, b)


def test_non_contiguous_and_read_only_inputs_work(kernel):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)[:2, :3]  # strided view
    b = np.zeros((4, 3), np.float16)
    b.setflags(write=False)
    np.testing.assert_array_equal(kernel(a, b), a)


@needs_torch
def test_wrong_tensors_are_refused(kernel):
    a, b = torch.zeros(2, 3), torch.zeros(4, 3, dtype=torch.float16)
    with pytest.raises(TypeError, match=r"argument 0 of @ok must be f32 \(torch.float32\), got torch.float64"):
        kernel(a.double(), b)
    with pytest.raises(TypeError, match=r"argument 1 of @ok must be f16 \(torch.float16\), got torch.bfloat16"):
        kernel(a, b.bfloat16())
    with pytest.raises(ValueError, match=r"argument 0 of @ok has shape \(3, 2\), expected \(2, 3\)"):
        kernel(torch.zeros(3, 2), b)
    with pytest.raises(ValueError, match="argument 0 of @ok is on meta; the cpu target takes CPU tensors"):
        kernel(torch.zeros(2, 3, device="meta"), b)
    with pytest.raises(TypeError, match=r"argument 0 of @ok must be a dense tensor, got layout torch.sparse_coo"):
        kernel(torch.zeros(2, 3).to_sparse(), b)
    # Views, expanded tensors and tensors that require grad are fine.
    y = kernel(torch.arange(3.0).expand(2, 3), b)
    assert torch.equal(y, torch.arange(3.0).expand(2, 3))
    x = torch.ones(2, 3, requires_grad=True)
    assert torch.equal(kernel(x, b), torch.ones(2, 3))


@pytest.mark.skipif(not have_hopper(), reason="needs torch with an sm_90 GPU")
def test_wrong_cuda_tensors_are_refused():
    kernel = tucker.compile(CUDA_FLASH, target="cuda")
    q = torch.zeros(1, 2, 64, 64, dtype=torch.bfloat16, device="cuda")
    with pytest.raises(ValueError, match=r"argument 0 of @f is on cpu; the cuda target takes CUDA tensors"):
        kernel(q.cpu(), q, q)
    with pytest.raises(TypeError, match=r"argument 1 of @f must be bf16 \(torch.bfloat16\), got torch.float16"):
        kernel(q, q.half(), q)
    with pytest.raises(ValueError, match=r"argument 2 of @f has shape \(1, 2, 64, 32\), expected \(1, 2, 64, 64\)"):
        kernel(q, q, q[..., :32])
    with pytest.raises(TypeError, match=r"argument 0 of @f must be a torch CUDA tensor, got ndarray"):
        kernel(np.zeros((1, 2, 64, 64), np.uint16), q, q)
    with pytest.raises(TypeError, match="takes 3 arguments, got 2"):
        kernel(q, q)
    out = kernel(q, q, q)  # the kernel still works after the refusals
    torch.cuda.synchronize()
    assert out.is_cuda and bool((out == 0).all())


# torch's autograd engine rethrows an error of a backward as a C++ exception, which the ASan
# runtime that scripts/sanitize.sh preloads into the (uninstrumented) interpreter cannot
# intercept: its __cxa_throw check aborts the process.
asan_preloaded = "libasan" in os.environ.get("LD_PRELOAD", "")


@needs_torch
def test_kernel_outputs_stay_in_autograd():
    """A kernel computes no gradient: its output stays in autograd's graph where an input requires
    grad (so a loss through it cannot silently leave the inputs without gradients); without grad
    (no_grad, or no input that requires it) the output is a plain tensor."""
    kernel = tucker.compile(FLASH)
    q = torch.randn(1, 2, 8, 16, requires_grad=True)
    k, v = torch.randn(1, 2, 8, 16), torch.randn(1, 2, 8, 16)
    y = kernel(q, k, v)
    assert y.requires_grad and y.grad_fn is not None
    expected = torch.softmax(q.detach() @ k.transpose(-1, -2) / 4.0, dim=-1) @ v
    assert torch.allclose(y.detach(), expected, atol=1e-5)
    with torch.no_grad():
        assert not kernel(q, k, v).requires_grad
    assert not kernel(q.detach(), k, v).requires_grad
    # NumPy in, NumPy out: no autograd at all.
    assert isinstance(kernel(q.detach().numpy(), k.numpy(), v.numpy()), np.ndarray)


@needs_torch
@pytest.mark.skipif(asan_preloaded, reason="a backward's error aborts under the preloaded ASan "
                                           "runtime (its __cxa_throw interceptor)")
def test_backward_through_a_kernel_raises():
    """Backward through a kernel raises instead of leaving the inputs' gradients missing."""
    kernel = tucker.compile(FLASH)
    q = torch.randn(1, 2, 8, 16, requires_grad=True)
    k, v = torch.randn(1, 2, 8, 16), torch.randn(1, 2, 8, 16)
    with pytest.raises(RuntimeError, match=r"@f: a compiled tucker kernel has no backward"):
        (2 * kernel(q, k, v)).sum().backward()
    assert q.grad is None
