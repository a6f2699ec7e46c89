#!/usr/bin/env python3
"""Times the compiled prefill kernels beside torch SDPA (cuDNN, flash), one table.

usage: bench_flash.py DIR     (DIR: what build_gpu.sh left in out/gpu/bench:
                               cases.json, <name>.so, <name>.json)

Runs on the GPU machine. Ours is the `tucker-compile --target=cuda` library
called through its C entry (ctypes, descriptors built once, torch's current
stream): what a user's call costs, host work included. Each measurement
alternates two input sets (each larger than L2) and is the median of 30
groups of 10 calls after a warm-up. Before timing, each case is checked once
against SDPA (math backend, float32) on the same inputs.

TFLOP/s = 2·B·Hq·N·N·(Dqk + Dv) / t, halved for causal. Rows with rope: ours
includes rotating q and k (the rotate kernel ahead of the flash kernel, or on
the fly with rope-kernel=false); torch SDPA is timed on already rotated inputs
(its rope would be a separate kernel), so the ratio understates ours.
"""
import ctypes
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from tucker.compiler import Kernel, _descriptor  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "Integration", "GPU"))
from check_flash import rotate  # noqa: E402


def time_fn(fn, reps=30, inner=10, warm=5):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(inner):
            fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / inner)
    times.sort()
    return times[len(times) // 2]


def sdpa(q, k, v, causal, backend):
    g = q.shape[1] // k.shape[1]
    with sdpa_kernel(backend):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=g > 1)


