#!/usr/bin/python3
"""Whole attention layers on the CPU: the compiled layer against torch eager of the same module.

    /usr/bin/python3 bench/cpu/bench_layer.py [--sizes 128,256,512,1024,2048] [--threads 1,all]
        [--dtypes f32,bf16] [--layers mha,llama] [--pieces] [--pipeline-options OPTS]

Layers (d 256, 8 query heads of width 32, B 1):
  mha    torch.nn.MultiheadAttention(256, 8, batch_first=True), eval, not causal;
  llama  Llama-style GQA (python/tests/hf_semantics.py: HF's eager LlamaAttention), 8 query
         heads over 2 key/value heads, rotate-half RoPE, causal, no biases.

Each is imported once with tucker.from_torch (dynamic B and N: one kernel serves every N) and
compiled with tucker.compile for this CPU; the table compares the kernel's call (torch in, torch
out, through tucker.Kernel) with the module's forward under torch.no_grad(), on the same input.
Times are medians over --reps calls after --warmup calls, in ms; `torch/ours` above 1 means the
compiled layer is faster. `threads` is what torch.set_num_threads got for the eager run; the
compiled code runs on as many threads as the `ours thr.` column says. Nothing is asserted: the
script reports. `--pieces` also times the layer's parts compiled alone (the four projections as
one linalg kernel, the attention core as one tucker.flash), to show where the time goes.

The BLAS that torch's eager matmuls use (libblas.so.3: Debian's reference BLAS unless OpenBLAS or
another provider is installed) decides the torch column; the header line names it.
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "python", "tests"))  # hf_semantics

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tucker  # noqa: E402

D, HEADS, KV_HEADS, HEAD_DIM = 256, 8, 2, 32


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def loaded_blas():
    """The BLAS library torch loaded (from /proc/self/maps), after one matmul."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    names = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if "blas" in base or "mkl" in base or "blis" in base:
                    names.add(os.path.realpath(path))
    except OSError:
        pass
    return ", ".join(sorted(names)) or "none found"


