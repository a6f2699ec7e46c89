#!/usr/bin/env python3
"""Checks and times the hand-built MLIR flash-attention kernels on the GPU.

Runs on the GPU machine (PyTorch + CUDA driver there, no MLIR): loads
bench/gpu/out/flash_fwd_d128.cubin through tucker's runtime library
(bench/gpu/out/libTuckerCudaRuntime.so, ctypes), launches on torch bf16 CUDA
tensors [B, H, N, 128] on torch's current stream, compares with a float32
torch reference on fresh random inputs (outputs NaN-poisoned before every
run), then times against torch SDPA (cuDNN and flash backends) and prints one
table.

usage:
  run_flash.py                      # check every kernel in the manifest, then time
  run_flash.py --variants v2,v3     # only these
  run_flash.py --check-only / --time-only
Each variant's check runs in its own subprocess with a timeout, so a hung or
faulting kernel costs only its own time and does not take the rest down.
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
OUTDIR = os.environ.get("TUCKER_BENCH_OUT", os.path.join(HERE, "out"))
LOG2E = 1.4426950408889634
D = 128

CHECK_SHAPES = [
    # (B, H, N) ; N not a multiple of the tiles on purpose
    (1, 2, 128), (2, 3, 256), (1, 2, 64), (1, 1, 77), (1, 2, 200),
    (2, 2, 129), (1, 2, 1000), (2, 4, 1024), (1, 2, 2111), (1, 1, 4096),
]
BENCH_SHAPES = [(16, 16, 1024), (4, 16, 4096), (1, 16, 16384)]


# --------------------------------------------------------------------------
# runtime library
# --------------------------------------------------------------------------
class Runtime:
    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        c_int, c_uint, c_void_p, c_size_t = ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_size_t
        u64p = ctypes.POINTER(ctypes.c_uint64)
        u32p = ctypes.POINTER(ctypes.c_uint32)
        lib.tuckerCudaGetLastError.restype = ctypes.c_char_p
        lib.tuckerCudaInit.argtypes = [c_int, ctypes.POINTER(c_void_p)]
        lib.tuckerCudaModuleLoadData.argtypes = [c_void_p, c_size_t, ctypes.POINTER(c_void_p)]
        lib.tuckerCudaModuleGetFunction.argtypes = [c_void_p, ctypes.c_char_p, ctypes.POINTER(c_void_p)]
        lib.tuckerCudaFunctionAttribute.argtypes = [c_void_p, c_int, ctypes.POINTER(c_int)]
        lib.tuckerCudaLaunch.argtypes = [c_void_p, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint,
                                         c_uint, c_void_p, ctypes.POINTER(c_void_p)]
        lib.tuckerCudaEncodeTiledTensorMap.argtypes = [
            c_void_p, c_int, c_uint, ctypes.c_uint64, u64p, u64p, u32p, u32p, c_int, c_int, c_int, c_int]
        lib.tuckerCudaDriverVersion.argtypes = [ctypes.POINTER(c_int)]

    def check(self, rc, what):
        if rc != 0:
            raise RuntimeError(f"{what}: [{rc}] {self.lib.tuckerCudaGetLastError().decode()}")

    def init(self, device):
        ctx = ctypes.c_void_p()
        self.check(self.lib.tuckerCudaInit(device, ctypes.byref(ctx)), "tuckerCudaInit")
        v = ctypes.c_int()
        self.check(self.lib.tuckerCudaDriverVersion(ctypes.byref(v)), "driver version")
        return v.value

    def load(self, image: bytes):
        mod = ctypes.c_void_p()
        buf = ctypes.create_string_buffer(image, len(image))
        self.check(self.lib.tuckerCudaModuleLoadData(buf, len(image), ctypes.byref(mod)), "module load")
        return mod

    def function(self, mod, name):
        fn = ctypes.c_void_p()
        self.check(self.lib.tuckerCudaModuleGetFunction(mod, name.encode(), ctypes.byref(fn)), "get function")
        return fn

    def attr(self, fn, a):
        v = ctypes.c_int()
        self.check(self.lib.tuckerCudaFunctionAttribute(fn, a, ctypes.byref(v)), "function attribute")
        return v.value

    def tensor_map_3d(self, ptr, dims, strides_bytes, box):
        """128-byte CUtensorMap, bf16, 128B swizzle, OOB -> zero."""
        raw = ctypes.create_string_buffer(128 + 64)
        addr = (ctypes.addressof(raw) + 63) & ~63
        g = (ctypes.c_uint64 * 3)(*dims)
        s = (ctypes.c_uint64 * 2)(*strides_bytes)
        b = (ctypes.c_uint32 * 3)(*box)
        self.check(self.lib.tuckerCudaEncodeTiledTensorMap(
            ctypes.c_void_p(addr), 9, 3, ptr, g, s, b, None, 0, 3, 2, 0), "tensor map")
        return ctypes.string_at(addr, 128)

    def launch(self, fn, grid, block, smem, stream, args):
        arr = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
        self.check(self.lib.tuckerCudaLaunch(fn, grid[0], grid[1], grid[2], block, 1, 1, smem,
                                             ctypes.c_void_p(stream), arr), "launch")


class FlashKernels:
    def __init__(self, torch, variants=None):
        self.torch = torch
        torch.zeros(1, device="cuda")  # creates/uses the primary context
        self.rt = Runtime(os.path.join(OUTDIR, "libTuckerCudaRuntime.so"))
        self.driver = self.rt.init(torch.cuda.current_device())
        with open(os.path.join(OUTDIR, "flash_fwd_d128.cubin"), "rb") as fh:
            self.mod = self.rt.load(fh.read())
        with open(os.path.join(OUTDIR, "flash_fwd_d128.json")) as fh:
            self.manifest = json.load(fh)
        self.num_sms = torch.cuda.get_device_properties(torch.cuda.current_device()).multi_processor_count
        self.fns = {}
        for name, meta in self.manifest.items():
            if variants and meta["variant"] not in variants:
                continue
            fn = self.rt.function(self.mod, name)
            self.fns[name] = (fn, meta, self.rt.attr(fn, 4), self.rt.attr(fn, 3))

    def prepare(self, name, q, k, v, o, scale):
        """Builds the launch (tensor maps on the device, args); returns a
        closure that launches on the current stream."""
        torch = self.torch
        fn, meta, _, _ = self.fns[name]
        B, H, N, Dh = q.shape
        assert Dh == D and q.is_contiguous() and k.is_contiguous() and v.is_contiguous() and o.is_contiguous()
        dims = [D, N, B * H]
        strides = [D * 2, N * D * 2]
        maps = (self.rt.tensor_map_3d(q.data_ptr(), dims, strides, [64, meta["bm"], 1]) +
                self.rt.tensor_map_3d(k.data_ptr(), dims, strides, [64, meta["bn"], 1]) +
                self.rt.tensor_map_3d(v.data_ptr(), dims, strides, [64, meta["bn"], 1]))
        tm = torch.frombuffer(bytearray(maps), dtype=torch.uint8).to("cuda")
        torch.cuda.synchronize()
        args = [ctypes.c_uint64(tm.data_ptr()), ctypes.c_uint64(tm.data_ptr() + 128),
                ctypes.c_uint64(tm.data_ptr() + 256), ctypes.c_uint64(o.data_ptr()),
                ctypes.c_int32(N), ctypes.c_int32(H), ctypes.c_float(scale * LOG2E),
                ctypes.c_int32(B)]
        grid = ((N + meta["bm"] - 1) // meta["bm"], H, B)
        if meta.get("persistent"):
            grid = (min(self.num_sms, grid[0] * H * B), 1, 1)
        keep = (tm, args)

        def run():
            _ = keep
            self.rt.launch(fn, grid, meta["threads"], meta["smem"],
                           torch.cuda.current_stream().cuda_stream, args)
        return run


# --------------------------------------------------------------------------
# reference and checks
# --------------------------------------------------------------------------
def reference(torch, q, k, v, causal, scale, heads=None):
    """float32 attention, chunked over (b, h) and query rows; returns a dict
    (b, h) -> [N, D] float32 for the heads asked for (all by default)."""
    B, H, N, _ = q.shape
    out = {}
    pairs = heads if heads is not None else [(b, h) for b in range(B) for h in range(H)]
    for b, h in pairs:
        qf, kf, vf = q[b, h].float(), k[b, h].float(), v[b, h].float()
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


def check_variant(torch, fk, variant, shapes, seed=0):
    results = []
    g = torch.Generator(device="cuda")
    g.manual_seed(1234 + seed)
    for name, (fn, meta, regs, local) in fk.fns.items():
        if meta["variant"] != variant:
            continue
        causal = meta["causal"]
        for (B, H, N) in shapes:
            q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16, generator=g)
                       for _ in range(3))
            o = torch.full_like(q, float("nan"))
            scale = 1.0 / math.sqrt(D)
            run = fk.prepare(name, q, k, v, o, scale)
            run()
            torch.cuda.synchronize()
            heads = None
            if B * H > 8:
                heads = [(0, 0), (B - 1, H - 1), (B // 2, H // 2)]
            ref = reference(torch, q, k, v, causal, scale, heads)
            num = den = 0.0
            nan = 0
            worst = (0.0, None)
            for (b, h), r in ref.items():
                ob = o[b, h].float()
                nan += int(torch.isnan(ob).sum().item())
                d = (ob - r).nan_to_num(nan=1e9)
                num += float((d * d).sum())
                den += float((r * r).sum())
                # locate the worst 64-row x 64-column block (helps debugging)
                rb = (N + 63) // 64
                for i in range(rb):
                    e = float(d[i * 64:(i + 1) * 64].abs().max())
                    if e > worst[0]:
                        cols = d[i * 64:(i + 1) * 64].abs().amax(0)
                        worst = (e, (b, h, i * 64, int(cols.argmax())))
            rel = math.sqrt(num / max(den, 1e-30))
            ok = nan == 0 and rel <= 2e-2
            results.append({"kernel": name, "shape": [B, H, N], "rel": rel, "nan": nan,
                            "ok": ok, "worst": worst})
            print(f"  {name:22s} B={B:2d} H={H:2d} N={N:5d}  rel_err={rel:.3e}  nan={nan}"
                  f"  {'ok' if ok else 'FAIL'}" + ("" if ok else f"  worst={worst}"), flush=True)
    return results


def diagnose(torch, fk, variant):
    """When a check fails: structured inputs that isolate the two matmuls."""
    print(f"  diagnostics for {variant}:")
    for name, (fn, meta, _, _) in fk.fns.items():
        if meta["variant"] != variant or meta["causal"]:
            continue
        B, H, N = 1, 1, 128
        scale = 1.0 / math.sqrt(D)
        # (a) K = 0: P uniform -> O = mean of V rows (tests P.V and the V descriptor)
        q = torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16)
        k = torch.zeros_like(q)
        v = torch.randn_like(q)
        o = torch.full_like(q, float("nan"))
        fk.prepare(name, q, k, v, o, scale)()
        torch.cuda.synchronize()
        want = v[0, 0].float().mean(0)
        err = (o[0, 0].float() - want).abs()
        print(f"   (a) K=0: max err {err.max().item():.3e}; per 16-col block max:",
              [round(float(x), 3) for x in err.amax(0).reshape(8, 16).amax(1)])
        print(f"       per 16-row block max:", [round(float(x), 3) for x in err.amax(1).reshape(8, 16).amax(1)])
        # (b) V = identity-like (V[j, d] = 1 if j == d): O = P, tests QK^T + softmax
        v2 = torch.eye(N, D, device="cuda", dtype=torch.bfloat16)[None, None]
        k2 = torch.randn_like(q)
        o2 = torch.full_like(q, float("nan"))
        fk.prepare(name, q, k2, v2.contiguous(), o2, scale)()
        torch.cuda.synchronize()
        p = torch.softmax((q[0, 0].float() @ k2[0, 0].float().T) * scale, -1)
        err2 = (o2[0, 0].float() - p[:, :D]).abs()
        print(f"   (b) V=I: max err {err2.max().item():.3e} (|P| max {p.max().item():.3e});"
              f" per 16-col block:", [round(float(x), 4) for x in err2.amax(0).reshape(8, 16).amax(1)])
        print(f"       per 16-row block:", [round(float(x), 4) for x in err2.amax(1).reshape(8, 16).amax(1)])
        print("       ours row0[:8] ", [round(float(x), 4) for x in o2[0, 0, 0, :8]])
        print("       ref  row0[:8] ", [round(float(x), 4) for x in p[0, :8]])
        break


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------
def time_fn(torch, fn, reps=30, inner=10, warm=5):
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
    return times[len(times) // 2], times[0], times[-1]


def bench(torch, fk, names):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.functional as F
    rows = []
    for causal in (False, True):
        for (B, H, N) in BENCH_SHAPES:
            flops = 4.0 * B * H * N * N * D * (0.5 if causal else 1.0)
            sets = []
            for _ in range(2):  # two input sets (each > L2), alternated
                sets.append([torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16) for _ in range(3)])
            o = torch.empty_like(sets[0][0])
            scale = 1.0 / math.sqrt(D)
            row = {"shape": (B, H, N, D, causal)}
            for name in names:
                meta = fk.fns[name][1]
                if meta["causal"] != causal:
                    continue
                runs = [fk.prepare(name, q, k, v, o, scale) for (q, k, v) in sets]
                state = [0]

                def f():
                    runs[state[0] & 1]()
                    state[0] += 1
                try:
                    t = time_fn(torch, f)
                    row[meta["variant"]] = (flops / (t[0] * 1e-3) / 1e12, t)
                except Exception as e:  # noqa
                    print(f"  {name}: {e}")
            for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
                state = [0]

                def g():
                    q, k, v = sets[state[0] & 1]
                    state[0] += 1
                    with sdpa_kernel(backend):
                        F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                try:
                    t = time_fn(torch, g)
                    row[label] = (flops / (t[0] * 1e-3) / 1e12, t)
                except Exception as e:  # noqa
                    print(f"  sdpa {label}: {str(e)[:200]}")
            rows.append(row)
            print("  " + str({k: (round(v[0], 1) if isinstance(v, tuple) and len(v) == 2 else v) for k, v in row.items()}), flush=True)
            del sets, o
            torch.cuda.empty_cache()
    return rows


def print_table(rows, variants):
    cols = variants + ["cudnn", "flash"]
    head = f"{'B':>3} {'H':>3} {'N':>6} {'D':>4} {'causal':>6} | " + " ".join(f"{c:>8}" for c in cols)
    head += " | " + " ".join(f"{c + '/cuDNN':>9}" for c in variants)
    print("\nTFLOP/s (median of 30 x 10 launches; FLOPs = 4*B*H*N*N*D, halved for causal)")
    print(head)
    print("-" * len(head))
    for r in rows:
        B, H, N, Dh, causal = r["shape"]
        vals = []
        for c in cols:
            vals.append(f"{r[c][0]:8.1f}" if c in r else f"{'-':>8}")
        cud = r.get("cudnn", (None,))[0]
        ratios = []
        for c in variants:
            ratios.append(f"{r[c][0] / cud:9.2f}" if c in r and cud else f"{'-':>9}")
        print(f"{B:3d} {H:3d} {N:6d} {Dh:4d} {str(causal):>6} | " + " ".join(vals) + " | " + " ".join(ratios))


# --------------------------------------------------------------------------
def child(args):
    import torch
    fk = FlashKernels(torch, [args.child_variant] if args.child_variant else None)
    if args.mode == "check":
        for name, (fn, meta, regs, local) in fk.fns.items():
            print(f"  {name}: {regs} registers, {local} B local, {meta['threads']} threads, {meta['smem']} B smem", flush=True)
        res = check_variant(torch, fk, args.child_variant, CHECK_SHAPES)
        big = check_variant(torch, fk, args.child_variant, BENCH_SHAPES, seed=1)
        allres = res + big
        if not all(r["ok"] for r in res):
            try:
                diagnose(torch, fk, args.child_variant)
            except Exception as e:  # noqa
                print("  diagnose failed:", e)
        print("RESULT " + json.dumps({"variant": args.child_variant,
                                      "ok": all(r["ok"] for r in allres),
                                      "max_rel": max(r["rel"] for r in allres)}), flush=True)
    else:
        names = [n for n, (_, m, _, _) in fk.fns.items() if m["variant"] in args.child_variants.split(",")]
        rows = bench(torch, fk, names)
        print("TABLE " + json.dumps([{k: v for k, v in r.items()} for r in rows], default=list), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default=None)
    ap.add_argument("--time-variants", default=None,
                    help="time only these (of those that pass the check)")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--time-only", action="store_true")
    ap.add_argument("--timeout", type=int, default=150)
    ap.add_argument("--mode", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-variant", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-variants", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        return child(args)

    with open(os.path.join(OUTDIR, "flash_fwd_d128.json")) as fh:
        manifest = json.load(fh)
    variants = []
    for meta in manifest.values():
        if meta["variant"] not in variants:
            variants.append(meta["variant"])
    if args.variants:
        variants = [v for v in variants if v in args.variants.split(",")]

    passing = []
    summary = {}
    if not args.time_only:
        for v in variants:
            print(f"== check {v}", flush=True)
            t0 = time.time()
            try:
                p = subprocess.run([sys.executable, __file__, "--mode", "check", "--child-variant", v],
                                   capture_output=True, text=True, timeout=args.timeout)
                out = p.stdout + p.stderr
                print(p.stdout, end="")
                if p.returncode != 0:
                    print(p.stderr[-3000:])
                res = [json.loads(l[7:]) for l in p.stdout.splitlines() if l.startswith("RESULT ")]
                summary[v] = res[0] if res else {"ok": False, "error": f"exit {p.returncode}"}
            except subprocess.TimeoutExpired as e:
                print((e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""))
                summary[v] = {"ok": False, "error": f"timeout after {args.timeout}s (hang?)"}
            print(f"   {v}: {summary[v]}  ({time.time() - t0:.0f}s)", flush=True)
            if summary[v].get("ok"):
                passing.append(v)
    else:
        passing = variants
    if args.time_variants:
        passing = [v for v in passing if v in args.time_variants.split(",")]
    if args.check_only or not passing:
        print("\ncheck summary:", json.dumps(summary))
        return
    print(f"== time {','.join(passing)} beside torch SDPA", flush=True)
    try:
        p = subprocess.run([sys.executable, __file__, "--mode", "time", "--child-variants", ",".join(passing)],
                           capture_output=True, text=True, timeout=max(args.timeout, 400))
        print(p.stdout, end="")
        if p.returncode != 0:
            print(p.stderr[-3000:])
        rows = [json.loads(l[6:]) for l in p.stdout.splitlines() if l.startswith("TABLE ")]
    except subprocess.TimeoutExpired:
        print("timing timed out")
        rows = []
    print("\ncheck summary:", json.dumps(summary))
    if rows:
        for r in rows[0]:
            r["shape"] = tuple(r["shape"])
            for k in list(r):
                if k != "shape":
                    r[k] = (r[k][0], r[k][1])
        print_table(rows[0], passing)


if __name__ == "__main__":
    main()
