"""Compiled kernels as torch ops (torch.ops.tucker.*), torch.compile, Kernel.load and CUDA graphs,
and tucker.optimize.

- torch >= 2.4 (the ops, fake implementations, torch.compile): skipped on older torch, with the
  reason; scripts/setup.sh --test runs this file in a venv with a pinned PyPI torch as well.
- Any torch: the op API's refusal on torch < 2.4, Kernel.load on the CPU, tucker.optimize
  eagerly (swaps, fallbacks, warnings).
- Hopper GPU (skipped elsewhere): torch.compile with CUDA kernels, CUDA graph capture before and
  after Kernel.load(), torch.compile(mode="reduce-overhead"), tucker.optimize(target="cuda").
  Where tucker-compile is missing (a GPU machine without the MLIR tools) the CUDA kernels are
  loaded from $TUCKER_CUDA_LIBS, made here with
      python3 python/tests/test_torch_ops.py prebuild DIR
  (DIR/<hash of the MLIR>.so and .json, libTuckerCudaRuntime.so beside them); the MLIR is made
  from weights drawn with NumPy, so both machines make the same text.

Tolerances (max abs difference over max abs reference): f32 1e-5 where the same kernel runs
eagerly and compiled (measured 0 to 3e-7), 1e-4 between a compiled layer and its module; bf16
2e-2 (the layer's bf16 rounding; measured 3-7e-3).
"""

import contextlib
import hashlib
import inspect
import json
import os
import re
import shutil
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import tucker  # noqa: E402
from tucker import torch_ops  # noqa: E402

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
needs_ops = pytest.mark.skipif(not torch_ops.available(),
                               reason="torch ops and torch.compile need torch >= 2.4 (this is "
                                      f"{getattr(torch, '__version__', 'no torch')})")
old_torch = pytest.mark.skipif(torch is None or torch_ops.available(), reason="torch >= 2.4 has the ops")
asan_preloaded = "libasan" in os.environ.get("LD_PRELOAD", "")
no_asan = pytest.mark.skipif(asan_preloaded, reason="a backward's error aborts under the preloaded "
                                                    "ASan runtime (its __cxa_throw interceptor)")


def have_hopper():
    return torch is not None and torch.cuda.is_available() and torch.cuda.get_device_capability(0)[0] == 9


needs_hopper = pytest.mark.skipif(not have_hopper(), reason="needs torch with an sm_90 GPU")

F32_SAME, F32_MODULE, BF16 = 1e-5, 1e-4, 2e-2


def rel(a, b):
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).abs().max() / b.abs().max())


def numpy_init(module, seed):
    """Parameters drawn with NumPy (the same on every machine and torch version)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.2).to(p.dtype))
    return module


def mha(d=16, heads=2, seed=0, **kwargs):
    return numpy_init(nn.MultiheadAttention(d, heads, batch_first=True, **kwargs), seed).eval()


# from_torch's static shapes (x of the example's shape only), where it has the option; without
# it (before dynamic shapes) its shapes are static anyway.
STATIC = {"static_shapes": True} if "static_shapes" in inspect.signature(tucker.from_torch).parameters else {}


def static_text(module, x, **kwargs):
    return tucker.from_torch(module, x, **STATIC, **kwargs)


def dynamic_batch(module, x):
    """The MLIR of `module` on x's shape with the batch of x and the result dynamic."""
    text = static_text(module, x)
    shape = tuple(x.shape)
    static = "tensor<" + "x".join(map(str, shape))
    assert static in text
    return text.replace(static, "tensor<?x" + "x".join(map(str, shape[1:])))


class HFAttention(nn.Module if torch else object):
    """An HF-style decoder attention without RoPE (OPT/BART-like): q/k/v/o projections, the
    model's additive attention_mask, position_ids taken (and unused), returns (output, None)."""
    is_causal = True

    def __init__(self, d, heads):
        super().__init__()
        self.num_heads, self.head_dim = heads, d // heads
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, hidden_states, attention_mask=None, position_ids=None, past_key_value=None,
                output_attentions=False):
        B, N, d = hidden_states.shape

        def heads(t):
            return t.view(B, N, self.num_heads, self.head_dim).transpose(1, 2)

        q, k, v = (heads(p(hidden_states)) for p in (self.q_proj, self.k_proj, self.v_proj))
        scores = q @ k.transpose(-1, -2) / self.head_dim ** 0.5
        if attention_mask is not None:
            scores = scores + attention_mask
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, N, d)
        return self.o_proj(y), None


