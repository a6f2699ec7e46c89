"""Command line: python -m tucker [-q] {compile,ranks,compress} ...

  python -m tucker compile FILE.mlir -o LIB.so [--target cpu] [--entry NAME] [--pipeline-options '...']
  python -m tucker ranks FILE.mlir [--tol 1e-6] [--plot SPECTRA.png]
  python -m tucker compress FILE.mlir (--ranks r1,r2,r3[,s1,s2,s3] | --tol E) [-o OUT.mlir] [--plot SPECTRA.png]

Reports go to stdout as plain text; the compress report gives each op whose compressed form is
not smaller than the layer a `warning:` line with both parameter counts. Progress (each tool run
and the plot, with its elapsed time, ticking on a terminal) goes to stderr; -q silences it.
--plot writes a PNG of the singular value decay of each mode of each attention op
(tucker/plot.py): with the tolerance line and the numerical ranks for `ranks`, with the ranks
kept for `compress`. Errors (missing files, bad
options, an unwritable plot path, tool failures) print a message on stderr and exit with code 1
(usage errors too, not argparse's 2); --help exits 0.
"""

import argparse
import contextlib
import json
import os
import pathlib
import sys
import tempfile
import threading
import time
import warnings

from ._tools import CompileError, run_tool
from . import analysis


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 1 with a message, not argparse's exit 2
        raise _UsageError(f"{self.prog}: error: {message}")


def _parser():
    p = _Parser(prog="python -m tucker", description="Tucker attention compiler tools")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    sub = p.add_subparsers(dest="command", metavar="{compile,ranks,compress}", parser_class=_Parser)
    sub.required = True
    c = sub.add_parser("compile", help="compile an .mlir file to a shared library (tucker-compile)")
    c.add_argument("file")
    c.add_argument("-o", "--output", required=True, help="shared library to write")
    c.add_argument("--target", default="cpu")
    c.add_argument("--entry", default=None)
    c.add_argument("--pipeline-options", default=None)
    r = sub.add_parser("ranks", help="numerical Tucker ranks of the attention ops (constant weights)")
    r.add_argument("file")
    r.add_argument("--tol", type=float, default=1e-6)
    r.add_argument("--plot", metavar="FILE.png", help="write the singular value decay of each mode")
    k = sub.add_parser("compress", help="truncated HOSVD of the attention ops to ranks or tolerance")
    k.add_argument("file")
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--ranks", help="r1,r2,r3 (both tensors) or r1,r2,r3,s1,s2,s3")
    g.add_argument("--tol", type=float)
    k.add_argument("-o", "--output", help="write the compressed module here (default: stdout)")
    k.add_argument("--plot", metavar="FILE.png",
                   help="write the singular value decay of each mode, the ranks kept marked")
    return p


class _Progress:
    """Steps of long work on stderr: `[i/n] what ...` then `done in T s` (or `failed`); on a
    terminal the elapsed time ticks while the step runs."""

    def __init__(self, total, quiet):
        self.total, self.index = total, 0
        self.enabled = not quiet
        self.live = self.enabled and sys.stderr.isatty()

    @contextlib.contextmanager
    def step(self, what):
        self.index += 1
        if not self.enabled:
            yield
            return
        head = f"[{self.index}/{self.total}] {what}"
        start = time.monotonic()
        stop = threading.Event()
        ticker = None
        if self.live:
            def tick():
                while not stop.wait(0.2):
                    sys.stderr.write(f"\r{head} ... {time.monotonic() - start:.1f} s")
                    sys.stderr.flush()
            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
        sys.stderr.write(f"{head} ...")
        sys.stderr.flush()
        outcome = "failed after"
        try:
            yield
            outcome = "done in"
        finally:
            stop.set()
            if ticker:
                ticker.join()
            elapsed = time.monotonic() - start
            if self.live:  # rewrite the ticking line, clearing what is left of it
                sys.stderr.write(f"\r{head} ... {outcome} {elapsed:.1f} s\x1b[K\n")
            else:
                sys.stderr.write(f" {outcome} {elapsed:.1f} s\n")
            sys.stderr.flush()


def _input(path):
    if not os.path.isfile(path):
        raise _UsageError(f"no such file: {path}")
    return pathlib.Path(path)


def _plot_path(path):
    if path is None:
        return None
    from .plot import check_png_path
    try:
        check_png_path(path)
    except ValueError as e:
        raise _UsageError(f"--plot: {e}") from None
    return path


def _fmt_err(value, bound):
    return f"<{bound:g}" if bound is not None else f"{value:.3g}"


