#!/usr/bin/env python3
"""Checks the decode kernels over batch sizes, cache sizes and ragged lengths.

usage: decode_sweep.py DIR [--seed N]   (DIR: out/gpu/sweep from build_gpu.sh)

Runs on the GPU machine. Each kernel of DIR/cases.json was compiled with a
dynamic batch and cache size and a lengths operand (bench_cases.py
write-sweep); this calls it for batch 1..128 and caches of 1..32768 keys
(pairs whose cache fits in 4 GB), with per-sequence lengths drawn to include
0, 1, the cache size, primes and random values, and compares every output
with check_flash.py's float32 reference (bf16 tolerance 2e-2 on the relative
Frobenius error, no NaN). Prints one line per call and a summary; exit status
0 iff every call passes.
"""
import argparse
import json
import os
import random
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "Integration", "GPU"))
from tucker.compiler import Kernel  # noqa: E402
from check_flash import reference  # noqa: E402

BATCHES = (1, 3, 64, 128)
CACHES = (1, 100, 4097, 32768)
PRIMES = (2, 3, 31, 127, 1031, 4093, 32749)
CACHE_BUDGET = 4 << 30


def draw_lengths(rng, batch, nk):
    pool = [0, 1, nk] + [p for p in PRIMES if p <= nk]
    return [rng.choice(pool) if rng.random() < 0.5 else rng.randint(0, nk)
            for _ in range(batch)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with open(os.path.join(args.dir, "cases.json")) as fh:
        configs = json.load(fh)
    rng = random.Random(args.seed)
    gen = torch.Generator(device="cuda").manual_seed(args.seed)
    calls = failed = 0
    for c in configs:
        with open(os.path.join(args.dir, c["name"] + ".json")) as fh:
            kernel = Kernel(os.path.join(args.dir, c["name"] + ".so"), json.load(fh))
        Hq, Hkv, Nq, Dqk, Dv = c["Hq"], c["Hkv"], c["Nq"], c["Dqk"], c["Dv"]
        vcol = c["value_column"]
        per_key = Hkv * (Dqk + (0 if vcol is not None else Dv)) * 2
        for batch in BATCHES:
            for nk in CACHES:
                if batch * nk * per_key > CACHE_BUDGET:
                    continue
                lengths = draw_lengths(rng, batch, nk)
                q = torch.randn(batch, Hq, Nq, Dqk, device="cuda", dtype=torch.bfloat16,
                                generator=gen)
                k = torch.randn(batch, Hkv, nk, Dqk, device="cuda", dtype=torch.bfloat16,
                                generator=gen)
                lens = torch.tensor(lengths, device="cuda", dtype=torch.int32)
                if vcol is None:
                    v = torch.randn(batch, Hkv, nk, Dv, device="cuda", dtype=torch.bfloat16,
                                    generator=gen)
                    o = kernel(q, k, v, lens)
                else:
                    v = k[..., vcol:vcol + Dv]
                    o = kernel(q, k, lens)
                torch.cuda.synchronize()
                ref, _ = reference(q, k, v, c["causal"], Dqk ** -0.5, c.get("rope"), lengths)
                nan = int(torch.isnan(o).sum())
                rel = float((o.float() - ref).nan_to_num(nan=1e9).norm()
                            / ref.norm().clamp_min(1e-30))
                ok = nan == 0 and rel <= 2e-2
                calls += 1
                failed += not ok
                shown = lengths if batch <= 4 else f"{lengths[:4]}...({batch})"
                print(f"{'PASS' if ok else 'FAIL'} {c['name']} B={batch} Nk={nk} "
                      f"lengths={shown} rel_err={rel:.2e} nan={nan}", flush=True)
                del q, k, v, o, ref
        torch.cuda.empty_cache()
    print(f"decode sweep: {calls - failed}/{calls} calls pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
