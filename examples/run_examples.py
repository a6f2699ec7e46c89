"""The main job: compile each shipped layer through --tucker-cpu-pipeline, run it on random
inputs, and compare it with the independent NumPy reference (python/tucker/reference.py); then
import a PyTorch module (torch.nn.MultiheadAttention) with tucker.from_torch, compile it the same
way and compare it with the module itself.

Prints, per layer: the relative error against the reference (the module, for the PyTorch one),
the parameter count, and the KV-cache bytes per token of its executed (Tucker) form in float32.
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import tucker  # noqa: E402
from tucker import reference as ref  # noqa: E402

TOLERANCE = 1e-5  # float32 against float64


def mha(a):
    return ref.mha(*a, num_heads=4, causal=True)


def gqa(a):
    return ref.gqa(*a, num_heads=8, num_kv_heads=2, causal=True, rope=(10000.0, 0, 32, 1, "half"))


def mla(a):
    return ref.mla(*a, num_heads=4, q_lora_rank=64, kv_lora_rank=32, qk_nope_head_dim=16,
                   qk_rope_head_dim=8, v_head_dim=16, causal=True,
                   rope=(10000.0, 16, 8, 1, "interleaved"))


def tucker_layer(a):
    return ref.attention(*a, scale=0.17677669529663687, causal=True)


# file, reference, KV-cache values per token of the executed form.
LAYERS = [
    ("mha_layer.mlir", mha, 128 + 128),   # selector form: r3 + r̃3 = H·dh + H·dv
    ("gqa_layer.mlir", gqa, 64 + 64),     # Hkv·dh + Hkv·dv
    ("mla_layer.mlir", mla, 32 + 8),      # one shared latent: kv_lora + rope
    ("tucker_layer.mlir", tucker_layer, 32 + 32),  # r3 + r̃3
]


def torch_module():
    """nn.MultiheadAttention (biases, causal) through from_torch → compile, against torch."""
    import torch
    torch.manual_seed(2026)
    d, heads, n = 64, 4, 24
    module = torch.nn.MultiheadAttention(d, heads, batch_first=True).eval()
    x = torch.randn(2, n, d)
    kernel = tucker.compile(tucker.from_torch(module, x, causal=True))
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    with torch.no_grad():
        expected = module(x, x, x, attn_mask=mask, need_weights=False)[0]
    y = kernel(x)
    error = float((y - expected).norm() / expected.norm())
    params = sum(p.numel() for p in module.parameters())
    print(f"{'torch MHA module':<20} {error:>11.2e} {params:>9} {2 * d * 4:>15}")
    return error


def main():
    rng = np.random.default_rng(2026)
    print(f"{'layer':<20} {'rel. error':>11} {'params':>9} {'KV bytes/token':>15}")
    worst = 0.0
    for name, reference, kv_values in LAYERS:
        with open(os.path.join(ROOT, "examples", name)) as f:
            kernel = tucker.compile(f.read())
        args = [rng.standard_normal(spec.shape).astype(np.float32) / np.sqrt(spec.shape[0])
                if i else rng.standard_normal(spec.shape).astype(np.float32)
                for i, spec in enumerate(kernel.signature.args)]
        if name == "mla_layer.mlir":  # norm weights near one, as trained models have
            args[2] = 1.0 + 0.1 * args[2]
            args[5] = 1.0 + 0.1 * args[5]
        y = kernel(*args)
        expected = reference(args)
        error = np.linalg.norm(y - expected) / np.linalg.norm(expected)
        params = sum(a.size for a in args[1:])
        worst = max(worst, error)
        print(f"{name:<20} {error:>11.2e} {params:>9} {kv_values * 4:>15}")
    worst = max(worst, torch_module())
    if worst > TOLERANCE:
        print(f"FAILED: relative error {worst:.2e} exceeds {TOLERANCE:.0e}")
        return 1
    print(f"all layers agree with the reference within {TOLERANCE:.0e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
