"""Rank analysis and compression of attention layers with concrete weights (DESIGN.md §1
"Compression"), driving `tucker-opt --tucker-ranks` and `tucker-opt --tucker-compress`.

- `ranks(module_or_mlir, tol=1e-6, example_x=None, progress=None)` -> one dict per attention op
  with constant weights: {"op": "tucker.mha", "function": "forward", "pre": [r1, r2, r3],
  "post": [r1, r2, r3], "location": "input:L:C", "tolerance": 1e-06, "notes": [...],
  "pre_singular_values": [s1, s2, s3], "post_singular_values": [...]} (notes: the remark's `; ...` suffixes, usually none; s1, s2, s3:
  the singular values of the head, query, key modes (post: head, output, value) as descending
  float64 NumPy arrays, from `--tucker-ranks=singular-values`). Ops whose weights are not
  constants get no remark and so no entry: the list may be empty.
- `compress(module_or_mlir, ranks=None, tol=None, example_x=None, causal=None,
  static_shapes=False, progress=None)` ->
  `CompressResult` (exactly one of `ranks` (3 or 6 ints) and `tol`). An op whose Tucker form has
  at least as many parameters as the original (e.g. MHA at full ranks) gets a `UserWarning`
  with both counts, and the same message in `CompressResult.warnings`.

`module_or_mlir` is MLIR text (str), a path to a .mlir file (pathlib.Path / os.PathLike), or a
torch module that `tucker.from_torch` converts (any module it supports) with from_torch's
defaults: `causal` the module's is_causal, and dynamic batch and sequence dims, so that the
function of `CompressResult.mlir` takes x of any [B, N, d] as from_torch's own does (N stays
example_x's where from_torch pins it, with its warning); `static_shapes=True` takes
example_x's shape. `example_x` (default: zeros of [2, 6, d], d from the module's projections)
also gives from_torch's self-check its tokens. Ranks and compression depend on the weights only.

Weights in `dense_resource` blobs (from_torch's weights="resource", or any MLIR with a builtin
`dialect_resources` section) are written inline before tucker-opt runs: its rank and
compression passes read bf16 and f16 weights from inline constants only.

`progress`: True reports each step (the import, the tucker-opt run; on a terminal the elapsed
time ticks) on stderr, False never; None (default) where stderr is a terminal and the layer is
large (8M weights or more).

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

from ._progress import Progress, enabled as _progress_enabled
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


def _to_mlir(module_or_mlir, example_x=None, causal=None, static_shapes=False, progress=None):
    """(MLIR text, name used in locations, Progress) of the argument; `causal` and
    `static_shapes` as from_torch's; resource blobs written inline (_inline_resources)."""
    if isinstance(module_or_mlir, str):
        text, name = module_or_mlir, "input"
    elif isinstance(module_or_mlir, os.PathLike):
        name = os.fspath(module_or_mlir)
        with open(name) as f:
            text = f.read()
    else:
        try:
            from torch import nn
        except ImportError:  # pragma: no cover - torch is optional for MLIR input
            nn = None
        if nn is None or not isinstance(module_or_mlir, nn.Module):
            raise TypeError("expected MLIR text (str), a path to a .mlir file or a torch module, "
                            f"got {type(module_or_mlir).__name__}")
        from .importer import from_torch, model_dim
        size = sum(p.numel() for p in module_or_mlir.parameters())
        report = Progress(_progress_enabled(progress, size))
        if example_x is None:
            if static_shapes:
                raise ValueError("static_shapes=True gives the function example_x's shape: pass "
                                 "example_x")
            import torch
            example_x = torch.zeros(2, 6, model_dim(module_or_mlir))
        text = from_torch(module_or_mlir, example_x, causal=causal, static_shapes=static_shapes,
                          progress=report)
        return text, "input", report
    # MLIR text: its size (hex weights: 4 to 8 characters a value) stands in for the layer's.
    report = Progress(_progress_enabled(progress, len(text) // 8))
    return _inline_resources(text), name, report


_RESOURCES_RE = re.compile(r"\{-#(?P<body>.*?)#-\}", re.S)
_BUILTIN_RE = re.compile(r"\bbuiltin\s*:\s*\{(?P<entries>[^{}]*)\}", re.S)
_BLOB_RE = re.compile(r'(?P<key>[\w.$-]+|"[^"]*")\s*:\s*"0x(?P<hex>[0-9A-Fa-f]*)"')
_USE_RE = re.compile(r'dense_resource<(?P<key>[\w.$-]+|"[^"]*")>')


def _inline_resources(text):
    """`text` with each `dense_resource<key>` of a builtin resource blob written as the constant
    `dense<"0x...">` of the same bytes (the blob's 4-byte alignment prefix dropped), and those
    blobs removed. Where a key has several blobs, the last one, as MLIR's parser takes it. Text
    without resource blobs is returned as it is."""
    if "dense_resource<" not in text or "{-#" not in text:
        return text
    blobs = {}
    for section in _RESOURCES_RE.finditer(text):
        for builtin in _BUILTIN_RE.finditer(section["body"]):
            for blob in _BLOB_RE.finditer(builtin["entries"]):
                blobs[blob["key"].strip('"')] = blob["hex"][8:].upper()
    if not blobs:
        return text
    text = _USE_RE.sub(lambda use: f'dense<"0x{blobs[use["key"].strip(chr(34))]}">'
                       if use["key"].strip('"') in blobs else use.group(0), text)

    def strip(section):
        """The section without its builtin blobs, or only its newlines where nothing else is
        left: the lines after it keep their numbers (the locations of the remarks)."""
        body = _BUILTIN_RE.sub(lambda b: "\n" * b.group(0).count("\n"), section["body"])
        rest = re.sub(r"[\s,]", "", re.sub(r"\bdialect_resources\s*:\s*\{[\s,]*\}", "", body))
        if not rest:
            return "\n" * section.group(0).count("\n")
        return "{-#" + re.sub(r",(\s*\})", r"\1", re.sub(r"\{\s*,", "{", body)) + "#-}"

    return _RESOURCES_RE.sub(strip, text)


def _run_opt(text, name, pass_arg, progress=None):
    """Runs tucker-opt with one pass on `text`; returns (stdout, stderr lines). Locations in the
    diagnostics are rewritten from the temporary file's path to `name`. progress: a Progress,
    the run one step of it."""
    with tempfile.TemporaryDirectory(prefix="tucker-") as tmp:
        path = os.path.join(tmp, "input.mlir")
        with open(path, "w") as f:
            f.write(text)
        try:
            with (progress or Progress(False)).step(f"tucker-opt {pass_arg}"):
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


def ranks(module_or_mlir, tol=1e-6, example_x=None, *, progress=None):
    """Numerical Tucker ranks and mode singular values of every attention op with constant weights
    (tucker-opt --tucker-ranks=tolerance=tol,singular-values): a list of {"op", "function", "pre",
    "post", "location", "tolerance", "notes", "pre_singular_values", "post_singular_values"} in the
    order of the remarks. See the module docstring."""
    option = f"--tucker-ranks=tolerance={_fmt_tol(tol, 'tol')} singular-values"  # checked first
    text, name, report = _to_mlir(module_or_mlir, example_x, progress=progress)
    _, lines = _run_opt(text, name, option, report)
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


def compress(module_or_mlir, ranks=None, tol=None, example_x=None, causal=None, *,
             static_shapes=False, progress=None):
    """Truncated HOSVD of every attention op with constant weights (tucker-opt --tucker-compress),
    to `ranks` ([r1, r2, r3] for both tensors or [r1, r2, r3, s1, s2, s3]) or to relative error
    `tol`; exactly one of the two. `causal` only applies to torch modules, as from_torch's (None:
    the module's is_causal); in MLIR input it is an attribute of the op. A module's compressed
    layer takes x of any batch and sequence length (static_shapes=True: example_x's shape), as
    from_torch's import of it. progress: see the module docstring. Returns a CompressResult; raises
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
    text, name, report = _to_mlir(module_or_mlir, example_x, causal, static_shapes, progress)
    out_text, lines = _run_opt(text, name, f"--tucker-compress={option}", report)
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
