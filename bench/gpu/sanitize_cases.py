#!/usr/bin/env python3
"""One small call of every generated kernel class, for compute-sanitizer (sanitize_gpu.sh).

  sanitize_cases.py list OUT [CASE...]    the cases, their libraries and kernels (no GPU)
  sanitize_cases.py run OUT [CASE...]     calls each case once on cuda:0 and checks the
                                          output against its reference;
                                          one line `CASE <name> ok|FAIL ...` per case
  sanitize_cases.py report OUT LOGDIR [CASE...]
                                          the pass/fail table from what sanitize_gpu.sh
                                          left in LOGDIR; exit status 1 on any error

OUT is bench/gpu/out, where bench/gpu/build_gpu.sh leaves gpu/tests/<case>.so and .json
(test/Integration/GPU, static shapes, read with their `// CASE:` line) and gpu/sweep/<config>.so
(dynamic batch and cache size, called here with a tiny batch and cache), and
bench/gpu/build_layers.sh leaves layers/tests/<case>.so (test/Integration/GPU/layers: whole
layers, their GEMMs through the runtime's cuBLASLt and the rest as generated loop kernels).
Each class below is the smallest artifact that exercises it: the kernel file (prefill, split-O
for heads wider than 256, split-KV decode with its combine kernel, rope rotation, outlined
loops) and the paths inside it (head widths 64 to 576, f16/bf16, GQA packing, causal with
Nq > Nk, v read from k, rope, lengths with empty sequences, splits with no tile, heads read in
place from [B, N, H, D], dynamic shapes). Cases whose artifact is missing are listed as not
built and skipped.

Inputs are made and the reference computed on the CPU (check_flash.py's and check_layer.py's
references), so that the only kernels on the GPU are the library's own (and the cuBLASLt GEMMs
it calls): those are what the sanitizers see. A report names its kernel; `report` attributes it
to the cases whose library holds that kernel (the names are read from the .so); a report naming
another kernel (cuBLASLt's) or none (an API error) fails the run with a note.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
GPU_TESTS = os.path.join(REPO, "test", "Integration", "GPU")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, GPU_TESTS)
sys.path.insert(0, os.path.join(GPU_TESTS, "layers"))
TOOLS = ("memcheck", "racecheck", "synccheck")

# name, what it covers, source: (directory under OUT, case) or, for the sweep, ("gpu/sweep",
# config, batch, keys, lengths)
CASES = [
    ("prefill-d64-f16-causal", "prefill, d64, f16, causal, N not a tile multiple",
     ("gpu/tests", "mha-d64-f16-causal")),
    ("prefill-d64-nq-above-nk", "prefill, causal rows that see no key (Nq > Nk)",
     ("gpu/tests", "nq-above-nk-causal")),
    ("prefill-d96", "prefill, head width 96 (padded chunk)", ("gpu/tests", "width-96")),
    ("prefill-d128-rope", "prefill, d128, rope (strided, repeated)",
     ("gpu/tests", "rope-strided-repeat")),
    ("prefill-d160-v96-gqa", "prefill, Dqk != Dv, GQA, causal",
     ("gpu/tests", "width-160-v96-gqa-causal")),
    ("prefill-d256", "prefill, d256 (48-key tiles)", ("gpu/tests", "mha-d256")),
    ("prefill-three-consumers", "prefill, three consumer warpgroups (192 rows), latent d64, causal",
     ("gpu/tests", "latent-d64-three-consumers-causal")),
    ("prefill-three-consumers-rope", "prefill, three consumers, rope on the fly, GQA",
     ("gpu/tests", "rope-d64-three-consumers-fused")),
    ("prefill-three-consumers-packed", "prefill, three consumers, 2 GQA heads of 96 rows per tile",
     ("gpu/tests", "packed-prefill-three-consumers")),
    ("prefill-packed-heads", "prefill, GQA heads packed in the M tile",
     ("gpu/tests", "packed-prefill-causal")),
    ("prefill-v-from-k", "prefill, v a column slice of k (latent)",
     ("gpu/tests", "latent-d192-v128-column64")),
    ("prefill-lengths", "prefill, per-sequence lengths",
     ("gpu/tests", "prefill-ragged-lengths-mha-causal")),
    ("split-o-d320", "split-O prefill, heads wider than 256, separate v",
     ("gpu/tests", "wide-320-separate-v")),
    ("split-o-mla-rope", "split-O prefill, MLA 576/512, rope, v from k",
     ("gpu/tests", "rope-mla-absorbed-576-512-causal")),
    ("decode-splits-f16", "decode + combine, forced 7 key splits, f16",
     ("gpu/tests", "decode-kv-splits-forced-f16")),
    ("decode-empty-splits", "decode + combine, more splits than key tiles, Nq > Nk",
     ("gpu/tests", "decode-nq-above-nk-causal")),
    ("decode-lengths", "decode + combine, ragged lengths with 0 and 1",
     ("gpu/tests", "decode-ragged-lengths-gqa-causal")),
    ("decode-rope-nq8", "decode + combine, rope, 8 queries",
     ("gpu/tests", "decode-gqa-rope-nq8-causal")),
    ("split-o-decode", "split-O decode + combine, MLA 576/512",
     ("gpu/tests", "mla-absorbed-576-512-decode")),
    ("split-o-decode-lengths-rope", "split-O decode + combine, lengths, rope",
     ("gpu/tests", "decode-ragged-lengths-mla-rope-causal")),
    ("split-o-decode-rope-pairs", "split-O decode + combine, rope, lengths, 3 key tiles per split "
     "(a pair, then a tile for one warpgroup only)",
     ("gpu/sweep", "sweep-mla-h128-576-512-rope", 2, 4500, [4500, 333])),
    ("decode-dynamic", "decode + combine, dynamic batch and cache, lengths 0..Nk",
     ("gpu/sweep", "sweep-gqa-32-8-d128", 3, 200, [200, 0, 67])),
    ("heads-in-place-gqa", "prefill, q/k/v/o read and written as [B, N, H, D]",
     ("gpu/tests", "heads-transposed-gqa-causal")),
    ("heads-in-place-decode-rope", "decode + combine, rope, [B, N, H, D]",
     ("gpu/tests", "heads-transposed-rope-decode")),
    ("layer-mla-norms", "whole MLA layer: GEMMs, RMS norms and rope as loop kernels, flash",
     ("layers/tests", "layer-mla-norms-causal")),
    ("layer-tucker", "whole Tucker layer: core contractions as loop kernels, flash",
     ("layers/tests", "layer-tucker")),
]

# Kernel entry points in a library's gpu.binary: ".entry NAME" in PTX, ".text.NAME" in a cubin.
KERNEL_NAME = re.compile(rb"(?:\.entry |\.text\.)([A-Za-z_$][A-Za-z0-9_$]*)")


def library(out, source):
    """(.so, .json) paths of a case's artifact."""
    kind, name = source[0], source[1]
    return (os.path.join(out, kind, name + ".so"), os.path.join(out, kind, name + ".json"))


