#!/usr/bin/env python3
"""One small call of every generated kernel class, for compute-sanitizer (sanitize_gpu.sh).

  sanitize_cases.py list OUT [CASE...]     the cases, their libraries and kernels (no GPU)
  sanitize_cases.py run OUT [CASE...]     calls each case once on cuda:0 and checks the
                                          output against check_flash.py's reference;
                                          one line `CASE <name> ok|FAIL ...` per case
  sanitize_cases.py report OUT LOGDIR [CASE...]
                                          the pass/fail table from what sanitize_gpu.sh
                                          left in LOGDIR; exit status 1 on any error

OUT is what bench/gpu/build_gpu.sh leaves in bench/gpu/out/gpu: tests/<case>.so and .json
(test/Integration/GPU, static shapes, read with their `// CASE:` line) and sweep/<config>.so
(dynamic batch and cache size, called here with a tiny batch and cache). Each class below
is the smallest artifact that exercises it: the kernel file (prefill, split-O for heads
wider than 256, split-KV decode with its combine kernel) and the paths inside it (head
widths 64 to 576, f16/bf16, GQA packing, causal with Nq > Nk, v read from k, rope, lengths
with empty sequences, splits with no tile, dynamic shapes).

A sanitizer report names the kernel (`flash_fwd_...`); `report` attributes it to the cases
whose library holds that kernel (the names are read from the .so).
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
TOOLS = ("memcheck", "racecheck", "synccheck")

# name, what it covers, source: ("tests", case) or ("sweep", config, batch, keys, lengths)
CASES = [
    ("prefill-d64-f16-causal", "prefill, d64, f16, causal, N not a tile multiple",
     ("tests", "mha-d64-f16-causal")),
    ("prefill-d64-nq-above-nk", "prefill, causal rows that see no key (Nq > Nk)",
     ("tests", "nq-above-nk-causal")),
    ("prefill-d96", "prefill, head width 96 (padded chunk)", ("tests", "width-96")),
    ("prefill-d128-rope", "prefill, d128, rope (strided, repeated)",
     ("tests", "rope-strided-repeat")),
    ("prefill-d160-v96-gqa", "prefill, Dqk != Dv, GQA, causal",
     ("tests", "width-160-v96-gqa-causal")),
    ("prefill-d256", "prefill, d256 (48-key tiles)", ("tests", "mha-d256")),
    ("prefill-packed-heads", "prefill, GQA heads packed in the M tile",
     ("tests", "packed-prefill-causal")),
    ("prefill-v-from-k", "prefill, v a column slice of k (latent)",
     ("tests", "latent-d192-v128-column64")),
    ("prefill-lengths", "prefill, per-sequence lengths",
     ("tests", "prefill-ragged-lengths-mha-causal")),
    ("split-o-d320", "split-O prefill, heads wider than 256, separate v",
     ("tests", "wide-320-separate-v")),
    ("split-o-mla-rope", "split-O prefill, MLA 576/512, rope, v from k",
     ("tests", "rope-mla-absorbed-576-512-causal")),
    ("decode-splits-f16", "decode + combine, forced 7 key splits, f16",
     ("tests", "decode-kv-splits-forced-f16")),
    ("decode-empty-splits", "decode + combine, more splits than key tiles, Nq > Nk",
     ("tests", "decode-nq-above-nk-causal")),
    ("decode-lengths", "decode + combine, ragged lengths with 0 and 1",
     ("tests", "decode-ragged-lengths-gqa-causal")),
    ("decode-rope-nq8", "decode + combine, rope, 8 queries",
     ("tests", "decode-gqa-rope-nq8-causal")),
    ("split-o-decode", "split-O decode + combine, MLA 576/512",
     ("tests", "mla-absorbed-576-512-decode")),
    ("split-o-decode-lengths-rope", "split-O decode + combine, lengths, rope",
     ("tests", "decode-ragged-lengths-mla-rope-causal")),
    ("decode-dynamic", "decode + combine, dynamic batch and cache, lengths 0..Nk",
     ("sweep", "sweep-gqa-32-8-d128", 3, 200, [200, 0, 67])),
]

KERNEL_NAME = re.compile(rb"(?<![A-Za-z0-9_])flash_fwd_[A-Za-z0-9_]+")


def library(out, source):
    """(.so, .json) paths of a case's artifact."""
    kind, name = source[0], source[1]
    return (os.path.join(out, kind, name + ".so"), os.path.join(out, kind, name + ".json"))


