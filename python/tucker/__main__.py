"""Command line: python -m tucker {compile,ranks,compress} ...

  python -m tucker compile FILE.mlir -o LIB.so [--target cpu] [--entry NAME] [--pipeline-options '...']
  python -m tucker ranks FILE.mlir [--tol 1e-6]
  python -m tucker compress FILE.mlir (--ranks r1,r2,r3[,s1,s2,s3] | --tol E) [-o OUT.mlir]

Reports go to stdout as plain text. Errors (missing files, bad options, tool failures) print a
message on stderr and exit with code 1 (usage errors too, not argparse's 2); --help exits 0.
"""

import argparse
import os
import pathlib
import sys

from ._tools import CompileError, run_tool
from . import analysis


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 1 with a message, not argparse's exit 2
        raise _UsageError(f"{self.prog}: error: {message}")


def _parser():
    p = _Parser(prog="python -m tucker", description="Tucker attention compiler tools")
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
    k = sub.add_parser("compress", help="truncated HOSVD of the attention ops to ranks or tolerance")
    k.add_argument("file")
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--ranks", help="r1,r2,r3 (both tensors) or r1,r2,r3,s1,s2,s3")
    g.add_argument("--tol", type=float)
    k.add_argument("-o", "--output", help="write the compressed module here (default: stdout)")
    return p


def _input(path):
    if not os.path.isfile(path):
        raise _UsageError(f"no such file: {path}")
    return pathlib.Path(path)


def _fmt_err(value, bound):
    return f"<{bound:g}" if bound is not None else f"{value:.3g}"


def _compile(a):
    _input(a.file)
    args = [a.file, "-o", a.output, f"--target={a.target}"]
    if a.entry:
        args.append(f"--entry={a.entry}")
    if a.pipeline_options:
        args.append(f"--pipeline-options={a.pipeline_options}")
    run_tool("tucker-compile", args, what="tucker-compile failed")
    print(f"wrote {a.output}")


def _ranks(a):
    rows = analysis.ranks(_input(a.file), tol=a.tol)
    if not rows:
        print(f"{a.file}: no attention op with constant weights")
        return
    print(f"{'location':<24} {'op':<16} {'pre-softmax':<16} post-softmax   (tolerance {a.tol:g})")
    for r in rows:
        print(f"{r['location']:<24} {r['op'] or '?':<16} {str(r['pre']):<16} {r['post']}"
              + "".join(f"; {n}" for n in r["notes"]))


def _compress(a):
    ranks = None
    if a.ranks is not None:
        try:
            ranks = [int(v) for v in a.ranks.split(",")]
        except ValueError:
            raise _UsageError(f"--ranks must be r1,r2,r3 or r1,r2,r3,s1,s2,s3 (integers), got {a.ranks!r}")
    try:
        res = analysis.compress(_input(a.file), ranks=ranks, tol=a.tol)
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
    if a.output:
        print(f"wrote {a.output}")
    else:
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
    except (OSError, ValueError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
