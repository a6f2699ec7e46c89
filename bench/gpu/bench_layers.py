#!/usr/bin/env python3
"""Whole attention layers: the compiled layer beside torch eager layers with cuDNN SDPA.

  bench_layers.py list                  the cases
  bench_layers.py write DIR             DIR/<name>.mlir per case and DIR/cases.json (here:
                                        build_layers.sh compiles them)
  bench_layers.py run DIR [NAME...]     on the GPU machine, DIR as build_layers.sh left it
                                        (cases.json, <name>.so, <name>.json): check, then time

Cases (issue 9): LLaMA-1B size (d 2048, 32 heads of 64, B 4, N 4096): MHA, GQA-8 (8 kv heads,
rotate-half RoPE, HF Llama), Tucker [32, 128, 64]; GPT-2 size (d 768, 12 heads of 64, B 16,
N 1024): MHA, Tucker [8, 128, 64]; each causal and not. MHA is nn.MultiheadAttention (biases),
Tucker has dense cores, ranks the same before and after the softmax, no bias.

Ours is the `tucker-compile --target=cuda` library called through its C entry on torch's current
stream with its descriptors (inputs, output, workspace) built once, as bench_flash.py times
kernels; a column gives the same through tucker.Kernel (its Python argument handling included).
A second table times both from CUDA graphs (GPU work only). The eager layers are written in torch
from the same weights (bf16, f32 accumulation in the GEMMs, SDPA pinned to cuDNN):
  MHA     one packed in-projection GEMM (as nn.MultiheadAttention), head views, SDPA,
          the out-projection;
  GQA     three projections, RoPE (cos/sin precomputed once, outside the timing), SDPA
          with enable_gqa (or k/v repeated, whichever is faster);
  Tucker  DESIGN.md §1: G_i = Σ_a U1[i,a] 𝒞_a folded once (outside the timing, as a trained
          layer keeps them), q̃ = x U2, the query cores
          as one GEMM with the cores side by side (q viewed [B, H, N, r3]), k = x U3,
          v = x Ũ3, SDPA of H query heads on one kv head (enable_gqa, a stride-0 expand or a
          copied expand, whichever is faster), the output fold as two GEMMs.
Each case is first checked: random inputs, the output poisoned with NaN, against the layer in
float32 (the same torch code with float32 weights, SDPA's efficient backend); ours and the eager
bf16 layer must both be within 3e-2 relative Frobenius error, else the run exits non-zero. Then
each is timed with CUDA events: warm-up, median of 20 groups of 5 calls, two input sets
alternated (each x larger than L2 at the LLaMA size). With TUCKER_LAYER_PROFILE=1 set, each
case also prints the GPU time of every kernel of one call of ours and of eager (torch.profiler).
"""
import ctypes
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

# name, family, kind, B, N, d, H, causal, extra
SIZES = {"llama1b": (4, 4096, 2048, 32), "gpt2": (16, 1024, 768, 12)}
CASES = []
for causal in (False, True):
    c = "-causal" if causal else ""
    CASES += [
        {"name": f"llama1b-mha{c}", "size": "llama1b", "kind": "mha", "causal": causal},
        {"name": f"llama1b-gqa8{c}", "size": "llama1b", "kind": "gqa", "kv_heads": 8,
         "theta": 500000.0, "causal": causal},
        {"name": f"llama1b-tucker-32-128-64{c}", "size": "llama1b", "kind": "tucker",
         "ranks": [32, 128, 64], "causal": causal},
        {"name": f"gpt2-mha{c}", "size": "gpt2", "kind": "mha", "causal": causal},
        {"name": f"gpt2-tucker-8-128-64{c}", "size": "gpt2", "kind": "tucker",
         "ranks": [8, 128, 64], "causal": causal},
    ]
TOLERANCE = 3e-2


def shape_of(case):
    B, N, d, H = SIZES[case["size"]]
    return B, N, d, H


