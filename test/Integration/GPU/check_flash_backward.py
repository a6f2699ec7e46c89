#!/usr/bin/env python3
"""Checks a tucker.flash_backward compiled with `tucker-compile --target=cuda` on the GPU.

usage: check_flash_backward.py CASE.mlir LIB.so SIGNATURE.json [--repeat N]

The compiled entry takes (q, k, v, o, lse, do[, lengths]) (without v when v is columns of k)
and returns (dq, dk, dv): q
[B, Hq, Nq, Dqk], k [B, Hkv, Nk, Dqk], v [B, Hkv, Nk, Dv], o and do [B, Hq, Nq, Dv], lse f32
[B, Hq, Nq], lengths i32 [B]. CASE.mlir holds one line `// CASE: {...}` (JSON):
    causal   bool
    scale    float or null (null: 1/sqrt(Dqk))
    lengths  absent, or the per-sequence key counts passed as the entry's lengths argument
             (L = clamp(lengths[b], 0, Nk); without it L = Nk)
    deterministic  bool: the op is `deterministic`, so every repeat (at least 3) must give
             the same bits
    v_from_k absent, or the first column of k that v starts at (a shared latent: the entry
             takes no v, its function slices it out of k); dk and dv are still the gradients
             with respect to the op's k and v operands
q, k, v and do are random (seeded); o and lse come from a float32 torch forward on the GPU
(query i sees key j iff j < L and, causal, j <= i + L - Nq; GQA repeats each kv head over its
group; a row that sees no key has output 0 and lse -inf), and the reference gradients from
torch autograd of that forward with do as the output's gradient. The outputs are poisoned with
NaN before every call (check_flash.call_poisoned), and each gradient must have a relative
Frobenius error within bf16 2e-2 / f16 1e-2, no NaN, and exact zeros for the keys a sequence
does not see (j >= L). One PASS/FAIL line; exit status 0 iff it passes.
"""
import math
import os
import sys

import torch

from check_flash import DTYPES, TOLERANCE, call_poisoned, open_case


def forward(q, k, v, causal, scale, lengths):
    """float32 attention with autograd: the output [B, Hq, Nq, Dv] and the log-sum-exp of each
    row [B, Hq, Nq]; kv heads repeated over their group; batch entry b sees its first L_b keys."""
    B, Hq, Nq, _ = q.shape
    Hkv, Nk = k.shape[1], k.shape[2]
    g = Hq // Hkv
    kf = k.repeat_interleave(g, dim=1)
    vf = v.repeat_interleave(g, dim=1)
    s = torch.matmul(q, kf.transpose(-1, -2)) * scale
    if lengths is None:
        L = torch.full((B,), Nk, device=q.device)
    else:
        L = lengths.to(torch.int64).clamp(0, Nk)
    L = L.view(B, 1, 1, 1)
    i = torch.arange(Nq, device=q.device).view(1, 1, Nq, 1)
    j = torch.arange(Nk, device=q.device).view(1, 1, 1, Nk)
    hidden = j >= L
    if causal:
        hidden = hidden | (j > i + (L - Nq))
    s = s.masked_fill(hidden, float("-inf"))
    m = s.amax(dim=-1, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(s - m)  # hidden keys: exactly 0
    total = e.sum(dim=-1, keepdim=True)
    p = e / torch.where(total > 0, total, torch.ones_like(total))  # no key: p = 0
    out = torch.matmul(p, vf)
    lse = (torch.log(total) + m).squeeze(-1)  # no key: -inf
    return out, lse


def main():
    args, case, kernel = open_case(repeat=2)
    specs = kernel.signature.args
    element = specs[0].dtype
    dt = DTYPES[element]
    gen = torch.Generator(device="cuda").manual_seed(1234)
    column = case.get("v_from_k")
    operands = 3 if column is None else 2  # q, k[, v]
    q, k, *v = (torch.randn(s.shape, device="cuda", dtype=dt, generator=gen)
                for s in specs[:operands])
    o_shape = specs[operands].shape
    v = v[0] if v else k[..., column:column + o_shape[-1]].contiguous()
    dout = torch.randn(o_shape, device="cuda", dtype=dt, generator=gen)
    lengths = None
    if len(specs) == operands + 4:
        if "lengths" not in case:
            sys.exit("check_flash_backward.py: the entry takes lengths; give them in CASE")
        lengths = torch.tensor(case["lengths"], device="cuda", dtype=torch.int32)
    scale = case.get("scale") or 1.0 / math.sqrt(q.shape[-1])
    causal = case.get("causal", False)

    qf, kf, vf = (t.float().requires_grad_() for t in (q, k, v))
    out, lse = forward(qf, kf, vf, causal, scale, lengths)
    out.backward(dout.float())
    refs = [qf.grad, kf.grad, vf.grad]
    o = out.detach().to(dt)
    lse = lse.detach().contiguous()
    inputs = ([q, k] + ([v] if column is None else []) + [o, lse, dout]
              + ([lengths] if lengths is not None else []))

    # Keys no query of their sequence sees: j >= L_b.
    Nk = k.shape[2]
    L = (torch.full((q.shape[0],), Nk, device="cuda") if lengths is None
         else lengths.to(torch.int64).clamp(0, Nk))
    unseen = torch.arange(Nk, device="cuda").view(1, Nk) >= L.view(-1, 1)  # [B, Nk]

    names = ("dq", "dk", "dv")
    worst, ok = [0.0, 0.0, 0.0], True
    deterministic = case.get("deterministic", False)
    first, same = None, True
    for _ in range(max(args.repeat, 3) if deterministic else args.repeat):
        extra = [(tuple(r.shape), dt) for r in refs[1:]]
        grads, reused = call_poisoned(kernel, inputs, tuple(refs[0].shape), dt, extra=extra)
        if not reused:
            print("note: dq did not reuse the poisoned block")
        for n, (got, ref) in enumerate(zip(grads, refs)):
            nan = int(torch.isnan(got).sum())
            diff = (got.float() - ref).nan_to_num(nan=1e9)
            rel = float(diff.norm() / ref.norm().clamp_min(1e-30))
            worst[n] = max(worst[n], rel)
            ok &= nan == 0 and rel <= TOLERANCE[element]
            if n > 0:  # dk, dv: exact zeros where the sequence has no key
                rows = got.permute(0, 2, 1, 3)[unseen]  # [keys, Hkv, D]
                ok &= bool((rows == 0).all())
        if deterministic:
            if first is None:
                first = [g.clone() for g in grads]
            else:
                same &= all(torch.equal(a, b) for a, b in zip(first, grads))
        del grads
    ok &= same
    shapes = " ".join(f"{tuple(s.shape)}" for s in specs)
    errors = " ".join(f"{name}={err:.2e}" for name, err in zip(names, worst))
    print(f"{'PASS' if ok else 'FAIL'} {os.path.basename(args.case)}: {element} {shapes} "
          f"causal={causal} lengths={case.get('lengths')} v_from_k={column} rel_err {errors} "
          f"(tol {TOLERANCE[element]:.0e})"
          + (f" same bits every run: {same}" if deterministic else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