def median_ms(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def reps_for(n, base):
    """Fewer repetitions for long sequences (the eager layer takes seconds at 2048 with a
    reference BLAS)."""
    return max(3, base * 128 // n)


def make_layer(name, dtype):
    torch.manual_seed(0)
    if name == "mha":
        module = torch.nn.MultiheadAttention(D, HEADS, batch_first=True).eval()
        forward = lambda x: module(x, x, x, need_weights=False)[0]  # noqa: E731
        causal = False
    elif name == "llama":
        from hf_semantics import LlamaAttention

        module = LlamaAttention(D, HEADS, KV_HEADS, HEAD_DIM, 10000.0).eval()
        forward = lambda x: module(x, causal=True)  # noqa: E731
        causal = True
    else:
        raise SystemExit("unknown layer " + name)
    rotary = getattr(module, "rotary_emb", None)
    inv_freq = rotary.inv_freq.clone() if rotary is not None else None
    module = module.to(dtype)
    if rotary is not None:
        # The rotary frequencies stay in float64, as HF keeps them in float32 (.to() casts buffers).
        rotary.inv_freq = inv_freq
    return module, forward, causal


def rel_err(out, expected):
    out = out.double()
    expected = expected.double()
    return ((out - expected).abs().max() / expected.abs().max()).item()


def projections_kernel(dtype_name, qkv_width, options):
    """x·[Wq | Wk | Wv] and o·Wo as linalg on tensors (dynamic N, f32 results): the projections
    alone."""
    t = dtype_name
    acc = "f32"
    ext = "" if t == "f32" else "%a = arith.extf %in : {t} to f32\n      %b = arith.extf %in_0 : {t} to f32\n".format(t=t)
    lhs, rhs = ("%in", "%in_0") if t == "f32" else ("%a", "%b")
    text = """
#x = affine_map<(b, n, j, k) -> (b, n, k)>
#w = affine_map<(b, n, j, k) -> (k, j)>
#o = affine_map<(b, n, j, k) -> (b, n, j)>
func.func @projections(%x: tensor<1x?x{d}x{t}>, %wqkv: tensor<{d}x{d3}x{t}>, %wo: tensor<{d}x{d}x{t}>)
    -> (tensor<1x?x{d3}x{acc}>, tensor<1x?x{d}x{acc}>) {{
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c1 : tensor<1x?x{d}x{t}>
  %zero = arith.constant 0.0 : {acc}
  %e = tensor.empty(%n) : tensor<1x?x{d3}x{acc}>
  %init = linalg.fill ins(%zero : {acc}) outs(%e : tensor<1x?x{d3}x{acc}>) -> tensor<1x?x{d3}x{acc}>
  %qkv = linalg.generic {{indexing_maps = [#x, #w, #o],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}}
      ins(%x, %wqkv : tensor<1x?x{d}x{t}>, tensor<{d}x{d3}x{t}>) outs(%init : tensor<1x?x{d3}x{acc}>) {{
  ^bb0(%in: {t}, %in_0: {t}, %out: {acc}):
      {ext}%p = arith.mulf {lhs}, {rhs} : {acc}
      %s = arith.addf %out, %p : {acc}
      linalg.yield %s : {acc}
  }} -> tensor<1x?x{d3}x{acc}>
  %eo = tensor.empty(%n) : tensor<1x?x{d}x{acc}>
  %inito = linalg.fill ins(%zero : {acc}) outs(%eo : tensor<1x?x{d}x{acc}>) -> tensor<1x?x{d}x{acc}>
  %y = linalg.generic {{indexing_maps = [#x, #w, #o],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}}
      ins(%x, %wo : tensor<1x?x{d}x{t}>, tensor<{d}x{d}x{t}>) outs(%inito : tensor<1x?x{d}x{acc}>) {{
  ^bb0(%in: {t}, %in_0: {t}, %out: {acc}):
      {ext}%p = arith.mulf {lhs}, {rhs} : {acc}
      %s = arith.addf %out, %p : {acc}
      linalg.yield %s : {acc}
  }} -> tensor<1x?x{d}x{acc}>
  return %qkv, %y : tensor<1x?x{d3}x{acc}>, tensor<1x?x{d}x{acc}>
}}
""".format(d=D, d3=qkv_width, t=t, acc=acc, ext=ext, lhs=lhs, rhs=rhs)
    return tucker.compile(text, pipeline_options=options)


def flash_kernel(dtype_name, kv_heads, causal, options):
    t = dtype_name
    text = """
func.func @flash(%q: tensor<1x{h}x?x{dh}x{t}>, %k: tensor<1x{hk}x?x{dh}x{t}>, %v: tensor<1x{hk}x?x{dh}x{t}>)
    -> tensor<1x{h}x?x{dh}x{t}> {{
  %o = tucker.flash %q, %k, %v {attrs}
      : tensor<1x{h}x?x{dh}x{t}>, tensor<1x{hk}x?x{dh}x{t}>, tensor<1x{hk}x?x{dh}x{t}> -> tensor<1x{h}x?x{dh}x{t}>
  return %o : tensor<1x{h}x?x{dh}x{t}>
}}
""".format(h=HEADS, hk=kv_heads, dh=HEAD_DIM, t=t, attrs="{causal}" if causal else "")
    return tucker.compile(text, pipeline_options=options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="128,256,512,1024,2048")
    parser.add_argument("--threads", default="1,all", help="torch thread counts ('all': every core)")
    parser.add_argument("--dtypes", default="f32,bf16")
    parser.add_argument("--layers", default="mha,llama")
    parser.add_argument("--reps", type=int, default=20, help="timed calls at N 128 (fewer above)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pieces", action="store_true", help="also time projections and flash alone")
    parser.add_argument("--pipeline-options", default=None, help="--tucker-cpu-pipeline options")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",")]
    cores = os.cpu_count() or 1
    threads = [cores if t == "all" else int(t) for t in args.threads.split(",")]
    threads = list(dict.fromkeys(threads))
    dtypes = {"f32": torch.float32, "bf16": torch.bfloat16}
    ours_threads = 1

    print("# CPU: %s, %d cores; torch %s, BLAS: %s" % (cpu_model(), cores, torch.__version__, loaded_blas()))
    print("# load average at start: %s" % " ".join("%.2f" % v for v in os.getloadavg()))
    if args.pipeline_options:
        print("# pipeline options: %s" % args.pipeline_options)
    print()
    print("| layer | dtype | N | threads | ours thr. | ours ms | torch ms | torch/ours | rel. err |")
    print("|---|---|---|---|---|---|---|---|---|")
    pieces = []
    for layer in args.layers.split(","):
        for dname in args.dtypes.split(","):
            dtype = dtypes[dname]
            module, forward, causal = make_layer(layer, dtype)
            x0 = torch.randn(1, 16, D).to(dtype)
            with torch.no_grad():
                text = tucker.from_torch(module, x0, causal=causal)
            kernel = tucker.compile(text, pipeline_options=args.pipeline_options)
            for n in sizes:
                torch.manual_seed(n)
                x = torch.randn(1, n, D).to(dtype)
                reps = reps_for(n, args.reps)
                warmup = args.warmup if n < 1024 else 1
                with torch.no_grad():
                    err = rel_err(kernel(x), forward(x).float())
                    for t in threads:
                        torch.set_num_threads(t)
                        ours = median_ms(lambda: kernel(x), reps, warmup)
                        eager = median_ms(lambda: forward(x), reps, warmup)
                        print("| %s | %s | %d | %d | %d | %.3f | %.3f | %.2f | %.1e |" % (
                            layer, dname, n, t, ours_threads, ours, eager, eager / ours, err), flush=True)
            torch.set_num_threads(cores)
            if args.pieces:
                kv = HEADS if layer == "mha" else KV_HEADS
                proj = projections_kernel(dname, D + 2 * kv * HEAD_DIM, args.pipeline_options)
                flash = flash_kernel(dname, kv, causal, args.pipeline_options)
                whole = kernel
                for n in sizes:
                    x = torch.randn(1, n, D).to(dtype)
                    wqkv = torch.randn(D, D + 2 * kv * HEAD_DIM).to(dtype) / math.sqrt(D)
                    wo = torch.randn(D, D).to(dtype) / math.sqrt(D)
                    q = torch.randn(1, HEADS, n, HEAD_DIM).to(dtype)
                    k = torch.randn(1, kv, n, HEAD_DIM).to(dtype)
                    v = torch.randn(1, kv, n, HEAD_DIM).to(dtype)
                    reps = reps_for(n, args.reps)
                    t_all = median_ms(lambda: whole(x), reps, args.warmup)
                    t_proj = median_ms(lambda: proj(x, wqkv, wo), reps, args.warmup)
                    t_flash = median_ms(lambda: flash(q, k, v), reps, args.warmup)
                    pieces.append((layer, dname, n, t_all, t_proj, t_flash))
    if pieces:
        print()
        print("| layer | dtype | N | layer ms | projections ms | flash ms | rest ms |")
        print("|---|---|---|---|---|---|---|")
        for layer, dname, n, t_all, t_proj, t_flash in pieces:
            print("| %s | %s | %d | %.3f | %.3f | %.3f | %.3f |" % (
                layer, dname, n, t_all, t_proj, t_flash, t_all - t_proj - t_flash))
    print()
    print("# load average at end: %s" % " ".join("%.2f" % v for v in os.getloadavg()))


if __name__ == "__main__":
    main()