def hf_mask(B, N, dtype, padding=None):
    """HF's additive causal mask [B, 1, N, N]; padding: [B, N] bool, False on padded keys."""
    low = torch.finfo(dtype).min
    mask = torch.zeros(B, 1, N, N, dtype=dtype)
    mask = mask.masked_fill(torch.ones(N, N, dtype=torch.bool).triu(1), low)
    if padding is not None:
        mask = mask.masked_fill(~padding[:, None, None, :], low)
    return mask


class SmallModel(nn.Module if torch else object):
    """Linear in, two pre-norm decoder blocks (HFAttention, the model's causal mask and
    positions), an nn.MultiheadAttention (not causal), Linear out."""

    def __init__(self, d=32, heads=4, blocks=2):
        super().__init__()
        self.inp = nn.Linear(8, d)
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(blocks))
        self.attns = nn.ModuleList(HFAttention(d, heads) for _ in range(blocks))
        self.mha = nn.MultiheadAttention(d, heads, batch_first=True)
        self.out = nn.Linear(d, 4)

    def forward(self, x, padding=None):
        B, N, _ = x.shape
        h = self.inp(x)
        mask = hf_mask(B, N, h.dtype, padding).to(h.device)
        positions = torch.arange(N, device=h.device)[None].expand(B, N)
        for norm, attn in zip(self.norms, self.attns):
            h = h + attn(norm(h), attention_mask=mask, position_ids=positions)[0]
        h = h + self.mha(h, h, h)[0]
        return self.out(h)


class RecordingBackend:
    """A torch.compile backend that counts the graphs it is given and keeps their ops."""

    def __init__(self, inner="eager"):
        self.graphs = []
        self.inner = inner

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        if self.inner == "eager":
            return gm.forward
        from torch._dynamo.backends.registry import lookup_backend
        return lookup_backend(self.inner)(gm, example_inputs)

    def targets(self):
        return [str(n.target) for g in self.graphs for n in g.graph.nodes if n.op == "call_function"]


# ------------------------------------------------------------------------------------------------
# The op API, on any torch


@old_torch
def test_op_refused_on_old_torch():
    kernel = tucker.compile(tucker.from_torch(mha(), torch.zeros(1, 4, 16)))
    with pytest.raises(RuntimeError, match=r"torch ops need torch >= 2.4 .*this is torch 1\."):
        kernel.op
    # The kernel itself is a plain callable, as before.
    assert kernel(torch.randn(1, 4, 16)).shape == (1, 4, 16)


@needs_torch
def test_load_on_cpu():
    kernel = tucker.compile(tucker.from_torch(mha(), torch.zeros(1, 4, 16)))
    assert kernel.load() is kernel and kernel.load(device="cpu") is kernel
    with pytest.raises(ValueError, match=r"@forward is a cpu kernel; load\(device='cuda'\)"):
        kernel.load(device="cuda")


