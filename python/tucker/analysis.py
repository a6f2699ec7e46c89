"""Rank analysis and compression of attention layers with concrete weights (DESIGN.md §1
"Compression"), driving `tucker-opt --tucker-ranks` and `tucker-opt --tucker-compress`.

- `ranks(module_or_mlir, tol=1e-6, example_x=None)` -> one dict per attention op with constant
  weights: {"op": "tucker.mha", "function": "forward", "pre": [r1, r2, r3], "post": [r1, r2, r3],
  "location": "input:L:C", "tolerance": 1e-06, "notes": [...], "pre_singular_values": [s1, s2, s3],
  "post_singular_values": [...]} (notes: the remark's `; ...` suffixes, usually none; s1, s2, s3:
  the singular values of the head, query, key modes (post: head, output, value) as descending
  float64 NumPy arrays, from `--tucker-ranks=singular-values`). Ops whose weights are not
  constants get no remark and so no entry: the list may be empty.
- `compress(module_or_mlir, ranks=None, tol=None, example_x=None, causal=None)` ->
  `CompressResult` (exactly one of `ranks` (3 or 6 ints) and `tol`). An op whose Tucker form has
  at least as many parameters as the original (e.g. MHA at full ranks) gets a `UserWarning`
  with both counts, and the same message in `CompressResult.warnings`.

`module_or_mlir` is MLIR text (str), a path to a .mlir file (pathlib.Path / os.PathLike), or a
torch module that `tucker.from_torch` converts (any module it supports), with from_torch's
`causal` default (the module's is_causal); without `example_x` the module is converted on a
dummy [1, 1, d] input, d taken from the module's projections. Ranks and compression depend on
the weights only, not on the shape of x; but the function of `CompressResult.mlir` takes x of
that shape, so pass `example_x` shaped like the x the compressed layer is to run on (from_torch
emits static shapes).

Errors: `CompileError` when tucker-opt fails (e.g. compressing non-constant weights, bad ranks),
`ValueError` / `TypeError` for bad arguments.
"""

import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ._tools import CompileError, run_tool

__all__ = ["ranks", "compress", "CompressResult"]

_LOC = r"(?P<loc>.*?):(?P<line>\d+):(?P<col>\d+): remark: "
_RANKS_RE = re.compile(
    _LOC + r"pre-softmax ranks \[(?P<pre>[\d, ]*)\], post-softmax ranks \[(?P<post>[\d, ]*)\]"
    r" \(tolerance (?P<tol>[^;)]*)(?P<rest>[^)]*)\)$")
_NUM = r"<?[-+0-9.eE]+"
_COMPRESS_RE = re.compile(
    _LOC + r"compressed '(?P<op>[\w.]+)' to ranks \[(?P<pre>[\d, ]*)\], \[(?P<post>[\d, ]*)\]: "
    r"relative error pre (?P<epre>" + _NUM + r"), post (?P<epost>" + _NUM + r"); "
    r"params (?P<p0>\d+) -> (?P<p1>\d+), KV values per token (?P<k0>\d+) -> (?P<k1>\d+)(?P<rest>.*)$")
_SINGULAR_RE = re.compile(
    r"(?P<loc>.*?):(?P<line>\d+):(?P<col>\d+): note: (?P<tensor>pre|post)-softmax (?P<mode>\w+) "
    r"singular values \[(?P<values>[^\]]*)\]$")
_OP_NAME_RE = re.compile(r"\btucker\.[A-Za-z_]\w*")
_FUNC_RE = re.compile(r"\bfunc\.func\s+(?:(?:private|public|nested)\s+)?@([\w$.-]+)")


@dataclass
class CompressResult:
    """What `compress` returns.

    mlir: text of the compressed module (each compressed op replaced by a dense tucker.attention
    with constant factors; large constants print as hex). ranks_pre / ranks_post: the ranks kept
    ([r1, r2, r3] of the pre- and post-softmax tensors). error_pre / error_post: relative errors
    (Frobenius) of the truncated tensors. When the tool prints an error as `<1e-07` (below what it
    resolves), the float is 0.0 and error_pre_bound / error_post_bound hold the bound (1e-07):
    the true error is then in [0, bound); otherwise the bound is None. params_before / after:
    weight parameters of the layer and of its Tucker form (DESIGN.md "Counts per layer", biases
    included); kv_before / kv_after: KV-cache values per token. warnings: one message per op
    whose compression does not reduce its parameter count (also issued as a UserWarning).

    `ops` holds one dict per compressed op (the same keys, plus "op", "location", "notes" and
    "warning": its message or None); the top-level ranks are the first op's, errors the largest,
    params/kv the sums.
    """
    mlir: str
    ranks_pre: List[int]
    ranks_post: List[int]
    error_pre: float
    error_post: float
    params_before: int
    params_after: int
    kv_before: int
    kv_after: int
    error_pre_bound: Optional[float] = None
    error_post_bound: Optional[float] = None
    notes: List[str] = field(default_factory=list)
    ops: List[dict] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Inputs