def kernel_names(so_path):
    """The kernels embedded in a library (the gpu.binary's entry points)."""
    with open(so_path, "rb") as fh:
        return sorted({m.decode() for m in KERNEL_NAME.findall(fh.read())})


def available(out):
    """The cases whose artifacts exist in OUT."""
    return [c for c in CASES if os.path.exists(library(out, c[2])[0])]


def missing(out):
    return [c[0] for c in CASES if not os.path.exists(library(out, c[2])[0])]


def selected(out, names):
    """The available cases, or those of them named."""
    cases = available(out)
    unknown = set(names) - {c[0] for c in cases}
    if unknown:
        sys.exit(f"sanitize_cases.py: unknown or unbuilt cases: {' '.join(sorted(unknown))}")
    return [c for c in cases if not names or c[0] in names]


def cmd_list(out, names):
    cases = selected(out, names)
    if not cases:
        sys.exit(f"sanitize_cases.py: no artifacts in {out}: run bench/gpu/build_gpu.sh")
    for name, what, source in cases:
        print(f"{name:30s} {what}\n{'':30s} {library(out, source)[0]}: "
              f"{' '.join(kernel_names(library(out, source)[0]))}")
    if missing(out) and not names:
        print("not built:", " ".join(missing(out)))


def call_case(out, source):
    """Runs one case on cuda:0; returns (ok, description)."""
    import torch
    from tucker.compiler import Kernel

    so, sig = library(out, source)
    with open(sig) as fh:
        kernel = Kernel(so, json.load(fh))
    specs = kernel.signature.args
    element = specs[0].dtype
    from check_flash import DTYPES, read_case
    dtype = DTYPES[element]
    gen = torch.Generator().manual_seed(7)
    if source[0] == "layers/tests":
        from check_layer import TOLERANCE, random_inputs, reference
        case = read_case(os.path.join(GPU_TESTS, "layers", source[1] + ".mlir"))
        names, host = random_inputs(case, specs, dtype, gen)
        with torch.no_grad():
            ref = reference(case, {n: t.double() for n, t in zip(names, host)}).float()
    else:
        from check_flash import TOLERANCE, reference
        host, ref = flash_inputs(out, source, specs, kernel, dtype, gen, read_case, reference)
    o = kernel(*[t.cuda() for t in host])
    torch.cuda.synchronize()
    o = o.float().cpu()
    nan = int(torch.isnan(o).sum())
    rel = float((o - ref).nan_to_num(nan=1e9).norm() / ref.norm().clamp_min(1e-30))
    ok = nan == 0 and rel <= TOLERANCE[element]
    shapes = " ".join(str(tuple(x.shape)) for x in host)
    return ok, f"{element} {shapes} rel_err={rel:.1e} nan={nan}"


