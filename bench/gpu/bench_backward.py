#!/usr/bin/env python3
"""The flash backward (tucker.flash_backward on the Hopper kernels) beside torch SDPA's backward.

    python3 bench/gpu/bench_backward.py write DIR   # here: one .mlir per case, cases.json
    python3 bench/gpu/bench_backward.py run DIR     # GPU machine: DIR holds <name>.so/.json

build_gpu.sh compiles what `write` leaves into bench/gpu/out/gpu/backward. Ours is the compiled
library's C entry (q, k, v, o, lse, dO -> dq, dk, dv: the prep, main and finish kernels) through
tucker.Kernel; torch is torch.autograd.grad of scaled_dot_product_attention under the cuDNN and
the flash backends (its forward run once outside the timing, its backward timed). Each case is
checked once first: ours against the flash backend's gradients on the same inputs (bf16, relative
error of the norm). TFLOP/s = 2.5 · 2·B·Hq·N·N·(Dqk + Dv) / t, halved for causal. The `-det`
cases are `deterministic` ops, checked to give the same bits twice, with torch timed under
torch.use_deterministic_algorithms(True). The `latent` cases are latent MQA with v = k (one
shared latent of width D, the Tucker layers' attention: the kernel reads V from the K tile);
torch gets the same tensor as k and v (so one gradient for it), compared with our dk + dv.
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name, B, Hq, Hkv, N, D, causal, deterministic (latent: Hkv 1 and v = k)
CASES = [
    ("bwd-mha-h16-d128-n4096", 4, 16, 16, 4096, 128, False, False),
    ("bwd-mha-h16-d128-n4096-causal", 4, 16, 16, 4096, 128, True, False),
    ("bwd-mha-h16-d128-n16384", 1, 16, 16, 16384, 128, False, False),
    ("bwd-mha-h16-d128-n16384-causal", 1, 16, 16, 16384, 128, True, False),
    ("bwd-gqa-32-8-d128-n4096-causal", 2, 32, 8, 4096, 128, True, False),
    ("bwd-mha-h12-d64-n1024-causal", 16, 12, 12, 1024, 64, True, False),
    ("bwd-mha-h16-d128-n4096-det", 4, 16, 16, 4096, 128, False, True),
    ("bwd-mha-h16-d128-n4096-causal-det", 4, 16, 16, 4096, 128, True, True),
    ("bwd-mha-h12-d64-n1024-causal-det", 16, 12, 12, 1024, 64, True, True),
    ("bwd-latent-h32-d64-n4096-causal", 4, 32, 1, 4096, 64, True, False),
    ("bwd-latent-h12-d64-n1024-causal", 16, 12, 1, 1024, 64, True, False),
]


def source(B, Hq, Hkv, N, D, causal, deterministic):
    t = lambda h, d: f"tensor<{B}x{h}x{N}x{d}xbf16>"  # noqa: E731
    lse = f"tensor<{B}x{Hq}x{N}xf32>"
    attrs = [a for a, on in (("causal", causal), ("deterministic", deterministic)) if on]
    attr = " {" + ", ".join(attrs) + "}" if attrs else ""
    if Hkv == 1 and Hq > 1:  # latent MQA: v is k
        types = f"{t(Hq, D)}, {t(1, D)}, {t(1, D)}, {t(Hq, D)}, {lse}, {t(Hq, D)}"
        results = f"{t(Hq, D)}, {t(1, D)}, {t(1, D)}"
        return (f"func.func @backward(%q: {t(Hq, D)}, %k: {t(1, D)}, "
                f"%o: {t(Hq, D)}, %lse: {lse}, %do: {t(Hq, D)}) -> ({results}) {{\n"
                f"  %dq, %dk, %dv = tucker.flash_backward %q, %k, %k, %o, %lse, %do{attr} : "
                f"{types} -> {results}\n"
                f"  return %dq, %dk, %dv : {results}\n}}\n")
    types = f"{t(Hq, D)}, {t(Hkv, D)}, {t(Hkv, D)}, {t(Hq, D)}, {lse}, {t(Hq, D)}"
    results = f"{t(Hq, D)}, {t(Hkv, D)}, {t(Hkv, D)}"
    return (f"func.func @backward(%q: {t(Hq, D)}, %k: {t(Hkv, D)}, %v: {t(Hkv, D)}, "
            f"%o: {t(Hq, D)}, %lse: {lse}, %do: {t(Hq, D)}) -> ({results}) {{\n"
            f"  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do{attr} : "
            f"{types} -> {results}\n"
            f"  return %dq, %dk, %dv : {results}\n}}\n")


def write(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, *shape in CASES:
        with open(os.path.join(outdir, name + ".mlir"), "w") as f:
            f.write(source(*shape))
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump([{"name": c[0], "B": c[1], "Hq": c[2], "Hkv": c[3], "N": c[4], "D": c[5],
                    "causal": c[6], "deterministic": c[7]} for c in CASES], f, indent=1)


def run(outdir):
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
    from tucker.compiler import Kernel
    sys.path.insert(0, HERE)
    from bench_flash import time_fn

    def forward(q, k, v, causal):
        """o and lse (float32 math, one head at a time: no N×N for every head at once)."""
        g = q.shape[1] // k.shape[1]
        o = torch.empty_like(q)
        lse = torch.empty(q.shape[:3], device=q.device, dtype=torch.float32)
        scale = 1 / math.sqrt(q.shape[-1])
        for b in range(q.shape[0]):
            for h in range(q.shape[1]):
                for r0 in range(0, q.shape[2], 2048):
                    qs = q[b, h, r0:r0 + 2048].float()
                    s = qs @ k[b, h // g].float().T * scale
                    if causal:
                        i = torch.arange(r0, r0 + qs.shape[0], device=q.device)[:, None]
                        j = torch.arange(k.shape[2], device=q.device)[None, :]
                        s = s.masked_fill(j > i + k.shape[2] - q.shape[2], float("-inf"))
                    lse[b, h, r0:r0 + 2048] = torch.logsumexp(s, -1)
                    o[b, h, r0:r0 + 2048] = (torch.softmax(s, -1) @ v[b, h // g].float()).to(q.dtype)
        return o, lse

    print(torch.cuda.get_device_name(0), torch.__version__)
    print("| case | B | Hq/Hkv | N | D | causal | ours ms | cuDNN ms | flash ms | ours TF/s | "
          "cuDNN TF/s | flash TF/s | ours/cuDNN | ours/flash | rel. err |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with open(os.path.join(outdir, "cases.json")) as f:
        cases = json.load(f)
    for c in cases:
        if len(sys.argv) > 3 and c["name"] not in sys.argv[3:]:
            continue
        with open(os.path.join(outdir, c["name"] + ".json")) as f:
            kernel = Kernel(os.path.join(outdir, c["name"] + ".so"), json.load(f))
        B, Hq, Hkv, N, D, causal = c["B"], c["Hq"], c["Hkv"], c["N"], c["D"], c["causal"]
        gen = torch.Generator(device="cuda").manual_seed(7)
        mk = lambda h: torch.randn(B, h, N, D, device="cuda", dtype=torch.bfloat16,  # noqa: E731
                                   generator=gen)
        latent = Hkv == 1 and Hq > 1
        q, k, v, do = mk(Hq), mk(Hkv), mk(Hkv), mk(Hq)
        if latent:
            v = k
        o, lse = forward(q, k, v, causal)

        def torch_grads(backend):
            qq, kk = (t.detach().requires_grad_() for t in (q, k))
            vv = kk if latent else v.detach().requires_grad_()
            with sdpa_kernel(backend):
                out = F.scaled_dot_product_attention(qq, kk, vv, is_causal=causal,
                                                     enable_gqa=Hq != Hkv)
            leaves = (qq, kk) if latent else (qq, kk, vv)
            return lambda: torch.autograd.grad(out, leaves, do, retain_graph=True)

        args = (q, k, o, lse, do) if latent else (q, k, v, o, lse, do)
        ours = lambda: kernel(*args)  # noqa: E731
        got = ours()
        ref = torch_grads(SDPBackend.FLASH_ATTENTION)()
        if latent:  # one shared tensor: its gradient is dk + dv (torch's is already one)
            got = (got[0], got[1].float() + got[2].float())
        err = max(float((a.float() - b.float()).norm() / b.float().norm()) for a, b in zip(got, ref))
        deterministic = c.get("deterministic", False)
        if deterministic and not all(torch.equal(a, b) for a, b in zip(got, ours())):
            err = float("nan")  # a deterministic op that changed its bits: a failure
        t_ours = time_fn(ours, reps=10, inner=5)
        times = {}
        torch.use_deterministic_algorithms(deterministic, warn_only=True)
        for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
            try:
                times[label] = time_fn(torch_grads(backend), reps=10, inner=5)
            except RuntimeError:
                times[label] = float("nan")
        torch.use_deterministic_algorithms(False)
        flops = 2.5 * 2 * B * Hq * N * N * (2 * D) / (2 if causal else 1)
        tf = lambda ms: flops / ms / 1e9  # noqa: E731
        print(f"| {c['name']} | {B} | {Hq}/{Hkv} | {N} | {D} | {causal} | {t_ours:.3f} | "
              f"{times['cudnn']:.3f} | {times['flash']:.3f} | {tf(t_ours):.0f} | "
              f"{tf(times['cudnn']):.0f} | {tf(times['flash']):.0f} | "
              f"{times['cudnn'] / t_ours:.2f} | {times['flash'] / t_ours:.2f} | {err:.1e} |",
              flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("write", "run"):
        sys.exit(__doc__)
    (write if sys.argv[1] == "write" else run)(sys.argv[2])