def arguments(case):
    """(name, shape) of the layer's operands, in the op's order."""
    B, N, d, H = shape_of(case)
    dh = d // H
    if case["kind"] == "mha":
        return [("x", (B, N, d))] + [(n, (d, d)) for n in ("wq", "wk", "wv", "wo")] + \
            [(n, (d,)) for n in ("bq", "bk", "bv", "bo")]
    if case["kind"] == "gqa":
        kv = case["kv_heads"] * dh
        return [("x", (B, N, d)), ("wq", (d, d)), ("wk", (d, kv)), ("wv", (d, kv)), ("wo", (d, d))]
    r1, r2, r3 = case["ranks"]
    return [("x", (B, N, d)), ("u1", (H, r1)), ("u2", (d, r2)), ("u3", (d, r3)),
            ("core", (r1, r2, r3)), ("v1", (H, r1)), ("v2", (d, r2)), ("v3", (d, r3)),
            ("core_out", (r1, r2, r3))]


def scale_of(case):
    B, N, d, H = shape_of(case)
    return 1.0 / math.sqrt(case["ranks"][2] if case["kind"] == "tucker" else d // H)


def mlir_source(case):
    """The layer as one function @layer of the tucker dialect, bf16."""
    B, N, d, H = shape_of(case)
    args = arguments(case)
    tt = lambda s: "tensor<" + "x".join(map(str, s)) + "xbf16>"  # noqa: E731
    sig = ", ".join(f"%{n}: {tt(s)}" for n, s in args)
    types = ", ".join(tt(s) for _, s in args)
    out = tt((B, N, d))
    causal = ", causal" if case["causal"] else ""
    if case["kind"] == "mha":
        op = (f"tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo) "
              f"{{num_heads = {H} : i64{causal}}}")
    elif case["kind"] == "gqa":
        op = (f"tucker.gqa %x, %wq, %wk, %wv, %wo {{num_heads = {H} : i64, num_kv_heads = "
              f"{case['kv_heads']} : i64{causal}, rope = #tucker.rope<theta = {case['theta']}, "
              f"width = {d // H}, style = half>}}")
    else:
        r = ", ".join(map(str, case["ranks"]))
        op = (f"tucker.attention %x, pre(%u1, %u2, %u3, core %core), post(%v1, %v2, %v3, core "
              f"%core_out) {{ranks = #tucker.ranks<[{r}], [{r}]>, scale = {scale_of(case)!r} : "
              f"f64{causal}}}")
    return (f"// {case['name']} (bench/gpu/bench_layers.py)\n"
            f"func.func @layer({sig}) -> {out} {{\n  %y = {op}\n      : ({types}) -> {out}\n"
            f"  return %y : {out}\n}}\n")


def write(outdir):
    os.makedirs(outdir, exist_ok=True)
    for case in CASES:
        with open(os.path.join(outdir, case["name"] + ".mlir"), "w") as fh:
            fh.write(mlir_source(case))
    with open(os.path.join(outdir, "cases.json"), "w") as fh:
        json.dump(CASES, fh, indent=1)


#===------------------------------------------------------------------------===#
# On the GPU machine
#===------------------------------------------------------------------------===#

def random_weights(case, torch, device, gen):
    """bf16 operands: x ~ N(0, 1), matrices ~ N(0, 1/fan_in), biases ~ 0.1 N(0, 1),
    cores ~ N(0, 1/r2)."""
    out = {}
    for name, shape in arguments(case):
        t = torch.randn(shape, generator=gen, device=device, dtype=torch.float32)
        if name != "x":
            t = t * (0.1 if len(shape) == 1 else 1.0 / math.sqrt(shape[1] if len(shape) == 3
                                                                  else shape[0]))
        out[name] = t.to(torch.bfloat16)
    return out


class Eager:
    """The eager torch layer of a case over weights `w` (any float dtype); `attention(q, k, v,
    causal, scale)` is SDPA under the chosen backend."""

    def __init__(self, case, w, torch, attention):
        self.case, self.w, self.torch, self.attention = case, w, torch, attention
        B, N, d, H = shape_of(case)
        if case["kind"] == "mha":  # nn.MultiheadAttention's packed in-projection, [3d, d]
            self.in_w = torch.cat([w["wq"].T, w["wk"].T, w["wv"].T]).contiguous()
            self.in_b = torch.cat([w["bq"], w["bk"], w["bv"]])
            self.out_w = w["wo"].T.contiguous()
        elif case["kind"] == "gqa":  # HF Linear weights are [out, in]
            self.lin = {n: w[n].T.contiguous() for n in ("wq", "wk", "wv", "wo")}
            dh = d // H
            inv = 1.0 / case["theta"] ** (torch.arange(0, dh, 2, device=w["x"].device,
                                                       dtype=torch.float64) / dh)
            ang = torch.arange(N, device=w["x"].device, dtype=torch.float64)[:, None] * inv
            emb = torch.cat([ang, ang], dim=-1)
            self.cos, self.sin = emb.cos().to(w["x"].dtype), emb.sin().to(w["x"].dtype)
        else:
            # The head factors folded into the cores once, as a user keeps a trained layer:
            # G_i = Σ_a U1[i,a] 𝒞_a and G̃_i, laid out for one product each.
            r1, r2, r3 = case["ranks"]
            g = torch.einsum("ia,ars->irs", w["u1"], w["core"])          # [H, r2, r3]
            g_out = torch.einsum("ia,ars->irs", w["v1"], w["core_out"])  # [H, r̃2, r̃3]
            self.gq = g.permute(1, 0, 2).reshape(r2, H * r3).contiguous()
            self.go = g_out.permute(0, 2, 1).reshape(H * r3, r2).contiguous()
            self.u2t = w["v2"].T.contiguous()  # Ũ2ᵀ [r̃2, d]

    def __call__(self, x):
        torch, F = self.torch, self.torch.nn.functional
        case, w = self.case, self.w
        B, N, d, H = shape_of(case)
        dh = d // H
        causal = case["causal"]
        if case["kind"] == "mha":
            q, k, v = F.linear(x, self.in_w, self.in_b).chunk(3, dim=-1)
            q, k, v = (t.view(B, N, H, dh).transpose(1, 2) for t in (q, k, v))
            o = self.attention(q, k, v, causal, scale_of(case))
            return F.linear(o.transpose(1, 2).reshape(B, N, d), self.out_w, w["bo"])
        if case["kind"] == "gqa":
            kv = case["kv_heads"]
            q = F.linear(x, self.lin["wq"]).view(B, N, H, dh).transpose(1, 2)
            k = F.linear(x, self.lin["wk"]).view(B, N, kv, dh).transpose(1, 2)
            v = F.linear(x, self.lin["wv"]).view(B, N, kv, dh).transpose(1, 2)

            def rot(t):
                half = t.shape[-1] // 2
                return t * self.cos + torch.cat((-t[..., half:], t[..., :half]), dim=-1) * self.sin
            o = self.attention(rot(q), rot(k), v, causal, scale_of(case))
            return F.linear(o.transpose(1, 2).reshape(B, N, d), self.lin["wo"])
        r1, r2, r3 = case["ranks"]
        q = ((x @ w["u2"]) @ self.gq).view(B, N, H, r3).transpose(1, 2)  # [B, H, N, r3]
        k = (x @ w["u3"]).unsqueeze(1)                               # [B, 1, N, r3]
        v = (x @ w["v3"]).unsqueeze(1)
        o = self.attention(q, k, v, causal, scale_of(case))          # [B, H, N, r̃3]
        return (o.transpose(1, 2).reshape(B, N, H * r3) @ self.go) @ self.u2t


def sdpa_variants(torch, backend):
    """Ways to run attention for H query heads over Hkv kv heads under `backend`:
    enable_gqa, k/v expanded as views, k/v repeated into memory."""
    F = torch.nn.functional
    from torch.nn.attention import sdpa_kernel

    def gqa(q, k, v, causal, scale):
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale,
                                                  enable_gqa=q.shape[1] != k.shape[1])

    def expanded(q, k, v, causal, scale, copy=False):
        g = q.shape[1] // k.shape[1]
        if g > 1:
            B, Hkv, N, D = k.shape
            k = k[:, :, None].expand(B, Hkv, g, N, D).reshape(B, Hkv * g, N, D) if copy else \
                k.expand(B, q.shape[1], N, D) if Hkv == 1 else k.repeat_interleave(g, dim=1)
            Dv = v.shape[-1]
            v = v[:, :, None].expand(B, Hkv, g, N, Dv).reshape(B, Hkv * g, N, Dv) if copy else \
                v.expand(B, q.shape[1], N, Dv) if Hkv == 1 else v.repeat_interleave(g, dim=1)
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)

    return {"enable_gqa": gqa, "expand": expanded,
            "repeat": lambda q, k, v, c, s: expanded(q, k, v, c, s, copy=True)}


