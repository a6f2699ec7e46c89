"""`tucker.flash_attention`: tucker.flash as a differentiable torch function.

    out = tucker.flash_attention(q, k, v, causal=False, scale=None, rope=None, lengths=None,
                                 deterministic=False)

q [B, Hq, Nq, Dqk], k [B, Hkv, Nk, Dqk], v [B, Hkv, Nk, Dv] are torch tensors of one dtype
(float32, float16, bfloat16), Hq a multiple of Hkv; `lengths` (int32 [B], optional) gives each
sequence its key count; `rope` is a #tucker.rope as `reference.Rope` takes it (theta, offset,
width, repeat, style[, stride]), applied to q and k on the fly. The semantics are tucker.flash's
(docs/spec.md). `deterministic=True` makes the backward give the same bits on every run (the
op's `deterministic`: on Hopper the dQ parts are added in a fixed order instead of by atomics,
which costs some speed; the CPU backward is deterministic either way).

The forward runs the compiled tucker.flash with its log-sum-exp; the backward, the compiled
tucker.flash_backward from q, k, v, the output and the log-sum-exp (what it saves: O(N) beside
the inputs). Both are compiled on first use for the dtype, head counts and widths, and
attributes of the call, with dynamic B, Nq and Nk, and kept for the process. On the CPU both
run for every configuration; on CUDA tensors (Hopper) the forward runs for every configuration
and the backward for those its kernels take (docs/gpu-notes.md: heads 64 or 128 wide, no rope
on the fly); a backward through another raises RuntimeError naming why.
"""

import threading

from ._tools import CompileError
from .compiler import compile as _compile

__all__ = ["flash_attention"]

_DTYPES = {"torch.float32": "f32", "torch.float16": "f16", "torch.bfloat16": "bf16"}
_lock = threading.Lock()
_kernels = {}  # (config, "forward" | "backward") -> Kernel
_function = None


def _rope_attr(rope):
    if rope is None:
        return None
    theta, offset, width, repeat, style = tuple(rope)[:5]
    stride = tuple(rope)[5] if len(tuple(rope)) > 5 else None
    parts = [f"theta = {float(theta):.17e}", f"width = {int(width)}", f"offset = {int(offset)}",
             f"repeat = {int(repeat)}"]
    if stride is not None:
        parts.append(f"stride = {int(stride)}")
    parts.append(f"style = {style}")
    return "#tucker.rope<" + ", ".join(parts) + ">"


def _text(config, backward):
    """The MLIR of the forward (q, k, v[, lengths]) -> (out, lse) or of the backward
    (q, k, v, out, lse, out_grad[, lengths]) -> (dq, dk, dv)."""
    dtype, hq, hkv, dqk, dv, causal, scale, rope, lengths, deterministic = config
    tq = f"tensor<?x{hq}x?x{dqk}x{dtype}>"
    tk = f"tensor<?x{hkv}x?x{dqk}x{dtype}>"
    tv = f"tensor<?x{hkv}x?x{dv}x{dtype}>"
    to = f"tensor<?x{hq}x?x{dv}x{dtype}>"
    tl = f"tensor<?x{hq}x?xf32>"
    attrs = []
    if causal:
        attrs.append("causal")
    if scale is not None:
        attrs.append(f"scale = {float(scale):.17e} : f64")
    if rope is not None:
        attrs.append(f"rope = {rope}")
    if backward and deterministic:
        attrs.append("deterministic")
    attrs = "{" + ", ".join(attrs) + "}"
    params = [f"%q: {tq}", f"%k: {tk}", f"%v: {tv}"]
    if backward:
        params += [f"%o: {to}", f"%lse: {tl}", f"%do: {to}"]
    uses = ""
    if lengths:
        params.append("%len: tensor<?xi32>")
        uses = " lengths(%len : tensor<?xi32>)"
    if backward:
        return (f"func.func @flash_backward({', '.join(params)}) -> ({tq}, {tk}, {tv}) {{\n"
                f"  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do{uses} {attrs}"
                f" : {tq}, {tk}, {tv}, {to}, {tl}, {to} -> {tq}, {tk}, {tv}\n"
                f"  return %dq, %dk, %dv : {tq}, {tk}, {tv}\n}}\n")
    return (f"func.func @flash_forward({', '.join(params)}) -> ({to}, {tl}) {{\n"
            f"  %o, %lse = tucker.flash %q, %k, %v{uses} {attrs} : {tq}, {tk}, {tv} -> {to}, {tl}\n"
            f"  return %o, %lse : {to}, {tl}\n}}\n")