def flash_inputs(out, source, specs, kernel, dtype, gen, read_case, reference):
    """Host inputs of a flash case and check_flash.py's float32 reference of them."""
    import torch

    def randn(*shape):
        return torch.randn(*shape, dtype=dtype, generator=gen)

    if source[0] == "gpu/tests":
        case = read_case(os.path.join(GPU_TESTS, source[1] + ".mlir"))
        lengths = case.get("lengths")
        host = [torch.tensor(lengths, dtype=torch.int32) if s.dtype == "i32" else randn(*s.shape)
                for s in specs]
    else:  # a sweep config: dynamic batch and cache size, with lengths
        with open(os.path.join(out, "gpu", "sweep", "cases.json")) as fh:
            config = next(c for c in json.load(fh) if c["name"] == source[1])
        batch, keys, lengths = source[2], source[3], source[4]
        case = {"causal": config["causal"], "rope": config["rope"]}
        if config["value_column"] is not None:
            case["value_column"] = config["value_column"]
        host = [randn(batch, config["Hq"], config["Nq"], config["Dqk"]),
                randn(batch, config["Hkv"], keys, config["Dqk"])]
        if config["value_column"] is None:
            host.append(randn(batch, config["Hkv"], keys, config["Dv"]))
        host.append(torch.tensor(lengths, dtype=torch.int32))
    q, k = host[0], host[1]
    dv = kernel.signature.results[0].shape[-1]
    column = case.get("value_column")
    v = k[..., column:column + dv] if column is not None else host[2]
    heads_major = case.get("layout") == "bnhd"
    if heads_major:  # the reference takes [B, H, N, D]
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    scale = case.get("scale") or q.shape[-1] ** -0.5
    ref, _ = reference(q, k, v, case.get("causal", False), scale, case.get("rope"), lengths)
    return host, ref.transpose(1, 2) if heads_major else ref


def cmd_run(out, names):
    cases = selected(out, names)
    failed = 0
    for name, _, source in cases:
        try:
            ok, text = call_case(out, source)
        except Exception as e:  # a case that raises is a failed case, the others still run
            ok, text = False, f"{type(e).__name__}: {e}"
        failed += not ok
        print(f"CASE {name} {'ok' if ok else 'FAIL'} {text}", flush=True)
    return 1 if failed else 0


# compute-sanitizer prints each error or hazard as a block of "========= " lines: a first
# line flush with the prefix ("Invalid __global__ read ...", "Error: Race reported between
# ...", "Barrier error detected ...", "Program hit ..."), indented lines ("at
# flash_fwd_...+0x1f0", "by thread ..."), then a bare "=========". Banner and summary lines
# are not reports.
NOT_A_REPORT = re.compile(r"(COMPUTE-SANITIZER|ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY|"
                          r"Target application returned)")
