"""tucker.optimize(model, example_inputs): a model's attention modules swapped for compiled ones.

`optimize` runs the model once on the example inputs, recording how each attention module of a
kind `from_torch` imports is called; imports each one with `from_torch` on the activation it
got, compiles it (`tucker.compile`), checks the compiled module against the module's own output
on that call, and puts a `TuckerAttention` in its place. A module it cannot import, compile or
match, or that the example did not call, stays as it is, with a UserWarning naming it and why.
The model is changed in place and returned (copy.deepcopy it first to keep the original).

A `TuckerAttention` holds the kernel and the module it replaced: the module's parameters,
buffers and submodules stay registered under their own names (state_dict keys do not change;
the kernel embeds the weights as they were at optimize time, so later changes to them do not
reach it), and attributes it does not have are read from the module. It computes a call with
the kernel where the call is one the kernel computes, and with the original module otherwise
(see `TuckerAttention`). The kernel is called as a torch op (`Kernel.op`) where torch
>= 2.4 provides them, so torch.compile(fullgraph=True) traces the model without graph breaks.
"""

import inspect
import warnings

from . import torch_ops
from ._tools import ToolNotFoundError
from .compiler import CompileError, _torch_dtype, compile as _compile
from .importer import from_torch, model_dim

__all__ = ["optimize", "TuckerAttention"]

# Relative error (max |compiled - module| / max |module|) allowed at optimize time, per dtype.
TOLERANCE = {"f32": 1e-4, "f16": 2e-2, "bf16": 2e-2}
# A 16-bit module's compiled form may be off from its float32 forward by this many times the
# module's own 16-bit forward (see optimize).
OWN_ERROR_FACTOR = 1.5

_CACHE_ARGS = ("past_key_value", "past_key_values", "layer_past")
_REFUSED_ARGS = ("head_mask", "layer_head_mask", "encoder_hidden_states", "encoder_attention_mask",
                 "key_value_states", "cross_attn_head_mask")


def _nn():
    from torch import nn
    return nn


def _compiling():
    import torch
    compiler = getattr(torch, "compiler", None)
    return compiler is not None and hasattr(compiler, "is_compiling") and compiler.is_compiling()


class _Refused(Exception):
    pass


