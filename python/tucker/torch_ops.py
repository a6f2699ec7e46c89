"""Compiled kernels as torch ops: `kernel.op` is `torch.ops.tucker.<name>` (torch >= 2.4).

Each `Kernel` can be registered with `torch.library.custom_op` in the namespace `tucker`, under
a name made of its entry and a number unique in the process (`forward_0`, `forward_1`, ...;
`Kernel.op_name`). The op takes the kernel's arguments as tensors and returns its outputs; it is
made on first use of `Kernel.op`, or when the kernel is made while torch >= 2.4 is imported.

- **Fake implementation.** For torch.compile, torch.export and FX tracing, the op's fake (meta)
  implementation computes the outputs from the kernel's `Signature` alone: each output's dtype,
  its static sizes, and each dynamic size from the input dimension the signature names (the
  sizes then stay symbolic under dynamic shapes), on the inputs' device. It checks the dtypes,
  ranks and static sizes of the arguments as a call does, so a wrong call fails while tracing.
  Sizes that only the compiled entry relates (a flash's q and k batches, ...) are checked when
  the op runs.
- **Checks.** Past the kernel's arguments the op takes `check` (a bool tensor, default None)
  and `check_message`: where `check` is given and not all True, the call raises
  ValueError(check_message) instead of running (a CUDA tensor: `torch._assert_async`, a
  device-side assert, so nothing waits). It carries a condition on the data that a trace must
  keep (torch.compile drops `torch._assert_async` of its own); `TuckerAttention` checks masks
  and positions with it.
- **No autograd formula.** A kernel computes the forward only. The op's backward calls
  `torch.ops.tucker.no_backward` for each input that requires grad: its fake implementation
  returns an empty gradient, so torch.compile traces a training graph through the op, and its
  real one raises `RuntimeError: @<entry>: a compiled tucker kernel has no backward ...` when a
  backward actually runs (eagerly or compiled), as the kernel's own call does.
- **Lifetime.** An op holds its kernel weakly: the kernel (its library, its CUDA workspaces) can
  be freed while the op's name stays registered (torch cannot remove an op); calling the op of
  a freed kernel raises RuntimeError.

On torch older than 2.4 (or without torch) `available()` is False, `Kernel.op` raises
RuntimeError saying so, and a Kernel is called directly as before.
"""

import itertools
import re
import sys
import threading
import weakref

__all__ = ["MIN_TORCH", "available", "make_op", "no_backward_message"]

MIN_TORCH = (2, 4)

_lock = threading.Lock()
_counter = itertools.count()
_no_backward = None


def _version(torch):
    parts = re.match(r"(\d+)\.(\d+)", torch.__version__)
    return (int(parts.group(1)), int(parts.group(2))) if parts else (0, 0)


def available():
    """True where torch >= 2.4 (torch.library.custom_op) is importable."""
    try:
        import torch
    except ImportError:
        return False
    return _version(torch) >= MIN_TORCH and hasattr(torch.library, "custom_op")


def _require():
    try:
        import torch
    except ImportError:
        raise RuntimeError("tucker kernels as torch ops need torch >= 2.4 (torch.library.custom_op), "
                           "and torch is not installed; call the Kernel itself") from None
    if not available():
        raise RuntimeError(f"tucker kernels as torch ops need torch >= 2.4 (torch.library.custom_op); "
                           f"this is torch {torch.__version__}: call the Kernel itself (no "
                           "torch.compile or torch.ops.tucker there)")
    return torch


_imported = None  # memo of imported() once torch is imported


def imported():
    """True where torch >= 2.4 is already imported (nothing is imported to find out)."""
    global _imported
    if _imported is None:
        torch = sys.modules.get("torch")
        if torch is None or not hasattr(torch, "__version__"):
            return False
        _imported = _version(torch) >= MIN_TORCH and hasattr(torch, "library") and \
            hasattr(torch.library, "custom_op")
    return _imported


def no_backward_message(entry):
    return (f"@{entry}: a compiled tucker kernel has no backward: it computes the forward only, "
            "so no gradient reaches its inputs. Call it under torch.no_grad() (or on inputs that "
            "do not require grad) for inference.")


