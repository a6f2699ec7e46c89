#!/usr/bin/env python3
"""Runs every public function of a frontend-style .mlir file raised and unraised, and compares.

FILE may hold several modules separated by `// -----` lines (as -split-input-file reads it);
each is checked on its own. For each public `func.func @name(args) -> tensor<...>`, @main calls
it on seeded random
inputs (dense constants; rank-1 arguments scaled by 0.1, rank-2 ones by 1/sqrt(rows), others
standard normal) and prints the result. The module is then

  * unraised: lowered as is (TOSA through --tosa-to-linalg-pipeline, linalg.softmax decomposed
    by the transform interpreter), then --tucker-cpu-pipeline, and run with mlir-runner;
  * raised: --tucker-raise first, then the same.

It prints, per function, the tucker ops the raised function holds and

    @name rel_err = max |raised - unraised| / max |unraised|   PASS | FAIL

(PASS when rel_err <= --tol). Exit status 1 when a command fails.

    raise_check.py FILE --tucker-opt BIN --runner BIN --shared-libs A,B [--seed 0] [--tol 1e-4]
                   [--raise-options OPTS] [--before FLAGS]
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

SIGNATURE = re.compile(r"func\.func\s+(private\s+)?@(\w+)\s*\((.*?)\)\s*->\s*\(?\s*(tensor<[^>]*>)",
                       re.S)
ARGUMENT = re.compile(r"%[\w.]+\s*:\s*(tensor<[^>]*>)")
TUCKER_OP = re.compile(r"\btucker\.(mha|gqa|flash|attention|mla)\b")

DECOMPOSE_SOFTMAX = """
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %s = transform.structured.match ops{["linalg.softmax"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %d = transform.structured.decompose_interface %s : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
"""


def shape_of(tensor_type):
    body = tensor_type[len("tensor<"):-1]
    *dims, elem = body.split("x")
    return [int(d) for d in dims], elem


def main_function(kernels, rng):
    lines = ["func.func @main() {"]
    for name, args, result in kernels:
        operands = []
        for i, t in enumerate(args):
            shape, elem = shape_of(t)
            if elem != "f32":
                raise SystemExit(f"@{name}: only f32 arguments are supported, got {t}")
            scale = 0.1 if len(shape) == 1 else shape[0] ** -0.5 if len(shape) == 2 else 1.0
            data = (rng.standard_normal(shape) * scale).astype("<f4")
            lines.append(f'  %{name}_a{i} = arith.constant dense<"0x{data.tobytes().hex().upper()}"> : {t}')
            operands.append(f"%{name}_a{i}")
        lines.append(f"  %{name}_y = call @{name}({', '.join(operands)}) : "
                     f"({', '.join(args)}) -> {result}")
        lines.append(f"  %{name}_u = tensor.cast %{name}_y : {result} to tensor<*xf32>")
        lines.append(f'  vector.print str "@{name}\\n"')
        lines.append(f"  call @printMemrefF32(%{name}_u) : (tensor<*xf32>) -> ()")
    lines += ["  return", "}",
              "func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}"]
    return "\n".join(lines)


def run(cmd, stdin=None):
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write("command failed (exit %d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stderr))
        sys.exit(1)
    return proc.stdout


def outputs(text):
    """{name: flat float array} from the printed markers and memrefs."""
    result, name, numbers = {}, None, []
    for line in text.splitlines():
        if line.startswith("@"):
            if name:
                result[name] = np.array(numbers)
            name, numbers = line.strip()[1:], []
            continue
        if "data =" in line or line.startswith("Unranked"):
            continue
        numbers += [float(x) for x in re.findall(r"-?(?:nan|inf|\d+(?:\.\d*)?(?:e[-+]?\d+)?)", line)]
    if name:
        result[name] = np.array(numbers)
    return result


def tucker_ops(raised, name):
    start = raised.find(f"func.func @{name}(")
    end = raised.find("func.func", start + 1)
    body = raised[start:end if end >= 0 else len(raised)]
    found = []
    for op in TUCKER_OP.findall(body):
        if f"tucker.{op}" not in found:
            found.append(f"tucker.{op}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--tucker-opt", required=True)
    parser.add_argument("--runner", required=True)
    parser.add_argument("--shared-libs", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--raise-options", default="")
    parser.add_argument("--before", default="",
                        help="tucker-opt flags applied to both modules first (e.g. '--inline')")
    args = parser.parse_args()

    chunks = re.split(r"^// -----.*$", open(args.file).read(), flags=re.M)
    with tempfile.TemporaryDirectory() as tmp:
        library = os.path.join(tmp, "decompose.mlir")
        open(library, "w").write(DECOMPOSE_SOFTMAX)
        jobs = [(i, chunk, library, tmp, args) for i, chunk in enumerate(chunks)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            reports = list(pool.map(check_chunk, jobs))
    for lines in reports:
        for line in lines:
            print(line)


def check_chunk(job):
    index, text, library, tmp, args = job
    kernels = []
    for m in SIGNATURE.finditer(re.sub(r"//.*", "", text)):
        if m.group(1):
            continue
        kernels.append((m.group(2), ARGUMENT.findall(m.group(3)), m.group(4)))
    if not kernels:
        return []
    rng = np.random.default_rng(args.seed + index)
    module = text + "\n" + main_function(kernels, rng) + "\n"
    opt = args.tucker_opt
    prepare = ["--tosa-to-linalg-pipeline", "--tosa-to-tensor", "--tosa-to-arith",
               f"--transform-preload-library=transform-library-paths={library}",
               "--transform-interpreter"]
    execute = [args.runner, "-e", "main", "-entry-point-result=void",
               f"-shared-libs={args.shared_libs}"]

    def lowered(ir):
        ready = run([opt, "-"] + prepare, ir)
        llvm = run([opt, "-", "--tucker-cpu-pipeline"], ready)
        return outputs(run(execute, llvm))

    if args.before:
        module = run([opt, "-"] + args.before.split(), module)
    raise_flag = "--tucker-raise" + (f"={args.raise_options}" if args.raise_options else "")
    raised_ir = run([opt, "-", raise_flag], module)
    reference = lowered(module)
    raised = lowered(raised_ir)

    lines = []
    for name, _, _ in kernels:
        ops = tucker_ops(raised_ir, name)
        lines.append(f"@{name} raised to {', '.join(ops) if ops else 'nothing'}")
        a, b = raised.get(name), reference.get(name)
        if a is None or b is None or a.shape != b.shape or b.size == 0:
            lines.append(f"@{name} FAIL: no comparable output")
            continue
        scale = np.max(np.abs(b))
        err = np.max(np.abs(a - b)) / scale if scale > 0 else np.max(np.abs(a - b))
        ok = bool(np.isfinite(err) and err <= args.tol)
        lines.append(f"@{name} rel_err = {err:.2e} {'PASS' if ok else 'FAIL'}")
    return lines


if __name__ == "__main__":
    main()
