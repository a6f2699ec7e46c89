#!/usr/bin/env python3
"""Times the compiled decode kernels beside torch SDPA (cuDNN, flash), one table.

usage: bench_decode.py DIR     (DIR: what build_gpu.sh left in out/gpu/decode:
                                cases.json, <name>.so, <name>.json)

Runs on the GPU machine. Decode reads the whole KV cache for a few queries,
so the measure is bandwidth: GB/s of unique bytes moved (q, k, v unless it is
a slice of k, the output; the partial results of the split-KV kernel are not
unique bytes and are not counted) over the time of one call. Ours is the
`tucker-compile --target=cuda` library called through its C entry (the
split-KV kernel, which merges its splits itself when the shapes are static,
else with its combine kernel), as in bench_flash.py: two input sets (each
larger than L2) alternate, median of 30 groups of 10 calls after a warm-up.
Each case is checked against a float32 reference on the same inputs before
timing and again after it (the in-kernel merge's arrival counters must be
back at 0 after every call). The table also shows the device's copy bandwidth
(a 2 GiB device-to-device copy, read + write bytes) and, per case, a copy
moving the case's bytes (the ceiling at that size, launch included); then
the device time of each kernel per call (torch.profiler).
"""
import ctypes
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from tucker.compiler import Kernel, _descriptor  # noqa: E402
from bench_flash import sdpa, time_fn  # noqa: E402


def unique_bytes(c):
    B, Hq, Hkv, Nq, Nk, Dqk, Dv = (c[k] for k in ("B", "Hq", "Hkv", "Nq", "Nk", "Dqk", "Dv"))
    kv = B * Hkv * Nk * (Dqk + (0 if c["value_column"] is not None else Dv))
    return 2 * (B * Hq * Nq * Dqk + kv + B * Hq * Nq * Dv)


