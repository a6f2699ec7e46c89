#!/usr/bin/env python3
"""Checks a tucker.flash compiled with `tucker-compile --target=cuda` on the GPU.

usage: check_flash.py CASE.mlir LIB.so SIGNATURE.json [--repeat N]

CASE.mlir holds one line `// CASE: {...}` (JSON) with what the reference
needs beyond the signature's shapes:
    causal        bool
    scale         float or null (null: 1/sqrt(Dqk))
    value_column  int or absent: the entry takes (q, k) and v is
                  k[..., value_column : value_column + Dv] (a shared latent)
    rope          absent, or {theta, width, offset, repeat, stride, style}
                  as #tucker.rope (docs/spec.md): q rotated at positions
                  i + L - Nq, k at positions j, angles in float64
    layout        absent, or "bnhd": q, k, v and the output are [B, N, H, D]
                  (the module transposes them around the flash)
    lengths       absent, or the per-sequence key counts passed as the
                  entry's i32 lengths argument (L = clamp(lengths[b], 0, Nk);
                  without it L = Nk)
When the entry also returns the flash's log-sum-exp (f32 [B, Hq, Nq]), it is
compared with torch.logsumexp of the masked, scaled float32 scores: -inf
exactly where a row sees no key, else within an absolute 1e-3 (lse is a log).
Inputs are random (seeded), the output is poisoned with NaN before every call
(the block tucker's Kernel allocates it in is filled with NaN first), and with
lengths the cache past each sequence's L holds NaN in k and Inf in v,
and the result is compared with a float32 torch reference on the GPU: causal
aligns the last query with the last valid key (query i sees key j iff
j < L and j <= i + L - Nq) and a row that sees no key is 0. Tolerance on the relative
Frobenius error: bf16 2e-2, f16 1e-2. The call runs on a side stream to check
that the entry enqueues on torch's current stream. Exit status 0 iff it passes.
"""
import argparse
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "python"))

import torch  # noqa: E402

from tucker.compiler import Kernel  # noqa: E402

TOLERANCE = {"bf16": 2e-2, "f16": 1e-2}
DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16}


def open_case(repeat):
    """The command line (CASE.mlir LIB.so SIGNATURE.json [--repeat N]): (args, the CASE
    dictionary, the loaded tucker.Kernel)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("library")
    ap.add_argument("signature")
    ap.add_argument("--repeat", type=int, default=repeat)
    args = ap.parse_args()
    case = read_case(args.case)
    with open(args.signature) as fh:
        sig = json.load(fh)
    return args, case, Kernel(os.path.abspath(args.library), sig)


def call_poisoned(kernel, inputs, out_shape, dt, before_call=None, extra=()):
    """kernel(*inputs) on a side stream (the entry must enqueue on torch's current stream), its
    output's block poisoned with NaN first (torch's caching allocator hands a freed block of the
    same size on the same stream back to the next request), and the block of each further result
    in `extra` ((shape, dtype) pairs) too; `before_call` runs on that stream just before the
    call. Returns (the result, whether the output got the poisoned block), synchronized."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        poison = [torch.full(out_shape, float("nan"), device="cuda", dtype=dt)]
        poison += [torch.full(s, float("nan"), device="cuda", dtype=d) for s, d in extra]
        poisoned = poison[0].data_ptr()
        del poison
        if before_call:
            before_call()
        out = kernel(*inputs)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    first = out[0] if isinstance(out, tuple) else out
    return out, first.data_ptr() == poisoned


def read_case(path):
    with open(path) as fh:
        for line in fh:
            m = re.match(r"\s*//\s*CASE:\s*(\{.*\})\s*$", line)
            if m:
                return json.loads(m.group(1))
    sys.exit(f"check_flash.py: no '// CASE: {{...}}' line in {path}")


def rotate(x, rope, positions):
    """#tucker.rope applied to x [B, H, N, D] at `positions` [N] (float64 angles)."""
    x = x.double().clone()
    width = rope["width"]
    half = width // 2
    stride = rope.get("stride", width)
    j = torch.arange(half, device=x.device, dtype=torch.float64)
    freq = 1.0 / rope["theta"] ** (2.0 * j / width)
    angle = positions.double()[:, None] * freq[None, :]
    cos, sin = torch.cos(angle), torch.sin(angle)
    for b in range(rope.get("repeat", 1)):
        start = rope.get("offset", 0) + b * stride
        if rope["style"] == "half":
            ia = torch.arange(start, start + half, device=x.device)
            ib = ia + half
        else:
            ia = torch.arange(start, start + width, 2, device=x.device)
            ib = ia + 1
        a, c = x[..., ia].clone(), x[..., ib].clone()
        x[..., ia] = a * cos - c * sin
        x[..., ib] = c * cos + a * sin
    return x