def _kernel(config, target, backward):
    if not backward:  # determinism is the backward's
        config = config[:-1] + (False,)
    key = (config, target, backward)
    with _lock:
        kernel = _kernels.get(key)
    if kernel is None:
        kernel = _compile(_text(config, backward), target=target)
        with _lock:
            kernel = _kernels.setdefault(key, kernel)
    return kernel


def _get_function():
    global _function
    if _function is not None:
        return _function
    import torch

    class FlashAttention(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v, lengths, config, target):
            args = [q, k, v] + ([lengths] if lengths is not None else [])
            out, lse = _kernel(config, target, backward=False)(*args)
            ctx.config, ctx.target = config, target
            ctx.has_lengths = lengths is not None
            saved = [q, k, v, out, lse] + ([lengths] if lengths is not None else [])
            ctx.save_for_backward(*saved)
            return out

        @staticmethod
        def backward(ctx, out_grad):
            q, k, v, out, lse, *rest = ctx.saved_tensors
            args = [q, k, v, out, lse, out_grad.contiguous()] + rest
            try:
                kernel = _kernel(ctx.config, ctx.target, backward=True)
            except CompileError as e:
                if ctx.target == "cpu":
                    raise
                raise RuntimeError(
                    "tucker.flash_attention: the backward of this tucker.flash has no Hopper "
                    "kernel; compute the gradient on the CPU (tensors on the CPU) or with another "
                    f"implementation. The compiler said:\n{e}") from None
            dq, dk, dv = kernel(*args)
            return dq, dk, dv, None, None, None

    _function = FlashAttention
    return _function


def flash_attention(q, k, v, causal=False, scale=None, rope=None, lengths=None,
                    deterministic=False):
    """softmax(scale·q·kᵀ + mask)·v per head as tucker.flash computes it, differentiable with
    respect to q, k and v (see the module docstring)."""
    import torch

    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor) or t.dim() != 4:
            raise ValueError(f"tucker.flash_attention: {name} must be a 4-D torch tensor "
                             f"[B, H, N, D], got {getattr(t, 'shape', type(t).__name__)}")
    dtype = _DTYPES.get(str(q.dtype))
    if dtype is None or k.dtype != q.dtype or v.dtype != q.dtype:
        raise TypeError("tucker.flash_attention: q, k and v must share one dtype of float32, "
                        f"float16, bfloat16; got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError("tucker.flash_attention: q, k and v must be on one device, got "
                         f"{q.device}, {k.device}, {v.device}")
    target = {"cpu": "cpu", "cuda": "cuda"}.get(q.device.type)
    if target is None:
        raise ValueError(f"tucker.flash_attention: tensors on {q.device} are not supported "
                         "(cpu, or cuda on Hopper)")
    hq, hkv = q.shape[1], k.shape[1]
    if hkv == 0 or hq % hkv:
        raise ValueError(f"tucker.flash_attention: the query heads ({hq}) must be a multiple "
                         f"of the key/value heads ({hkv})")
    if lengths is not None:
        if not isinstance(lengths, torch.Tensor) or lengths.dtype != torch.int32:
            raise TypeError("tucker.flash_attention: lengths must be an int32 torch tensor [B]")
        lengths = lengths.to(q.device)
    config = (dtype, hq, hkv, q.shape[3], v.shape[3], bool(causal),
              None if scale is None else float(scale), _rope_attr(rope), lengths is not None,
              bool(deterministic))
    return _get_function().apply(q, k, v, lengths, config, target)