def reference(q, k, v, causal):
    """float32 attention of the first batch entry (GQA by repeating heads)."""
    g = q.shape[1] // k.shape[1]
    kf = k[:1].float().repeat_interleave(g, dim=1)
    vf = v[:1].float().repeat_interleave(g, dim=1)
    s = torch.matmul(q[:1].float(), kf.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        nq, nk = q.shape[2], k.shape[2]
        i = torch.arange(nq, device="cuda")[:, None]
        j = torch.arange(nk, device="cuda")[None, :]
        s = s.masked_fill(j > i + (nk - nq), float("-inf"))
    return torch.matmul(torch.softmax(s, dim=-1), vf)


def kernel_times(fn, calls=20):
    """Mean device time per call of each kernel `fn` launches (torch.profiler sees the library's
    own launches through CUPTI), as {short name: us}, and the span of one call ("call")."""
    from torch.profiler import ProfilerActivity, profile
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    times, first, last = {}, None, None
    for ev in prof.events():
        if ev.device_type != torch.autograd.DeviceType.CUDA:
            continue
        name = "combine" if ev.name.endswith("_combine") else \
            "rotate" if ev.name.endswith("_rotate") else "flash" if ev.name.startswith("flash") \
            else ev.name[:24]
        times[name] = times.get(name, 0.0) + ev.device_time / calls
        start = ev.time_range.start
        first = start if first is None else min(first, start)
        last = ev.time_range.end if last is None else max(last, ev.time_range.end)
    if first is not None:
        times["call"] = (last - first) / calls
    return {k: round(v, 1) for k, v in times.items()}


def copy_bandwidth():
    x = torch.empty(1 << 30, device="cuda", dtype=torch.int16)  # 2 GiB
    y = torch.empty_like(x)
    ms = time_fn(lambda: y.copy_(x), reps=10, inner=3)
    return 2 * x.numel() * 2 / (ms * 1e-3) / 1e9


def run_case(outdir, c):
    B, Hq, Hkv, Nq, Nk, Dqk, Dv = (c[k] for k in ("B", "Hq", "Hkv", "Nq", "Nk", "Dqk", "Dv"))
    causal, vcol = c["causal"], c["value_column"]
    nbytes = unique_bytes(c)
    with open(os.path.join(outdir, c["name"] + ".json")) as fh:
        kernel = Kernel(os.path.join(outdir, c["name"] + ".so"), json.load(fh))
    stream = torch.cuda.current_stream().cuda_stream
    sets = []
    for _ in range(2):
        q = torch.randn(B, Hq, Nq, Dqk, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(B, Hkv, Nk, Dqk, device="cuda", dtype=torch.bfloat16)
        v = k[..., vcol:vcol + Dv] if vcol is not None else \
            torch.randn(B, Hkv, Nk, Dv, device="cuda", dtype=torch.bfloat16)
        o = torch.empty(B, Hq, Nq, Dv, device="cuda", dtype=torch.bfloat16)
        ins = [q, k] if vcol is not None else [q, k, v]
        descs = [_descriptor(t.data_ptr(), tuple(t.shape)) for t in ins + [o]]
        ptrs = [stream] + [ctypes.addressof(d) for d in descs]
        if kernel.signature.workspace_bytes:  # intermediates (partials, rotated q/k)
            ptrs.append(ctypes.addressof(kernel._workspace(stream)))
        sets.append((q, k, v, o, descs, ptrs))
    row = {"name": c["name"], "MB": nbytes / 1e6}

    q, k, v, o, _, ptrs = sets[0]
    ref = reference(q, k, v, causal)

    def check():
        """(relative error of batch entry 0, NaN count) of a fresh call on set 0."""
        o.fill_(float("nan"))
        kernel._fn(*ptrs)
        torch.cuda.synchronize()
        return (float((o[:1].float() - ref).nan_to_num(nan=1e9).norm() / ref.norm()),
                int(torch.isnan(o).sum()))
    row["rel_err"], row["nan"] = check()

    st = [0]

    def ours():
        kernel._fn(*sets[st[0] & 1][5])
        st[0] += 1
    ms = time_fn(ours)
    row["ours_us"] = ms * 1e3
    row["ours"] = nbytes / (ms * 1e-3) / 1e9
    row["kernels_us"] = kernel_times(ours)
    after, nan = check()  # after ~400 calls
    row["rel_err"] = max(row["rel_err"], after)
    row["nan"] += nan
    # The ceiling at this size: a device copy moving the same bytes (read + write).
    src = torch.empty(nbytes // 4, device="cuda", dtype=torch.int16)
    dst = torch.empty_like(src)
    row["copy"] = nbytes / (time_fn(lambda: dst.copy_(src)) * 1e-3) / 1e9
    del src, dst

    tsets = [(q, k, v.contiguous()) for (q, k, v, *_) in sets]
    # SDPA's is_causal aligns the first query with the first key; with one
    # query the bottom-right causal mask hides nothing, so time it unmasked.
    torch_causal = causal and Nq > 1
    for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION),
                           ("flash", SDPBackend.FLASH_ATTENTION)):
        def theirs():
            q, k, v = tsets[st[0] & 1]
            st[0] += 1
            sdpa(q, k, v, torch_causal, backend)
        try:
            row[label] = nbytes / (time_fn(theirs) * 1e-3) / 1e9
        except Exception as e:  # noqa: BLE001  (a backend that refuses the shape)
            row[label + "_err"] = str(e).splitlines()[0][:120]
    del sets, tsets
    torch.cuda.empty_cache()
    return row


def main():
    outdir = sys.argv[1]
    with open(os.path.join(outdir, "cases.json")) as fh:
        cases = json.load(fh)
    only = set(sys.argv[2:])
    copy = copy_bandwidth()
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
    print(f"\nDecode GB/s of unique bytes on {dev}, bf16, median of 30 x 10 calls; "
          f"device copy: {copy:.0f} GB/s")
    head = (f"{'case':38s} {'MB':>6s} {'err':>8s} | {'us':>7s} {'ours':>6s} {'cuDNN':>6s} "
            f"{'flash':>6s} {'copy':>6s} | {'/copy':>6s} {'/cuDNN':>6s} {'/flash':>6s}")
    print(head)
    print("-" * len(head))
    failed = 0
    for r in rows:
        if "error" in r:
            print(f"{r['name']:38s} ERROR {r['error']}")
            failed += 1
            continue
        f = lambda k: f"{r[k]:6.0f}" if k in r else f"{'-':>6s}"  # noqa: E731
        q = lambda a, b: f"{r[a] / r[b]:6.2f}" if a in r and b in r else f"{'-':>6s}"  # noqa: E731
        wrong = r["nan"] != 0 or r["rel_err"] > 2e-2
        failed += wrong
        print(f"{r['name']:38s} {r['MB']:6.0f} {r['rel_err']:8.1e} | {r['ours_us']:7.1f} "
              f"{f('ours')} {f('cudnn')} {f('flash')} {f('copy')} | {q('ours', 'copy')} "
              f"{q('ours', 'cudnn')} {q('ours', 'flash')}{'  WRONG' if wrong else ''}")
    print("\nDevice time per call by kernel (us; call: first start to last end, /20 calls):")
    for r in rows:
        if "kernels_us" in r:
            print(f"  {r['name']:38s} {r['kernels_us']}")
    for r in rows:
        for k in r:
            if k.endswith("_err") and k != "rel_err":
                print(f"  note {r['name']}: {k[:-4]} unavailable: {r[k]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