def time_fn(torch, fn, reps=20, inner=5, warm=3):
    """bench_flash.py's timing (CUDA events, median), imported on the GPU machine only."""
    from bench_flash import time_fn as timed
    return timed(fn, reps=reps, inner=inner, warm=warm)


def rel_err(torch, got, ref):
    return float((got.float() - ref).nan_to_num(nan=1e9).norm() / ref.norm().clamp_min(1e-30))


class Entry:
    """Ours through the library's C entry with its descriptors built once (what a compiled layer
    costs, as bench_flash.py times it); `kernel(*args)` adds tucker.Kernel's Python work."""

    def __init__(self, torch, kernel, args, out):
        from tucker.compiler import _descriptor
        self.torch, self.kernel = torch, kernel
        nbytes = kernel.signature.workspace_bytes
        self.workspace = torch.zeros(max(nbytes, 1), dtype=torch.uint8, device="cuda")
        tensors = list(args) + [out] + ([self.workspace[:nbytes]] if nbytes else [])
        self.descs = [_descriptor(t.data_ptr(), tuple(t.shape)) for t in tensors]
        self.ptrs = [ctypes.addressof(d) for d in self.descs]
        self.tensors = tensors

    def __call__(self):
        self.kernel._fn(self.torch.cuda.current_stream().cuda_stream, *self.ptrs)


