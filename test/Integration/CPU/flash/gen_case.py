#!/usr/bin/env python3
"""Emits a self-checking MLIR module for one tucker.flash or tucker.rope case.

The inputs are seeded random numbers (rounded to the element type first), the expected output
is the independent float64 NumPy reference (python/tucker/reference.py) of those rounded inputs.
The module's @main calls @kernel (which holds the single tucker op), computes

    rel_err = max |out - expected| / max |expected|

in f32, prints it, and prints PASS when rel_err <= --tol and every entry that the reference
gives as exactly 0 (a causal row that sees no key) is exactly 0 in the output; FAIL otherwise
(NaN included).

    gen_case.py flash --batch 2 --heads 4 --kv-heads 2 --nq 70 --nk 90 --dqk 16 --dv 8 --causal
    gen_case.py flash --batch 3 --heads 8 --kv-heads 2 --nq 1 --nk 97 --lengths 0,1,97 --poison
    gen_case.py rope --batch 2 --heads 3 --seq 20 --dim 16 --rope 10000,0,8,2,half --positions 2d
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[4] / "python"))
from tucker import reference  # noqa: E402


# --- element types -------------------------------------------------------------------------

def round_to(x, dtype):
    """x (float32) rounded to dtype; returns (float64 values, raw little-endian bytes)."""
    x = np.asarray(x, dtype=np.float32)
    if dtype == "f32":
        return x.astype(np.float64), x.astype("<f4").tobytes()
    if dtype == "f16":
        h = x.astype(np.float16)
        return h.astype(np.float64), h.astype("<f2").tobytes()
    if dtype == "bf16":
        u = x.view(np.uint32).astype(np.uint64)
        bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even
        back = (bits.astype(np.uint32) << 16).view(np.float32)
        return back.astype(np.float64), bits.astype("<u2").tobytes()
    raise ValueError(dtype)


def dense(raw, shape, elem):
    return f'dense<"0x{raw.hex().upper()}"> : {tensor_type(shape, elem)}'


def tensor_type(shape, elem):
    return "tensor<" + "x".join("?" if s is None else str(s) for s in shape) + f"x{elem}>"


def int_dense(values, shape, elem):
    flat = ", ".join(str(int(v)) for v in np.asarray(values).reshape(-1))
    return f"dense<[{flat}]> : {tensor_type(shape, elem)}" if len(shape) == 1 else \
        f"dense<{np.asarray(values).tolist()}> : {tensor_type(shape, elem)}"


def parse_rope(text):
    """theta,offset,width,repeat,style[,stride] -> (reference.Rope, MLIR attribute)."""
    if text is None:
        return None, None
    parts = text.split(",")
    theta, offset, width, repeat, style = float(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), parts[4]
    stride = int(parts[5]) if len(parts) > 5 else None
    desc = reference.Rope(theta, offset, width, repeat, style, stride)
    attr = f"#tucker.rope<theta = {theta!r}, width = {width}, offset = {offset}, repeat = {repeat}"
    if stride is not None:
        attr += f", stride = {stride}"
    return desc, attr + f", style = {style}>"


# --- module ----------------------------------------------------------------------------------

def checker(out_shape, elem, expected, tol):
    """The @main tail: compares %out (static type) with the expected f32 constant.

    Prints rel_err = max |out - expected| / max |expected| and PASS when it is <= tol and every
    entry that is exactly 0 in the reference (rows that see no key) is exactly 0 in the output.
    """
    rank = len(out_shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ty = tensor_type(out_shape, elem)
    ext = f"%of = arith.extf %o : {elem} to f32" if elem != "f32" else "%of = arith.addf %o, %zero : f32"
    return f"""
  %expected = arith.constant {dense(expected.astype('<f4').tobytes(), out_shape, 'f32')}
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<f32>) -> tensor<f32>
  %stats:3 = linalg.generic {{
      indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>,
                       affine_map<({dims}) -> ()>, affine_map<({dims}) -> ()>,
                       affine_map<({dims}) -> ()>],
      iterator_types = [{", ".join(['"reduction"'] * rank)}]}}
      ins(%out, %expected : {ty}, {tensor_type(out_shape, 'f32')})
      outs(%acc, %acc, %acc : tensor<f32>, tensor<f32>, tensor<f32>) {{
  ^bb0(%o: {elem}, %e: f32, %err: f32, %mag: f32, %zerr: f32):
    {ext}
    %diff = arith.subf %of, %e : f32
    %adiff = math.absf %diff : f32
    %ae = math.absf %e : f32
    %err2 = arith.maximumf %err, %adiff : f32
    %mag2 = arith.maximumf %mag, %ae : f32
    %ezero = arith.cmpf oeq, %e, %zero : f32
    %aof = math.absf %of : f32
    %zcand = arith.select %ezero, %aof, %zero : f32
    %zerr2 = arith.maximumf %zerr, %zcand : f32
    linalg.yield %err2, %mag2, %zerr2 : f32, f32, f32
  }} -> (tensor<f32>, tensor<f32>, tensor<f32>)
  %err = tensor.extract %stats#0[] : tensor<f32>
  %mag = tensor.extract %stats#1[] : tensor<f32>
  %zerr = tensor.extract %stats#2[] : tensor<f32>
  %rel = arith.divf %err, %mag : f32
  vector.print str "rel_err = "
  vector.print %rel : f32
  vector.print str "max |out| where the reference is 0: "
  vector.print %zerr : f32
  %tol = arith.constant {tol:.6e} : f32
  %close = arith.cmpf ole, %rel, %tol : f32
  %zeros = arith.cmpf oeq, %zerr, %zero : f32
  %ok = arith.andi %close, %zeros : i1
  scf.if %ok {{
    vector.print str "PASS\\n"
  }} else {{
    vector.print str "FAIL\\n"
  }}
  return
}}
"""


def flash_case(a, rng):
    rope_desc, rope_attr = parse_rope(a.rope)
    B, H, G, Nq, Nk, D, Dv = a.batch, a.heads, a.kv_heads, a.nq, a.nk, a.dqk, a.dv
    lengths = None if a.lengths is None else np.array([int(t) for t in a.lengths.split(",")])
    if lengths is not None and lengths.shape != (B,):
        sys.exit(f"--lengths needs {B} values, got {a.lengths}")
    k32 = rng.standard_normal((B, G, Nk, D)).astype(np.float32)
    v32 = rng.standard_normal((B, G, Nk, Dv)).astype(np.float32)
    if a.poison:
        # The cache past each sequence's length holds NaN and Inf: it must not be read.
        past = np.arange(Nk)[None, :] >= np.clip(lengths, 0, Nk)[:, None]  # [B, Nk]
        past = np.broadcast_to(past[:, None], (B, G, Nk))
        k32[past] = np.nan
        v32[past] = np.where(rng.random(v32[past].shape) < 0.5, np.inf, np.nan)
    qf, qraw = round_to(rng.standard_normal((B, H, Nq, D)), a.dtype)
    kf, kraw = round_to(k32, a.dtype)
    vf, vraw = round_to(v32, a.dtype)
    if a.v_from_k is not None:
        vf = kf[..., a.v_from_k:a.v_from_k + Dv]
    expected = reference.flash(qf, kf, vf, scale=a.scale, causal=a.causal, rope=rope_desc,
                               lengths=lengths)

    shapes = {"q": (B, H, Nq, D), "k": (B, G, Nk, D), "v": (B, G, Nk, Dv), "o": (B, H, Nq, Dv)}
    dyn = {"q": (None, H, None, D), "k": (None, G, None, D), "v": (None, G, None, Dv),
           "o": (None, H, None, Dv)} if a.dynamic else shapes
    t = {n: tensor_type(s, a.dtype) for n, s in dyn.items()}
    st = {n: tensor_type(s, a.dtype) for n, s in shapes.items()}
    attrs = []
    if a.causal:
        attrs.append("causal")
    if a.scale is not None:
        attrs.append(f"scale = {a.scale!r} : f64")
    if rope_attr:
        attrs.append(f"rope = {rope_attr}")
    attr_dict = " {" + ", ".join(attrs) + "}" if attrs else ""
    names = "qk" if a.v_from_k is not None else "qkv"
    if lengths is not None:
        shapes["len"], dyn["len"] = (B,), ((None,) if a.dynamic else (B,))
        t["len"], st["len"] = tensor_type(dyn["len"], "i32"), tensor_type((B,), "i32")
    operands = list(names) + (["len"] if lengths is not None else [])
    casts, args = [], []
    for n in operands:
        if a.dynamic:
            casts.append(f"  %{n}d = tensor.cast %{n} : {st[n]} to {t[n]}")
            args.append(f"%{n}d")
        else:
            args.append(f"%{n}")
    params = ", ".join(f"%{n}: {t[n]}" for n in operands)
    types = ", ".join(t[n] for n in operands)
    call = f"  %res = call @kernel({', '.join(args)}) : ({types}) -> {t['o']}"
    back = f"  %out = tensor.cast %res : {t['o']} to {st['o']}"
    body = ""
    if a.v_from_k is not None:
        # v is columns [off, off + Dv) of k (a shared latent cache).
        sizes = f"[%b, {G}, %nk, {Dv}]" if a.dynamic else f"[{B}, {G}, {Nk}, {Dv}]"
        if a.dynamic:
            body += ("  %c0 = arith.constant 0 : index\n  %c2 = arith.constant 2 : index\n"
                     "  %b = tensor.dim %k, %c0 : " + t["k"] + "\n"
                     "  %nk = tensor.dim %k, %c2 : " + t["k"] + "\n")
        body += (f"  %v = tensor.extract_slice %k[0, 0, 0, {a.v_from_k}] {sizes} [1, 1, 1, 1]"
                 f" : {t['k']} to {t['v']}\n")
    use_len = f" lengths(%len : {t['len']})" if lengths is not None else ""
    consts = [f"  %{n} = arith.constant {dense(raw, shapes[n], a.dtype)}"
              for n, raw in (("q", qraw), ("k", kraw), ("v", vraw)) if n in names]
    if lengths is not None:
        consts.append(f"  %len = arith.constant {int_dense(lengths, (B,), 'i32')}")
    return f"""// Generated by gen_case.py {' '.join(sys.argv[1:])}
