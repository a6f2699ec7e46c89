#!/usr/bin/env python3
"""Emits a self-checking MLIR module for one attention layer op (tucker.mha, tucker.gqa,
tucker.mla, tucker.attention) to run through --tucker-cpu-pipeline with mlir-runner.

@kernel holds the op; @main calls it on seeded random inputs (rounded to the element type, as
dense hex constants), compares the result with the independent float64 NumPy reference
(python/tucker/reference.py) of the same rounded inputs,

    rel_err = max |out - expected| / max |expected|        (in f32)

prints it, and prints PASS when rel_err <= --tol, FAIL otherwise (NaN included).

    gen_layer.py mha --batch 2 --seq 24 --dim 32 --heads 4 --biases bq,bk,bv,bo --causal
    gen_layer.py gqa --seq 40 --dim 64 --heads 8 --kv-heads 2 --rope 10000,0,8,1,half --causal
    gen_layer.py mla --seq 24 --dim 64 --heads 4 --q-lora 32 --kv-lora 16 --nope 8 --rope-dim 4 --v-dim 8
    gen_layer.py attention --seq 20 --dim 48 --heads 4 --ranks 2,16,8 --causal
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[4] / "python"))
from tucker import reference as ref  # noqa: E402


def rounded(a, dtype):
    """a rounded to dtype: (float64 values, little-endian bytes of the dtype)."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "f32":
        return a.astype(np.float64), a.tobytes()
    if dtype == "f16":
        h = a.astype(np.float16)
        return h.astype(np.float64), h.tobytes()
    bits = a.view(np.uint32)
    bits = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)).astype(np.uint16)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64), bits.tobytes()


def ty(shape, dt):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + dt + ">"


def flt(v):
    return f"{float(v):.17e}"


def rope_attr(r):
    r = ref.Rope(*r)
    parts = [f"theta = {flt(r.theta)}", f"width = {r.width}"]
    if r.offset:
        parts.append(f"offset = {r.offset}")
    if r.repeat != 1:
        parts.append(f"repeat = {r.repeat}")
    parts.append(f"style = {r.style}")
    return "#tucker.rope<" + ", ".join(parts) + ">"


def attrs(items, args):
    parts = list(items)
    if args.causal:
        parts.append("causal")
    if getattr(args, "rope", None):
        parts.append(f"rope = {rope_attr(args.rope)}")
    return "{" + ", ".join(parts) + "}"


def parse_rope(text):
    theta, offset, width, repeat, style = text.split(",")
    return (float(theta), int(offset), int(width), int(repeat), style)


def layer(args):
    """(shapes, scales, op text with %a<i> operands, reference function of the float64 args)."""
    B, N, d, H = args.batch, args.seq, args.dim, args.heads
    if args.op == "mha":
        dh = d // H
        names = [b for b in ("bq", "bk", "bv", "bo") if b in args.biases]
        shapes = [(B, N, d), (d, H * dh), (d, H * dh), (d, H * dh), (H * dh, d)]
        shapes += [{"bq": (H * dh,), "bk": (H * dh,), "bv": (H * dh,), "bo": (d,)}[b] for b in names]
        scales = [1.0] + [d ** -0.5] * 4 + [0.1] * len(names)
        operands = "%a0, %a1, %a2, %a3, %a4" + "".join(f" {b}(%a{5 + i})" for i, b in enumerate(names))
        op = f"tucker.mha {operands} " + attrs([f"num_heads = {H} : i64"], args)

        def reference(a):
            biases = dict(zip(names, a[5:]))
            return ref.mha(*a[:5], **biases, num_heads=H, causal=args.causal, rope=args.rope)
    elif args.op == "gqa":
        Hkv, dh = args.kv_heads, d // H
        shapes = [(B, N, d), (d, H * dh), (d, Hkv * dh), (d, Hkv * dh), (H * dh, d)]
        scales = [1.0] + [d ** -0.5] * 4
        op = "tucker.gqa %a0, %a1, %a2, %a3, %a4 " + attrs(
            [f"num_heads = {H} : i64", f"num_kv_heads = {Hkv} : i64"], args)

        def reference(a):
            return ref.gqa(*a, num_heads=H, num_kv_heads=Hkv, causal=args.causal, rope=args.rope)
    elif args.op == "mla":
        q, c, p, R, dv = args.q_lora, args.kv_lora, args.nope, args.rope_dim, args.v_dim
        args.rope = (10000.0, p, R, 1, "interleaved") if R else None
        shapes = [(B, N, d), (d, q), (q,), (q, H * (p + R)), (d, c + R), (c,), (c, H * (p + dv)), (H * dv, d)]
        scales = [1.0, d ** -0.5, 0.1, q ** -0.5, d ** -0.5, 0.1, c ** -0.5, (H * dv) ** -0.5]
        op = "tucker.mla %a0, q_a(%a1, %a2), %a3, %a4, %a5, %a6, %a7 " + attrs(
            [f"num_heads = {H} : i64", f"q_lora_rank = {q} : i64", f"kv_lora_rank = {c} : i64",
             f"qk_nope_head_dim = {p} : i64", f"qk_rope_head_dim = {R} : i64", f"v_head_dim = {dv} : i64"], args)

        def reference(a):
            return ref.mla(*a, num_heads=H, q_lora_rank=q, kv_lora_rank=c, qk_nope_head_dim=p,
                           qk_rope_head_dim=R, v_head_dim=dv, causal=args.causal, rope=args.rope)
    else:
        r1, r2, r3 = args.ranks
        scale = r3 ** -0.5
        shapes = [(B, N, d), (H, r1), (d, r2), (d, r3), (r1, r2, r3), (H, r1), (d, r2), (d, r3), (r1, r2, r3)]
        scales = [1.0, 0.5, d ** -0.5, d ** -0.5, 0.3, 0.5, d ** -0.5, d ** -0.5, 0.3]
        op = ("tucker.attention %a0, pre(%a1, %a2, %a3, core %a4), post(%a5, %a6, %a7, core %a8) "
              + attrs([f"ranks = #tucker.ranks<[{r1}, {r2}, {r3}], [{r1}, {r2}, {r3}]>",
                       f"scale = {flt(scale)} : f64"], args))

        def reference(a):
            return ref.attention(*a, scale=scale, causal=args.causal, rope=args.rope)
    return shapes, scales, op, reference


