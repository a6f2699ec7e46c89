#!/usr/bin/env python3
"""The shapes of the prefill and decode benchmarks (docs/perf.md), as tucker.flash functions.

  bench_cases.py write DIR          writes DIR/<name>.mlir (one static-shape
                                    tucker.flash per prefill shape) and
                                    DIR/cases.json (what bench_flash.py needs)
  bench_cases.py write-decode DIR   the same for the decode shapes
                                    (bench_decode.py)
  bench_cases.py write-sweep DIR    decode kernels with dynamic batch and
                                    cache size and a lengths operand, one per
                                    head configuration (decode_sweep.py)

Every shape is timed against torch SDPA (cuDNN and flash backends) on the GPU
machine.
"""
import json
import os
import sys

# name, B, Hq, Hkv, N, Dqk, Dv, value_column (None: separate v), causal[, rope[,
# pipeline options]]
ROPE = {"theta": 10000.0, "width": 128, "style": "half"}
SHAPES = []


def tucker_d64_variants(c, causal, variants):
    """The Tucker layers' attention (latent MQA, d = 64) at both sizes under each (tag,
    pipeline options) of `variants`."""
    return [(f"{name}{c}-{tag}", B, Hq, 1, N, 64, 64, None, causal, None, options)
            for tag, options in variants
            for name, B, Hq, N in (("tucker-llama1b-h32-d64-n4096", 4, 32, 4096),
                                   ("tucker-gpt2-h12-d64-n1024", 16, 12, 1024))]


for causal in (False, True):
    c = "-causal" if causal else ""
    SHAPES += [
        (f"mha-h16-d128-n1024{c}", 16, 16, 16, 1024, 128, 128, None, causal),
        (f"mha-h16-d128-n4096{c}", 4, 16, 16, 4096, 128, 128, None, causal),
        (f"mha-h16-d128-n16384{c}", 1, 16, 16, 16384, 128, 128, None, causal),
        (f"gqa-32-8-d128-n4096{c}", 4, 32, 8, 4096, 128, 128, None, causal),
        (f"latent-h16-r128-n4096{c}", 4, 16, 1, 4096, 128, 128, None, causal),
        (f"latent-h16-r256-shared-n4096{c}", 4, 16, 1, 4096, 256, 256, 0, causal),
        (f"mha-h32-d64-n4096{c}", 4, 32, 32, 4096, 64, 64, None, causal),
        (f"mla-absorbed-h128-576-512-n4096{c}", 1, 128, 1, 4096, 576, 512, 0, causal),
        (f"mha-h16-d128-n4096-rope{c}", 4, 16, 16, 4096, 128, 128, None, causal, ROPE),
        # The attention of the Tucker layers of issue 9 (latent MQA, r3 = 64).
        (f"tucker-llama1b-h32-d64-n4096{c}", 4, 32, 1, 4096, 64, 64, None, causal),
        (f"tucker-gpt2-h12-d64-n1024{c}", 16, 12, 1, 1024, 64, 64, None, causal),
    ]
    # Schedules at d = 64: two or three consumer warpgroups, and query heads
    # packed into the M tile (heads-per-tile) so that the 192-row tiles of
    # three consumers pad fewer rows (N = 1024: 6 tiles of 192 rows pad
    # 12.5 %, 11 of 2 x 96 or 22 of 4 x 48 pad 3 %). Longer key tiles and
    # ping-pong off lost (docs/perf.md, "Prefill schedules at d = 64").
    SHAPES += tucker_d64_variants(c, causal, (
        ("w2", "consumer-warpgroups=2"),
        ("w3", "consumer-warpgroups=3"),
        ("w3-p1", "consumer-warpgroups=3 heads-per-tile=1"),
        ("w3-p2", "consumer-warpgroups=3 heads-per-tile=2"),
        ("w3-p4", "consumer-warpgroups=3 heads-per-tile=4")))
    SHAPES.append((f"mha-h32-d64-n4096{c}-w3", 4, 32, 32, 4096, 64, 64, None, causal, None,
                   "consumer-warpgroups=3"))
    # The GPT-2 MHA layer's attention (12 heads of 64, N = 1024), and with
    # two consumers (128-row tiles: no padding, where 192 rows pad 12.5 %).
    SHAPES += [(f"mha-h12-d64-n1024{c}", 16, 12, 12, 1024, 64, 64, None, causal),
               (f"mha-h12-d64-n1024{c}-w2", 16, 12, 12, 1024, 64, 64, None, causal, None,
                "consumer-warpgroups=2")]
    # Causal: key tiles in step with a tile's query positions (p2: 96, p4:
    # 48), so that only the diagonal tiles are masked and no key past them is
    # loaded (the default; n128 was the default before the layers'
    # diagonal-aligned causal tiles).
    if causal:
        SHAPES += [(f"mha-h32-d64-n4096{c}-n128", 4, 32, 32, 4096, 64, 64, None, causal, None,
                    "keys-per-tile=128"),
                   (f"mha-h12-d64-n1024{c}-n128", 16, 12, 12, 1024, 64, 64, None, causal, None,
                    "keys-per-tile=128")]
        SHAPES += tucker_d64_variants(c, causal, (
            ("w3-p2-n96", "consumer-warpgroups=3 heads-per-tile=2 keys-per-tile=96"),
            ("w3-p2-n64", "consumer-warpgroups=3 heads-per-tile=2 keys-per-tile=64"),
            ("w3-p4-n96", "consumer-warpgroups=3 heads-per-tile=4 keys-per-tile=96"),
            ("w3-p4-n48", "consumer-warpgroups=3 heads-per-tile=4 keys-per-tile=48")))