def graph_time(torch, fn):
    """Median time of `fn` replayed from a CUDA graph (GPU work only), or None when it cannot be
    captured."""
    try:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            fn()
        return time_fn(torch, graph.replay)
    except Exception as e:  # noqa: BLE001
        print(f"  note: graph capture failed: {str(e).splitlines()[0][:160]}", flush=True)
        torch.cuda.synchronize()
        return None


def run_case(torch, outdir, case, mha_weights):
    from torch.nn.attention import SDPBackend
    from tucker.compiler import Kernel

    with open(os.path.join(outdir, case["name"] + ".json")) as fh:
        kernel = Kernel(os.path.join(outdir, case["name"] + ".so"), json.load(fh))
    gen = torch.Generator(device="cuda").manual_seed(7)
    w = random_weights(case, torch, "cuda", gen)
    x2 = torch.randn(w["x"].shape, generator=gen, device="cuda").to(torch.bfloat16)
    names = [n for n, _ in arguments(case)]
    row = {"name": case["name"], "workspace_MiB": kernel.signature.workspace_bytes / 2**20}

    # Check: ours and eager bf16 against the float32 layer.
    w32 = {n: t.float() for n, t in w.items()}
    ref = Eager(case, w32, torch, sdpa_variants(torch, SDPBackend.EFFICIENT_ATTENTION)["expand"])(
        w32["x"])
    poison = torch.full(ref.shape, float("nan"), device="cuda", dtype=torch.bfloat16)
    del poison  # the block the output gets next
    y = kernel(*[w[n] for n in names])
    torch.cuda.synchronize()
    row["err"] = rel_err(torch, y, ref)
    row["nan"] = int(torch.isnan(y).sum())

    # Eager: the fastest valid way to run its attention on cuDNN.
    variants = sdpa_variants(torch, SDPBackend.CUDNN_ATTENTION)
    best = None
    for label, attention in variants.items():
        if case["kind"] == "mha" and label != "enable_gqa":
            continue
        eager = Eager(case, w, torch, attention)
        try:
            err = rel_err(torch, eager(w["x"]), ref)
            t = time_fn(torch, lambda: eager(w["x"]), reps=5, inner=2, warm=1)
        except Exception as e:  # noqa: BLE001  (cuDNN refuses some layouts)
            row[f"eager_{label}_unavailable"] = str(e).splitlines()[0][:120]
            continue
        if best is None or t < best[1]:
            best = (label, t, eager, err)
    if best is None:
        raise RuntimeError("no cuDNN SDPA variant runs this layer: " + json.dumps(row))
    row["eager_attention"], _, eager, row["eager_err"] = best
    del ref
    torch.cuda.empty_cache()

    # Two input sets, alternated (each x larger than L2 at the LLaMA size).
    entries = [Entry(torch, kernel, [x] + [w[n] for n in names[1:]], torch.empty_like(y))
               for x in (w["x"], x2)]
    xs = [w["x"], x2]
    st = [0]

    def ours():
        entries[st[0] & 1]()
        st[0] += 1

    def ours_kernel():
        kernel(xs[st[0] & 1], *[w[n] for n in names[1:]])
        st[0] += 1

    def theirs():
        eager(xs[st[0] & 1])
        st[0] += 1
    row["ours_ms"] = time_fn(torch, ours)
    row["ours_kernel_ms"] = time_fn(torch, ours_kernel)
    row["eager_ms"] = time_fn(torch, theirs)
    row["ours_graph_ms"] = graph_time(torch, entries[0])
    row["eager_graph_ms"] = graph_time(torch, lambda: eager(w["x"]))
    if mha_weights is not None:  # the MHA layer of the same size, for the other rows
        m = Eager(dict(case, kind="mha"), mha_weights, torch, variants["enable_gqa"])

        def mha():
            m(xs[st[0] & 1])
            st[0] += 1
        row["eager_mha_ms"] = time_fn(torch, mha)
        row["eager_mha_graph_ms"] = graph_time(torch, lambda: m(w["x"]))
    else:
        row["eager_mha_ms"] = row["eager_ms"]
        row["eager_mha_graph_ms"] = row["eager_graph_ms"]
    if os.environ.get("TUCKER_LAYER_PROFILE"):
        profile(torch, case["name"], {"ours": entries[0], "eager": lambda: eager(w["x"])})
    del entries, y
    return row


