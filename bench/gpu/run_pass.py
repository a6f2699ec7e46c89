#!/usr/bin/env python3
"""Checks and times the kernels that --tucker-flash-to-gpu generated.

Runs on the GPU machine (PyTorch + CUDA driver, no MLIR): loads
bench/gpu/out/pass/flash_pass.cubin (built here by bench/gpu/build_pass.sh)
through tucker's runtime (ctypes, run_flash.Runtime), builds the kernels'
4-D tensor maps (D, N, H, B) itself, and launches them on torch CUDA tensors
on torch's current stream, with the kernel ABI of docs/gpu-notes.md:
    (tmap_q, tmap_k, tmap_v, o, n: i32), grid (ceil(N/128), Hq, B), block 384.

Checks: fresh random inputs per case, NaN-poisoned outputs, float32 torch
reference, relative Frobenius error <= 2e-2, several N (non-multiples of the
tiles too), causal and not, GQA, f16. Each kernel's checks run in their own
subprocess with a timeout (a hang costs only its own time). Then times the
kernels beside torch SDPA (cuDNN and flash backends) in one process and
prints one table last.

usage: run_pass.py [--check-only] [--time-only] [--timeout S]
"""
import argparse
import ctypes
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_flash import Runtime, time_fn  # noqa: E402

OUTDIR = os.environ.get("TUCKER_PASS_OUT", os.path.join(HERE, "out", "pass"))
LOG2E = 1.4426950408889634
DTYPE_CODE = {"bf16": 9, "f16": 6}  # TUCKER_TMA_DTYPE_*

# (B, Hq, Hkv, N) per check; non-multiples of 128 (and of 48 for d = 256).
CHECKS = {
    (128, 1): [(1, 2, 2, 1), (1, 1, 1, 77), (2, 3, 3, 128), (1, 2, 2, 200),
               (2, 2, 2, 1000), (1, 2, 2, 2111), (4, 16, 16, 4096)],
    (128, 4): [(2, 8, 2, 333), (1, 4, 1, 1024), (1, 32, 8, 4096)],
    (64, 1): [(1, 2, 2, 77), (2, 2, 2, 1000), (1, 4, 4, 2048)],
    (256, 1): [(1, 2, 2, 77), (2, 2, 2, 1000), (1, 4, 4, 2048)],
}
F16_CHECKS = [(1, 2, 2, 129), (2, 2, 2, 1024)]
# Timing: (B, Hq, Hkv, N, D)
BENCH = [(16, 16, 16, 1024, 128), (4, 16, 16, 4096, 128), (1, 16, 16, 16384, 128),
         (4, 32, 8, 4096, 128)]
BENCH_EXTRA = [(4, 16, 16, 4096, 64), (4, 16, 16, 4096, 256)]