def run_case(outdir, c):
    B, Hq, Hkv, N, Dqk, Dv = c["B"], c["Hq"], c["Hkv"], c["N"], c["Dqk"], c["Dv"]
    causal, vcol = c["causal"], c["value_column"]
    flops = 2.0 * B * Hq * N * N * (Dqk + Dv) * (0.5 if causal else 1.0)
    with open(os.path.join(outdir, c["name"] + ".json")) as fh:
        kernel = Kernel(os.path.join(outdir, c["name"] + ".so"), json.load(fh))
    stream = torch.cuda.current_stream().cuda_stream
    sets = []
    for _ in range(2):
        q = torch.randn(B, Hq, N, Dqk, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(B, Hkv, N, Dqk, device="cuda", dtype=torch.bfloat16)
        v = k[..., vcol:vcol + Dv] if vcol is not None else \
            torch.randn(B, Hkv, N, Dv, device="cuda", dtype=torch.bfloat16)
        o = torch.empty(B, Hq, N, Dv, device="cuda", dtype=torch.bfloat16)
        ins = [q, k] if vcol is not None else [q, k, v]
        descs = [_descriptor(t.data_ptr(), tuple(t.shape)) for t in ins + [o]]
        ptrs = [stream] + [ctypes.addressof(d) for d in descs]
        if kernel.signature.workspace_bytes:  # intermediates (partials, rotated q/k)
            ptrs.append(ctypes.addressof(kernel._workspace(stream)))
        sets.append((q, k, v, o, descs, ptrs))
    row = {"name": c["name"], "shape": [B, Hq, Hkv, N, Dqk, Dv, causal]}

    # Check once: ours against SDPA's math backend in float32 on a few heads.
    q, k, v, o, _, ptrs = sets[0]
    o.fill_(float("nan"))
    kernel._fn(*ptrs)
    torch.cuda.synchronize()
    hs = sorted({0, Hq - 1})
    g = Hq // Hkv
    rq, rk = q[:1, hs].float(), k[:1, [h // g for h in hs]].float()
    if c.get("rope"):  # ours rotates on the fly; torch gets rotated inputs
        rq = rotate(rq, c["rope"], torch.arange(N, device="cuda")).float()
        rk = rotate(rk, c["rope"], torch.arange(N, device="cuda")).float()
    ref = sdpa(rq, rk, v[:1, [h // g for h in hs]].float(), causal, SDPBackend.MATH)
    got = o[:1, hs].float()
    row["rel_err"] = float((got - ref).nan_to_num(nan=1e9).norm() / ref.norm())
    row["nan"] = int(torch.isnan(o).sum())

    st = [0]

    def ours():
        kernel._fn(*sets[st[0] & 1][5])
        st[0] += 1
    row["ours"] = flops / (time_fn(ours) * 1e-3) / 1e12

    # v contiguous for torch (a strided slice would be copied inside SDPA).
    tsets = [(q, k, v.contiguous()) for (q, k, v, *_) in sets]
    for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
        def theirs():
            q, k, v = tsets[st[0] & 1]
            st[0] += 1
            sdpa(q, k, v, causal, backend)
        try:
            row[label] = flops / (time_fn(theirs) * 1e-3) / 1e12
        except Exception as e:  # noqa: BLE001  (a backend that refuses the shape)
            row[label + "_err"] = str(e).splitlines()[0][:120]
    if "cudnn" not in row and "flash" not in row:
        # No fused torch kernel for this shape: the best other torch path.
        for label, backend in (("efficient", SDPBackend.EFFICIENT_ATTENTION), ("math", SDPBackend.MATH)):
            def other():
                q, k, v = tsets[st[0] & 1]
                st[0] += 1
                sdpa(q, k, v, causal, backend)
            try:
                row["torch_best"] = flops / (time_fn(other, reps=5, inner=2) * 1e-3) / 1e12
                row["torch_best_path"] = label
                break
            except Exception as e:  # noqa: BLE001
                row[label + "_err"] = str(e).splitlines()[0][:120]
    del sets, tsets
    torch.cuda.empty_cache()
    return row


def profile_case(outdir, c):
    """A few calls of ours only (for Nsight Compute: bench/gpu/profile_gpu.sh)."""
    B, Hq, Hkv, N, Dqk, Dv = c["B"], c["Hq"], c["Hkv"], c["N"], c["Dqk"], c["Dv"]
    vcol = c["value_column"]
    with open(os.path.join(outdir, c["name"] + ".json")) as fh:
        kernel = Kernel(os.path.join(outdir, c["name"] + ".so"), json.load(fh))
    q = torch.randn(B, Hq, N, Dqk, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(B, Hkv, N, Dqk, device="cuda", dtype=torch.bfloat16)
    ins = [q, k] if vcol is not None else [q, k, torch.randn(B, Hkv, N, Dv, device="cuda",
                                                            dtype=torch.bfloat16)]
    for _ in range(5):
        kernel(*ins)
    torch.cuda.synchronize()


def main():
    if sys.argv[1] == "--profile":
        outdir = sys.argv[2]
        with open(os.path.join(outdir, "cases.json")) as fh:
            for c in json.load(fh):
                if c["name"] == sys.argv[3]:
                    profile_case(outdir, c)
        return
    outdir = sys.argv[1]
    with open(os.path.join(outdir, "cases.json")) as fh:
        cases = json.load(fh)
    only = set(sys.argv[2:])
    rows = []
    for c in cases:
        if only and c["name"] not in only:
            continue
        try:
            row = run_case(outdir, c)
        except Exception as e:  # noqa: BLE001  (one broken case must not hide the others)
            row = {"name": c["name"], "error": str(e).splitlines()[0][:200]}
        print("ROW " + json.dumps(row), flush=True)
        rows.append(row)
    dev = torch.cuda.get_device_name()
    print(f"\nTFLOP/s on {dev}, bf16, median of 30 x 10 calls; 2·B·Hq·N²·(Dqk+Dv), halved for causal")
    head = (f"{'case':34s} {'err':>8s} | {'ours':>6s} {'cuDNN':>6s} {'flash':>6s} | {'/cuDNN':>6s} {'/flash':>6s}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['name']:34s} ERROR {r['error']}")
            continue
        f = lambda k: f"{r[k]:6.0f}" if k in r else f"{'-':>6s}"  # noqa: E731
        q = lambda a, b: f"{r[a] / r[b]:6.2f}" if a in r and b in r else f"{'-':>6s}"  # noqa: E731
        bad = "" if r["nan"] == 0 and r["rel_err"] <= 2e-2 else "  WRONG"
        print(f"{r['name']:34s} {r['rel_err']:8.1e} | {f('ours')} {f('cudnn')} {f('flash')} |"
              f" {q('ours', 'cudnn')} {q('ours', 'flash')}{bad}")
    for r in rows:
        if "torch_best" in r:
            print(f"  note {r['name']}: best torch path ({r['torch_best_path']} SDPA): "
                  f"{r['torch_best']:.0f} TFLOP/s; ours / it = {r['ours'] / r['torch_best']:.2f}")
        for k in r:
            if k.endswith("_err") and k != "rel_err":
                print(f"  note {r['name']}: {k[:-4]} unavailable: {r[k]}")


if __name__ == "__main__":
    main()