def _module_class():
    nn = _nn()

    class TuckerAttention(nn.Module):
        """An attention module whose forward runs a compiled tucker kernel.

        Calls the kernel computes (self-attention of x over the whole sequence, causal or not as
        imported, with the shape, dtype and device it was compiled for; no KV cache, no
        attention weights asked for):
        - nn.MultiheadAttention: `(query, key, value, ...)` with key and value the query tensor
          itself, no key_padding_mask, and attn_mask None (not causal) or given with
          `is_causal=True` (causal); returns `(output, None)`: no attention weights.
        - the HF kinds: `hidden_states` plus the model's keyword arguments; an `attention_mask`
          must be what the kernel computes: its last query row attends every key (no padding)
          and its first row every key (not causal) or key 0 alone (causal); `position_ids` and
          `cache_position`, where given, must be 0..N-1. Eagerly a ValueError says otherwise;
          under torch.compile it is `torch._assert_async` (a device-side assert on CUDA). A
          cache (`past_key_value(s)`, `layer_past`), `use_cache=True`, `output_attentions=True`,
          a head mask or cross-attention inputs run the original module. Returns what the
          module returned on the example (a tensor, or a tuple of that length) with the output
          first and None for the rest (weights, cache).
        Any other call runs the original module (a UserWarning says why, once per reason)."""

        def __init__(self, original, kernel, kind, causal, returns, qualname):
            super().__init__()
            for name, p in original._parameters.items():
                self.register_parameter(name, p)
            for name, b in original._buffers.items():
                self.register_buffer(name, b, persistent=name not in original._non_persistent_buffers_set)
            for name, child in original._modules.items():
                self.add_module(name, child)
            object.__setattr__(self, "original", original)  # not a submodule: its state is ours
            object.__setattr__(self, "kernel", kernel)
            self.kind = kind  # "mha" or "hf"
            self.causal = causal
            self.returns = returns  # None: a tensor; n: a tuple of n
            self.qualname = qualname
            spec = kernel.signature.args[0]
            self._shape = spec.shape
            self._dtype = _torch_dtype(spec.dtype)
            self._cuda = kernel.signature.target == "cuda"
            params = _parameters(original)
            self._names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            self._warned = set()

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                original = self.__dict__.get("original")
                if original is None:
                    raise
                return getattr(original, name)

        def extra_repr(self):
            return f"{type(self.original).__name__} -> {self.kernel!r} (op: {self._op_name()})"

        def _op_name(self):
            return self.kernel._op[0] if self.kernel._op is not None else "none"

        def _fits(self, x):
            import torch
            if not isinstance(x, torch.Tensor) or x.dtype != self._dtype:
                return "x's dtype" if isinstance(x, torch.Tensor) else "x is not a tensor"
            if x.dim() != len(self._shape) or any(e is not None and x.shape[d] != e
                                                  for d, e in enumerate(self._shape)):
                return "x's shape"
            if (x.device.type == "cuda" and (x.device.index or 0) == 0) != self._cuda or \
                    (not self._cuda and x.device.type != "cpu"):
                return "x's device"
            return None

        def _fallback(self, reason, args, kwargs):
            if reason not in self._warned and not _compiling():
                self._warned.add(reason)
                warnings.warn(f"{self.qualname}: the compiled kernel does not compute this call "
                              f"({reason}); the original {type(self.original).__name__} runs it",
                              stacklevel=3)
            return self.original(*args, **kwargs)

        def _kernel(self, x, check=None, message=""):
            kernel = self.kernel
            if kernel._op is None:
                return kernel(x)
            return kernel.op(x, check, message) if check is not None else kernel.op(x)

        def forward(self, *args, **kwargs):
            bound = dict(zip(self._names, args))
            bound.update(kwargs)
            if self.kind == "mha":
                return self._forward_mha(bound, args, kwargs)
            return self._forward_hf(bound, args, kwargs)

        def _forward_mha(self, bound, args, kwargs):
            query = bound.get("query")
            if bound.get("key") is not query or bound.get("value") is not query:
                return self._fallback("key or value is not the query tensor itself", args, kwargs)
            if bound.get("key_padding_mask") is not None:
                return self._fallback("a key_padding_mask", args, kwargs)
            is_causal = bool(bound.get("is_causal", False))
            if bound.get("attn_mask") is not None and not is_causal:
                return self._fallback("an attn_mask without is_causal=True", args, kwargs)
            if is_causal != self.causal:
                return self._fallback("causal" if is_causal else "not causal", args, kwargs)
            reason = self._fits(query)
            if reason is not None:
                return self._fallback(f"{reason}: compiled for {self.kernel.signature.args[0]}",
                                      args, kwargs)
            return self._kernel(query), None

        def _forward_hf(self, bound, args, kwargs):
            x = bound.get("hidden_states", args[0] if args else None)
            for name in _CACHE_ARGS:
                if bound.get(name) is not None:
                    return self._fallback(f"a KV cache ({name})", args, kwargs)
            for name in ("use_cache", "output_attentions"):
                if bound.get(name):
                    return self._fallback(f"{name}=True", args, kwargs)
            for name in _REFUSED_ARGS:
                if bound.get(name) is not None:
                    return self._fallback(name, args, kwargs)
            reason = self._fits(x)
            if reason is not None:
                return self._fallback(f"{reason}: compiled for {self.kernel.signature.args[0]}",
                                      args, kwargs)
            y = self._kernel(x, *self._check_inputs(x, bound))
            if self.returns is None:
                return y
            return (y,) + (None,) * (self.returns - 1)

        def _check_inputs(self, x, bound):
            """The mask and positions of an HF call are what the kernel computes (see the class
            docstring): O(B N) work. Eagerly raises ValueError; under torch.compile returns
            (a bool tensor, message) for the kernel's op to check (else (None, ""))."""
            import torch
            checks = []
            mask = bound.get("attention_mask")
            if mask is not None:
                if mask.dtype == torch.bool:
                    attend = mask
                elif mask.is_floating_point():
                    attend = mask == 0
                else:
                    attend = mask != 0
                what = "causal" if self.causal else "no mask"
                if attend.dim() >= 2:
                    checks.append((attend[..., -1, :].all() if attend.dim() >= 3 else attend.all(),
                                   f"{self.qualname}: attention_mask masks keys of the last query "
                                   "(padding, or a window): the compiled kernel attends every key "
                                   f"({what}); run unpadded batches, or the original module"))
                if attend.dim() >= 3 and attend.shape[-2] > 1:
                    first = attend[..., 0, :]
                    if self.causal:
                        ok = first[..., 0].all() & ~first[..., 1:].any()
                    else:
                        ok = first.all()
                    checks.append((ok, f"{self.qualname}: attention_mask is not {what} (its first "
                                   "row), as the compiled kernel is"))
            for name in ("position_ids", "cache_position"):
                positions = bound.get(name)
                if positions is not None:
                    n = x.shape[-2]
                    expected = torch.arange(n, device=positions.device)
                    ok = (positions.shape[-1] == n) and (positions == expected).all()
                    checks.append((ok, f"{self.qualname}: {name} is not 0..{n - 1}, the positions "
                                   "the compiled kernel applies"))
            traced = []
            for ok, message in checks:
                if isinstance(ok, bool):
                    if not ok:
                        raise ValueError(message)
                elif _compiling() and self.kernel._op is not None:
                    traced.append((ok, message))
                elif not bool(ok):
                    raise ValueError(message)
            if not traced:
                return None, ""
            ok = traced[0][0]
            for more, _ in traced[1:]:
                ok = ok & more
            return ok, "; or ".join(message for _, message in traced)

    TuckerAttention.__module__ = __name__
    TuckerAttention.__qualname__ = "TuckerAttention"  # pickle finds it through __getattr__ below
    return TuckerAttention