class PassKernels:
    def __init__(self, torch, names=None):
        self.torch = torch
        torch.zeros(1, device="cuda")
        self.rt = Runtime(os.path.join(OUTDIR, "libTuckerCudaRuntime.so"))
        self.rt.init(torch.cuda.current_device())
        with open(os.path.join(OUTDIR, "flash_pass.cubin"), "rb") as fh:
            self.mod = self.rt.load(fh.read())
        with open(os.path.join(OUTDIR, "flash_pass.json")) as fh:
            self.manifest = json.load(fh)
        self.fns = {}
        for name, meta in self.manifest.items():
            if names and name not in names:
                continue
            self.fns[name] = (self.rt.function(self.mod, name), meta)

    def find(self, element, d, group, causal):
        for name, (_, m) in self.fns.items():
            if (m["element"], m["qk_dim"], m["group"], m["causal"]) == (element, d, group, causal):
                return name
        return None

    def tensor_map(self, t, rows, element):
        """4-D map (D, N, H, B) of a contiguous [B, H, N, D] tensor."""
        B, H, N, D = t.shape
        raw = ctypes.create_string_buffer(128 + 64)
        addr = (ctypes.addressof(raw) + 63) & ~63
        dims = (ctypes.c_uint64 * 4)(D, N, H, B)
        strides = (ctypes.c_uint64 * 3)(D * 2, N * D * 2, H * N * D * 2)
        box = (ctypes.c_uint32 * 4)(64, rows, 1, 1)
        self.rt.check(self.rt.lib.tuckerCudaEncodeTiledTensorMap(
            ctypes.c_void_p(addr), DTYPE_CODE[element], 4, t.data_ptr(), dims, strides, box,
            None, 0, 3, 2, 0), "tensor map")
        return ctypes.string_at(addr, 128)

    def prepare(self, name, q, k, v, o):
        torch = self.torch
        fn, m = self.fns[name]
        B, H, N, _ = q.shape
        assert all(x.is_contiguous() for x in (q, k, v, o))
        maps = (self.tensor_map(q, m["block_m"], m["element"]) +
                self.tensor_map(k, m["block_n"], m["element"]) +
                self.tensor_map(v, m["block_n"], m["element"]))
        tm = torch.frombuffer(bytearray(maps), dtype=torch.uint8).to("cuda")
        torch.cuda.synchronize()
        args = [ctypes.c_uint64(tm.data_ptr()), ctypes.c_uint64(tm.data_ptr() + 128),
                ctypes.c_uint64(tm.data_ptr() + 256), ctypes.c_uint64(o.data_ptr()),
                ctypes.c_int32(N)]
        grid = ((N + m["block_m"] - 1) // m["block_m"], H, B)
        keep = (tm, args)

        def run():
            _ = keep
            self.rt.launch(fn, grid, m["threads"], m["shared_bytes"],
                           torch.cuda.current_stream().cuda_stream, args)
        return run


def reference(torch, q, k, v, causal, scale, pairs):
    G = q.shape[1] // k.shape[1]
    N = q.shape[2]
    out = {}
    for b, h in pairs:
        qf, kf, vf = q[b, h].float(), k[b, h // G].float(), v[b, h // G].float()
        rows = []
        for r0 in range(0, N, 2048):
            r1 = min(N, r0 + 2048)
            s = (qf[r0:r1] @ kf.T) * scale
            if causal:
                i = torch.arange(r0, r1, device=s.device)[:, None]
                j = torch.arange(N, device=s.device)[None, :]
                s = s.masked_fill(j > i, float("-inf"))
            rows.append(torch.softmax(s, dim=-1) @ vf)
        out[(b, h)] = torch.cat(rows)
    return out


def check_kernel(torch, pk, name):
    fn, m = pk.fns[name]
    dt = {"bf16": torch.bfloat16, "f16": torch.float16}[m["element"]]
    d, g = m["qk_dim"], m["group"]
    scale = m["scale_log2e"] / LOG2E
    shapes = F16_CHECKS if m["element"] == "f16" else CHECKS[(d, g)]
    ok_all, worst = True, 0.0
    for (B, H, Hkv, N) in shapes:
        q = torch.randn(B, H, N, d, device="cuda", dtype=dt)
        k = torch.randn(B, Hkv, N, d, device="cuda", dtype=dt)
        v = torch.randn(B, Hkv, N, d, device="cuda", dtype=dt)
        o = torch.full((B, H, N, d), float("nan"), device="cuda", dtype=dt)
        pk.prepare(name, q, k, v, o)()
        torch.cuda.synchronize()
        nan = int(torch.isnan(o).sum().item())  # every element must be written
        pairs = [(b, h) for b in range(B) for h in range(H)]
        if len(pairs) > 8:
            pairs = [(0, 0), (B - 1, H - 1), (B // 2, H // 2), (0, H - 1)]
        ref = reference(torch, q, k, v, m["causal"], scale, pairs)
        num = den = 0.0
        for (b, h), r in ref.items():
            dd = (o[b, h].float() - r).nan_to_num(nan=1e9)
            num += float((dd * dd).sum())
            den += float((r * r).sum())
        rel = math.sqrt(num / max(den, 1e-30))
        ok = nan == 0 and rel <= 2e-2
        ok_all &= ok
        worst = max(worst, rel)
        print(f"  {name:30s} B={B:2d} Hq={H:2d} Hkv={Hkv:2d} N={N:5d}  rel_err={rel:.2e}"
              f"  nan={nan}  {'ok' if ok else 'FAIL'}", flush=True)
    return ok_all, worst


def bench(torch, pk, passing):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.functional as F
    rows = []
    shapes = BENCH + [s for s in BENCH_EXTRA if pk.find("bf16", s[4], 1, False) in passing]
    for (B, H, Hkv, N, D) in shapes:
        for causal in (False, True):
            name = pk.find("bf16", D, H // Hkv, causal)
            flops = 4.0 * B * H * N * N * D * (0.5 if causal else 1.0)
            sets = [[torch.randn(B, h, N, D, device="cuda", dtype=torch.bfloat16)
                     for h in (H, Hkv, Hkv)] for _ in range(2)]  # 2 sets, each > L2
            o = torch.empty(B, H, N, D, device="cuda", dtype=torch.bfloat16)
            row = {"shape": (B, H, Hkv, N, D, causal)}
            if name in passing:
                runs = [pk.prepare(name, q, k, v, o) for (q, k, v) in sets]
                st = [0]

                def f():
                    runs[st[0] & 1]()
                    st[0] += 1
                t = time_fn(torch, f)
                row["ours"] = flops / (t[0] * 1e-3) / 1e12
            for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION),
                                   ("flash", SDPBackend.FLASH_ATTENTION)):
                st = [0]
                gqa = H != Hkv

                def g():
                    q, k, v = sets[st[0] & 1]
                    st[0] += 1
                    with sdpa_kernel(backend):
                        F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)
                try:
                    t = time_fn(torch, g)
                    row[label] = flops / (t[0] * 1e-3) / 1e12
                except Exception as e:  # noqa
                    row[label + "_err"] = str(e).splitlines()[0][:100]
                    if not gqa:
                        continue
                    # No GQA in this backend: K/V expanded to Hq heads
                    # beforehand (the backend then reads G times more K/V).
                    exp = [[q, k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)]
                           for (q, k, v) in sets]
                    st2 = [0]

                    def g2():
                        q, k, v = exp[st2[0] & 1]
                        st2[0] += 1
                        with sdpa_kernel(backend):
                            F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                    try:
                        t = time_fn(torch, g2)
                        row[label] = flops / (t[0] * 1e-3) / 1e12
                        row[label + "_err"] += " (timed with K/V expanded to Hq heads)"
                    except Exception as e2:  # noqa
                        row[label + "_err"] += "; expanded: " + str(e2).splitlines()[0][:80]
                    del exp
            rows.append(row)
            print("  " + json.dumps(row), flush=True)
            del sets, o
            torch.cuda.empty_cache()
    return rows


def child(args):
    import torch
    if args.mode == "check":
        pk = PassKernels(torch, [args.kernel])
        fn, m = pk.fns[args.kernel]
        print(f"  {args.kernel}: {pk.rt.attr(fn, 4)} registers, {pk.rt.attr(fn, 3)} B local, "
              f"{m['threads']} threads, {m['shared_bytes']} B smem", flush=True)
        ok, worst = check_kernel(torch, pk, args.kernel)
        print("RESULT " + json.dumps({"ok": ok, "max_rel": worst}), flush=True)
    else:
        pk = PassKernels(torch)
        rows = bench(torch, pk, args.passing.split(","))
        print("TABLE " + json.dumps(rows), flush=True)


def print_table(rows):
    print("\nTFLOP/s, bf16, median of 30 x 10 launches (FLOPs = 4*B*Hq*N*N*D, halved for causal)")
    head = (f"{'B':>3} {'Hq':>3} {'Hkv':>3} {'N':>6} {'D':>4} {'causal':>6} | {'ours':>7} {'cuDNN':>7}"
            f" {'flash':>7} | {'ours/cuDNN':>10} {'ours/flash':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        B, H, Hkv, N, D, causal = r["shape"]
        val = lambda k: f"{r[k]:7.1f}" if k in r else f"{'-':>7}"  # noqa: E731
        rat = lambda a, b: f"{r[a] / r[b]:10.2f}" if a in r and b in r else f"{'-':>10}"  # noqa: E731
        print(f"{B:3d} {H:3d} {Hkv:3d} {N:6d} {D:4d} {str(causal):>6} | {val('ours')} {val('cudnn')}"
              f" {val('flash')} | {rat('ours', 'cudnn')} {rat('ours', 'flash')}")
    for r in rows:
        for k in r:
            if k.endswith("_err"):
                print(f"  note {r['shape']}: {k[:-4]} unavailable: {r[k]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--time-only", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--kernel", help=argparse.SUPPRESS)
    ap.add_argument("--passing", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        return child(args)
    with open(os.path.join(OUTDIR, "flash_pass.json")) as fh:
        manifest = json.load(fh)
    summary, passing = {}, []
    hung = 0
    for name in manifest:
        if hung >= 2:  # two hangs: the rest would hang too; save the device time
            summary[name] = {"ok": False, "error": "skipped after two hangs"}
            continue
        if args.time_only:
            passing.append(name)
            continue
        t0 = time.time()
        try:
            p = subprocess.run([sys.executable, __file__, "--mode", "check", "--kernel", name],
                               capture_output=True, text=True, timeout=args.timeout)
            print(p.stdout, end="")
            if p.returncode != 0:
                print(p.stderr[-2000:])
            res = [json.loads(l[7:]) for l in p.stdout.splitlines() if l.startswith("RESULT ")]
            summary[name] = res[0] if res else {"ok": False, "error": f"exit {p.returncode}"}
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            print(out)
            summary[name] = {"ok": False, "error": f"timeout after {args.timeout}s (hang?)"}
            hung += 1
        print(f"   {name}: {summary[name]} ({time.time() - t0:.0f}s)", flush=True)
        if summary[name].get("ok"):
            passing.append(name)
    rows = []
    if not args.check_only and passing:
        try:
            p = subprocess.run([sys.executable, __file__, "--mode", "time", "--passing", ",".join(passing)],
                               capture_output=True, text=True, timeout=300)
            print(p.stdout, end="")
            if p.returncode != 0:
                print(p.stderr[-2000:])
            rows = [json.loads(l[6:]) for l in p.stdout.splitlines() if l.startswith("TABLE ")]
        except subprocess.TimeoutExpired:
            print("timing timed out")
    print("\ncheck summary:")
    for name, s in summary.items():
        print(f"  {name:32s} {'ok  ' if s.get('ok') else 'FAIL'} "
              + (f"max rel err {s['max_rel']:.2e}" if 'max_rel' in s else s.get('error', '')))
    if rows:
        print_table(rows[0])


if __name__ == "__main__":
    main()