SUMMARY = re.compile(r"ERROR SUMMARY: (\d+) errors?|RACECHECK SUMMARY: (\d+) hazards? displayed")
WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def parse_log(path, known):
    """Reports by the kernel of `known` they name, the first lines of those that name none, and
    the tool's summary count (None without one)."""
    blocks, summary = [], None
    with open(path, errors="replace") as fh:
        for line in fh:
            if not line.startswith("========="):
                continue
            body = line[len("========="):].rstrip("\n")
            m = SUMMARY.search(body)
            if m:
                summary = (summary or 0) + int(m.group(1) or m.group(2))
            if not body.strip() or NOT_A_REPORT.search(body):
                blocks.append(None)  # ends the current report
            elif body.startswith(" ") and body[1:2] != " ":
                blocks.append([body])  # a report's first line: "========= Invalid ..."
            elif blocks and blocks[-1] is not None:
                blocks[-1].append(body)
    by_kernel, others = {}, []
    for block in filter(None, blocks):
        name = next((w for line in block for w in WORD.findall(line) if w in known), None)
        if name:
            by_kernel[name] = by_kernel.get(name, 0) + 1
        else:
            others.append(block[0].strip())
    return by_kernel, others, summary


def cmd_report(out, logdir, names):
    cases = selected(out, names)
    kernels = {c[0]: kernel_names(library(out, c[2])[0]) for c in cases}
    table = {c[0]: {} for c in cases}
    notes, bad = [], False
    tools = [t for t in TOOLS if os.path.exists(os.path.join(logdir, t + ".rc"))]
    if not tools:
        sys.exit(f"sanitize_cases.py: no tool ran (no <tool>.rc in {logdir})")
    for tool in tools:
        rc = int(open(os.path.join(logdir, tool + ".rc")).read().strip() or 1)
        run_log = os.path.join(logdir, tool + ".run.log")
        status = {}
        if os.path.exists(run_log):
            for line in open(run_log, errors="replace"):
                m = re.match(r"CASE (\S+) (ok|FAIL)\b", line)
                if m:
                    status[m.group(1)] = m.group(2)
        known = {k for v in kernels.values() for k in v}
        log = os.path.join(logdir, tool + ".log")
        if os.path.exists(log):
            by_kernel, others, summary = parse_log(log, known)
        else:
            by_kernel, others, summary = {}, [], None
            bad = True
            notes.append(f"{tool}: wrote no log ({tool}.log); see {tool}.run.log")
        for name in table:
            errors = sum(by_kernel.get(k, 0) for k in kernels[name])
            if name not in status:
                cell = "not run"
            elif errors:
                cell = f"{errors} error{'s' if errors > 1 else ''}"
            elif status[name] == "FAIL":
                cell = "wrong"
            else:
                cell = "ok"
            table[name][tool] = cell
            bad |= cell != "ok"
        if others:
            bad = True
            notes.append(f"{tool}: {len(others)} report(s) naming no kernel of the cases (API "
                         f"errors, cuBLASLt's kernels), e.g. '{others[0]}'; see {tool}.log")
        count = sum(by_kernel.values()) + len(others)
        if summary and summary != count:
            bad = True
            notes.append(f"{tool}: its summary counts {summary}, the log holds {count} "
                         f"report(s); see {tool}.log")
        if rc != 0:
            bad = True
            notes.append(f"{tool}: exit status {rc}" + (" (timed out)" if rc == 124 else "")
                         + f"; summary: {summary if summary is not None else 'none'} "
                         f"error(s); see {tool}.log and {tool}.run.log")
    width = max(len(n) for n in table) + 2
    print(f"{'case':{width}s}" + "".join(f"{t:12s}" for t in tools) + "kernels")
    for name, cells in table.items():
        print(f"{name:{width}s}" + "".join(f"{cells[t]:12s}" for t in tools)
              + " ".join(kernels[name]))
    if missing(out) and not names:
        notes.append("not built, so not run: " + " ".join(missing(out)))
    for note in notes:
        print("note:", note)
    print("compute-sanitizer: " + ("FAILED" if bad else f"clean ({len(table)} cases x "
                                    f"{len(tools)} tools)"))
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "list":
        return cmd_list(argv[1], argv[2:])
    if len(argv) >= 2 and argv[0] == "run":
        return cmd_run(argv[1], argv[2:])
    if len(argv) >= 3 and argv[0] == "report":
        return cmd_report(argv[1], argv[2], argv[3:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