func.func @kernel({params}) -> {t['o']} {{
{body}  %o = tucker.flash %q, %k, %v{use_len}{attr_dict} : {t['q']}, {t['k']}, {t['v']} -> {t['o']}
  return %o : {t['o']}
}}

func.func @main() {{
{chr(10).join(consts)}
{chr(10).join(casts)}
{call}
{back}""" + checker(shapes["o"], a.dtype, expected, a.tol)


def rope_case(a, rng):
    rope_desc, rope_attr = parse_rope(a.rope)
    B, H, N, D = a.batch, a.heads, a.seq, a.dim
    xf, xraw = round_to(rng.standard_normal((B, H, N, D)), a.dtype)
    pos_shape = {"none": None, "1d": (N,), "2d": (B, N)}[a.positions]
    positions = None if pos_shape is None else rng.integers(-50, 4000, size=pos_shape)
    expected = reference.rope(xf, rope_desc, positions)
    shape = (B, H, N, D)
    dshape = (None, H, None, D) if a.dynamic else shape
    t, st = tensor_type(dshape, a.dtype), tensor_type(shape, a.dtype)
    pos_arg, pos_sig, pos_decl, pos_use = "", "", "", ""
    if positions is not None:
        pshape = pos_shape if not a.dynamic else tuple(None for _ in pos_shape)
        pt, pst = tensor_type(pshape, a.pos_type), tensor_type(pos_shape, a.pos_type)
        pos_decl = f"  %p = arith.constant {int_dense(positions, pos_shape, a.pos_type)}\n"
        pos_decl += f"  %pd = tensor.cast %p : {pst} to {pt}\n"
        pos_arg, pos_sig = ", %pd", f", %p: {pt}"
        pos_use = f" positions(%p : {pt})"
        call_types = f"({t}, {pt})"
    else:
        call_types = f"({t})"
    return f"""// Generated by gen_case.py {' '.join(sys.argv[1:])}
func.func @kernel(%x: {t}{pos_sig}) -> {t} {{
  %o = tucker.rope %x{pos_use} {{rope = {rope_attr}}} : {t} -> {t}
  return %o : {t}
}}

func.func @main() {{
  %x = arith.constant {dense(xraw, shape, a.dtype)}
  %xd = tensor.cast %x : {st} to {t}
{pos_decl}  %res = call @kernel(%xd{pos_arg}) : {call_types} -> {t}
  %out = tensor.cast %res : {t} to {st}""" + checker(shape, a.dtype, expected, a.tol)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="op", required=True)
    f = sub.add_parser("flash")
    f.add_argument("--batch", type=int, default=1)
    f.add_argument("--heads", type=int, default=1)
    f.add_argument("--kv-heads", type=int, default=1)
    f.add_argument("--nq", type=int, required=True)
    f.add_argument("--nk", type=int, required=True)
    f.add_argument("--dqk", type=int, default=16)
    f.add_argument("--dv", type=int, default=16)
    f.add_argument("--causal", action="store_true")
    f.add_argument("--scale", type=float)
    f.add_argument("--lengths", help="comma-separated key count per sequence (i32 lengths operand)")
    f.add_argument("--poison", action="store_true",
                   help="NaN/Inf in k and v past each length (needs --lengths)")
    f.add_argument("--v-from-k", type=int, metavar="OFFSET",
                   help="v is columns [OFFSET, OFFSET + dv) of k (shared latent cache)")
    r = sub.add_parser("rope")
    r.add_argument("--batch", type=int, default=1)
    r.add_argument("--heads", type=int, default=1)
    r.add_argument("--seq", type=int, required=True)
    r.add_argument("--dim", type=int, required=True)
    r.add_argument("--positions", choices=["none", "1d", "2d"], default="none")
    r.add_argument("--pos-type", default="i64", help="i32, i64, index, ...")
    for s in (f, r):
        s.add_argument("--rope", help="theta,offset,width,repeat,style[,stride]")
        s.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
        s.add_argument("--dynamic", action="store_true", help="dynamic batch and sequence dims")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--tol", type=float, default=1e-5)
    a = p.parse_args()
    if a.op == "rope" and a.rope is None:
        p.error("rope needs --rope")
    if a.op == "flash" and a.poison and a.lengths is None:
        p.error("--poison needs --lengths")
    rng = np.random.default_rng(a.seed)
    sys.stdout.write(flash_case(a, rng) if a.op == "flash" else rope_case(a, rng))


if __name__ == "__main__":
    main()