def _to_mlir(module_or_mlir, example_x=None, causal=None):
    """(MLIR text, name used in locations) of the argument; `causal` as from_torch's."""
    if isinstance(module_or_mlir, str):
        return module_or_mlir, "input"
    if isinstance(module_or_mlir, os.PathLike):
        path = os.fspath(module_or_mlir)
        with open(path) as f:
            return f.read(), path
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - torch is optional for MLIR input
        nn = None
    if nn is not None and isinstance(module_or_mlir, nn.Module):
        from .importer import from_torch, model_dim
        if example_x is None:
            import torch
            example_x = torch.zeros(1, 1, model_dim(module_or_mlir))
        return from_torch(module_or_mlir, example_x, causal=causal), "input"
    raise TypeError("expected MLIR text (str), a path to a .mlir file or a torch module, got "
                    f"{type(module_or_mlir).__name__}")


def _run_opt(text, name, pass_arg):
    """Runs tucker-opt with one pass on `text`; returns (stdout, stderr lines). Locations in the
    diagnostics are rewritten from the temporary file's path to `name`."""
    with tempfile.TemporaryDirectory(prefix="tucker-") as tmp:
        path = os.path.join(tmp, "input.mlir")
        with open(path, "w") as f:
            f.write(text)
        try:
            proc = run_tool("tucker-opt", [path, pass_arg, "--mlir-print-op-on-diagnostic=false"],
                            what=f"tucker-opt {pass_arg} failed")
        except CompileError as e:
            e.stderr = e.stderr.replace(path, name)
            e.command = [a.replace(path, name) for a in (e.command or [])]
            raise
    return proc.stdout, proc.stderr.replace(path, name).splitlines()


def _op_at(lines, line, col):
    """Name of the tucker op at (line, col) of the source, or None."""
    if 1 <= line <= len(lines):
        m = _OP_NAME_RE.search(lines[line - 1], max(col - 1, 0))
        if m:
            return m.group(0)
    return None


def _function_at(lines, line):
    """Name of the last func.func opened at or before `line` of the source, or None."""
    for text in reversed(lines[:max(line, 0)]):
        m = _FUNC_RE.search(text)
        if m:
            return m.group(1)
    return None


def _ints(s):
    return [int(v) for v in s.split(",") if v.strip()]


def _notes(rest):
    return [n.strip() for n in rest.split(";") if n.strip()]


def _fmt_tol(value, what):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not v >= 0 or v == float("inf"):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return repr(v)


# ---------------------------------------------------------------------------------------------
# ranks


def ranks(module_or_mlir, tol=1e-6, example_x=None):
    """Numerical Tucker ranks and mode singular values of every attention op with constant weights
    (tucker-opt --tucker-ranks=tolerance=tol,singular-values): a list of {"op", "function", "pre",
    "post", "location", "tolerance", "notes", "pre_singular_values", "post_singular_values"} in the
    order of the remarks. See the module docstring."""
    text, name = _to_mlir(module_or_mlir, example_x)
    _, lines = _run_opt(text, name,
                        f"--tucker-ranks=tolerance={_fmt_tol(tol, 'tol')} singular-values")
    src = text.splitlines()
    out = []
    for ln in lines:
        m = _RANKS_RE.match(ln)
        if m:
            line, col = int(m["line"]), int(m["col"])
            ours = m["loc"] == name
            out.append({"op": _op_at(src, line, col) if ours else None,
                        "function": _function_at(src, line) if ours else None,
                        "pre": _ints(m["pre"]), "post": _ints(m["post"]),
                        "location": f"{m['loc']}:{line}:{col}", "tolerance": float(m["tol"]),
                        "notes": _notes(m["rest"]),
                        "pre_singular_values": [], "post_singular_values": []})
            continue
        m = _SINGULAR_RE.match(ln)
        if m and out and out[-1]["location"] == f"{m['loc']}:{m['line']}:{m['col']}":
            values = np.array([float(v) for v in m["values"].split(",") if v.strip()])
            out[-1][m["tensor"] + "_singular_values"].append(values)
    for r in out:
        for key in ("pre_singular_values", "post_singular_values"):
            if len(r[key]) != 3:
                raise CompileError(f"tucker-opt --tucker-ranks printed {len(r[key])} mode spectra "
                                   f"for {key.split('_')[0]}-softmax of the op at {r['location']}, "
                                   "expected 3", stderr="\n".join(lines))
    return out