@needs_torch
def test_capture_needs_load_simulated(tmp_path, monkeypatch):
    """The CUDA call path on the CPU (torch's CUDA calls stood in for, a C entry that records
    its pointers): inside capture a call before load() and load() itself raise; load() runs its
    call with the capture workspace, which calls under capture then get, and calls outside
    capture keep their stream's."""
    import ctypes
    import subprocess
    from tucker import compiler
    src = tmp_path / "fake.c"
    src.write_text(r"""
        #include <stdint.h>
        typedef struct { void *allocated, *aligned; int64_t offset, sizes[1], strides[1]; } D1;
        void *seen[4];
        void _mlir_ciface_f(void *stream, D1 *x, D1 *y, D1 *ws) {
          seen[0] = stream; seen[1] = x->aligned; seen[2] = y->aligned; seen[3] = ws->aligned;
        }
    """)
    path = str(tmp_path / "libfake.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", path, str(src)], check=True)
    monkeypatch.setattr(compiler, "_require_hopper", lambda: None)
    sig = {"entry": "f", "symbol": "_mlir_ciface_f", "target": "cuda", "workspace_bytes": 64,
           "inputs": [{"dtype": "f32", "shape": [4]}],
           "outputs": [{"dtype": "f32", "shape": [4], "dims": [4]}]}
    kernel = compiler.Kernel(path, sig)
    capturing, synchronized = [False], []

    class Stream:
        cuda_stream = 111

        def synchronize(self):
            synchronized.append(True)

    class FakeCuda:
        @staticmethod
        def current_stream(device):
            return Stream()

        @staticmethod
        def is_current_stream_capturing():
            return capturing[0]

        @staticmethod
        def Stream(device):
            return type("S", (), {"synchronize": lambda self: None})()

        @staticmethod
        def stream(s):
            return contextlib.nullcontext()

    class FakeTorch:  # torch with CPU memory
        cuda = FakeCuda

        @staticmethod
        def empty(*shape, dtype, device):
            return torch.empty(*shape, dtype=dtype)

        @staticmethod
        def zeros(*shape, dtype, device):
            return torch.zeros(*shape, dtype=dtype)

        def __getattr__(self, name):
            return getattr(torch, name)

    monkeypatch.setattr(compiler, "_torch", lambda: FakeTorch())
    # Workspaces in CPU memory (tucker's runtime makes them on a GPU).
    monkeypatch.setattr(compiler.Kernel, "_device_zeros",
                        lambda self, nbytes: torch.zeros(nbytes, dtype=torch.uint8))
    monkeypatch.setattr(compiler.Kernel, "_prepare", lambda self, i, a, spec: (a, a.data_ptr(), tuple(a.shape)))
    seen = (ctypes.c_void_p * 4).in_dll(ctypes.CDLL(path), "seen")
    x = torch.arange(4, dtype=torch.float32)
    kernel._run((x,))
    stream_space = seen[3]
    assert stream_space == kernel._workspaces[111][0].data_ptr()
    capturing[0] = True
    seen[3] = None
    with pytest.raises(RuntimeError, match=r"@f was called inside CUDA graph capture before Kernel.load\(\)"):
        kernel._run((x,))
    assert seen[3] is None  # nothing ran
    with pytest.raises(RuntimeError, match=r"@f: load\(\) runs a call and waits for it, which CUDA "
                                           r"graph capture does not allow"):
        kernel.load()
    capturing[0] = False
    with pytest.raises(ValueError, match="runs on cuda:0, not cuda:1"):
        kernel.load(device="cuda:1")
    assert kernel.load(x) is kernel and synchronized == [True]
    graph_space = kernel._graph_workspace[0].data_ptr()
    assert seen[3] == graph_space != stream_space
    capturing[0] = True
    kernel._run((x,))
    assert seen[3] == graph_space
    capturing[0] = False
    kernel._run((x,))
    assert seen[3] == stream_space


# ------------------------------------------------------------------------------------------------
# torch.ops.tucker (torch >= 2.4)


@needs_ops
def test_op_is_registered_and_computes_the_kernel():
    module = mha()
    x = torch.randn(2, 5, 16)
    kernel = tucker.compile(tucker.from_torch(module, x))
    assert re.fullmatch(r"forward_\d+", kernel.op_name)
    op = getattr(torch.ops.tucker, kernel.op_name)
    assert op.default is kernel.op
    assert "tucker::" + kernel.op_name in str(kernel.op._schema)
    assert torch.equal(op(x), kernel(x))
    with torch.no_grad():
        expected = module(x, x, x, need_weights=False)[0]
    assert rel(op(x), expected) <= F32_MODULE
    # Each kernel its own op, also for the same text.
    again = tucker.compile(tucker.from_torch(module, x))
    assert again.op_name != kernel.op_name
    # Refusals are the kernel's.
    with pytest.raises(TypeError, match=r"argument 0 of @forward must be f32"):
        kernel.op(x.double())


@needs_ops
def test_fake_implementation_shapes():
    from torch._subclasses.fake_tensor import FakeTensorMode
    x = torch.zeros(2, 5, 16)
    layer = tucker.compile(dynamic_batch(mha(), x))
    assert str(layer.signature.args[0]) == "f32(?, 5, 16)"
    two = tucker.compile(SCALE_ROWS)
    with FakeTensorMode():
        y = layer.op(torch.empty(7, 5, 16))
        assert y.shape == (7, 5, 16) and y.dtype == torch.float32
        rows, sums = two.op(torch.empty(9, 4), torch.empty(4))
        assert rows.shape == (9, 4) and sums.shape == (9,)
        with pytest.raises(ValueError, match=r"argument 0 of @forward has shape \(7, 6, 16\), "
                                             r"expected \(\?, 5, 16\)"):
            layer.op(torch.empty(7, 6, 16))
        with pytest.raises(TypeError, match=r"argument 1 of @scale_rows must be f32 \(torch.float32\), "
                                            r"got torch.float16"):
            two.op(torch.empty(9, 4), torch.empty(4, dtype=torch.float16))
    # The meta device uses the same implementation.
    y = layer.op(torch.empty(3, 5, 16, device="meta"))
    assert y.device.type == "meta" and y.shape == (3, 5, 16)