def _no_backward_op(torch):
    """tucker::no_backward(Tensor grad, Tensor input, str entry) -> Tensor: the gradient of one
    input of a kernel's op; its real implementation raises, its fake one returns an empty
    gradient (so a training graph through the op can be traced)."""
    global _no_backward
    if _no_backward is None:
        namespace = torch.ops.tucker
        if not hasattr(namespace, "no_backward"):  # (a reload of this module keeps the op)
            @torch.library.custom_op("tucker::no_backward", mutates_args=(),
                                     schema="(Tensor grad, Tensor input, str entry) -> Tensor")
            def no_backward(grad, input, entry):
                raise RuntimeError(no_backward_message(entry))

            @no_backward.register_fake
            def _(grad, input, entry):
                return torch.empty_like(input)
        _no_backward = torch.ops.tucker.no_backward.default
    return _no_backward


def _op_name(torch, entry):
    base = re.sub(r"\W", "_", entry, flags=re.ASCII) or "kernel"
    if base[0].isdigit():
        base = "k" + base
    while True:
        name = f"{base}_{next(_counter)}"
        if not hasattr(torch.ops.tucker, name):
            return name


def _fake_outputs(torch, kernel_entry, signature, args):
    """The outputs of a call on `args` (fake or real tensors), from the signature."""
    from .compiler import _fmt_shape, _torch_dtype
    if len(args) != len(signature.args):
        raise TypeError(f"@{kernel_entry} takes {len(signature.args)} arguments, got {len(args)}")
    for i, (x, spec) in enumerate(zip(args, signature.args)):
        want = _torch_dtype(spec.dtype)
        name = f"argument {i} of @{kernel_entry}"
        if x.dtype != want:
            raise TypeError(f"{name} must be {spec.dtype} ({want}), got {x.dtype}")
        if x.dim() != len(spec.shape) or any(e is not None and x.shape[d] != e
                                              for d, e in enumerate(spec.shape)):
            raise ValueError(f"{name} has shape {_fmt_shape(tuple(x.shape))}, expected "
                             f"{_fmt_shape(spec.shape)}")
    if args:
        device = args[0].device
    else:
        device = torch.device("cuda:0" if signature.target == "cuda" else "cpu")
    outs = []
    for spec in signature.results:
        shape = [d if isinstance(d, int) else args[d[0]].shape[d[1]] for d in spec.dims]
        outs.append(torch.empty(shape, dtype=_torch_dtype(spec.dtype), device=device))
    return outs


def make_op(kernel):
    """Registers `kernel` as torch.ops.tucker.<name>; returns (name, the op's default overload)."""
    torch = _require()
    sig = kernel.signature
    entry = kernel.entry
    n_in, n_out = len(sig.args), len(sig.results)
    params = "".join(f"Tensor a{i}, " for i in range(n_in)) + "Tensor? check=None, str check_message=''"
    returns = "Tensor" if n_out == 1 else "(" + ", ".join(["Tensor"] * n_out) + ")"
    ref = weakref.ref(kernel)

    def pack(outs):
        if n_out == 0:
            return None
        return outs[0] if n_out == 1 else tuple(outs)

    def run(*args):
        k = ref()
        if k is None:
            raise RuntimeError(f"the tucker kernel @{entry} behind this op was freed; keep the "
                               "Kernel (or the module holding it) alive while its op is called")
        check = args[n_in] if len(args) > n_in else None
        if check is not None:
            message = args[n_in + 1] if len(args) > n_in + 1 else ""
            if check.device.type == "cpu":
                if not bool(check.all()):
                    raise ValueError(message or f"@{entry}: the op's check failed")
            else:  # no host synchronization (nor one inside CUDA graph capture)
                torch._assert_async(check.all(), message or f"@{entry}: the op's check failed")
        return pack(k._run(args[:n_in]))

    def fake(*args):
        return pack(_fake_outputs(torch, entry, sig, args[:n_in]))

    def setup_context(ctx, inputs, output):
        ctx.needs = [isinstance(x, torch.Tensor) and x.requires_grad for x in inputs]
        ctx.save_for_backward(*[x for x, need in zip(inputs, ctx.needs) if need])

    def backward(ctx, *grads):
        no_backward = _no_backward_op(torch)
        grad = next((g for g in grads if g is not None), None)
        saved = iter(ctx.saved_tensors)
        result = []
        for need in ctx.needs:
            if need:
                x = next(saved)
                result.append(no_backward(grad if grad is not None else x, x, entry))
            else:
                result.append(None)
        return tuple(result)

    with _lock:
        _no_backward_op(torch)
        name = _op_name(torch, entry)
        op = torch.library.custom_op(f"tucker::{name}", run, mutates_args=(),
                                     schema=f"({params}) -> {returns}")
        op.register_fake(fake)
        op.register_autograd(backward, setup_context=setup_context)
    return name, getattr(torch.ops.tucker, name).default
