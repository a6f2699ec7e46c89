#!/usr/bin/env python3
"""Checks a whole attention layer compiled with `tucker-compile --target=cuda` on the GPU.

usage: check_layer.py CASE.mlir LIB.so SIGNATURE.json [--repeat N]

CASE.mlir holds one line `// CASE: {...}` (JSON) naming the layer and what the reference needs
beyond the signature's shapes; the entry's arguments are the op's operands, in order:
    {"layer": "mha", "heads": H, "causal": c}
        x, wq, wk, wv, wo[, bq, bk, bv, bo]: torch.nn.MultiheadAttention (batch_first) with
        in_proj_weight = [wqᵀ; wkᵀ; wvᵀ], out_proj.weight = woᵀ and the biases; causal as an
        upper-triangular attn_mask.
    {"layer": "gqa", "heads": H, "kv_heads": Hkv, "theta": θ, "causal": c[, "bias": true]}
        x, wq, wk, wv, wo[, bq, bk, bv, bo]: HF LlamaAttention (python/tests/hf_semantics.py:
        rotate-half RoPE on whole heads at positions 0..N-1, repeat_kv; attention_bias),
        q_proj.weight = wqᵀ, q_proj.bias = bq, ... (tucker.mha with rope when biased).
    {"layer": "mla", "heads": H, "q_lora_rank": r or null, "kv_lora_rank": c, "nope": n,
     "rope": p, "v": v, "theta": θ, "interleave": i, "causal": c}
        x[, wq_a, q_norm], wq_b, wkv_a, kv_norm, wkv_b, wo: HF DeepseekV3Attention
        (hf_semantics), each weight the transpose of the module's.
    {"layer": "tucker", "heads": H, "scale": s, "causal": c, "query_bias": qb, "out_bias": ob}
        x, U1, U2, U3, core, Ũ1, Ũ2, Ũ3, core_out[, query bias][, output bias]: DESIGN.md §1,
        G_i = Σ_a U1[i,a] 𝒞_a, q_i = (x U2 + b_q) G_i, k = x U3, v = x Ũ3,
        o_i = softmax(s q_i kᵀ) v, y = Σ_i Ũ2 G̃_i o_i + b_o (written out here).
        With "selector": {"head_dim": a, "groups": [...]} the cores are that selector's
        (docs/spec.md) and not arguments; with "u1": "identity" the head factors are a constant
        identity in the function and not arguments either.
    {"layer": "softmax", "dim": i}
        x: torch.softmax(x, dim=i) (linalg.softmax as frontends emit it).
Inputs are random (seeded; weights scaled by 1/sqrt(fan-in), norm weights near 1), the
reference runs in float64 on the CPU from the same (bf16-rounded) values. Before every call the
output's block is poisoned with NaN (torch's caching allocator hands it back to the kernel's
output) and, from the second call on, the whole workspace too, so an intermediate read before
it is written shows. Tolerance on the relative Frobenius error: bf16 3e-2, f16 1e-2 (a layer
rounds every intermediate to the element type). The calls run on a side stream to check that the
entry enqueues on torch's current stream. Exit status 0 iff it passes.
"""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))

import torch  # noqa: E402

from check_flash import DTYPES, call_poisoned, open_case  # noqa: E402  (the same harness)
from hf_semantics import DeepseekV3Attention, LlamaAttention  # noqa: E402

TOLERANCE = {"bf16": 3e-2, "f16": 1e-2}


def random_inputs(case, specs, dtype, gen):
    """One tensor per argument: x ~ N(0, 1), matrices ~ N(0, 1/fan_in), 1-D operands (norm
    weights near 1, biases near 0), 3-D cores ~ N(0, 1/rank)."""
    names = argument_names(case, len(specs))
    out = []
    for name, spec in zip(names, specs):
        shape = tuple(spec.shape)
        t = torch.randn(shape, generator=gen, dtype=torch.float64)
        if name == "x":
            pass
        elif name.endswith("norm"):
            t = 1.0 + 0.1 * t
        elif len(shape) == 1:
            t = 0.1 * t
        elif len(shape) == 3:  # cores [r1, r2, r3]
            t = t / math.sqrt(shape[1])
        else:
            t = t / math.sqrt(shape[0])
        out.append(t.to(dtype))
    return names, out


def argument_names(case, count):
    layer = case["layer"]
    if layer == "mha":
        return ["x", "wq", "wk", "wv", "wo", "bq", "bk", "bv", "bo"][:count]
    if layer == "gqa":
        return ["x", "wq", "wk", "wv", "wo"] + (["bq", "bk", "bv", "bo"] if case.get("bias") else [])
    if layer == "mla":
        tail = ["wq_b", "wkv_a", "kv_norm", "wkv_b", "wo"]
        return ["x", "wq_a", "q_norm"] + tail if case.get("q_lora_rank") else ["x"] + tail
    if layer == "softmax":
        return ["x"]
    if layer == "tucker":
        names = ["x", "u1", "u2", "u3", "core", "v1", "v2", "v3", "core_out"]
        if "selector" in case:  # one head factor for both sides, or a constant identity
            names = ["x"] + ([] if case.get("u1") == "identity" else ["u1"]) + ["u2", "u3", "v2", "v3"]
        if case.get("query_bias"):
            names.append("bq")
        if case.get("out_bias"):
            names.append("bo")
        return names
    sys.exit(f"check_layer.py: unknown layer '{layer}'")


def causal_mask(n):
    return torch.ones(n, n, dtype=torch.bool).triu(1)