_CLASS = None


def _wrapper_class():
    global _CLASS
    if _CLASS is None:
        _CLASS = _module_class()
    return _CLASS


def __getattr__(name):  # tucker.TuckerAttention, made on first use (torch is optional)
    if name == "TuckerAttention":
        return _wrapper_class()
    raise AttributeError(name)


def _parameters(module):
    try:
        return list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return []


def _supported(module):
    try:
        model_dim(module)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _record(model, candidates, example_inputs, example_kwargs):
    """Runs the model once; {name: [args, kwargs, output]} of each candidate's first call (its
    forward wrapped for the run: hooks see no keyword arguments on torch 1.13)."""
    import torch
    calls = {}

    def recording(name, forward):
        def record(*args, **kwargs):
            output = forward(*args, **kwargs)
            if name not in calls:
                calls[name] = [args, kwargs, output]
            return output
        return record

    patched = []
    try:
        for name, module in candidates:
            patched.append((module, module.__dict__.get("forward")))
            module.forward = recording(name, module.forward)
        with torch.no_grad():
            model(*example_inputs, **example_kwargs)
    finally:
        for module, own in patched:  # the instance's own forward (a wrapper's), if it had one
            if own is None:
                del module.forward
            else:
                module.forward = own
    return calls


def _first_tensor(output):
    import torch
    if isinstance(output, torch.Tensor):
        return output, None
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0], len(output)
    raise _Refused(f"it returned {type(output).__name__}, not a tensor or a tuple starting with one")


