"""Compiling MLIR to a callable kernel: tucker.compile(text) -> Kernel.

`compile` writes the text to a temporary directory, runs tucker-compile (which runs
--tucker-cpu-pipeline and links a shared library, plus a JSON sidecar with the entry's
signature), and loads the library with ctypes. A `Kernel` takes NumPy arrays or torch CPU tensors
matching the entry's argument types, allocates the outputs and returns them (torch tensors if any
input was a torch tensor, else NumPy arrays).

Element types: f32, f64, f16 (np.float16 / torch.float16), bf16 (torch.bfloat16, or a NumPy
uint16 array holding the bf16 bits; see to_bf16_bits / from_bf16_bits), and i8/i16/i32/i64.

Dynamic dimensions (`?`) are allowed: their sizes come from the arrays passed in, and every
dynamic output dimension must equal an input dimension (tucker-compile works this out from the IR
and refuses to compile otherwise). Static dimensions must match exactly. Dynamic dimensions that
the kernel's ops relate (the batch of a flash's q and k, its k and v key counts, ...) must agree:
the compiled entry checks them before it runs anything and the call raises ValueError naming the
arguments, their sizes and the op that relates them.

An argument that is the `lengths` operand of a tucker.flash (the signature marks it) must be
int32 of shape [B] (B: the flash's batch) with values in [0, Nk] (Nk: its key count); anything
else is a ValueError. (The op itself clamps to [0, Nk]; where Nk is not known from the inputs,
only values < 0 are refused.) The values are checked only when they are on the host: for a CUDA
tensor that would copy them back and synchronize on every call, so there the kernels' clamping
is what applies.
"""

import ctypes
import functools
import json
import os
import shutil
import sys
import tempfile
import weakref
from typing import NamedTuple, Optional

import numpy as np

from . import torch_ops as _torch_ops
from ._tools import CompileError, run_tool

__all__ = ["compile", "Kernel", "Signature", "ArraySpec", "CompileError", "to_bf16_bits", "from_bf16_bits"]

_NUMPY_DTYPES = {
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    "f16": np.dtype(np.float16),
    "bf16": np.dtype(np.uint16),  # the raw bf16 bits
    "i8": np.dtype(np.int8),
    "i16": np.dtype(np.int16),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
}


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _torch_dtype(name):
    torch = _torch()
    return {
        "f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16,
        "i8": torch.int8, "i16": torch.int16, "i32": torch.int32, "i64": torch.int64,
    }[name]


def _is_torch_tensor(x):
    torch = _torch() if type(x).__module__.startswith("torch") else None
    return torch is not None and isinstance(x, torch.Tensor)


def _compiling():
    """True while torch.compile (dynamo) traces the caller; imports nothing."""
    torch = sys.modules.get("torch")
    compiler = getattr(torch, "compiler", None)
    return compiler is not None and hasattr(compiler, "is_compiling") and compiler.is_compiling()