# ---------------------------------------------------------------------------------------------
# compress


def _error(s):
    if s.startswith("<"):
        return 0.0, float(s[1:])
    return float(s), None


def compress(module_or_mlir, ranks=None, tol=None, example_x=None, causal=None):
    """Truncated HOSVD of every attention op with constant weights (tucker-opt --tucker-compress),
    to `ranks` ([r1, r2, r3] for both tensors or [r1, r2, r3, s1, s2, s3]) or to relative error
    `tol`; exactly one of the two. `causal` only applies to torch modules, as from_torch's (None:
    the module's is_causal); in MLIR input it is an attribute of the op. The compressed layer
    takes x of example_x's shape ([1, 1, d] without it). Returns a CompressResult; raises
    CompileError when tucker-opt refuses (non-constant weights, ranks out of range), ValueError
    when nothing was compressed."""
    if (ranks is None) == (tol is None):
        raise ValueError("compress needs exactly one of ranks= and tol=")
    if ranks is not None:
        if isinstance(ranks, str):
            ranks = [r for r in ranks.split(",")]
        try:
            rs = [int(r) for r in ranks]
        except (TypeError, ValueError):
            raise ValueError(f"ranks must be 3 or 6 positive integers, got {ranks!r}") from None
        if len(rs) not in (3, 6) or any(r <= 0 for r in rs):
            raise ValueError(f"ranks must be 3 or 6 positive integers, got {list(ranks)!r}")
        option = "ranks=" + ",".join(str(r) for r in rs)
    else:
        option = "tolerance=" + _fmt_tol(tol, "tol")
    text, name = _to_mlir(module_or_mlir, example_x, causal)
    out_text, lines = _run_opt(text, name, f"--tucker-compress={option}")
    ops = []
    for ln in lines:
        m = _COMPRESS_RE.match(ln)
        if not m:
            continue
        epre, bpre = _error(m["epre"])
        epost, bpost = _error(m["epost"])
        ops.append({"op": m["op"], "location": f"{m['loc']}:{m['line']}:{m['col']}",
                    "ranks_pre": _ints(m["pre"]), "ranks_post": _ints(m["post"]),
                    "error_pre": epre, "error_post": epost,
                    "error_pre_bound": bpre, "error_post_bound": bpost,
                    "params_before": int(m["p0"]), "params_after": int(m["p1"]),
                    "kv_before": int(m["k0"]), "kv_after": int(m["k1"]),
                    "notes": _notes(m["rest"])})
    if not ops:
        raise ValueError("nothing was compressed: no tucker.mha / gqa / mla op with constant "
                         "weights in the module")
    first = ops[0]

    def worst(key):
        i = max(range(len(ops)), key=lambda j: (ops[j][key], ops[j][key + "_bound"] or 0.0))
        return ops[i][key], ops[i][key + "_bound"]

    epre, bpre = worst("error_pre")
    epost, bpost = worst("error_post")
    # A dense Tucker form can be larger than the layer (MHA at full ranks stores n_H d^2 core
    # entries per tensor): the caller asked for a compression, so say that it is none.
    messages = []
    for o in ops:
        o["warning"] = None
        if o["params_after"] >= o["params_before"]:
            o["warning"] = (
                f"compressing the {o['op']} at {o['location']} to ranks {o['ranks_pre']}, "
                f"{o['ranks_post']} does not reduce its parameter count: {o['params_before']} -> "
                f"{o['params_after']} (+{o['params_after'] - o['params_before']}); smaller ranks "
                "or a larger tol are needed for a smaller layer")
            messages.append(o["warning"])
            warnings.warn(o["warning"], UserWarning, stacklevel=2)
    return CompressResult(
        mlir=out_text, ranks_pre=first["ranks_pre"], ranks_post=first["ranks_post"],
        error_pre=epre, error_post=epost, error_pre_bound=bpre, error_post_bound=bpost,
        params_before=sum(o["params_before"] for o in ops),
        params_after=sum(o["params_after"] for o in ops),
        kv_before=sum(o["kv_before"] for o in ops), kv_after=sum(o["kv_after"] for o in ops),
        notes=[n for o in ops for n in o["notes"]], ops=ops, warnings=messages)