def _float32_output(module, args, kwargs):
    """The first output of a float32 copy of `module` on the call's arguments in float32; None
    where it cannot run so."""
    import copy
    import torch

    def cast(v):
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            return v.float()
        if isinstance(v, (tuple, list)):
            return type(v)(cast(e) for e in v)
        return v

    try:
        twin = copy.deepcopy(module).float()
        with torch.no_grad():
            return _first_tensor(twin(*cast(args), **{k: cast(v) for k, v in kwargs.items()}))[0]
    except Exception:  # noqa: BLE001 (the module's own 16-bit output is compared instead)
        return None


def _set(model, name, module):
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def optimize(model, example_inputs, *, example_kwargs=None, target="cpu", pipeline_options=None,
             tolerance=None, load=True, **import_options):
    """Swaps the attention modules of `model` for compiled ones (`TuckerAttention`) in place and
    returns `model`.

    example_inputs: the positional arguments of one call of the model (a tensor or a tuple),
    example_kwargs its keyword arguments; the model runs on them once (under no_grad), and each
    attention module is imported on the activation it receives. Candidates are the modules of
    the kinds from_torch imports (walked with named_modules; the outermost wins, and the modules
    inside a swapped one are not visited).

    target, pipeline_options: of tucker.compile. import_options: of from_torch (causal, dtype,
    verify, static_shapes, ...; causal None: each module's is_causal, for nn.MultiheadAttention
    the example call's is_causal). tolerance: the relative error (max abs difference over max
    abs output) allowed between each compiled module and the module on the example's call; None:
    1e-4 for f32, 2e-2 for f16 and bf16. A 16-bit module is compared in float32 (a float32 copy
    of it on the call's inputs in float32), and its compiled form may be off by as much as
    OWN_ERROR_FACTOR times the module's own 16-bit forward where that is more than the
    tolerance (large scores make any 16-bit attention imprecise). load: Kernel.load() each CUDA kernel on the
    example's activation (before a CUDA graph captures the model).

    Each module left as it is gives a UserWarning naming it and why: its import or compilation
    failed, the example did not call it, it was called as cross-attention, or its compiled form
    differs from it on the example by more than the tolerance."""
    import torch
    nn = _nn()
    if not isinstance(model, nn.Module):
        raise TypeError(f"optimize takes an nn.Module, got {type(model).__name__}")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    example_kwargs = dict(example_kwargs or {})
    wrapper = _wrapper_class()
    candidates = [(name, m) for name, m in model.named_modules()
                  if not isinstance(m, wrapper) and _supported(m)]
    calls = _record(model, candidates, example_inputs, example_kwargs)
    swapped = []
    for name, module in candidates:
        label = name or type(model).__name__
        if any(name.startswith(s + ".") for s in swapped if s) or "" in swapped:
            continue
        try:
            call = calls.get(name)
            if call is None:
                raise _Refused("the example inputs did not call it (nor does a parent that "
                               "computes the attention itself, as nn.TransformerEncoderLayer's "
                               "fast path does in eval mode under no_grad)")
            args, kwargs, output = call
            new = _swap(module, label, args, kwargs, output, target=target,
                        pipeline_options=pipeline_options, tolerance=tolerance, load=load,
                        import_options=import_options)
        except ToolNotFoundError:
            raise  # nothing compiles here: no module to blame
        except (_Refused, TypeError, ValueError, NotImplementedError, CompileError) as e:
            warnings.warn(f"tucker.optimize left {label} ({type(module).__name__}) as it is: {e}",
                          stacklevel=2)
            continue
        if name:
            _set(model, name, new)
        else:
            model = new
        swapped.append(name)
    _check_called(model, swapped, example_inputs, example_kwargs)
    return model


def _check_called(model, swapped, example_inputs, example_kwargs):
    """Runs the model again: a swapped module it does not call (its parent computes the
    attention itself, as nn.TransformerEncoderLayer's fast path does in eval under no_grad) is
    put back, with a warning."""
    import torch
    if not swapped or "" in swapped:
        return
    called = set()
    handles = [model.get_submodule(name).register_forward_hook(
        lambda module, args, output, name=name: called.add(name)) for name in swapped]
    try:
        with torch.no_grad():
            model(*example_inputs, **example_kwargs)
    finally:
        for h in handles:
            h.remove()
    for name in swapped:
        if name not in called:
            new = model.get_submodule(name)
            _set(model, name, new.original)
            warnings.warn(f"tucker.optimize left {name} ({type(new.original).__name__}) as it is: "
                          "once swapped, the model did not call it on the example inputs (its "
                          "parent computes the attention another way, as nn.TransformerEncoderLayer's "
                          "fast path does in eval mode under no_grad)", stacklevel=3)