SCALE_ROWS = """
#id = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (j)>
#row = affine_map<(i, j) -> (i)>
func.func @scale_rows(%x: tensor<?x4xf32>, %w: tensor<4xf32>) -> (tensor<?x4xf32>, tensor<?xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : tensor<?x4xf32>, tensor<4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<?x4xf32>
  %er = tensor.empty(%n) : tensor<?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%er : tensor<?xf32>) -> tensor<?xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%y : tensor<?x4xf32>) outs(%z : tensor<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  return %y, %sum : tensor<?x4xf32>, tensor<?xf32>
}
"""


class KernelModel(nn.Module if torch else object):
    """Linear -> a compiled attention kernel -> Linear, calling the Kernel itself."""

    def __init__(self, kernel, d=16):
        super().__init__()
        self.kernel = kernel
        self.inp, self.out = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        return self.out(self.kernel(self.inp(x)).relu())


@needs_ops
def test_torch_compile_fullgraph_matches_eager():
    """The default backend (inductor, C++ on the CPU) traces the model without graph breaks,
    the kernel's op in its graph, and computes what eager does."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, 16)
    kernel = tucker.compile(tucker.from_torch(mha(), x))
    model = KernelModel(kernel).eval()
    with torch.no_grad():
        expected = model(x)
        compiled = torch.compile(model, fullgraph=True)
        assert rel(compiled(x), expected) <= F32_SAME
        x2 = torch.randn(2, 5, 16)
        assert rel(compiled(x2), model(x2)) <= F32_SAME
    backend = RecordingBackend()
    with torch.no_grad():
        torch.compile(model, fullgraph=True, backend=backend)(x)
    assert len(backend.graphs) == 1
    assert f"tucker.{kernel.op_name}.default" in backend.targets()


@needs_ops
def test_torch_compile_dynamic_batch():
    """A kernel with a dynamic batch (its signature: f32(?, 5, 16)) traces once with a symbolic
    batch and serves every batch size."""
    torch.manual_seed(1)
    module = mha()
    kernel = tucker.compile(dynamic_batch(module, torch.zeros(2, 5, 16)))
    model = KernelModel(kernel).eval()
    backend = RecordingBackend("aot_eager")
    compiled = torch.compile(model, fullgraph=True, dynamic=True, backend=backend)
    with torch.no_grad():
        for B in (2, 3, 7, 1):
            x = torch.randn(B, 5, 16)
            assert rel(compiled(x), model(x)) <= F32_SAME
            y = kernel(x)
            assert rel(y, module(x, x, x, need_weights=False)[0]) <= F32_MODULE
            # One graph for every batch but 1, which torch.compile specializes.
            assert len(backend.graphs) == (1 if B > 1 else 2)


@needs_ops
@no_asan
def test_backward_through_the_op_raises():
    x = torch.randn(2, 5, 16)
    kernel = tucker.compile(tucker.from_torch(mha(), x))
    message = r"@forward: a compiled tucker kernel has no backward"
    xg = x.clone().requires_grad_()
    y = kernel.op(xg)
    assert y.requires_grad
    with pytest.raises(RuntimeError, match=message):
        y.sum().backward()
    assert xg.grad is None
    # Compiled: the training graph traces (the fake backward), the backward raises when it runs.
    model = KernelModel(kernel)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    out = compiled(x)
    assert out.requires_grad and rel(out, model(x)) <= F32_SAME
    with pytest.raises(RuntimeError, match=message):
        out.sum().backward()
    assert model.inp.weight.grad is None
    # Without grad the outputs are plain tensors.
    with torch.no_grad():
        assert not kernel.op(xg).requires_grad


@needs_ops
def test_the_op_does_not_keep_its_kernel_alive():
    import gc
    kernel = tucker.compile(tucker.from_torch(mha(), torch.zeros(1, 4, 16)))
    op = kernel.op
    del kernel
    gc.collect()
    with pytest.raises(RuntimeError, match=r"the tucker kernel @forward behind this op was freed"):
        op(torch.zeros(1, 4, 16))


@needs_ops
def test_op_check_argument():
    kernel = tucker.compile(tucker.from_torch(mha(), torch.zeros(1, 4, 16)))
    x = torch.randn(1, 4, 16)
    assert torch.equal(kernel.op(x, torch.tensor([True, True]), "unused"), kernel(x))
    with pytest.raises(ValueError, match="^the mask is off$"):
        kernel.op(x, torch.tensor([True, False]), "the mask is off")


# ------------------------------------------------------------------------------------------------
# tucker.optimize (eager on any torch; torch.compile on torch >= 2.4)


def small_model(seed=0, dtype=None):
    torch.manual_seed(seed)
    model = numpy_init(SmallModel(), seed).eval()
    return model.to(dtype) if dtype is not None else model


@needs_torch
@pytest.mark.parametrize("dtype,tol", [("f32", F32_MODULE), ("bf16", BF16)])
def test_optimize_swaps_attention_modules(dtype, tol):
    """The three attention modules are swapped (two HF-style, causal; one nn.MultiheadAttention,
    not causal), the state_dict keeps its keys and the model computes what it did: f32 within
    1e-4 (measured ~3e-7), bf16 within 2e-2 of the bf16 model (the layer's own rounding)."""
    tdtype = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    model = small_model(dtype=tdtype)
    x = torch.randn(2, 6, 8, dtype=tdtype)
    with torch.no_grad():
        expected = model(x)
    keys = list(model.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = tucker.optimize(model, x)
    assert same is model
    swapped = {name: m for name, m in model.named_modules() if isinstance(m, tucker.TuckerAttention)}
    assert sorted(swapped) == ["attns.0", "attns.1", "mha"]
    assert [m.causal for _, m in sorted(swapped.items())] == [True, True, False]
    assert all(m.kernel.signature.args[0].dtype == dtype and m.kernel.signature.args[0].shape[-1] == 32
               for m in swapped.values())
    assert list(model.state_dict()) == keys
    assert swapped["mha"].embed_dim == 32  # attributes of the original module
    with torch.no_grad():
        assert rel(model(x), expected) <= tol
        x2 = torch.randn(2, 6, 8, dtype=tdtype)
        got = model(x2)
    for name, m in swapped.items():
        parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
        setattr(parent, name.rpartition(".")[2], m.original)
    with torch.no_grad():
        assert rel(got, model(x2)) <= tol


class SelfAttention(nn.Module if torch else object):
    """x -> mha(x, x, x): a model whose only module is an attention."""

    def __init__(self, module):
        super().__init__()
        self.mha = module

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


@needs_torch
def test_optimize_16bit_allows_the_modules_own_error():
    """bf16 attention with large scores (x of std 3) is 6e-2 off its float32 forward by itself:
    the compiled form (as far off) is swapped in; a wrong kernel (another module's) is still
    refused, with both errors in the message."""
    from tucker import optimization
    torch.manual_seed(0)
    x = (torch.randn(2, 32, 64) * 3).to(torch.bfloat16)
    model = SelfAttention(mha(d=64, heads=2, seed=6).to(torch.bfloat16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tucker.optimize(model, x)
    assert isinstance(model.mha, tucker.TuckerAttention)
    original = model.mha.original
    with torch.no_grad():
        exact = original.float()(x.float(), x.float(), x.float(), need_weights=False)[0]
        original.to(torch.bfloat16)
        own = rel(original(x, x, x, need_weights=False)[0], exact)
        assert own > BF16  # the case this test is about
        assert rel(model(x), exact) <= optimization.OWN_ERROR_FACTOR * own

    other = tucker.from_torch(mha(d=64, heads=2, seed=7).to(torch.bfloat16), x)
    model = SelfAttention(mha(d=64, heads=2, seed=6).to(torch.bfloat16))
    compile_other = lambda text, **kwargs: tucker.compile(other)  # noqa: E731
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimization, "_compile", compile_other)
        with pytest.warns(UserWarning, match=r"left mha \(MultiheadAttention\) as it is: its compiled "
                                             r"form differs from its float32 forward by .*, the "
                                             r"module's own bf16 forward by "):
            tucker.optimize(model, x)
    assert isinstance(model.mha, nn.MultiheadAttention)


@needs_torch
@pytest.mark.skipif(not STATIC, reason="from_torch has static shapes only")
def test_optimized_model_serves_other_shapes():
    """from_torch's dynamic batch and sequence: one swap serves every B and N (f32 within 1e-4)."""
    model = small_model(seed=2)
    tucker.optimize(model, torch.randn(2, 6, 8))
    assert all(m.kernel.signature.args[0].shape[:2] == (None, None)
               for m in model.modules() if isinstance(m, tucker.TuckerAttention))
    for B, N in ((1, 3), (3, 17)):
        x = torch.randn(B, N, 8)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback to the original modules
            got = model(x)
        assert got.shape == (B, N, 4)
        with torch.no_grad():
            assert rel(got, small_model(seed=2)(x)) <= F32_MODULE


@needs_torch
def test_optimize_leaves_what_it_cannot_swap():
    """A cross-attention call and a module the example never calls stay, with a warning each;
    a module of a kind from_torch refuses (add_bias_kv) too."""

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.cross = mha(seed=1)
            self.biased = numpy_init(nn.MultiheadAttention(16, 2, batch_first=True, add_bias_kv=True), 2).eval()
            self.unused = mha(seed=3)
            self.self_attn = mha(seed=4)

        def forward(self, x, memory):
            h = self.cross(x, memory, memory)[0]
            h = h + self.biased(h, h, h)[0]
            return self.self_attn(h, h, h, need_weights=False)[0]

    model = Model().eval()
    x, memory = torch.randn(1, 4, 16), torch.randn(1, 7, 16)
    with torch.no_grad():
        expected = model(x, memory)
    with pytest.warns(UserWarning) as record:
        tucker.optimize(model, (x, memory))
    messages = [str(w.message) for w in record]
    assert any(re.search(r"left cross \(MultiheadAttention\) as it is: .*cross-attention", m) for m in messages)
    assert any(re.search(r"left biased \(MultiheadAttention\) as it is: .*add_bias_kv", m) for m in messages)
    assert any(re.search(r"left unused \(MultiheadAttention\) as it is: the example inputs did not call it", m)
               for m in messages)
    assert isinstance(model.self_attn, tucker.TuckerAttention)
    assert not any(isinstance(getattr(model, n), tucker.TuckerAttention) for n in ("cross", "biased", "unused"))
    with torch.no_grad():
        assert rel(model(x, memory), expected) <= F32_MODULE


@needs_torch
def test_swapped_module_falls_back_or_refuses():
    """Calls the kernel does not compute: nn.MultiheadAttention's key_padding_mask, another shape
    -> the original module (a warning); an HF call with padding -> ValueError, eagerly."""
    model = small_model()
    x = torch.randn(2, 6, 8)
    tucker.optimize(model, x, **STATIC)  # kernels of x's shape
    attn = model.mha
    assert str(attn.kernel.signature.args[0]) == "f32(2, 6, 32)"
    h = torch.randn(2, 6, 32)
    padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    with torch.no_grad():
        with pytest.warns(UserWarning, match=r"mha: the compiled kernel does not compute this call "
                                             r"\(a key_padding_mask\)"):
            y, w = attn(h, h, h, key_padding_mask=padding)
        assert rel(y, attn.original(h, h, h, key_padding_mask=padding)[0]) <= 1e-6
        assert w is not None  # the original's weights
        h3 = torch.randn(3, 6, 32)
        with pytest.warns(UserWarning, match=r"x's shape: compiled for f32\(2, 6, 32\)"):
            y3 = attn(h3, h3, h3)[0]
        assert rel(y3, attn.original(h3, h3, h3)[0]) <= 1e-6
        assert attn(h, h, h)[1] is None  # the kernel computes no attention weights
        with pytest.raises(ValueError, match=r"attns.0: attention_mask masks keys of the last query"):
            model(x, padding=~padding)


@needs_ops
def test_optimized_model_under_torch_compile():
    """torch.compile(fullgraph=True) of the optimized model: the three ops in one graph, the
    outputs those of the eager optimized model; padding raises there too (the op's check)."""
    model = small_model()
    x = torch.randn(2, 6, 8)
    with torch.no_grad():
        expected = model(x)
    tucker.optimize(model, x)
    names = [m.kernel.op_name for m in model.modules() if isinstance(m, tucker.TuckerAttention)]
    assert len(names) == 3
    backend = RecordingBackend("aot_eager")
    with torch.no_grad():
        compiled = torch.compile(model, fullgraph=True, backend=backend)
        assert rel(compiled(x), expected) <= F32_MODULE
        assert rel(compiled(x), model(x)) <= F32_SAME
        assert len(backend.graphs) == 1
        assert sorted(t for t in backend.targets() if t.startswith("tucker.")) == \
            sorted(f"tucker.{n}.default" for n in names)
        padding = torch.ones(2, 6, dtype=torch.bool)
        padding[1, 4:] = False
        with pytest.raises(ValueError, match=r"attention_mask masks keys of the last query"):
            compiled(x, padding)


# ------------------------------------------------------------------------------------------------
# CUDA (Hopper): torch.compile, CUDA graphs, optimize(target="cuda")

CUDA_FLASH = """func.func @f(%q: tensor<1x2x64x64xbf16>, %k: tensor<1x2x64x64xbf16>,
    %v: tensor<1x2x64x64xbf16>) -> tensor<1x2x64x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>,
      tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}
"""

CUDA_FLASH_DYNAMIC = """func.func @g(%q: tensor<?x2x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
    %v: tensor<?x2x?x64xbf16>) -> tensor<?x2x?x64xbf16> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>,
      tensor<?x2x?x64xbf16> -> tensor<?x2x?x64xbf16>
  return %o : tensor<?x2x?x64xbf16>
}
"""


def cuda_layer_module(seed=5):
    """bf16 causal nn.MultiheadAttention, d 128, 2 heads; x [2, 64, 128]."""
    return numpy_init(nn.MultiheadAttention(128, 2, batch_first=True), seed).eval().to(torch.bfloat16)


def cuda_layer_text():
    return static_text(cuda_layer_module(), torch.zeros(2, 64, 128, dtype=torch.bfloat16), causal=True)


def cuda_texts():
    """Every MLIR text the CUDA tests compile."""
    model = cuda_model()
    return [CUDA_FLASH, CUDA_FLASH_DYNAMIC, cuda_layer_text(),
            static_text(model.mha, torch.zeros(2, 64, 128, dtype=torch.bfloat16), causal=False)]


def _key(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cuda_kernel(text):
    """tucker.compile(text, target="cuda"), or the library made by `prebuild` where
    tucker-compile is not found."""
    try:
        tucker.find_tool("tucker-compile")
    except tucker.ToolNotFoundError:
        libs = os.environ.get("TUCKER_CUDA_LIBS")
        base = os.path.join(libs or "", _key(text))
        if not libs or not os.path.isfile(base + ".so"):
            pytest.skip("tucker-compile is not found, nor this kernel in $TUCKER_CUDA_LIBS (made by "
                        "`python3 python/tests/test_torch_ops.py prebuild DIR`)")
        with open(base + ".json") as f:
            return tucker.Kernel(base + ".so", json.load(f))
    return tucker.compile(text, target="cuda")


def prebuild(directory):
    """Compiles cuda_texts() for the GPU machine (no GPU needed here)."""
    from tucker import _tools
    os.makedirs(directory, exist_ok=True)
    root = os.path.dirname(os.path.dirname(_tools.find_tool("tucker-compile")))
    runtime = next(p for p in (os.path.join(root, "lib/Runtime/libTuckerCudaRuntime.so"),
                               os.path.join(root, "lib/libTuckerCudaRuntime.so")) if os.path.isfile(p))
    shutil.copy(runtime, directory)
    for text in cuda_texts():
        base = os.path.join(directory, _key(text))
        with open(base + ".mlir", "w") as f:
            f.write(text)
        _tools.run_tool("tucker-compile", [base + ".mlir", "-o", base + ".so", "--target=cuda",
                                           f"--signature={base}.json"])
        print(base + ".so")


class CudaModel(nn.Module if torch else object):
    """Linear -> nn.MultiheadAttention (d 128, 2 heads, not causal) -> Linear, bf16."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(128, 128)
        self.mha = nn.MultiheadAttention(128, 2, batch_first=True)
        self.out = nn.Linear(128, 64)

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.mha(h, h, h, need_weights=False)[0])


def cuda_model():
    return numpy_init(CudaModel(), 6).eval().to(torch.bfloat16)


@needs_hopper
@needs_ops
def test_cuda_torch_compile_fullgraph():
    """The CUDA layer (bf16, causal) between two Linears, compiled with inductor, against eager
    (the same kernel: bf16 rounding of the Linears' fused epilogues only) and the module."""
    kernel = cuda_kernel(cuda_layer_text())
    module = cuda_layer_module().cuda()
    model = KernelModel(kernel, d=128).to(torch.bfloat16).cuda().eval()
    x = torch.randn(2, 64, 128, dtype=torch.bfloat16, device="cuda")
    backend = RecordingBackend("inductor")
    with torch.no_grad():
        expected = model(x)
        compiled = torch.compile(model, fullgraph=True, backend=backend)
        assert rel(compiled(x), expected) <= BF16
        assert f"tucker.{kernel.op_name}.default" in backend.targets()
        h = torch.randn(2, 64, 128, dtype=torch.bfloat16, device="cuda")
        causal = torch.ones(64, 64, dtype=torch.bool, device="cuda").triu(1)
        reference = module.float()(h.float(), h.float(), h.float(), attn_mask=causal, need_weights=False)[0]
        assert rel(kernel(h), reference) <= BF16


@needs_hopper
def test_cuda_graph_capture_needs_load():
    kernel = cuda_kernel(CUDA_FLASH)
    q = torch.randn(1, 2, 64, 64, dtype=torch.bfloat16, device="cuda")
    graph = torch.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match=r"@f was called inside CUDA graph capture before "
                                           r"Kernel.load\(\).*Call kernel.load\(\)"):
        with torch.cuda.graph(graph):
            kernel(q, q, q)
    # load() refuses to run inside capture as well.
    graph = torch.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match=r"load\(\) runs a call and waits for it"):
        with torch.cuda.graph(graph):
            kernel.load(q, q, q)
    torch.cuda.synchronize()


@needs_hopper
def test_cuda_graph_capture_after_load():
    """The flash kernel (reading its arguments through tensor maps) loaded with the tensors the
    graph captures, and the whole layer (constants uploaded by load()) loaded on zeros: replays
    on new data match eager calls."""
    flash = cuda_kernel(CUDA_FLASH)
    q, k, v = (torch.randn(1, 2, 64, 64, dtype=torch.bfloat16, device="cuda") for _ in range(3))
    assert flash.load(q, k, v) is flash
    layer = cuda_kernel(cuda_layer_text()).load()
    x = torch.randn(2, 64, 128, dtype=torch.bfloat16, device="cuda")
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        o = flash(q, k, v)
        y = layer(x)
    for seed in range(3):
        torch.manual_seed(seed)
        for t in (q, k, v, x):
            t.copy_(torch.randn_like(t))
        graph.replay()
        torch.cuda.synchronize()
        assert rel(o, flash(q, k, v)) <= 1e-6
        assert rel(y, layer(x)) <= 1e-6


@needs_hopper
def test_cuda_graph_capture_new_shape():
    """A kernel of dynamic B and N, loaded at one shape, captured at another with buffers it has
    not seen (their tensor maps are made under capture): replays on new data match eager calls
    and SDPA in float32."""
    flash = cuda_kernel(CUDA_FLASH_DYNAMIC).load()
    q, k, v = (torch.randn(2, 2, 192, 64, dtype=torch.bfloat16, device="cuda") for _ in range(3))
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        o = flash(q, k, v)
    for seed in range(3):
        torch.manual_seed(seed)
        for t in (q, k, v):
            t.copy_(torch.randn_like(t))
        graph.replay()
        torch.cuda.synchronize()
        assert rel(o, flash(q, k, v)) <= 1e-6
        expected = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(),
                                                                    is_causal=True)
        assert rel(o, expected) <= BF16


@needs_hopper
@needs_ops
def test_cuda_torch_compile_reduce_overhead():
    """torch.compile(mode="reduce-overhead") records CUDA graphs of the model with the loaded
    layer's op in them."""
    kernel = cuda_kernel(cuda_layer_text()).load()
    model = KernelModel(kernel, d=128).to(torch.bfloat16).cuda().eval()
    compiled = torch.compile(model, mode="reduce-overhead", fullgraph=True)
    with torch.no_grad():
        for seed in range(4):
            torch.manual_seed(seed)
            x = torch.randn(2, 64, 128, dtype=torch.bfloat16, device="cuda")
            assert rel(compiled(x), model(x)) <= BF16


@needs_hopper
def test_cuda_optimize(monkeypatch):
    """optimize(target="cuda") on a bf16 CUDA model: swapped, loaded, and off its float32 copy by
    no more than optimize allows (2e-2, or 1.5 times the bf16 model's own error: its scores are
    large), also under torch.compile(fullgraph=True) (torch >= 2.4)."""
    from tucker import optimization
    monkeypatch.setattr(optimization, "_compile", lambda text, **kwargs: cuda_kernel(text))
    model = cuda_model().cuda()
    x = torch.randn(2, 64, 128, dtype=torch.bfloat16, device="cuda")
    with torch.no_grad():
        exact = cuda_model().float().cuda()(x.float())
        allowed = max(BF16, optimization.OWN_ERROR_FACTOR * rel(model(x), exact))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tucker.optimize(model, x, target="cuda", **STATIC)  # capturable: no per-call buffers
    assert isinstance(model.mha, tucker.TuckerAttention)
    assert model.mha.kernel._graph_workspace is not None  # loaded
    with torch.no_grad():
        assert rel(model(x), exact) <= allowed
        if torch_ops.available():
            assert rel(torch.compile(model, fullgraph=True)(x), exact) <= allowed


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "prebuild":
        sys.exit("usage: test_torch_ops.py prebuild DIR")
    prebuild(sys.argv[2])
