#!/usr/bin/env python3
"""The real HF transformers attention classes compiled for CUDA, in three stages.

python/tests/test_hf_real.py's test_cuda needs transformers, a Hopper GPU and tucker-compile in
one process; the GPU machine has the first two and no MLIR, this machine the tools and neither of
the others. This script runs the same cases (test_hf_real.CUDA_CASES) and the same checks
(export_cuda, run_cuda, BF16_TOL) split across the two:

  python3 bench/gpu/hf_real.py export [DIR]   GPU machine: builds each real HF module (fixed
      seeds), its float32 forward on the GPU and tucker.from_torch's bf16 MLIR (pure Python).
      Writes DIR/<case>.mlir, DIR/<case>.pt ({"x", "expected"}: float32, CPU) and manifest.json.
  python3 bench/gpu/hf_real.py compile [DIR]  here: tucker-compile --target=cuda of each
      <case>.mlir, with the arguments tucker.compile uses, once per VARIANTS entry:
      DIR/<case>.<variant>.so and .json (the signature), libTuckerCudaRuntime.so beside them
      (the libraries find it through their $ORIGIN rpath). from_torch's weights stay embedded:
      the library uploads them to device memory on its first call.
  python3 bench/gpu/hf_real.py check [DIR]    GPU machine: loads each library as a tucker.Kernel
      (Kernel(library, signature): no tool), runs it on the bf16 CUDA x and prints a table of
      rel. errors against the reference (pass: <= BF16_TOL); results.json beside.

DIR defaults to bench/gpu/out/hf (git-ignored; carry it to the GPU machine for `check`). Each
stage exits non-zero if a case failed; a case the installed transformers lacks is skipped.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

from tucker import _tools  # noqa: E402

DEFAULT_DIR = os.path.join(HERE, "out", "hf")
# Pipeline options per variant: tucker.compile's default (PTX, compiled by the driver when the
# library loads) and cubins from ptxas here (what bench/gpu/build_layers.sh builds).
VARIANTS = {"ptx": None, "cubin": "format=bin"}


def _manifest_path(d):
    return os.path.join(d, "manifest.json")


def _read_manifest(d):
    with open(_manifest_path(d)) as f:
        return json.load(f)


def _write_manifest(d, manifest):
    with open(_manifest_path(d), "w") as f:
        json.dump(manifest, f, indent=1)


def _last_line(e):
    lines = [l for l in str(e).strip().splitlines() if l.strip()]
    return lines[-1] if lines else type(e).__name__


def export(d):
    import pytest
    import torch
    import transformers
    import test_hf_real as hf

    try:
        tool = _tools.find_tool("tucker-compile")
    except _tools.ToolNotFoundError:
        tool = None
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.cuda.get_device_name(0)}; tucker-compile: {tool or 'not found (none needed)'}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    manifest = {"exported": datetime.date.today().isoformat(), "torch": torch.__version__,
                "transformers": transformers.__version__, "device": torch.cuda.get_device_name(0),
                "cases": {}}
    failed = 0
    for name, (build, causal) in hf.CUDA_CASES.items():
        entry = manifest["cases"][name] = {"causal": causal}
        try:
            layer, x = build()
            text, expected = hf.export_cuda(layer, x, causal)
        except pytest.skip.Exception as e:
            entry["status"] = f"skipped: {e}"
        except Exception as e:
            entry["status"] = f"export failed: {_last_line(e)}"
            traceback.print_exc()
            failed += 1
        else:
            with open(os.path.join(d, f"{name}.mlir"), "w") as f:
                f.write(text)
            torch.save({"x": x, "expected": expected}, os.path.join(d, f"{name}.pt"))
            entry["status"] = "exported"
            entry["shape"] = list(x.shape)
        print(f"{name}: {entry['status']}")
    _write_manifest(d, manifest)
    return failed


def _runtime_library():
    """libTuckerCudaRuntime.so where tucker-compile links it from (its ../lib/Runtime in a build
    tree, ../lib installed)."""
    root = os.path.dirname(os.path.dirname(_tools.find_tool("tucker-compile")))
    for sub in ("lib/Runtime", "lib"):
        path = os.path.join(root, sub, "libTuckerCudaRuntime.so")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"libTuckerCudaRuntime.so is not in {root}/lib/Runtime or {root}/lib")


def compile_all(d):
    manifest = _read_manifest(d)
    shutil.copy(_runtime_library(), d)
    failed = 0
    for name, entry in manifest["cases"].items():
        if entry["status"] != "exported":
            continue
        entry["compiled"] = {}
        for variant, options in VARIANTS.items():
            base = os.path.join(d, f"{name}.{variant}")
            source = os.path.join(d, f"{name}.mlir")
            args = [source, "-o", base + ".so", "--target=cuda", f"--signature={base}.json"]
            if options:
                args.append(f"--pipeline-options={options}")
            try:
                _tools.run_tool("tucker-compile", args, what=f"tucker-compile failed for {name}")
                entry["compiled"][variant] = "ok"
            except _tools.CompileError as e:
                entry["compiled"][variant] = f"compile failed: {e.diagnostics.strip()}"
                print(e, file=sys.stderr)
                failed += 1
            print(f"{name} [{variant}]: {entry['compiled'][variant].splitlines()[0]}")
    _write_manifest(d, manifest)
    return failed


def check(d):
    import torch
    import test_hf_real as hf
    from tucker import Kernel

    manifest = _read_manifest(d)
    print(f"exported {manifest['exported']} with torch {manifest['torch']}, transformers "
          f"{manifest['transformers']} on {manifest['device']}; checked on {torch.cuda.get_device_name(0)}")
    rows, failed = [], 0
    for name, entry in manifest["cases"].items():
        if entry["status"] != "exported":
            rows.append((name, "-", entry["status"], entry["status"].startswith("skipped")))
            failed += not rows[-1][3]
            continue
        ref = torch.load(os.path.join(d, f"{name}.pt"))
        for variant in VARIANTS:
            status = entry.get("compiled", {}).get(variant, "not compiled")
            if status != "ok":  # the diagnostic without its file:line: prefix
                rows.append((name, variant, re.sub(r"^.*?error: ", "compile failed: ",
                                                   status.splitlines()[0]), False))
                failed += 1
                continue
            base = os.path.join(d, f"{name}.{variant}")
            try:
                with open(base + ".json") as f:
                    kernel = Kernel(base + ".so", json.load(f))
                err = hf.run_cuda(kernel, ref["x"], ref["expected"])
                ok = bool(err <= hf.BF16_TOL)
                rows.append((name, variant, f"{err:.2e}", ok))
            except Exception as e:
                traceback.print_exc()
                rows.append((name, variant, f"error: {_last_line(e)}", False))
                ok = False
            failed += not ok
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump([dict(zip(("case", "variant", "rel_error", "pass"), r)) for r in rows], f, indent=1)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'case':<{width}}  variant  rel. error (tol {hf.BF16_TOL:g})  pass")
    for name, variant, err, ok in rows:
        print(f"{name:<{width}}  {variant:<7}  {err:<21}  {'yes' if ok else 'NO'}")
    print(f"{len(rows) - failed}/{len(rows)} passed")
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["export", "compile", "check"])
    parser.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    args = parser.parse_args()
    stage = {"export": export, "compile": compile_all, "check": check}[args.stage]
    return 1 if stage(os.path.abspath(args.dir)) else 0


if __name__ == "__main__":
    sys.exit(main())