def _swap(module, label, args, kwargs, output, *, target, pipeline_options, tolerance, load,
          import_options):
    """The TuckerAttention of `module`, checked on its recorded call; _Refused and the errors of
    from_torch and compile otherwise."""
    import torch
    nn = _nn()
    kind = "mha" if isinstance(module, nn.MultiheadAttention) else "hf"
    params = _parameters(module)
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    bound = dict(zip(names, args))
    bound.update(kwargs)
    if kind == "mha":
        x = bound.get("query")
        if bound.get("key") is not x or bound.get("value") is not x:
            raise _Refused("it was called with key or value other than its query (cross-attention)")
    else:
        x = bound.get("hidden_states", args[0] if args else None)
    if not isinstance(x, torch.Tensor):
        raise _Refused("its call had no activation tensor to import it on")
    expected, returns = _first_tensor(output)
    import_options = dict(import_options)
    causal = import_options.pop("causal", None)
    if causal is None and kind == "mha":
        # nn.MultiheadAttention has no is_causal of its own: the example's call says.
        is_causal = bool(bound.get("is_causal", False))
    else:
        is_causal = causal
    text = from_torch(module, x.detach(), causal=is_causal, **import_options)
    kernel = _compile(text, target=target, pipeline_options=pipeline_options)
    if torch_ops.available():
        kernel.op  # noqa: B018 (registered before any torch.compile traces it)
    if is_causal is None:  # from_torch's default
        is_causal = bool(getattr(module, "is_causal", False))
    new = _wrapper_class()(module, kernel, kind, is_causal, returns, label)
    if load and kernel.signature.target == "cuda":
        kernel.load(x.detach())
    with torch.no_grad():
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # a fallback is a refusal here
            try:
                got = new(*args, **kwargs)
            except UserWarning as w:
                raise _Refused(str(w)) from None
    got = got[0] if isinstance(got, tuple) else got
    element = kernel.signature.args[0].dtype
    tol = tolerance if tolerance is not None else TOLERANCE[element]
    own = None
    if element != "f32":
        # The module's own 16-bit forward rounds as much as the kernel (a bf16
        # nn.MultiheadAttention is 2e-2 off at d 128, more where its scores are large): compare
        # both with its float32 forward, and allow the kernel what the module itself is off.
        exact = _float32_output(module, args, kwargs)
        if exact is not None and exact.shape == expected.shape:
            own = _relative(expected, exact)
            expected = exact
    if got.shape != expected.shape:
        raise _Refused(f"its compiled form returns shape {list(got.shape)}, the module "
                       f"{list(expected.shape)}")
    err = _relative(got, expected)
    allowed = tol if own is None else max(tol, OWN_ERROR_FACTOR * own)
    if not err <= allowed:
        if own is None:
            raise _Refused(f"its compiled form differs from it by {err:.3g} on the example's call "
                           f"(max abs difference over max abs output; tolerance {tol:g})")
        raise _Refused(f"its compiled form differs from its float32 forward by {err:.3g} on the "
                       f"example's call, the module's own {element} forward by {own:.3g} (max abs "
                       f"difference over max abs output; allowed: the larger of {tol:g} and "
                       f"{OWN_ERROR_FACTOR:g} times the module's)")
    return new


def _relative(got, ref):
    """max |got - ref| / max |ref|, in float64."""
    got, ref = got.detach().double(), ref.detach().double()
    return float((got - ref).abs().max() / ref.abs().max().clamp_min(1e-300))