def reference(case, w):
    """float64 on the CPU, [B, N, d]."""
    layer, causal = case["layer"], case.get("causal", False)
    x = w["x"]
    d = x.shape[-1]
    if layer == "mha":
        heads = case["heads"]
        biases = "bq" in w
        mha = torch.nn.MultiheadAttention(d, heads, bias=biases, batch_first=True).double()
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.cat([w["wq"].T, w["wk"].T, w["wv"].T]))
            mha.out_proj.weight.copy_(w["wo"].T)
            if biases:
                mha.in_proj_bias.copy_(torch.cat([w["bq"], w["bk"], w["bv"]]))
                mha.out_proj.bias.copy_(w["bo"])
        mask = causal_mask(x.shape[1]) if causal else None
        y, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
        return y
    if layer == "gqa":
        heads, kv = case["heads"], case["kv_heads"]
        llama = LlamaAttention(d, heads, kv, w["wq"].shape[1] // heads, case["theta"],
                               attention_bias=case.get("bias", False)).double()
        with torch.no_grad():
            for proj, name in ((llama.q_proj, "q"), (llama.k_proj, "k"), (llama.v_proj, "v"),
                               (llama.o_proj, "o")):
                proj.weight.copy_(w["w" + name].T)
                if case.get("bias"):
                    proj.bias.copy_(w["b" + name])
        return llama(x, causal=causal)
    if layer == "mla":
        mla = DeepseekV3Attention(d, case["heads"], case.get("q_lora_rank"), case["kv_lora_rank"],
                                  case["nope"], case["rope"], case["v"], case["theta"],
                                  rope_interleave=case.get("interleave", True)).double()
        with torch.no_grad():
            if case.get("q_lora_rank"):
                mla.q_a_proj.weight.copy_(w["wq_a"].T)
                mla.q_a_layernorm.weight.copy_(w["q_norm"])
                mla.q_b_proj.weight.copy_(w["wq_b"].T)
            else:
                mla.q_proj.weight.copy_(w["wq_b"].T)
            mla.kv_a_proj_with_mqa.weight.copy_(w["wkv_a"].T)
            mla.kv_a_layernorm.weight.copy_(w["kv_norm"])
            mla.kv_b_proj.weight.copy_(w["wkv_b"].T)
            mla.o_proj.weight.copy_(w["wo"].T)
        return mla(x, causal=causal)
    if layer == "softmax":
        return torch.softmax(x, dim=case["dim"])
    # Tucker attention, DESIGN.md §1 "Execution form".
    if "selector" in case:
        w = dict(w)
        a, groups = case["selector"]["head_dim"], case["selector"]["groups"]
        if case.get("u1") == "identity":
            w["u1"] = torch.eye(len(groups), dtype=x.dtype)
        w["v1"] = w["u1"]
        core = torch.zeros(len(groups), len(groups) * a, (max(groups) + 1) * a, dtype=x.dtype)
        for j, g in enumerate(groups):
            core[j, j * a + torch.arange(a), g * a + torch.arange(a)] = 1.0
        w["core"] = w["core_out"] = core
    g = torch.einsum("ia,ars->irs", w["u1"], w["core"])
    g_out = torch.einsum("ia,ars->irs", w["v1"], w["core_out"])
    qt = x @ w["u2"] + (w["bq"] if "bq" in w else 0)
    q = torch.einsum("bnr,irs->bins", qt, g)
    k = (x @ w["u3"])[:, None]
    v = (x @ w["v3"])[:, None]
    s = torch.matmul(q, k.transpose(-1, -2)) * case["scale"]
    if causal:
        s = s.masked_fill(causal_mask(x.shape[1]), float("-inf"))
    o = torch.matmul(torch.softmax(s, dim=-1), v)  # [B, H, N, r̃3]
    y = torch.einsum("bins,its,dt->bnd", o, g_out, w["v2"])
    return y + (w["bo"] if "bo" in w else 0)


def main():
    args, case, kernel = open_case(repeat=3)
    specs = kernel.signature.args
    element = specs[0].dtype
    dt = DTYPES[element]
    gen = torch.Generator().manual_seed(1234)
    names, host = random_inputs(case, specs, dt, gen)
    with torch.no_grad():
        ref = reference(case, {n: t.double() for n, t in zip(names, host)})
    inputs = [t.cuda() for t in host]

    out_shape = tuple(kernel.signature.results[0].dims)
    worst, ok, notes = 0.0, True, []

    def poison_workspace():  # once it exists: every intermediate must be written before read
        for buf, _ in kernel._workspaces.values():
            buf.fill_(0xFF)  # NaN in bf16/f16 and f32

    for i in range(args.repeat):
        y, reused = call_poisoned(kernel, inputs, out_shape, dt, poison_workspace)
        if not reused:
            notes.append(f"call {i}: the output did not reuse the poisoned block")
        nan = int(torch.isnan(y).sum())
        diff = (y.double().cpu() - ref).nan_to_num(nan=1e9)
        rel = float(diff.norm() / ref.norm().clamp_min(1e-30))
        worst = max(worst, rel)
        ok &= nan == 0 and rel <= TOLERANCE[element]
        if nan:
            notes.append(f"call {i}: {nan} NaN in the output")
        del y
    for note in notes:
        print("note:", note)
    shapes = " ".join(f"{tuple(s.shape)}" for s in specs)
    print(f"{'PASS' if ok else 'FAIL'} {os.path.basename(args.case)}: {case['layer']} {element} "
          f"{shapes} causal={case.get('causal', False)} workspace={kernel.signature.workspace_bytes} "
          f"rel_err={worst:.2e} (tol {TOLERANCE[element]:.0e})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
