"""On the GPU machine: the libraries `tucker-compile --target=cuda` built from
bench/gpu/aot/*.mlir, called through their C entry with device pointers, checked against torch
(float32 reference, NaN-poisoned outputs) and timed beside SDPA's cuDNN and flash backends.

Usage: python3 bench/gpu/run_aot.py DIR   (DIR holds libflash_small.so, libflash_large.so and
libTuckerCudaRuntime.so, e.g. bench/gpu/out/aot)
"""

import ctypes
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def descriptor(t):
    """The MLIR memref descriptor of a contiguous 4-D CUDA tensor (device pointers)."""
    class Desc(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * 4),
                    ("strides", ctypes.c_int64 * 4)]
    d = Desc(t.data_ptr(), t.data_ptr(), 0, (ctypes.c_int64 * 4)(*t.shape),
             (ctypes.c_int64 * 4)(*t.stride()))
    return d


def load(directory, name):
    lib = ctypes.CDLL(os.path.join(directory, f"libflash_{name}.so"))
    fn = getattr(lib, f"_mlir_ciface_flash_{name}")
    fn.restype = None
    return fn


def call(fn, q, k, v, o):
    ds = [descriptor(t) for t in (q, k, v, o)]
    fn(*[ctypes.byref(d) for d in ds])


def reference(q, k, v, causal):
    g = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
    return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal)


def rel_err(out, ref):
    return ((out.float() - ref).abs().max() / ref.abs().max()).item()


def bench(f, reps=20):
    for _ in range(3):
        f()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        f()
        e.record()
        torch.cuda.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2] * 1e-3


def main(directory):
    torch.manual_seed(0)
    dev = "cuda"
    rows = []
    for name, (B, Hq, Hkv, N, D, causal) in {"small": (2, 8, 2, 1000, 128, True),
                                             "large": (4, 32, 8, 4096, 128, False)}.items():
        fn = load(directory, name)
        for trial in range(2):
            q = torch.randn(B, Hq, N, D, device=dev, dtype=torch.bfloat16)
            k = torch.randn(B, Hkv, N, D, device=dev, dtype=torch.bfloat16)
            v = torch.randn(B, Hkv, N, D, device=dev, dtype=torch.bfloat16)
            o = torch.full((B, Hq, N, D), float("nan"), device=dev, dtype=torch.bfloat16)
            call(fn, q, k, v, o)
            torch.cuda.synchronize()
            err = rel_err(o, reference(q, k, v, causal))
            nan = torch.isnan(o).any().item()
            ok = err <= 2e-2 and not nan
            print(f"check {name} trial {trial}: rel err {err:.2e} nan {nan} -> {'PASS' if ok else 'FAIL'}")
            if not ok:
                sys.exit(1)
        flops = 4.0 * B * Hq * N * N * D / (2 if causal else 1)
        ours = bench(lambda: call(fn, q, k, v, o))
        times = {}
        for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
            try:
                with sdpa_kernel(backend):
                    times[label] = bench(lambda: F.scaled_dot_product_attention(
                        q, k, v, is_causal=causal, enable_gqa=True))
            except RuntimeError as e:
                times[label] = None
                print(f"{label} unavailable: {str(e).splitlines()[0]}")
        tf = lambda t: f"{flops / t / 1e12:7.1f}" if t else "    n/a"
        rows.append(f"{B:>2} {Hq:>3}/{Hkv:<2} {N:>5} {D:>4} {str(causal):>6} {tf(ours)} {tf(times['cudnn'])} "
                    f"{tf(times['flash'])} {times['cudnn'] / ours if times['cudnn'] else float('nan'):6.2f}")
    print(" B  Hq/Hkv    N    D causal    ours   cuDNN   flash  ours/cuDNN   (TFLOP/s, AOT .so via C entry)")
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/gpu/out/aot")