# Decode (issue shapes: batch 64, a 4096-token cache, one query per
# sequence): name, B, Hq, Hkv, Nq, Nk, Dqk, Dv, value_column, causal[, pipeline
# options].
# Tucker [r1, r2, r3] layers decode as latent MQA: n_H query heads on one
# r3-wide key latent and an r̃3-wide value latent (here r̃3 = r3 = 64).
DECODE_SHAPES = [
    ("decode-mha-h32-d128", 64, 32, 32, 1, 4096, 128, 128, None, True),
    ("decode-gqa-32-8-d128", 64, 32, 8, 1, 4096, 128, 128, None, True),
    ("decode-latent-h16-r256-shared", 64, 16, 1, 1, 4096, 256, 256, 0, True),
    ("decode-mla-h128-576-512", 64, 128, 1, 1, 4096, 576, 512, 0, True),
    ("decode-tucker-llama1b-32-128-64", 64, 32, 1, 1, 4096, 64, 64, None, True),
    ("decode-tucker-gpt2-8-128-64", 64, 12, 1, 1, 4096, 64, 64, None, True),
    ("decode-mha-h32-d128-b8-n32k", 8, 32, 32, 1, 32768, 128, 128, None, True),
    ("decode-latent-h16-r256-shared-b1-n32k", 1, 16, 1, 1, 32768, 256, 256, 0, True),
    # Latent r256 at more bytes (is 4096 x 64 bound by the fixed costs?) and
    # with the split count forced.
    ("decode-latent-h16-r256-shared-n16k", 64, 16, 1, 1, 16384, 256, 256, 0, True),
    ("decode-latent-h16-r256-shared-b128", 128, 16, 1, 1, 4096, 256, 256, 0, True),
    ("decode-latent-h16-r256-shared-s1", 64, 16, 1, 1, 4096, 256, 256, 0, True, "kv-splits=1"),
    ("decode-latent-h16-r256-shared-s4", 64, 16, 1, 1, 4096, 256, 256, 0, True, "kv-splits=4"),
]