def reference(q, k, v, causal, scale, rope=None, lengths=None):
    """float32 attention, [B, Hq, Nq, Dv], and the log-sum-exp of each row, [B, Hq, Nq]; GQA by
    repeating kv heads; batch entry b sees its first L_b keys."""
    B, Hq, Nq, _ = q.shape
    Hkv, Nk = k.shape[1], k.shape[2]
    g = Hq // Hkv
    out = torch.empty(B, Hq, Nq, v.shape[-1], device=q.device, dtype=torch.float32)
    lse = torch.empty(B, Hq, Nq, device=q.device, dtype=torch.float32)
    for b in range(B):
        L = Nk if lengths is None else min(max(int(lengths[b]), 0), Nk)
        # Only the first L keys exist (what lies past them must not matter).
        qb, kb, vb = q[b:b + 1], k[b:b + 1, :, :L], v[b:b + 1, :, :L]
        if rope:
            qb = rotate(qb, rope, torch.arange(Nq, device=q.device) + (L - Nq))
            kb = rotate(kb, rope, torch.arange(L, device=q.device))
        kf = kb.float().repeat_interleave(g, dim=1)
        vf = vb.float().repeat_interleave(g, dim=1)
        for r0 in range(0, Nq, 1024):
            r1 = min(Nq, r0 + 1024)
            s = torch.matmul(qb[:, :, r0:r1].float(), kf.transpose(-1, -2)) * scale
            i = torch.arange(r0, r1, device=q.device)[:, None]
            j = torch.arange(L, device=q.device)[None, :]
            hidden = torch.zeros_like(j, dtype=torch.bool)
            if causal:
                hidden = hidden | (j > i + (L - Nq))
            s = s.masked_fill(hidden, float("-inf"))
            lse[b:b + 1, :, r0:r1] = torch.logsumexp(s, dim=-1)
            p = torch.softmax(s, dim=-1).nan_to_num(0.0)  # rows that see no key: 0
            out[b:b + 1, :, r0:r1] = torch.matmul(p, vf)
    return out, lse


def main():
    args, case, kernel = open_case(repeat=2)
    specs = kernel.signature.args
    element = specs[0].dtype
    dt = DTYPES[element]
    gen = torch.Generator(device="cuda").manual_seed(1234)
    lengths = case.get("lengths")
    inputs = []
    for s in specs:
        if s.dtype == "i32":  # the lengths operand
            if lengths is None:
                sys.exit("check_flash.py: the entry takes lengths; give them in CASE")
            inputs.append(torch.tensor(lengths, device="cuda", dtype=torch.int32))
        else:
            inputs.append(torch.randn(s.shape, device="cuda", dtype=dt, generator=gen))
    q, k = inputs[0], inputs[1]
    out_dv = kernel.signature.results[0].shape[-1]
    heads_major = case.get("layout") == "bnhd"
    if lengths is not None:  # the cache past each length holds NaN (k) and Inf (v)
        seq = 1 if heads_major else 2
        for b, n in enumerate(lengths):
            n = min(max(int(n), 0), k.shape[seq])
            k.narrow(0, b, 1).narrow(seq, n, k.shape[seq] - n).fill_(float("nan"))
            if "value_column" not in case:
                v_in = inputs[2]
                v_in.narrow(0, b, 1).narrow(seq, n, v_in.shape[seq] - n).fill_(float("inf"))
    if "value_column" in case:
        c = case["value_column"]
        v = k[..., c:c + out_dv]
    else:
        v = inputs[2]
    if heads_major:  # the reference takes [B, H, N, D]
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    scale = case.get("scale") or 1.0 / math.sqrt(q.shape[-1])
    ref, ref_lse = reference(q, k, v, case.get("causal", False), scale, case.get("rope"),
                             lengths)
    if heads_major:
        ref = ref.transpose(1, 2).contiguous()
    with_lse = len(kernel.signature.results) == 2

    worst, worst_lse, ok = 0.0, 0.0, True
    for _ in range(args.repeat):
        extra = [(tuple(ref_lse.shape), torch.float32)] if with_lse else []
        o, reused = call_poisoned(kernel, inputs, tuple(ref.shape), dt, extra=extra)
        lse = None
        if with_lse:
            o, lse = o
        if not reused:
            print("note: the output did not reuse the poisoned block")
        nan = int(torch.isnan(o).sum())
        diff = (o.float() - ref).nan_to_num(nan=1e9)
        rel = float(diff.norm() / ref.norm().clamp_min(1e-30))
        worst = max(worst, rel)
        ok &= nan == 0 and rel <= TOLERANCE[element]
        if lse is not None:
            seen = torch.isfinite(ref_lse)
            same_empty = bool(torch.equal(torch.isfinite(lse), seen)) and bool(
                (lse[~seen] == float("-inf")).all())
            lse_err = float((lse[seen] - ref_lse[seen]).abs().max()) if seen.any() else 0.0
            worst_lse = max(worst_lse, lse_err)
            ok &= same_empty and lse_err <= 1e-3
        del o, lse
    shapes = " ".join(f"{tuple(s.shape)}" for s in specs)
    print(f"{'PASS' if ok else 'FAIL'} {os.path.basename(args.case)}: {element} {shapes} "
          f"causal={case.get('causal', False)} rope={'rope' in case} "
          f"lengths={lengths} rel_err={worst:.2e} (tol {TOLERANCE[element]:.0e})"
          + (f" lse_abs_err={worst_lse:.2e} (tol 1e-03)" if with_lse else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