def profile(torch, name, fns):
    """Per-kernel GPU time of one call of each of `fns` (torch.profiler, mean of 10 calls), to
    say where a layer's time goes."""
    from torch.profiler import ProfilerActivity, profile as prof
    for label, fn in fns.items():
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        with prof(activities=[ProfilerActivity.CUDA]) as p:
            for _ in range(10):
                fn()
            torch.cuda.synchronize()
        events = [e for e in p.key_averages() if e.device_type.name == "CUDA"]
        total = sum(e.device_time_total for e in events) / 10
        print(f"PROFILE {name} {label}: {total:.1f} us per call of GPU kernels", flush=True)
        for e in sorted(events, key=lambda e: -e.device_time_total):
            print(f"PROFILE   {e.device_time_total / 10:8.1f} us  x{e.count / 10:4.1f}  {e.key[:110]}",
                  flush=True)


def run(outdir, only):
    import torch
    with open(os.path.join(outdir, "cases.json")) as fh:
        cases = json.load(fh)
    unknown = set(only) - {c["name"] for c in cases}
    if unknown:
        sys.exit(f"bench_layers.py: no case named {', '.join(sorted(unknown))}")
    rows, failed = [], 0
    for case in cases:
        if only and case["name"] not in only:
            continue
        mha = None
        if case["kind"] != "mha":
            gen = torch.Generator(device="cuda").manual_seed(11)
            mha = random_weights(dict(case, kind="mha"), torch, "cuda", gen)
        try:
            row = run_case(torch, outdir, case, mha)
        except Exception as e:  # noqa: BLE001  (one broken case must not hide the others)
            row = {"name": case["name"], "error": str(e).splitlines()[0][:300]}
        del mha
        torch.cuda.empty_cache()
        print("ROW " + json.dumps(row), flush=True)
        rows.append(row)
    dev = torch.cuda.get_device_name()
    print(f"\nWhole-layer forward, ms, on {dev}, bf16; median of 20 x 5 calls. ours: the C entry "
          f"(descriptors built once; through tucker.Kernel in the last column); eager: the same "
          f"layer in torch, cuDNN SDPA; eagerMHA: the nn.MultiheadAttention-style layer of the same "
          f"d and heads. /x: how many times faster ours is than x.")
    head = (f"{'case':32s} {'err':>7s} {'eager':>7s} | {'ours':>7s} {'eager':>7s} {'eagerMHA':>8s}"
            f" | {'/eager':>6s} {'/MHA':>6s} | {'Kernel':>7s} | attention")
    print(head)
    print("-" * len(head))
    ok_rows = []
    for r in rows:
        if "error" in r:
            print(f"{r['name']:32s} ERROR {r['error']}")
            failed += 1
            continue
        wrong = r["nan"] or r["err"] > TOLERANCE or r["eager_err"] > TOLERANCE
        failed += bool(wrong)
        ok_rows.append(r)
        print(f"{r['name']:32s} {r['err']:7.1e} {r['eager_err']:7.1e} | {r['ours_ms']:7.3f} "
              f"{r['eager_ms']:7.3f} {r['eager_mha_ms']:8.3f} | {r['eager_ms'] / r['ours_ms']:6.2f} "
              f"{r['eager_mha_ms'] / r['ours_ms']:6.2f} | {r['ours_kernel_ms']:7.3f} | "
              f"{r['eager_attention']}{'  WRONG' if wrong else ''}")
    print("\nThe same from CUDA graphs (GPU work only, no host launch cost), ms:")
    head = f"{'case':32s} | {'ours':>7s} {'eager':>7s} {'eagerMHA':>8s} | {'/eager':>6s} {'/MHA':>6s}"
    print(head)
    print("-" * len(head))
    g = lambda v: f"{v:7.3f}" if v else f"{'-':>7s}"  # noqa: E731
    q = lambda a, b: f"{b / a:6.2f}" if a and b else f"{'-':>6s}"  # noqa: E731
    for r in ok_rows:
        print(f"{r['name']:32s} | {g(r['ours_graph_ms'])} {g(r['eager_graph_ms'])} "
              f"{g(r['eager_mha_graph_ms'])} | {q(r['ours_graph_ms'], r['eager_graph_ms'])} "
              f"{q(r['ours_graph_ms'], r['eager_mha_graph_ms'])}")
    for r in rows:
        for k in r:
            if k.endswith("_unavailable"):
                print(f"  note {r['name']}: {k[:-12]} unavailable: {r[k]}")
    return 1 if failed else 0


def main(argv):
    if len(argv) < 2 or argv[1] not in ("list", "write", "run") or \
            (argv[1] in ("write", "run") and len(argv) < 3):
        sys.exit(__doc__.split("\n\n")[1])
    if argv[1] == "list":
        for c in CASES:
            B, N, d, H = shape_of(c)
            print(f"{c['name']:30s} {c['kind']:6s} B {B} N {N} d {d} H {H} causal {c['causal']}")
        return 0
    if argv[1] == "write":
        write(argv[2])
        return 0
    return run(argv[2], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