def flash_source(name, B, Hq, Hkv, Nq, Nk, Dqk, Dv, vcol, causal, rope=None, options=None):
    """One static-shape tucker.flash function @flash; `options` (--tucker-gpu-pipeline options)
    go on a pipeline-options line that build_gpu.sh reads."""
    qt = f"tensor<{B}x{Hq}x{Nq}x{Dqk}xbf16>"
    kt = f"tensor<{B}x{Hkv}x{Nk}x{Dqk}xbf16>"
    vt = f"tensor<{B}x{Hkv}x{Nk}x{Dv}xbf16>"
    ot = f"tensor<{B}x{Hq}x{Nq}x{Dv}xbf16>"
    attrs = (["causal"] if causal else []) + (
        [f"rope = #tucker.rope<theta = {rope['theta']}, width = {rope['width']}, "
         f"style = {rope['style']}>"] if rope else [])
    attr = " {" + ", ".join(attrs) + "}" if attrs else ""
    lines = [f"// GENERATED by bench/gpu/bench_cases.py: {name}"]
    if options:
        lines.append(f"// pipeline-options='format=bin {options}'")
    if vcol is None:
        lines.append(f"func.func @flash(%q: {qt}, %k: {kt}, %v: {vt}) -> {ot} {{")
    else:
        lines.append(f"func.func @flash(%q: {qt}, %k: {kt}) -> {ot} {{")
        lines.append(f"  %v = tensor.extract_slice %k[0, 0, 0, {vcol}] [{B}, {Hkv}, {Nk}, {Dv}]"
                     f" [1, 1, 1, 1] : {kt} to {vt}")
    lines.append(f"  %o = tucker.flash %q, %k, %v{attr} : {qt}, {kt}, {vt} -> {ot}")
    lines.append(f"  return %o : {ot}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_decode(outdir):
    os.makedirs(outdir, exist_ok=True)
    meta = []
    for (name, B, Hq, Hkv, Nq, Nk, Dqk, Dv, vcol, causal, *rest) in DECODE_SHAPES:
        options = rest[0] if rest else None
        with open(os.path.join(outdir, name + ".mlir"), "w") as fh:
            fh.write(flash_source(name, B, Hq, Hkv, Nq, Nk, Dqk, Dv, vcol, causal,
                                  options=options))
        meta.append(dict(name=name, B=B, Hq=Hq, Hkv=Hkv, Nq=Nq, Nk=Nk, Dqk=Dqk, Dv=Dv,
                         value_column=vcol, causal=causal, options=options))
    with open(os.path.join(outdir, "cases.json"), "w") as fh:
        json.dump(meta, fh, indent=1)


# The decode sweep: name, Hq, Hkv, Nq, Dqk, Dv, value_column, causal, rope.
# Batch and cache size are dynamic; decode_sweep.py runs each kernel over
# batch 1..128, caches of 1..32k keys and ragged lengths.
ROPE64 = {"theta": 10000.0, "width": 64, "offset": 512, "style": "interleaved"}
SWEEP_CONFIGS = [
    ("sweep-mha-h1-d64", 1, 1, 1, 64, 64, None, True, None),
    ("sweep-gqa-32-8-d128", 32, 8, 1, 128, 128, None, True, None),
    ("sweep-gqa-40-8-d128-nq4", 40, 8, 4, 128, 128, None, True, None),
    ("sweep-latent-h16-r256-shared", 16, 1, 1, 256, 256, 0, True, None),
    ("sweep-latent-h16-d192-v128-shared", 16, 1, 2, 192, 128, 0, False, None),
    ("sweep-tucker-h12-d64-v64", 12, 1, 1, 64, 64, None, True, None),
    ("sweep-mla-h128-576-512-rope", 128, 1, 1, 576, 512, 0, True, ROPE64),
    ("sweep-mha-h8-d128-nq8-rope", 8, 8, 8, 128, 128, None, True,
     {"theta": 10000.0, "width": 128, "style": "half"}),
]


def sweep_source(Hq, Hkv, Nq, Dqk, Dv, vcol, causal, rope):
    """A tucker.flash @flash with dynamic B and Nk and a lengths operand."""
    qt = f"tensor<?x{Hq}x{Nq}x{Dqk}xbf16>"
    kt = f"tensor<?x{Hkv}x?x{Dqk}xbf16>"
    vt = f"tensor<?x{Hkv}x?x{Dv}xbf16>"
    ot = f"tensor<?x{Hq}x{Nq}x{Dv}xbf16>"
    attrs = (["causal"] if causal else []) + (
        [f"rope = #tucker.rope<theta = {rope['theta']}, width = {rope['width']}"
         + (f", offset = {rope['offset']}" if "offset" in rope else "")
         + f", style = {rope['style']}>"] if rope else [])
    attr = " {" + ", ".join(attrs) + "}" if attrs else ""
    lines = []
    if vcol is None:
        lines.append(f"func.func @flash(%q: {qt}, %k: {kt}, %v: {vt}, "
                     f"%len: tensor<?xi32>) -> {ot} {{")
    else:
        lines.append(f"func.func @flash(%q: {qt}, %k: {kt}, %len: tensor<?xi32>) -> {ot} {{")
        lines += ["  %c0 = arith.constant 0 : index", "  %c2 = arith.constant 2 : index",
                  f"  %b = tensor.dim %k, %c0 : {kt}", f"  %n = tensor.dim %k, %c2 : {kt}",
                  f"  %v = tensor.extract_slice %k[0, 0, 0, {vcol}] [%b, {Hkv}, %n, {Dv}]"
                  f" [1, 1, 1, 1] : {kt} to {vt}"]
    lines.append(f"  %o = tucker.flash %q, %k, %v lengths(%len : tensor<?xi32>){attr}"
                 f" : {qt}, {kt}, {vt} -> {ot}")
    lines.append(f"  return %o : {ot}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_sweep(outdir):
    os.makedirs(outdir, exist_ok=True)
    meta = []
    for (name, Hq, Hkv, Nq, Dqk, Dv, vcol, causal, rope) in SWEEP_CONFIGS:
        with open(os.path.join(outdir, name + ".mlir"), "w") as fh:
            fh.write(f"// GENERATED by bench/gpu/bench_cases.py: {name}\n")
            fh.write(sweep_source(Hq, Hkv, Nq, Dqk, Dv, vcol, causal, rope))
        meta.append(dict(name=name, Hq=Hq, Hkv=Hkv, Nq=Nq, Dqk=Dqk, Dv=Dv,
                         value_column=vcol, causal=causal, rope=rope))
    with open(os.path.join(outdir, "cases.json"), "w") as fh:
        json.dump(meta, fh, indent=1)


def write(outdir):
    os.makedirs(outdir, exist_ok=True)
    meta = []
    for (name, B, Hq, Hkv, N, Dqk, Dv, vcol, causal, *rest) in SHAPES:
        rope = rest[0] if rest else None
        options = rest[1] if len(rest) > 1 else None
        with open(os.path.join(outdir, name + ".mlir"), "w") as fh:
            fh.write(flash_source(name, B, Hq, Hkv, N, N, Dqk, Dv, vcol, causal, rope, options))
        meta.append(dict(name=name, B=B, Hq=Hq, Hkv=Hkv, N=N, Dqk=Dqk, Dv=Dv,
                         value_column=vcol, causal=causal, rope=rope, options=options))
    with open(os.path.join(outdir, "cases.json"), "w") as fh:
        json.dump(meta, fh, indent=1)


if __name__ == "__main__":
    writers = {"write": write, "write-decode": write_decode, "write-sweep": write_sweep}
    if len(sys.argv) != 3 or sys.argv[1] not in writers:
        sys.exit(__doc__)
    writers[sys.argv[1]](sys.argv[2])