def _compile(a):
    _input(a.file)
    progress = _Progress(1, a.quiet)
    with tempfile.TemporaryDirectory(prefix="tucker-") as tmp:
        sidecar = os.path.join(tmp, "signature.json")
        args = [a.file, "-o", a.output, f"--target={a.target}", f"--signature={sidecar}"]
        if a.entry:
            args.append(f"--entry={a.entry}")
        if a.pipeline_options:
            args.append(f"--pipeline-options={a.pipeline_options}")
        with progress.step(f"tucker-compile --target={a.target} {a.file}"):
            run_tool("tucker-compile", args, what="tucker-compile failed")
        with open(sidecar) as f:
            from .compiler import Signature
            sig = Signature.from_json(json.load(f))
    print(f"wrote {a.output} (target {sig.target})")
    print(f"  @{sig.entry}({', '.join(map(str, sig.args))}) -> "
          f"({', '.join(map(str, sig.results))}), C symbol {sig.symbol}")


def _ranks(a):
    plot = _plot_path(a.plot)
    progress = _Progress(2 if plot else 1, a.quiet)
    with progress.step(f"tucker-opt --tucker-ranks {a.file}"):
        rows = analysis.ranks(_input(a.file), tol=a.tol, progress=False)
    if not rows:
        print(f"{a.file}: no attention op with constant weights")
        if plot:
            raise _UsageError(f"--plot: nothing to plot in {a.file}")
        return
    print(f"numerical Tucker ranks in {a.file} (tolerance {a.tol:g}), each as ranks / mode sizes")
    table = [("location", "function", "op", "pre-softmax", "post-softmax")]
    for r in rows:
        sizes = {k: [len(s) for s in r[k + "_singular_values"]] for k in ("pre", "post")}
        table.append((r["location"], "@" + r["function"] if r["function"] else "?", r["op"] or "?",
                      f"{r['pre']} / {sizes['pre']}", f"{r['post']} / {sizes['post']}"
                      + "".join(f"; {n}" for n in r["notes"])))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4])
    if plot:
        from .plot import plot_singular_values
        with progress.step(f"plotting {len(rows)} op(s)"):
            plot_singular_values(rows, plot, tolerance=a.tol, rank_label="numerical rank",
                                 title=f"{a.file}")
        print(f"wrote {plot}")


def _compress(a):
    ranks = None
    if a.ranks is not None:
        try:
            ranks = [int(v) for v in a.ranks.split(",")]
        except ValueError:
            raise _UsageError(f"--ranks must be r1,r2,r3 or r1,r2,r3,s1,s2,s3 (integers), got {a.ranks!r}")
    plot = _plot_path(a.plot)
    progress = _Progress(3 if plot else 1, a.quiet)
    option = f"ranks={a.ranks}" if ranks is not None else f"tolerance={a.tol:g}"
    with progress.step(f"tucker-opt --tucker-compress={option} {a.file}"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the report below carries them
        try:
            res = analysis.compress(_input(a.file), ranks=ranks, tol=a.tol, progress=False)
        except ValueError as e:
            raise _UsageError(str(e))
    if a.output:
        with open(a.output, "w") as f:
            f.write(res.mlir)
    for o in res.ops:
        print(f"{o['location']}: {o['op']} -> ranks {o['ranks_pre']}, {o['ranks_post']}")
        print(f"  relative error: pre {_fmt_err(o['error_pre'], o['error_pre_bound'])}, "
              f"post {_fmt_err(o['error_post'], o['error_post_bound'])}")
        print(f"  params: {o['params_before']} -> {o['params_after']}")
        print(f"  KV values per token: {o['kv_before']} -> {o['kv_after']}")
        for n in o["notes"]:
            print(f"  note: {n}")
        if o["warning"]:
            print(f"  warning: {o['warning']}")
    if plot:
        with progress.step(f"tucker-opt --tucker-ranks {a.file} (spectra)"):
            spectra = {r["location"]: r for r in analysis.ranks(_input(a.file), progress=False)}
        rows = [dict(spectra[o["location"]], pre=o["ranks_pre"], post=o["ranks_post"])
                for o in res.ops if o["location"] in spectra]
        from .plot import plot_singular_values
        with progress.step(f"plotting {len(rows)} op(s)"):
            plot_singular_values(rows, plot, rank_label="rank kept",
                                 title=f"{a.file} compressed ({option})")
    if a.output:
        print(f"wrote {a.output}")
    if plot:
        print(f"wrote {plot}")
    if not a.output:
        print()
        sys.stdout.write(res.mlir)


def main(argv=None):
    try:
        a = _parser().parse_args(argv)
        {"compile": _compile, "ranks": _ranks, "compress": _compress}[a.command](a)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return 1
    except CompileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