def to_bf16_bits(a):
    """float array -> np.uint16 array of bf16 bits (round to nearest even)."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    out = (rounded >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    out[nan] = np.uint16(0x7FC0)
    return out


def from_bf16_bits(bits):
    """np.uint16 array of bf16 bits -> np.float32 array."""
    return (np.ascontiguousarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


_DESCRIPTORS = {}


def _descriptor_type(rank):
    """ctypes struct of MLIR's strided memref descriptor of this rank."""
    if rank not in _DESCRIPTORS:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTORS[rank] = type(f"MemRefDescriptor{rank}", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTORS[rank]


@functools.lru_cache(maxsize=1024)
def _strides(shape):
    """Row-major strides of `shape` (cached: calls repeat their shapes)."""
    strides, stride = [0] * len(shape), 1
    for i in reversed(range(len(shape))):
        strides[i] = stride
        stride *= shape[i]
    return tuple(strides)


def _descriptor(ptr, shape):
    rank = len(shape)
    desc = _descriptor_type(rank)()
    desc.allocated = desc.aligned = ptr
    desc.offset = 0
    if rank:
        desc.sizes[:] = shape
        desc.strides[:] = _strides(tuple(shape))
    return desc


def _fmt_shape(shape):
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class ArraySpec(NamedTuple):
    """One argument or result of a kernel: element type ("f32", "bf16", ...), shape (None for a
    dynamic dimension) and, for results, where each dimension's size comes from (an int, or
    (input index, dim) for a dynamic one). For an argument that is the lengths of tucker.flash
    ops, `lengths` holds one (batch, keys) pair per flash, each a size, (input index, dim), or
    None when not known from the inputs."""
    dtype: str
    shape: tuple
    dims: Optional[tuple] = None
    lengths: tuple = ()

    def __str__(self):
        return f"{self.dtype}{_fmt_shape(self.shape)}"


class Signature(NamedTuple):
    """The entry function of a compiled kernel (from tucker-compile's --signature sidecar)."""
    entry: str
    symbol: str
    target: str
    args: tuple
    results: tuple
    workspace_bytes: int = 0  # cuda: the trailing device workspace argument (0: none)
    checked: bool = True  # the entry checks the shapes of a call and returns why it refused one

    @classmethod
    def from_json(cls, j):
        def source(d):
            return d if d is None or isinstance(d, int) else (d["input"], d["dim"])

        def spec(t, result):
            dims = tuple(source(d) for d in t["dims"]) if result else None
            lengths = tuple((source(b["batch"]), source(b["keys"])) for b in t.get("lengths", ()))
            return ArraySpec(t["dtype"], tuple(t["shape"]), dims, lengths)
        return cls(j["entry"], j["symbol"], j["target"], tuple(spec(t, False) for t in j["inputs"]),
                   tuple(spec(t, True) for t in j["outputs"]), int(j.get("workspace_bytes", 0)),
                   int(j.get("version", 1)) >= 2)


def _require_hopper():
    """Raises RuntimeError unless torch sees an sm_90 GPU on cuda:0 (what --target=cuda runs on)."""
    torch = _torch()
    if torch is None:
        raise RuntimeError("the cuda target runs on torch CUDA tensors, and torch is not installed")
    if not torch.cuda.is_available():
        raise RuntimeError("the cuda target needs an NVIDIA Hopper GPU (sm_90a) with its driver, and torch "
                           "finds no CUDA device here (torch.cuda.is_available() is False)")
    major, minor = torch.cuda.get_device_capability(0)
    if major != 9:
        raise RuntimeError(f"the cuda target's kernels are for Hopper (sm_90a); cuda:0 is "
                           f"{torch.cuda.get_device_name(0)} (sm_{major}{minor})")


class _NoBackward:
    """torch.autograd.Function (made on first use: torch is optional) that passes a kernel's
    output through and refuses to differentiate it."""
    _function = None

    @classmethod
    def get(cls):
        if cls._function is None:
            torch = _torch()

            class NoBackward(torch.autograd.Function):
                @staticmethod
                def forward(ctx, entry, result, *inputs):
                    ctx.entry = entry
                    return result

                @staticmethod
                def backward(ctx, *grads):
                    raise RuntimeError(_torch_ops.no_backward_message(ctx.entry))
            cls._function = NoBackward
        return cls._function


class Kernel:
    """A compiled entry function. Call it with one array per argument; returns the output (or a
    tuple of outputs, or None without results). `signature` describes the arguments and results.

    With torch >= 2.4, `op` is the kernel as a torch op (torch.ops.tucker.<op_name>, see
    torch_ops.py), and a call traced by torch.compile goes through it. `load()` does a first
    call's one-time work ahead of time; a CUDA kernel needs it before a call inside CUDA graph
    capture."""

    def __init__(self, library, signature, keep_library=True):
        self.signature = signature if isinstance(signature, Signature) else Signature.from_json(signature)
        self.entry = self.signature.entry
        self.library_path = library if keep_library else None  # None: removed after loading
        if self.signature.target == "cuda":
            _require_hopper()  # loading the library loads its kernels onto the GPU
        self._lib = ctypes.CDLL(library)
        try:
            self._fn = getattr(self._lib, self.signature.symbol)
        except AttributeError:
            raise CompileError(f"{library} does not export {self.signature.symbol}") from None
        # The entry returns NULL, or a message when the shapes of the call disagree with what its
        # ops relate (libraries of signature version 1 return nothing and check nothing).
        self._fn.restype = ctypes.c_char_p if self.signature.checked else None
        # --target=cuda: a leading CUstream; the call enqueues on it and returns at once.
        self._cuda = self.signature.target == "cuda"
        self._fn.argtypes = [ctypes.c_void_p] * (len(self.signature.args) + len(self.signature.results)
                                                 + int(self._cuda) + int(self.signature.workspace_bytes > 0))
        self._workspaces = {}  # CUstream -> (its device workspace, descriptor), made on first use
        self._fast = None  # what the common call needs, precomputed on the first one (_fast_plan)
        self._graph_workspace = None  # cuda: (workspace, descriptor) of calls under capture (load)
        self._loading = False  # load()'s call runs with the capture workspace
        self._op = None  # (name, torch op) (torch >= 2.4; torch_ops.py)
        self._op_tried = False
        self._make_op()  # ready before torch.compile traces a call

    def __deepcopy__(self, memo):
        return self  # nothing of a kernel changes once it is loaded: copies (of a model) share it

    def __repr__(self):
        ins = ", ".join(map(str, self.signature.args))
        outs = ", ".join(map(str, self.signature.results))
        return f"<tucker.Kernel @{self.entry}({ins}) -> ({outs})>"

    def _prepare(self, i, x, spec):
        """Checks argument i against its spec; returns (contiguous array, data pointer)."""
        name = f"argument {i} of @{self.entry}"
        dtype = spec.dtype
        if _is_torch_tensor(x):
            want = _torch_dtype(dtype)
            if x.dtype != want:
                raise TypeError(f"{name} must be {dtype} ({want}), got {x.dtype}")
            if self._cuda and x.device.type != "cuda":
                raise ValueError(f"{name} is on {x.device}; the cuda target takes CUDA tensors")
            if self._cuda and (x.device.index or 0) != 0:
                raise ValueError(f"{name} is on {x.device}; tucker's CUDA runtime runs on cuda:0")
            if not self._cuda and x.device.type != "cpu":
                raise ValueError(f"{name} is on {x.device}; the cpu target takes CPU tensors")
            if x.layout != _torch().strided:
                raise TypeError(f"{name} must be a dense tensor, got layout {x.layout} (use .to_dense())")
            arr = x.detach().contiguous()
            ptr = arr.data_ptr()
            shape = tuple(arr.shape)
        elif self._cuda:
            raise TypeError(f"{name} must be a torch CUDA tensor, got {type(x).__name__}")
        elif isinstance(x, np.ndarray):
            want = _NUMPY_DTYPES[dtype]
            if x.dtype != want:
                hint = " (NumPy has no bf16: pass a torch.bfloat16 tensor or np.uint16 bf16 bits, " \
                       "see tucker.to_bf16_bits)" if dtype == "bf16" else ""
                raise TypeError(f"{name} must be {dtype} (numpy {want}), got {x.dtype}{hint}")
            arr = np.ascontiguousarray(x)
            ptr = arr.ctypes.data
            shape = arr.shape
        else:
            raise TypeError(f"{name} must be a NumPy array or a torch tensor, got {type(x).__name__}")
        expected = spec.shape
        if len(shape) != len(expected) or any(e is not None and e != s for s, e in zip(shape, expected)):
            raise ValueError(f"{name} has shape {_fmt_shape(shape)}, expected {_fmt_shape(expected)}")
        return arr, ptr, shape

    def _check_lengths(self, i, arr, spec, shapes):
        """Checks argument i, the lengths of tucker.flash ops: [B] with values in [0, Nk]."""
        name = f"argument {i} of @{self.entry} (the lengths of a tucker.flash)"
        on_device = _is_torch_tensor(arr) and arr.device.type != "cpu"
        values = None if on_device else (arr.numpy() if _is_torch_tensor(arr) else arr)

        def size(src):  # a size, (input, dim) or None
            return shapes[src[0]][src[1]] if isinstance(src, tuple) else src

        for batch, keys in spec.lengths:
            b, nk = size(batch), size(keys)
            if b is not None and shapes[i] != (b,):
                raise ValueError(f"{name} must have shape ({b},), one key count per sequence of the "
                                 f"batch, got {_fmt_shape(shapes[i])}")
            if values is None:  # no host copy (see the module docstring)
                continue
            bad = np.flatnonzero((values < 0) | (values > (nk if nk is not None else np.inf)))
            if bad.size:
                bound = "[0, Nk]" if nk is None else f"[0, {nk}] (Nk = {nk} keys)"
                raise ValueError(f"{name} must hold values in {bound}, got lengths[{bad[0]}] = "
                                 f"{values[bad[0]]}")

    def _raise_refusal(self, message, shapes):
        """ValueError with the entry's reason for refusing a call (its message names the
        descriptors by position), and the shapes of this call's arrays."""
        if not message:
            return
        n = len(self.signature.args)
        ins = ", ".join(_fmt_shape(s) for s in shapes[:n])
        outs = ", ".join(_fmt_shape(s) for s in shapes[n:])
        raise ValueError(f"{message.decode(errors='replace')} (arguments {ins}; outputs {outs})")

    def _make_op(self):
        """Registers the op once torch >= 2.4 is imported (nothing is imported here); where that
        fails the kernel still works and `.op` raises the reason."""
        if self._op is None and not self._op_tried and _torch_ops.imported():
            self._op_tried = True
            try:
                self._op = _torch_ops.make_op(self)
            except Exception:  # noqa: BLE001
                pass

    @property
    def op(self):
        """The kernel as a torch op, `torch.ops.tucker.<op_name>` (its default overload): the same
        arguments and outputs as a call, with a fake implementation from the signature, so that
        torch.compile(fullgraph=True) traces it; its backward raises. Made on first use, or when
        the kernel is made while torch >= 2.4 is imported. RuntimeError on older torch."""
        if self._op is None:
            self._op = _torch_ops.make_op(self)
        return self._op[1]

    @property
    def op_name(self):
        """The op's name in torch.ops.tucker (`<entry>_<n>`, unique in the process)."""
        self.op  # noqa: B018 (made on first use)
        return self._op[0]

    def load(self, *example_args, device=None):
        """Does the one-time work of a first call now, on the host, and returns the kernel.

        cuda: runs one call (on `example_args`, or on zeros of the signature's shapes, dynamic
        dimensions 1) with the workspace that calls inside CUDA graph capture use, and waits for
        it: the module's constants (embedded weights, rope tables) are uploaded to the device
        (a synchronous copy), the flash kernels' tensor maps of that workspace and of the
        arguments are made, and the cuBLASLt plans of those shapes are chosen. A call inside
        capture needs it (RuntimeError otherwise); it also keeps that work out of the first
        timed call. Calls under capture may then take other shapes and buffers: what a new shape
        or buffer address needs (a flash's tensor maps) is uploaded in a way capture allows,
        before the call returns. Calls captured into graphs share one workspace per kernel:
        replay those graphs in order (one stream), not concurrently.
        cpu: nothing to upload; a no-op. device: None or the kernel's device (cuda:0 / cpu)."""
        torch = _torch()
        if not self._cuda:
            if device is not None and str(device) != "cpu":
                raise ValueError(f"@{self.entry} is a cpu kernel; load(device={device!r}) names another "
                                 "device")
            return self
        if device is not None and (torch.device(device).type != "cuda" or
                                   (torch.device(device).index or 0) != 0):
            raise ValueError(f"@{self.entry}: tucker's CUDA runtime runs on cuda:0, not {device}")
        if torch.cuda.is_current_stream_capturing():
            raise RuntimeError(f"@{self.entry}: load() runs a call and waits for it, which CUDA graph "
                               "capture does not allow: call it before capturing")
        if not example_args:
            example_args = [torch.zeros([1 if d is None else d for d in spec.shape],
                                        dtype=_torch_dtype(spec.dtype), device="cuda:0")
                            for spec in self.signature.args]
        if self._graph_workspace is None:
            nbytes = self.signature.workspace_bytes
            buf = self._device_zeros(nbytes) if nbytes else None
            self._graph_workspace = (buf, _descriptor(buf.data_ptr(), (nbytes,)) if nbytes else None)
        self._loading = True
        try:
            self._run(tuple(example_args))
        finally:
            self._loading = False
        torch.cuda.current_stream(0).synchronize()
        return self

    def _call_workspace(self, torch, stream):
        """(workspace, descriptor) of a cuda call on `stream` (both None without a workspace).
        Inside CUDA graph capture: the one load() made, whose first call is done; RuntimeError
        before load(), where the first call would upload constants synchronously."""
        if self._loading or torch.cuda.is_current_stream_capturing():
            if self._graph_workspace is None:
                raise RuntimeError(
                    f"@{self.entry} was called inside CUDA graph capture before Kernel.load(): its "
                    "first call uploads the kernel's constants (a synchronous copy) and prepares its "
                    "workspace, which capture does not allow. Call kernel.load() (with the tensors "
                    "or shapes to capture) before capturing")
            return self._graph_workspace
        if not self.signature.workspace_bytes:
            return None, None
        self._workspace(stream)
        return self._workspaces[stream]

    def _workspace(self, stream):
        """The descriptor of this stream's workspace: the device memory of the layer's
        intermediates, allocated once per stream (calls on one stream are ordered and share it;
        calls on other streams get their own, so they do not race). Zero-filled: the decode
        kernels keep arrival counters there that they leave at zero."""
        if stream not in self._workspaces:
            nbytes = self.signature.workspace_bytes
            buf = self._device_zeros(nbytes)
            self._workspaces[stream] = (buf, _descriptor(buf.data_ptr(), (nbytes,)))
        return self._workspaces[stream][1]

    def _device_zeros(self, nbytes):
        """Zero-filled device memory of the kernel's own, from tucker's runtime (cuMemAlloc, then
        a memset it waits for): outside torch's allocator, so outside any memory pool the
        caller's stream or thread allocates to (torch.compile's CUDA graph trees send those to
        the graph's pool, which must hold the graph's tensors only), and legal under capture.
        Freed with the kernel, after the device has finished what may still read it."""
        ptr = ctypes.c_uint64(0)
        alloc = self._lib.tuckerCudaAllocZeroed
        alloc.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
        if alloc(ctypes.byref(ptr), nbytes) != 0:
            message = ctypes.CFUNCTYPE(ctypes.c_char_p)(("tuckerCudaGetLastError", self._lib))()
            raise RuntimeError(f"@{self.entry}: allocating its {nbytes}-byte device workspace "
                               f"failed: {message.decode(errors='replace')}")
        return _DeviceBuffer(self._lib, ptr.value)

    def _fast_plan(self):
        """For the common call (every argument a dense torch tensor of the right type, on the
        right device): the torch dtypes, the static dims to compare, and where each descriptor
        lies in the one block of int64s built per call (a ctypes structure per descriptor costs
        microseconds each)."""
        torch = _torch()
        sig = self.signature
        specs = list(sig.args) + list(sig.results)
        offsets, words = [], 0
        for spec in specs:
            offsets.append(words)
            words += 3 + 2 * len(spec.shape)
        if self._cuda and sig.workspace_bytes:
            offsets.append(words)
            words += 5
        static = [(len(spec.shape), tuple((d, e) for d, e in enumerate(spec.shape) if e is not None))
                  for spec in sig.args]
        results = [(_torch_dtype(spec.dtype), spec.dims) for spec in sig.results]
        self._fast = (torch, [_torch_dtype(spec.dtype) for spec in sig.args], static, results,
                      offsets, [i for i, spec in enumerate(sig.args) if spec.lengths])

    def _call_fast(self, args):
        """__call__ for the common case; None when an argument is not (the checked path then
        converts it or says what is wrong)."""
        if self._fast is None:
            self._fast_plan()
        torch, dtypes, static, results, offsets, lengths = self._fast
        sig = self.signature
        strided, cuda = torch.strided, self._cuda
        tensors, shapes = [], []
        for x, dtype, (rank, dims) in zip(args, dtypes, static):
            if not isinstance(x, torch.Tensor) or x.dtype != dtype or x.layout != strided or \
                    not (x.is_cuda and x.get_device() == 0 if cuda else x.is_cpu):
                return None
            shape = tuple(x.shape)
            if len(shape) != rank or any(shape[d] != e for d, e in dims):
                return None
            tensors.append(x if x.is_contiguous() else x.detach().contiguous())
            shapes.append(shape)
        for i in lengths:
            self._check_lengths(i, tensors[i], sig.args[i], shapes)
        device = "cuda:0" if cuda else "cpu"
        outs = []
        for dtype, dims in results:
            shape = tuple(d if isinstance(d, int) else shapes[d[0]][d[1]] for d in dims)
            outs.append(torch.empty(shape, dtype=dtype, device=device))
            tensors.append(outs[-1])
            shapes.append(shape)
        words = []
        for t, shape in zip(tensors, shapes):
            ptr = t.data_ptr()
            words += (ptr, ptr, 0, *shape, *_strides(shape))
        if cuda:
            stream = torch.cuda.current_stream(0).cuda_stream
            workspace = self._call_workspace(torch, stream)[0]
            if sig.workspace_bytes:
                ptr = workspace.data_ptr()
                words += (ptr, ptr, 0, sig.workspace_bytes, 1)
        block = (ctypes.c_int64 * len(words))(*words)
        base = ctypes.addressof(block)
        pointers = [base + 8 * o for o in offsets]
        if cuda:
            pointers.insert(0, stream)
        self._raise_refusal(self._fn(*pointers), shapes)
        del tensors
        return outs

    def __call__(self, *args):
        if _compiling():  # torch.compile traces the op (its fake implementation), not ctypes
            if self._op is None:
                # torch.compile cannot register an op while it traces: make it before (the
                # kernel was made before torch was imported and not called since)
                raise RuntimeError(f"@{self.entry}: access kernel.op once before torch.compile "
                                   "traces a call of a kernel made before torch was imported")
            return self._op[1](*args)
        if self._op is None:
            self._make_op()  # ready for a later torch.compile trace
        return self._results(args, self._run(args))

    def _run(self, args):
        """The call itself: the list of outputs, outside autograd."""
        sig = self.signature
        if len(args) != len(sig.args):
            raise TypeError(f"@{self.entry} takes {len(sig.args)} arguments, got {len(args)}")
        outs = self._call_fast(args) if args and _is_torch_tensor(args[0]) else None
        if outs is not None:
            return outs
        use_torch = any(_is_torch_tensor(a) for a in args)
        keep, descs, shapes = [], [], []
        for i, (x, spec) in enumerate(zip(args, sig.args)):
            if spec.lengths:
                is_torch = _is_torch_tensor(x)
                if (is_torch and x.dtype != _torch().int32) or \
                        (isinstance(x, np.ndarray) and x.dtype != np.int32):
                    raise ValueError(f"argument {i} of @{self.entry} (the lengths of a "
                                     f"tucker.flash) must be int32, got {x.dtype}")
            arr, ptr, shape = self._prepare(i, x, spec)
            keep.append(arr)
            shapes.append(shape)
            descs.append(_descriptor(ptr, shape))
        for i, spec in enumerate(sig.args):
            if spec.lengths:
                self._check_lengths(i, keep[i], spec, shapes)
        results = []
        for spec in sig.results:
            shape = tuple(d if isinstance(d, int) else shapes[d[0]][d[1]] for d in spec.dims)
            if use_torch:
                torch = _torch()
                device = "cuda:0" if self._cuda else "cpu"
                out = torch.empty(shape, dtype=_torch_dtype(spec.dtype), device=device)
                ptr = out.data_ptr()
            else:
                out = np.empty(shape, dtype=_NUMPY_DTYPES[spec.dtype])
                ptr = out.ctypes.data
            results.append(out)
            descs.append(_descriptor(ptr, shape))
        if self._cuda:
            # torch's current stream: ordered after the work that made the inputs, before the
            # work that reads the outputs; no host synchronization.
            stream = _torch().cuda.current_stream(0).cuda_stream
            workspace = self._call_workspace(_torch(), stream)[1]
            if sig.workspace_bytes:
                descs.append(workspace)
        pointers = [ctypes.addressof(d) for d in descs]
        if self._cuda:
            pointers.insert(0, stream)
        self._raise_refusal(self._fn(*pointers), shapes + [tuple(r.shape) for r in results])
        del keep
        return results

    def _results(self, args, outs):
        """What a call returns. Where autograd records the call (an input requires grad), the
        outputs stay in its graph through a node whose backward raises: the kernel computes no
        gradient, and a loss that reached its inputs through it would otherwise be silently
        wrong."""
        if not outs:
            return None
        torch = _torch() if any(_is_torch_tensor(a) for a in args) else None
        if torch is not None and torch.is_grad_enabled():
            tracked = [a for a in args if _is_torch_tensor(a) and a.requires_grad]
            if tracked:
                outs = [_NoBackward.get().apply(self.entry, out, *tracked) for out in outs]
        return outs[0] if len(outs) == 1 else tuple(outs)


class _DeviceBuffer:
    """Device memory from tucker's runtime: data_ptr() as a torch tensor has it; freed when
    collected (the context synchronized first: a captured graph or an enqueued call may still
    read it; under capture, where neither is allowed, it is left allocated)."""

    def __init__(self, lib, ptr):
        self._ptr = ptr
        weakref.finalize(self, _DeviceBuffer._free, lib, ptr)

    def data_ptr(self):
        return self._ptr

    @staticmethod
    def _free(lib, ptr):
        torch = _torch()
        if torch.cuda.is_current_stream_capturing():
            return
        lib.tuckerCudaContextSynchronize()
        lib.tuckerCudaFree(ctypes.c_uint64(ptr))


def _options_string(options):
    if options is None:
        return None
    if isinstance(options, str):
        return options
    if isinstance(options, dict):
        def fmt(v):
            return ("true" if v else "false") if isinstance(v, bool) else str(v)
        return " ".join(f"{k}={fmt(v)}" for k, v in options.items())
    raise TypeError(f"pipeline_options must be a string or a dict, got {type(options).__name__}")


def compile(mlir_text, *, target="cpu", pipeline_options=None, entry=None, workdir=None,
            opt_level=None):
    """Compiles `mlir_text` with tucker-compile and loads the result.

    target: "cpu", or "cuda" (Hopper, sm_90a: the kernel takes and returns torch CUDA tensors on
    cuda:0 and runs on torch's current stream). pipeline_options: the options of the target pipeline as
    tucker-opt takes them ("query-tile=32 key-tile=32") or a dict ({"query-tile": 32}). entry: the
    function to export (default: the only public function). workdir: keep the .mlir, .so and
    .json in a new subdirectory of it (Kernel.library_path) instead of a temporary directory that
    is removed once the library is loaded. opt_level: LLVM's optimization level for the CPU code,
    0 to 3 (default: $TUCKER_OPT_LEVEL if set, else tucker-compile's -O3; -O2 compiles 3-4x
    faster and runs up to 40 % slower).

    Raises CompileError (command, exit code, full diagnostics) when compilation fails.
    """
    if not isinstance(mlir_text, str):
        raise TypeError(f"mlir_text must be a str, got {type(mlir_text).__name__}")
    where = "opt_level"
    if opt_level is None and os.environ.get("TUCKER_OPT_LEVEL"):
        opt_level, where = os.environ["TUCKER_OPT_LEVEL"], "$TUCKER_OPT_LEVEL"
    if opt_level is not None and str(opt_level) not in ("0", "1", "2", "3"):
        raise ValueError(f"{where} must be 0, 1, 2 or 3, got {opt_level!r}")
    tmp = None
    if workdir is None:
        workdir = tmp = tempfile.mkdtemp(prefix="tucker-")
    else:
        # A fresh directory per kernel: dlopen would hand back an already loaded library of the
        # same path.
        os.makedirs(workdir, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix="kernel-", dir=workdir)
    try:
        source = os.path.join(workdir, "kernel.mlir")
        library = os.path.join(workdir, "libkernel.so")
        sidecar = os.path.join(workdir, "kernel.json")
        with open(source, "w") as f:
            f.write(mlir_text)
        args = [source, "-o", library, f"--target={target}", f"--signature={sidecar}"]
        if entry is not None:
            args.append(f"--entry={entry}")
        opts = _options_string(pipeline_options)
        if opts:
            args.append(f"--pipeline-options={opts}")
        if opt_level is not None:
            args.append(f"-O{opt_level}")
        run_tool("tucker-compile", args, what=f"tucker-compile failed for target {target!r}")
        with open(sidecar) as f:
            signature = json.load(f)
        return Kernel(library, signature, keep_library=tmp is None)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