def emit(args):
    shapes, scales, op, reference = layer(args)
    dt = args.dtype
    rng = np.random.default_rng(args.seed)
    values, consts = [], []
    for i, (shape, scale) in enumerate(zip(shapes, scales)):
        a = rng.standard_normal(shape) * scale
        if args.op == "mla" and i in (2, 5):  # RMS norm weights near one
            a = 1.0 + a
        v, raw = rounded(a, dt)
        values.append(v)
        consts.append(raw)
    expected = reference(values).astype(np.float32)
    out_shape = (args.batch, args.seq, args.dim)
    types = [ty(s, dt) for s in shapes]
    out = ty(out_shape, dt)
    params = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
    rank = len(out_shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    lines = [
        f"// Generated by gen_layer.py {' '.join(sys.argv[1:])}",
        f"func.func @kernel({params}) -> {out} {{",
        f"  %y = {op} : ({', '.join(types)}) -> {out}",
        f"  return %y : {out}",
        "}",
        "",
        "func.func @main() {",
    ]
    for i, (t, raw) in enumerate(zip(types, consts)):
        lines.append(f'  %a{i} = arith.constant dense<"0x{raw.hex().upper()}"> : {t}')
    lines.append(f"  %y = call @kernel({', '.join(f'%a{i}' for i in range(len(types)))}) : "
                 f"({', '.join(types)}) -> {out}")
    f32 = ty(out_shape, "f32")
    lines.append(f'  %expected = arith.constant dense<"0x{expected.tobytes().hex().upper()}"> : {f32}')
    ident = f"affine_map<({dims}) -> ({dims})>"
    scalar = f"affine_map<({dims}) -> ()>"
    par = ", ".join(['"parallel"'] * rank)
    red = ", ".join(['"reduction"'] * rank)
    if dt != "f32":
        lines += [
            f"  %e = tensor.empty() : {f32}",
            f"  %yf = linalg.generic {{indexing_maps = [{ident}, {ident}], iterator_types = [{par}]}}",
            f"      ins(%y : {out}) outs(%e : {f32}) {{",
            f"  ^bb0(%x: {dt}, %o: f32):",
            f"    %w = arith.extf %x : {dt} to f32",
            "    linalg.yield %w : f32",
            f"  }} -> {f32}",
        ]
        y = "%yf"
    else:
        y = "%y"
    lines += [
        "  %zero = arith.constant 0.0 : f32",
        "  %init = tensor.empty() : tensor<f32>",
        "  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<f32>) -> tensor<f32>",
        f"  %num = linalg.generic {{indexing_maps = [{ident}, {ident}, {scalar}], iterator_types = [{red}]}}",
        f"      ins({y}, %expected : {f32}, {f32}) outs(%acc : tensor<f32>) {{",
        "  ^bb0(%o: f32, %x: f32, %m: f32):",
        "    %d = arith.subf %o, %x : f32",
        "    %a = math.absf %d : f32",
        "    %r = arith.maximumf %m, %a : f32",
        "    linalg.yield %r : f32",
        "  } -> tensor<f32>",
        f"  %den = linalg.generic {{indexing_maps = [{ident}, {scalar}], iterator_types = [{red}]}}",
        f"      ins(%expected : {f32}) outs(%acc : tensor<f32>) {{",
        "  ^bb0(%x: f32, %m: f32):",
        "    %a = math.absf %x : f32",
        "    %r = arith.maximumf %m, %a : f32",
        "    linalg.yield %r : f32",
        "  } -> tensor<f32>",
        "  %n = tensor.extract %num[] : tensor<f32>",
        "  %m = tensor.extract %den[] : tensor<f32>",
        "  %rel = arith.divf %n, %m : f32",
        '  vector.print str "rel_err = "',
        "  vector.print %rel : f32",
        f"  %tol = arith.constant {flt(args.tol)} : f32",
        "  %ok = arith.cmpf ole, %rel, %tol : f32",
        "  scf.if %ok {",
        '    vector.print str "PASS\\n"',
        "  } else {",
        '    vector.print str "FAIL\\n"',
        "  }",
        "  return",
        "}",
    ]
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("op", choices=["mha", "gqa", "mla", "attention"])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=16)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=1)
    parser.add_argument("--biases", type=lambda s: s.split(","), default=[])
    parser.add_argument("--rope", type=parse_rope, default=None, help="theta,offset,width,repeat,style")
    parser.add_argument("--q-lora", type=int, default=32)
    parser.add_argument("--kv-lora", type=int, default=16)
    parser.add_argument("--nope", type=int, default=8)
    parser.add_argument("--rope-dim", type=int, default=4)
    parser.add_argument("--v-dim", type=int, default=8)
    parser.add_argument("--ranks", type=lambda s: tuple(int(x) for x in s.split(",")), default=(2, 16, 8))
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    parser.add_argument("--tol", type=float, default=None,
                        help="relative error bound (default: 1e-5 for f32, 5e-3 for f16, 2e-2 for bf16)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.tol is None:
        args.tol = {"f32": 1e-5, "f16": 5e-3, "bf16": 2e-2}[args.dtype]
    emit(args)


if __name__ == "__main__":
    main()