def kernel_names(so_path):
    """The flash kernels embedded in a library (the gpu.binary's symbol names)."""
    with open(so_path, "rb") as fh:
        return sorted({m.decode() for m in KERNEL_NAME.findall(fh.read())})


def available(out):
    """The cases whose artifacts exist in OUT (the sweep directory is optional)."""
    return [c for c in CASES if os.path.exists(library(out, c[2])[0])]


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


def call_case(out, source):
    """Runs one case on cuda:0; returns (ok, description)."""
    import torch
    from tucker.compiler import Kernel
    from check_flash import TOLERANCE, read_case, reference

    so, sig = library(out, source)
    with open(sig) as fh:
        kernel = Kernel(so, json.load(fh))
    specs = kernel.signature.args
    element = specs[0].dtype
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[element]
    gen = torch.Generator(device="cuda").manual_seed(7)

    def randn(*shape):
        return torch.randn(*shape, device="cuda", dtype=dtype, generator=gen)

    if source[0] == "tests":
        case = read_case(os.path.join(GPU_TESTS, source[1] + ".mlir"))
        lengths = case.get("lengths")
        inputs = [torch.tensor(lengths, device="cuda", dtype=torch.int32) if s.dtype == "i32"
                  else randn(*s.shape) for s in specs]
    else:  # a sweep config: dynamic batch and cache size, with lengths
        config = next(c for c in json.load(open(os.path.join(out, "sweep", "cases.json")))
                      if c["name"] == source[1])
        batch, keys, lengths = source[2], source[3], source[4]
        case = {"causal": config["causal"], "rope": config["rope"]}
        if config["value_column"] is not None:
            case["value_column"] = config["value_column"]
        q = randn(batch, config["Hq"], config["Nq"], config["Dqk"])
        k = randn(batch, config["Hkv"], keys, config["Dqk"])
        inputs = [q, k]
        if config["value_column"] is None:
            inputs.append(randn(batch, config["Hkv"], keys, config["Dv"]))
        inputs.append(torch.tensor(lengths, device="cuda", dtype=torch.int32))
    q, k = inputs[0], inputs[1]
    dv = kernel.signature.results[0].shape[-1]
    v = k[..., case["value_column"]:case["value_column"] + dv] if "value_column" in case \
        else inputs[2]
    o = kernel(*inputs)
    torch.cuda.synchronize()
    scale = case.get("scale") or q.shape[-1] ** -0.5
    ref = reference(q, k, v, case.get("causal", False), scale, case.get("rope"), lengths)
    nan = int(torch.isnan(o).sum())
    rel = float((o.float() - ref).nan_to_num(nan=1e9).norm() / ref.norm().clamp_min(1e-30))
    ok = nan == 0 and rel <= TOLERANCE[element]
    shapes = " ".join(str(tuple(x.shape)) for x in inputs)
    return ok, f"{element} {shapes} rel_err={rel:.1e} nan={nan}"


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
TEXT_KERNEL = re.compile(r"(?<![A-Za-z0-9_])flash_fwd_[A-Za-z0-9_]+")


def parse_log(path):
    """(reports by kernel name, reports that name no flash kernel, summary count or None)."""
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
    by_kernel, unattributed = {}, 0
    for block in filter(None, blocks):
        m = next(filter(None, map(TEXT_KERNEL.search, block)), None)
        if m:
            by_kernel[m.group(0)] = by_kernel.get(m.group(0), 0) + 1
        else:
            unattributed += 1
    return by_kernel, unattributed, summary


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
        by_kernel, unattributed, summary = parse_log(os.path.join(logdir, tool + ".log"))
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
        stray = {k: n for k, n in by_kernel.items() if not any(k in v for v in kernels.values())}
        if stray or unattributed:
            bad = True
            notes.append(f"{tool}: {sum(stray.values()) + unattributed} report(s) not tied to a "
                         f"case's kernel {sorted(stray)}; see {tool}.log")
        if summary and summary != sum(by_kernel.values()) + unattributed:
            bad = True
            notes.append(f"{tool}: its summary counts {summary}, the log holds "
                         f"{sum(by_kernel.values()) + unattributed} report(s); see {tool}.log")
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
