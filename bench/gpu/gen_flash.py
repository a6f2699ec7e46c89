#!/usr/bin/env python3
"""Writes bench/gpu/flash_fwd_d128.mlir: hand-built forward flash-attention
kernels for Hopper (sm_90a) in the gpu + nvvm + llvm + arith/scf/math/vector
dialects of MLIR 22.

The kernels are written out op by op (every per-thread register of the wgmma
fragments is its own SSA value), which is what a C++ code generator
(--tucker-flash-to-gpu) would emit; this script is the prototype of that
generator. See docs/gpu-notes.md for the recipe.

Problem: q, k, v, o are [B, H, N, 128] bf16, contiguous; softmax scale folded
with log2(e) into `scale_log2e`; f32 accumulation. TMA sees each of q, k, v as
a 3-D tensor (D, N, B*H) (innermost first), so rows past N read as zeros.

Kernel ABI (every variant):
  (tmap_q: !llvm.ptr, tmap_k: !llvm.ptr, tmap_v: !llvm.ptr,   // CUtensorMap* in global memory
   o: !llvm.ptr, n: i32, heads: i32, scale_log2e: f32, batch: i32)
  grid = (ceil(N / BM), H, B), or (min(#SMs, ceil(N / BM) * H * B), 1, 1) for the
  persistent variant; block = (threads, 1, 1); dynamic smem = smem_bytes (manifest).

Variants: see VARIANTS below (v1 simplest .. v5 fastest measured; the file
holds DEFAULT_VARIANTS unless --variants says otherwise). Each variant also
exists as <name>_causal (tile skipping; masks only the diagonal tiles and the
tail tile past N; query tiles launched longest first).
"""
import argparse
import math

D = 128          # head dim
BN = 128         # keys per KV tile (default; a kernel option)
LOG2E = 1.4426950408889634
ACC = "!acc"     # alias of the 64 x f32 accumulator struct (m64n128 f32): O, and S for BN=128
NACC = 64        # O accumulator values per thread (m64 x D=128)
INF_NEG = "0xFF800000"  # -inf as f32 bits
M_INIT = -1.0e30         # running max start (finite: keeps fully masked rows NaN-free)


class Fn:
    """Emits one gpu.func body. SSA names are unique per function."""

    def __init__(self):
        self.lines = []
        self.consts = {}
        self.const_lines = []
        self.n = 0
        self.depth = 2

    def fresh(self, hint="v"):
        self.n += 1
        return f"%{hint}{self.n}"

    def emit(self, line):
        self.lines.append("  " * self.depth + line)

    def comment(self, text):
        self.emit("// " + text)

    def op(self, rhs, hint="v"):
        name = self.fresh(hint)
        self.emit(f"{name} = {rhs}")
        return name

    def ops(self, rhs, count, hint="r"):
        """An op with `count` results; returns the result names."""
        base = self.fresh(hint)
        self.emit(f"{base}:{count} = {rhs}")
        return [f"{base}#{i}" for i in range(count)]

    # -- constants (hoisted to the entry block) --
    def const(self, value, ty):
        key = (str(value), ty)
        if key not in self.consts:
            if ty == "f32":
                name = f"%cst{len(self.consts)}_f32"
            else:
                name = f"%c{str(value).replace('-', 'm')}_{ty}"
            if ty in ("f32",):
                lit = value if isinstance(value, str) else "%.8e" % float(value)
                self.const_lines.append(f"{name} = arith.constant {lit} : {ty}")
            else:
                self.const_lines.append(f"{name} = arith.constant {value} : {ty}")
            self.consts[key] = name
        return self.consts[key]

    def i32(self, v):
        return self.const(int(v), "i32")

    def i64(self, v):
        return self.const(int(v), "i64")

    def f32(self, v):
        return self.const(v, "f32")

    # -- arithmetic helpers --
    def add(self, a, b, ty="i32"):
        return self.op(f"arith.addi {a}, {b} : {ty}")

    def mul(self, a, b, ty="i32"):
        return self.op(f"arith.muli {a}, {b} : {ty}")

    def sub(self, a, b, ty="i32"):
        return self.op(f"arith.subi {a}, {b} : {ty}")

    def udiv(self, a, b, ty="i32"):
        return self.op(f"arith.divui {a}, {b} : {ty}")

    def urem(self, a, b, ty="i32"):
        return self.op(f"arith.remui {a}, {b} : {ty}")

    def andi(self, a, b, ty="i32"):
        return self.op(f"arith.andi {a}, {b} : {ty}")

    def cmp(self, pred, a, b, ty="i32"):
        return self.op(f"arith.cmpi {pred}, {a}, {b} : {ty}", "p")

    def minu(self, a, b, ty="i32"):
        return self.op(f"arith.minui {a}, {b} : {ty}")

    def select(self, c, a, b, ty):
        return self.op(f"arith.select {c}, {a}, {b} : {ty}")

    def fadd(self, a, b):
        return self.op(f"arith.addf {a}, {b} : f32", "f")

    def fmul(self, a, b):
        return self.op(f"arith.mulf {a}, {b} : f32", "f")

    def fsub(self, a, b):
        return self.op(f"arith.subf {a}, {b} : f32", "f")

    def fmax(self, a, b):
        return self.op(f"arith.maxnumf {a}, {b} : f32", "f")

    def fma(self, a, b, c):
        return self.op(f"math.fma {a}, {b}, {c} : f32", "f")

    def exp2(self, a, ftz=False):
        if ftz:
            # ex2.approx.ftz.f32: math.exp2 lowers to the non-ftz ex2.approx.f32,
            # which ptxas wraps in a denormal fix-up (FSETP + 2 FMUL per call).
            return self.op(f'llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"({a}) : (f32) -> f32', "f")
        return self.op(f"math.exp2 {a} : f32", "f")

    def body(self):
        pad = "  " * 2
        return [pad + l for l in self.const_lines] + self.lines


class Layout:
    """Shared memory map (byte offsets from the 1024-aligned base)."""

    def __init__(self, bm, stages, bn=BN):
        self.bm = bm
        self.stages = stages
        self.q = 0
        self.q_chunk = bm * 128          # one 64-column chunk of Q: bm rows x 128 B
        self.kv_chunk = bn * 128         # one 64-column chunk of a K/V tile
        self.kv_tile = 2 * self.kv_chunk  # 32 KiB
        self.k = self.q + 2 * self.q_chunk
        self.v = self.k + stages * self.kv_tile
        self.bars = self.v + stages * self.kv_tile
        self.full = self.bars                 # stages x 8 B
        self.empty = self.bars + 8 * stages    # stages x 8 B
        self.qbar = self.bars + 16 * stages
        self.qempty = self.qbar + 8            # persistent kernels: Q slot free
        self.fullv = self.qempty + 8           # split K/V rings: V's own full/empty
        self.emptyv = self.fullv + 8 * stages
        self.size = self.emptyv + 8 * stages
        self.request = self.size + 1024       # + room to align the base


def wgmma_desc_const(swizzle128, lbo, sbo):
    """High bits of a wgmma shared-memory matrix descriptor (start address 0)."""
    d = 0
    d |= ((lbo >> 4) & 0x3FFF) << 16
    d |= ((sbo >> 4) & 0x3FFF) << 32
    if swizzle128:
        d |= 1 << 62
    return d


# K-major, 128-byte swizzle (Q as A, K as B of Q.K^T): 8-row groups 1024 B apart
# (SBO); LBO unused for swizzled K-major (set to 1 unit, as CUTLASS does).
DESC_KMAJOR = wgmma_desc_const(True, 16, 1024)
# MN-major, 128-byte swizzle (V as B of P.V, stored [keys][d]): 8 keys of 128 B
# per core group, groups 1024 B apart (SBO); the two 64-wide column chunks of V
# (d 0..63, 64..127) are one chunk (BN x 128 B = 16 KiB) apart (LBO).
def desc_mnmajor(bn):
    return wgmma_desc_const(True, bn * 128, 1024)


DESC_MNMAJOR = desc_mnmajor(BN)


class Kernel:
    def __init__(self, name, causal, consumers=1, producer=False, stages=2, overlap=False,
                 ftz=False, pingpong=False, setmaxreg=True, persistent=False, bn=BN,
                 split=False):
        self.name = name
        self.causal = causal
        self.consumers = consumers
        self.producer = producer
        self.stages = stages
        self.overlap = overlap
        self.ftz = ftz
        self.pingpong = pingpong
        self.setmaxreg = setmaxreg
        self.persistent = persistent
        self.bn = bn
        self.split = split           # separate full/empty barriers for K and V
        assert not split or overlap
        self.ns = bn // 2            # S values per thread (m64 x bn accumulator)
        self.np = bn // 4            # bf16x2 registers of P per thread
        self.acc_s = ACC if bn == 128 else f"!acc{bn}"
        self.desc_mn = desc_mnmajor(bn)
        assert not persistent or (producer and overlap)
        self.bm = 64 * consumers
        self.threads = 128 * (consumers + (1 if producer else 0))
        self.L = Layout(self.bm, stages, bn)
        self.f = Fn()

    # ------------------------------------------------------------------ utils
    def sptr(self, off):
        """!llvm.ptr<3> at a constant byte offset from the aligned base."""
        f = self.f
        if off == 0:
            return self.sbase
        return f.op(f"llvm.getelementptr {self.sbase}[{off}] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8", "sp")

    def cluster_ptr(self, p):
        """shared::cta -> shared::cluster pointer (TMA destination; with PTX 8.0
        the .shared::cta form of cp.async.bulk.tensor does not exist)."""
        return self.f.op(f"llvm.addrspacecast {p} : !llvm.ptr<3> to !llvm.ptr<7>", "cp")

    def sptr_dyn(self, off_i32):
        f = self.f
        return f.op(f"llvm.getelementptr {self.sbase}[{off_i32}] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8", "sp")

    def desc_dyn(self, const_bits, off_units):
        """wgmma descriptor (i64) = const_bits + (aligned smem base >> 4) +
        off_units (an i32 value, in 16-byte units).

        The address and LBO fields both sit in the low 32 bits, so the sum is
        done in i32 and the constant high word (SBO, swizzle mode) is attached
        with a 2 x i32 -> i64 bitcast (PTX mov.b64 {lo, hi}). A plain i64 add
        of the 64-bit constant was miscompiled by ptxas 13.0 in one kernel
        (flash_fwd_v2: the high word was dropped; see docs/gpu-notes.md)."""
        f = self.f
        lo = f.add(self.desc_lo, off_units)
        lo = f.add(lo, f.i32(const_bits & 0xFFFFFFFF))
        hi = f.i32(const_bits >> 32)
        v = f.op(f"vector.from_elements {lo}, {hi} : vector<2xi32>", "dv")
        b = f.op(f"vector.bitcast {v} : vector<2xi32> to vector<1xi64>", "dv")
        return f.op(f"vector.extract {b}[0] : i64 from vector<1xi64>", "desc")

    # ------------------------------------------------------------ TMA issue
    def issue_kv(self, tile, stage, which="KV"):
        """Thread-local: expect_tx + TMA loads (2 boxes per operand) of K and/or V
        of tile `tile` (i32) into ring slot `stage` (i32). With split rings, K
        completes on full[stage] and V on fullv[stage]."""
        f = self.f
        L = self.L
        soff = f.mul(stage, f.i32(L.kv_tile))
        bar_base = L.fullv if which == "V" else L.full
        full_off = f.add(f.mul(stage, f.i32(8)), f.i32(bar_base))
        bar = self.sptr_dyn(full_off)
        nbytes = L.kv_tile * len(which)
        f.emit(f"nvvm.mbarrier.arrive.expect_tx {bar}, {f.i32(nbytes)} : !llvm.ptr<3>, i32")
        row = f.mul(tile, f.i32(self.bn))
        ops = [(w, {"K": L.k, "V": L.v}[w], {"K": self.tk, "V": self.tv}[w]) for w in which]
        for _, base, tm in ops:
            for c in range(2):
                off = f.add(soff, f.i32(base + c * L.kv_chunk))
                dst = self.cluster_ptr(self.sptr_dyn(off))
                f.emit(f"nvvm.cp.async.bulk.tensor.shared.cluster.global {dst}, {tm}, {bar}, "
                       f"box[{f.i32(64 * c)}, {row}, {self.bh}] : !llvm.ptr<7>, !llvm.ptr")

    def issue_q(self):
        f = self.f
        L = self.L
        bar = self.sptr(L.qbar)
        f.emit(f"nvvm.mbarrier.arrive.expect_tx {bar}, {f.i32(2 * L.q_chunk)} : !llvm.ptr<3>, i32")
        for c in range(2):
            dst = self.cluster_ptr(self.sptr(L.q + c * L.q_chunk))
            f.emit(f"nvvm.cp.async.bulk.tensor.shared.cluster.global {dst}, {self.tq}, {bar}, "
                   f"box[{f.i32(64 * c)}, {self.m0}, {self.bh}] : !llvm.ptr<7>, !llvm.ptr")

    def wait_bar(self, bar_ptr, phase):
        f = self.f
        f.emit(f"nvvm.mbarrier.try_wait.parity {bar_ptr}, {phase}, {f.i32(10000000)} : !llvm.ptr<3>, i32, i32")

    # ---------------------------------------------------------------- wgmma
    def qk_wgmma(self, stage):
        """Issues S = Q K^T for this consumer (8 x m64n128k16, SS); returns the
        accumulator struct (not yet waited)."""
        f = self.f
        L = self.L
        kbase = f.mul(stage, f.i32(L.kv_tile // 16))
        AS = self.acc_s
        acc = f.op(f"llvm.mlir.poison : {AS}", "acc")
        for kk in range(D // 16):
            chunk, within = divmod(kk, 4)
            qoff = L.q + chunk * L.q_chunk + within * 32
            da = self.desc_dyn(DESC_KMAJOR + (qoff >> 4), self.q_desc_off)
            koff = L.k + chunk * L.kv_chunk + within * 32
            db = self.desc_dyn(DESC_KMAJOR + (koff >> 4), kbase)
            scale = "zero" if kk == 0 else "one"
            acc = f.op(
                f"nvvm.wgmma.mma_async {da}, {db}, {acc}, #nvvm.shape<m = 64, n = {self.bn}, k = 16>, "
                f"D [<f32>, #nvvm.wgmma_scale_out<{scale}>], A [<bf16>, #nvvm.wgmma_scale_in<one>, <row>], "
                f"B [<bf16>, #nvvm.wgmma_scale_in<one>, <col>] : {AS} -> {AS}", "acc")
        return acc

    def pv_wgmma(self, stage, o_vals, p_regs):
        """Issues O += P V (8 x m64n128k16, A = P from registers, B = V tile
        MN-major); returns the 64 new O values (not yet waited)."""
        f = self.f
        L = self.L
        vbase = f.mul(stage, f.i32(L.kv_tile // 16))
        outs = ",".join(["=f"] * NACC)
        ties = ",".join(str(i) for i in range(NACC))
        cons = f'{outs},{ties},r,r,r,r,l'
        dlist = ", ".join(f"${i}" for i in range(NACC))
        a0 = 2 * NACC
        asm = ("{\\0A.reg .pred p;\\0Asetp.ne.b32 p, 1, 0;\\0A"
               f"wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{{dlist}}}, "
               f"{{${a0}, ${a0 + 1}, ${a0 + 2}, ${a0 + 3}}}, ${a0 + 4}, p, 1, 1, 1;\\0A}}")
        vals = list(o_vals)
        for kk in range(self.bn // 16):
            db = self.desc_dyn(self.desc_mn + ((L.v + kk * 16 * 128) >> 4), vbase)
            args = vals + p_regs[4 * kk:4 * kk + 4] + [db]
            types = ["f32"] * NACC + ["i32"] * 4 + ["i64"]
            res = f.op(f'llvm.inline_asm has_side_effects asm_dialect = att "{asm}", "{cons}" '
                       f'{", ".join(args)} : ({", ".join(types)}) -> {ACC}', "pv")
            vals = [f.op(f"llvm.extractvalue {res}[{i}] : {ACC}", "o") for i in range(NACC)]
        return vals

    # -------------------------------------------------------------- softmax
    def softmax(self, s_vals, m_old, l_old, o_vals, masked, tile, pack=True):
        """Online softmax on one S tile held as wgmma fragments.
        Thread layout (m64nN f32 accumulator): value i sits at
          row = 16*warp + lane/4 + 8*((i/2)%2), col = 8*(i/4) + 2*(lane%4) + i%2.
        Returns (p_regs[32] as bf16x2 in i32, m_new[2], l_new[2], o_scaled[64])."""
        f = self.f
        s = list(s_vals)
        if masked:
            f.comment("mask: key >= N, and key > query for causal")
            col0 = f.add(f.mul(tile, f.i32(self.bn)), self.t2)  # bn*tile + 2*(lane%4)
            ninf = f.f32(INF_NEG)
            for i in range(self.ns):
                col = f.add(col0, f.i32(8 * (i // 4) + (i % 2)))
                bad = f.cmp("sge", col, self.n)
                if self.causal:
                    row = self.qrow[(i // 2) % 2]
                    bad2 = f.cmp("sgt", col, row)
                    bad = f.op(f"arith.ori {bad}, {bad2} : i1", "p")
                s[i] = f.select(bad, ninf, s[i], "f32")
        f.comment("row max (2 rows per thread, reduced over the 4 lanes of a quad)")
        rows = [[i for i in range(self.ns) if (i // 2) % 2 == r] for r in range(2)]
        m_new, alpha, negms = [], [], []
        for r in range(2):
            mx = s[rows[r][0]]
            for i in rows[r][1:]:
                mx = f.fmax(mx, s[i])
            for off in (1, 2):
                sh = f.op(f"nvvm.shfl.sync bfly {f.i32(-1)}, {mx}, {f.i32(off)}, {f.i32(31)} : f32 -> f32", "f")
                mx = f.fmax(mx, sh)
            mn = f.fmax(m_old[r], mx)
            m_new.append(mn)
            # alpha = 2^((m_old - m_new) * scale_log2e)
            alpha.append(f.exp2(f.fmul(f.fsub(m_old[r], mn), self.sl2), self.ftz))
            negms.append(f.fmul(mn, self.neg_sl2))
        f.comment("p = 2^(s*scale_log2e - m*scale_log2e); row sums stay per thread")
        p = [f.exp2(f.fma(s[i], self.sl2, negms[(i // 2) % 2]), self.ftz) for i in range(self.ns)]
        l_new = []
        for r in range(2):
            acc = p[rows[r][0]]
            for i in rows[r][1:]:
                acc = f.fadd(acc, p[i])
            l_new.append(f.fma(l_old[r], alpha[r], acc))
        o_scaled = None
        if o_vals is not None:
            o_scaled = [f.fmul(o_vals[i], alpha[(i // 2) % 2]) for i in range(NACC)]
        p_regs = self.pack_p(p) if pack else p
        return p_regs, m_new, l_new, o_scaled, alpha

    def pack_p(self, p):
        """bf16x2 pairs: A-fragment register r of k-step kk is (p[8kk+2r], p[8kk+2r+1])
        (low half = even column), which is exactly the accumulator order."""
        f = self.f
        regs = []
        for i in range(0, len(p), 2):
            v = f.op(f"vector.from_elements {p[i]}, {p[i + 1]} : vector<2xf32>", "pk")
            t = f.op(f"arith.truncf {v} : vector<2xf32> to vector<2xbf16>", "pk")
            b = f.op(f"vector.bitcast {t} : vector<2xbf16> to vector<1xi32>", "pk")
            regs.append(f.op(f"vector.extract {b}[0] : i32 from vector<1xi32>", "pk"))
        return regs

    # ----------------------------------------------------------------- main
    def generate(self):
        f = self.f
        L = self.L
        f.comment(f"{self.name}: BM={self.bm} BN={self.bn} D={D} stages={self.stages} "
                  f"threads={self.threads} smem={L.request} B")
        self.tid = f.op("nvvm.read.ptx.sreg.tid.x : i32", "tid")
        self.it_base = f.i32(0)
        if self.persistent:
            f.comment("persistent: CTA x takes work items x, x + nctaid.x, ...")
            self.ntm = f.udiv(f.add(self.n, f.i32(self.bm - 1)), f.i32(self.bm))
            self.hb = f.mul(self.heads, self.batch)
            self.total = f.mul(self.ntm, self.hb)
            self.w0 = f.op("nvvm.read.ptx.sreg.ctaid.x : i32", "bx")
            self.wstep = f.op("nvvm.read.ptx.sreg.nctaid.x : i32", "nbx")
        else:
            bx = f.op("nvvm.read.ptx.sreg.ctaid.x : i32", "bx")
            hh = f.op("nvvm.read.ptx.sreg.ctaid.y : i32", "h")
            bb = f.op("nvvm.read.ptx.sreg.ctaid.z : i32", "b")
            bh = f.add(f.mul(bb, self.heads), hh)
            if self.causal:
                f.comment("causal: longest query tiles first")
                nbx = f.op("nvvm.read.ptx.sreg.nctaid.x : i32", "nbx")
                bx = f.sub(f.sub(nbx, f.i32(1)), bx)
            self.decode(bx, bh)

        f.comment("dynamic shared memory, base rounded up to 1024 B (128B-swizzle atoms)")
        raw = f.op("llvm.mlir.addressof @__tucker_smem : !llvm.ptr<3>", "smem")
        raw_i = f.op(f"llvm.ptrtoint {raw} : !llvm.ptr<3> to i32", "smem")
        pad = f.andi(f.sub(f.i32(0), raw_i), f.i32(1023))
        self.sbase = f.op(f"llvm.getelementptr {raw}[{pad}] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8", "sbase")
        base_i = f.add(raw_i, pad)
        self.desc_lo = f.op(f"arith.shrui {base_i}, {f.i32(4)} : i32", "dlo")

        is0 = f.cmp("eq", self.tid, f.i32(0))
        f.comment("barrier init by thread 0")
        f.emit(f"scf.if {is0} {{")
        f.depth += 1
        for s in range(self.stages):
            f.emit(f"nvvm.mbarrier.init {self.sptr(L.full + 8 * s)}, {f.i32(1)} : !llvm.ptr<3>, i32")
            if self.producer:
                f.emit(f"nvvm.mbarrier.init {self.sptr(L.empty + 8 * s)}, {f.i32(128 * self.consumers)} : !llvm.ptr<3>, i32")
        f.emit(f"nvvm.mbarrier.init {self.sptr(L.qbar)}, {f.i32(1)} : !llvm.ptr<3>, i32")
        if self.persistent:
            f.emit(f"nvvm.mbarrier.init {self.sptr(L.qempty)}, {f.i32(128 * self.consumers)} : !llvm.ptr<3>, i32")
        if self.split:
            for s_ in range(self.stages):
                f.emit(f"nvvm.mbarrier.init {self.sptr(L.fullv + 8 * s_)}, {f.i32(1)} : !llvm.ptr<3>, i32")
                f.emit(f"nvvm.mbarrier.init {self.sptr(L.emptyv + 8 * s_)}, {f.i32(128 * self.consumers)} : !llvm.ptr<3>, i32")
        f.emit("nvvm.fence.mbarrier.init")
        f.depth -= 1
        f.emit("}")
        f.emit("gpu.barrier")

        if self.persistent:
            self.gen_persistent()
        elif self.producer:
            self.gen_specialized()
        else:
            self.gen_single()
        f.emit("gpu.return")

    def decode(self, mt, bh):
        """Work item (query tile mt of head bh): m0, nt (KV tiles to visit) and
        nfull (leading tiles that need no mask)."""
        f = self.f
        self.bh = bh
        self.m0 = f.mul(mt, f.i32(self.bm))
        f.comment("tile counts: nt = KV tiles to visit, nfull = tiles needing no mask")
        bn = self.bn
        nt = f.udiv(f.add(self.n, f.i32(bn - 1)), f.i32(bn))
        nfull = f.udiv(self.n, f.i32(bn))
        if self.causal:
            last = f.add(f.udiv(f.add(self.m0, f.i32(self.bm - 1)), f.i32(bn)), f.i32(1))
            nt = f.minu(nt, last)
            # tile t needs no mask iff its last key bn*t + bn - 1 <= m0
            nfull = f.minu(nfull, f.udiv(f.add(self.m0, f.i32(1)), f.i32(bn)))
        self.nt, self.nfull = nt, nfull

    def decode_item(self, w):
        """Persistent work index -> (query tile, head). Non-causal: query tiles
        of one head are consecutive (they share K/V in L2). Causal: the longest
        rows (last query tiles) of every head first."""
        f = self.f
        if self.causal:
            bh = f.urem(w, self.hb)
            mt = f.sub(f.sub(self.ntm, f.i32(1)), f.udiv(w, self.hb))
        else:
            mt = f.urem(w, self.ntm)
            bh = f.udiv(w, self.ntm)
        self.decode(mt, bh)

    def lane_setup(self, wg_tid):
        """Per-thread fragment coordinates inside its consumer warpgroup."""
        f = self.f
        warp = f.udiv(wg_tid, f.i32(32))
        lane = f.urem(wg_tid, f.i32(32))
        g = f.udiv(lane, f.i32(4))
        t = f.urem(lane, f.i32(4))
        self.t2 = f.mul(t, f.i32(2))
        r0 = f.add(f.add(self.cons_m0, f.mul(warp, f.i32(16))), g)
        r1 = f.add(r0, f.i32(8))
        self.qrow = [r0, r1]

    def gen_single(self):
        """v1: one warpgroup does everything; thread 0 issues TMA."""
        f = self.f
        L = self.L
        self.q_desc_off = f.i32(0)
        self.cons_m0 = self.m0
        self.lane_setup(self.tid)
        is0 = f.cmp("eq", self.tid, f.i32(0))
        f.emit(f"scf.if {is0} {{")
        f.depth += 1
        self.issue_q()
        for s in range(self.stages):
            ok = f.cmp("ult", f.i32(s), self.nt)
            f.emit(f"scf.if {ok} {{")
            f.depth += 1
            self.issue_kv(f.i32(s), f.i32(s))
            f.depth -= 1
            f.emit("}")
        f.depth -= 1
        f.emit("}")
        self.wait_bar(self.sptr(L.qbar), f.i32(0))
        state = self.init_state()
        for masked in (False, True):
            lb, ub = (f.i32(0), self.nfull) if not masked else (self.nfull, self.nt)
            state = self.loop(lb, ub, state, masked, release="refill")
        self.epilogue(state)

    def gen_specialized(self):
        """v2/v3: producer warpgroup (last) + consumer warpgroups."""
        f = self.f
        L = self.L
        wg = f.udiv(self.tid, f.i32(128))
        isprod = f.cmp("eq", wg, f.i32(self.consumers))
        f.emit(f"scf.if {isprod} {{")
        f.depth += 1
        if self.setmaxreg:
            f.emit("nvvm.setmaxregister decrease 24")
        isp0 = f.cmp("eq", self.tid, f.i32(128 * self.consumers))
        f.emit(f"scf.if {isp0} {{")
        f.depth += 1
        self.issue_q()
        self.produce_tiles(f.i32(0), self.nt)
        f.depth -= 1
        f.emit("}")
        f.depth -= 1
        f.emit("} else {")
        f.depth += 1
        if self.setmaxreg:
            f.emit("nvvm.setmaxregister increase 240")
        self.wg = wg
        wg_tid = f.urem(self.tid, f.i32(128))
        self.cons_m0 = f.add(self.m0, f.mul(wg, f.i32(64)))
        # Q rows of this consumer: 64*wg .. +63 -> byte offset wg*64*128 in each
        # chunk, i.e. wg*512 in descriptor units (16 B).
        self.q_desc_off = f.mul(wg, f.i32(64 * 128 // 16))
        self.lane_setup(wg_tid)
        self.wait_bar(self.sptr(L.qbar), f.i32(0))
        state = self.init_state()
        if self.overlap:
            state = self.overlapped(state)
        else:
            for masked in (False, True):
                lb, ub = (f.i32(0), self.nfull) if not masked else (self.nfull, self.nt)
                state = self.loop(lb, ub, state, masked, release="arrive")
        self.epilogue(state)
        f.depth -= 1
        f.emit("}")

    def gen_persistent(self):
        """v6: v4's warpgroups, looping over work items (grid = #SMs). The KV
        ring and its phases continue across items (global tile counter), the Q
        slot has its own full/empty pair (qbar/qempty), so the producer loads
        the next item's Q and K/V while the consumers finish and store."""
        f = self.f
        L = self.L
        wg = f.udiv(self.tid, f.i32(128))
        isprod = f.cmp("eq", wg, f.i32(self.consumers))
        f.emit(f"scf.if {isprod} {{")
        f.depth += 1
        f.emit("nvvm.setmaxregister decrease 24")
        isp0 = f.cmp("eq", self.tid, f.i32(128 * self.consumers))
        f.emit(f"scf.if {isp0} {{")
        f.depth += 1
        w = f.fresh("w")
        it, item = f.fresh("it"), f.fresh("item")
        res = f.fresh("pr")
        f.emit(f"{res}:2 = scf.for {w} = {self.w0} to {self.total} step {self.wstep} "
               f"iter_args({it} = {f.i32(0)}, {item} = {f.i32(0)}) -> (i32, i32) : i32 {{")
        f.depth += 1
        self.decode_item(w)
        notfirst = f.cmp("ugt", item, f.i32(0))
        f.emit(f"scf.if {notfirst} {{")
        f.depth += 1
        self.wait_bar(self.sptr(L.qempty), f.andi(f.sub(item, f.i32(1)), f.i32(1)))
        f.depth -= 1
        f.emit("}")
        self.issue_q()
        self.produce_tiles(it, self.nt)
        f.emit(f"scf.yield {f.add(it, self.nt)}, {f.add(item, f.i32(1))} : i32, i32")
        f.depth -= 1
        f.emit("}")
        f.depth -= 1
        f.emit("}")
        f.depth -= 1
        f.emit("} else {")
        f.depth += 1
        f.emit("nvvm.setmaxregister increase 240")
        self.wg = wg
        wg_tid = f.urem(self.tid, f.i32(128))
        self.q_desc_off = f.mul(wg, f.i32(64 * 128 // 16))
        self.pp_start()
        w = f.fresh("w")
        it, item = f.fresh("it"), f.fresh("item")
        res = f.fresh("cr")
        f.emit(f"{res}:2 = scf.for {w} = {self.w0} to {self.total} step {self.wstep} "
               f"iter_args({it} = {f.i32(0)}, {item} = {f.i32(0)}) -> (i32, i32) : i32 {{")
        f.depth += 1
        self.decode_item(w)
        self.cons_m0 = f.add(self.m0, f.mul(wg, f.i32(64)))
        self.lane_setup(wg_tid)
        self.wait_bar(self.sptr(L.qbar), f.andi(item, f.i32(1)))
        self.it_base = it
        state = self.overlapped(self.init_state())
        self.epilogue(state)
        f.emit(f"scf.yield {f.add(it, self.nt)}, {f.add(item, f.i32(1))} : i32, i32")
        f.depth -= 1
        f.emit("}")
        if self.pingpong:
            # warpgroup 1 arrived once more on barrier 1 than warpgroup 0 waited
            # (its first, unmatched arrive): consume it before exit.
            is0 = f.cmp("eq", wg, f.i32(0))
            f.emit(f"scf.if {is0} {{")
            f.depth += 1
            f.emit(f"nvvm.barrier id = {f.i32(1)} number_of_threads = {f.i32(256)}")
            f.depth -= 1
            f.emit("}")
        f.depth -= 1
        f.emit("}")

    def init_state(self):
        f = self.f
        z = f.f32(0.0)
        return {"o": [z] * NACC, "m": [f.f32(M_INIT)] * 2, "l": [z] * 2}

    def state_types(self, st):
        return ["f32"] * (NACC + 4)

    def pack_state(self, st):
        return st["o"] + st["m"] + st["l"]

    def unpack_state(self, vals):
        return {"o": vals[:NACC], "m": vals[NACC:NACC + 2], "l": vals[NACC + 2:NACC + 4]}

    def stage_phase(self, j):
        """Ring slot and mbarrier parity of KV tile j of the current work item
        (global tile counter = it_base + j)."""
        f = self.f
        g = f.add(self.it_base, j)
        stage = f.urem(g, f.i32(self.stages))
        phase = f.andi(f.udiv(g, f.i32(self.stages)), f.i32(1))
        return stage, phase

    def slot(self, j):
        f = self.f
        return f.urem(f.add(self.it_base, j), f.i32(self.stages))

    def qk_and_wait(self, stage):
        f = self.f
        f.emit("nvvm.wgmma.fence.aligned")
        acc = self.qk_wgmma(stage)
        f.emit("nvvm.wgmma.commit.group.sync.aligned")
        f.emit("nvvm.wgmma.wait.group.sync.aligned 0")
        return [f.op(f"llvm.extractvalue {acc}[{i}] : {self.acc_s}", "s") for i in range(self.ns)]

    def full_bar(self, stage, base=None):
        f = self.f
        base = self.L.full if base is None else base
        return self.sptr_dyn(f.add(f.mul(stage, f.i32(8)), f.i32(base)))

    def arrive_bar(self, stage, base):
        f = self.f
        f.emit(f"nvvm.mbarrier.arrive {self.full_bar(stage, base)} : !llvm.ptr<3>")

    def produce_tiles(self, it, nt):
        """Producer thread: TMA loads of the nt KV tiles of one work item; it =
        global tile counter of the item's first tile (ring slot / parity)."""
        f = self.f
        L = self.L
        j = f.fresh("j")
        f.emit(f"scf.for {j} = {f.i32(0)} to {nt} step {f.i32(1)} : i32 {{")
        f.depth += 1
        g = f.add(it, j)
        stage = f.urem(g, f.i32(self.stages))
        rnd = f.udiv(g, f.i32(self.stages))
        again = f.cmp("uge", g, f.i32(self.stages))
        ph = f.andi(f.sub(rnd, f.i32(1)), f.i32(1))
        groups = [("K", L.empty), ("V", L.emptyv)] if self.split else [("KV", L.empty)]
        for which, ebase in groups:
            f.emit(f"scf.if {again} {{")
            f.depth += 1
            self.wait_bar(self.full_bar(stage, ebase), ph)
            f.depth -= 1
            f.emit("}")
            self.issue_kv(j, stage, which)
        f.depth -= 1
        f.emit("}")

    def release(self, stage, j, how):
        f = self.f
        L = self.L
        if how == "refill":
            # v1: every warp waited for its wgmma; one CTA barrier, then thread 0
            # reuses the slot for tile j + stages.
            f.emit("gpu.barrier")
            nxt = f.add(j, f.i32(self.stages))
            ok = f.op(f"arith.andi {f.cmp('eq', self.tid, f.i32(0))}, {f.cmp('ult', nxt, self.nt)} : i1", "p")
            f.emit(f"scf.if {ok} {{")
            f.depth += 1
            self.issue_kv(nxt, stage)
            f.depth -= 1
            f.emit("}")
        else:
            eb = self.sptr_dyn(f.add(f.mul(stage, f.i32(8)), f.i32(L.empty)))
            f.emit(f"nvvm.mbarrier.arrive {eb} : !llvm.ptr<3>")

    def loop(self, lb, ub, st, masked, release):
        """Synchronous loop: wait tile, S=QK^T, softmax, O+=PV, release."""
        f = self.f
        j = f.fresh("j")
        args = self.pack_state(st)
        names = [f.fresh("st") for _ in args]
        iters = ", ".join(f"{n} = {a}" for n, a in zip(names, args))
        res = f.fresh("res")
        f.emit(f"{res}:{len(args)} = scf.for {j} = {lb} to {ub} step {f.i32(1)} "
               f"iter_args({iters}) -> ({', '.join(self.state_types(st))}) : i32 {{")
        f.depth += 1
        cur = self.unpack_state(names)
        stage, phase = self.stage_phase(j)
        self.wait_bar(self.full_bar(stage), phase)
        s_vals = self.qk_and_wait(stage)
        p_regs, m_new, l_new, o_sc, _ = self.softmax(s_vals, cur["m"], cur["l"], cur["o"], masked, j)
        f.emit("nvvm.wgmma.fence.aligned")
        o_new = self.pv_wgmma(stage, o_sc, p_regs)
        f.emit("nvvm.wgmma.commit.group.sync.aligned")
        f.emit("nvvm.wgmma.wait.group.sync.aligned 0")
        self.release(stage, j, release)
        out = o_new + m_new + l_new
        f.emit(f"scf.yield {', '.join(out)} : {', '.join(self.state_types(st))}")
        f.depth -= 1
        f.emit("}")
        return self.unpack_state([f"{res}#{i}" for i in range(len(args))])

    def pp_start(self):
        """Ping-pong: warpgroup 1 lets warpgroup 0 issue first."""
        if not self.pingpong:
            return
        f = self.f
        is1 = f.cmp("eq", self.wg, f.i32(1))
        f.emit(f"scf.if {is1} {{")
        f.depth += 1
        f.emit(f"nvvm.barrier.arrive id = {f.i32(1)} number_of_threads = {f.i32(256)}")
        f.depth -= 1
        f.emit("}")

    def pp_sync(self):
        """Wait for this warpgroup's turn to issue wgmma (named barrier 1 + wg)."""
        if not self.pingpong:
            return
        f = self.f
        bid = f.add(self.wg, f.i32(1))
        f.emit(f"nvvm.barrier id = {bid} number_of_threads = {f.i32(256)}")

    def pp_pass(self, last=False):
        """Hand the turn to the other warpgroup (named barrier 2 - wg)."""
        if not self.pingpong:
            return
        f = self.f
        bid = f.sub(f.i32(2), self.wg)
        if last:
            # warpgroup 1's last batch: warpgroup 0 will not wait again.
            is0 = f.cmp("eq", self.wg, f.i32(0))
            f.emit(f"scf.if {is0} {{")
            f.depth += 1
            f.emit(f"nvvm.barrier.arrive id = {bid} number_of_threads = {f.i32(256)}")
            f.depth -= 1
            f.emit("}")
        else:
            f.emit(f"nvvm.barrier.arrive id = {bid} number_of_threads = {f.i32(256)}")

    def overlapped(self, st):
        """v3 schedule (per consumer warpgroup):
            S0 = QK0; softmax(S0) -> P0
            for j in 1..nt-1:
              issue S_j = Q K_j^T            (async)
              issue O += P_{j-1} V_{j-1}     (async)
              wait S_j (wait_group 1); softmax(S_j) -> P_j, alpha_j  [PV runs meanwhile]
              wait PV (wait_group 0); release slot j-1; O *= alpha_j
            O += P_last V_last; release.
        The tile j is masked iff j >= nfull."""
        f = self.f
        L = self.L
        nt = self.nt
        # prologue: tile 0 (masked iff nfull == 0)
        stage0, phase0 = self.stage_phase(f.i32(0))
        if not self.persistent:
            self.pp_start()
        self.wait_bar(self.full_bar(stage0), phase0)
        self.pp_sync()
        f.emit("nvvm.wgmma.fence.aligned")
        acc0 = self.qk_wgmma(stage0)
        f.emit("nvvm.wgmma.commit.group.sync.aligned")
        self.pp_pass()
        f.emit("nvvm.wgmma.wait.group.sync.aligned 0")
        if self.split:
            self.arrive_bar(stage0, L.empty)      # K(0) consumed
        s_vals = [f.op(f"llvm.extractvalue {acc0}[{i}] : {self.acc_s}", "s") for i in range(self.ns)]
        need_mask0 = f.cmp("eq", self.nfull, f.i32(0))
        pr = f.fresh("pro")
        NP, NS = self.np, self.ns
        types = ["i32"] * NP + ["f32"] * 4
        f.emit(f"{pr}:{len(types)} = scf.if {need_mask0} -> ({', '.join(types)}) {{")
        f.depth += 1
        p_regs, m_new, l_new, _, _ = self.softmax(s_vals, st["m"], st["l"], None, True, f.i32(0))
        f.emit(f"scf.yield {', '.join(p_regs + m_new + l_new)} : {', '.join(types)}")
        f.depth -= 1
        f.emit("} else {")
        f.depth += 1
        p_regs, m_new, l_new, _, _ = self.softmax(s_vals, st["m"], st["l"], None, False, f.i32(0))
        f.emit(f"scf.yield {', '.join(p_regs + m_new + l_new)} : {', '.join(types)}")
        f.depth -= 1
        f.emit("}")
        vals = [f"{pr}#{i}" for i in range(len(types))]
        p_prev, m_cur, l_cur = vals[:NP], vals[NP:NP + 2], vals[NP + 2:NP + 4]
        o_cur = st["o"]

        # steady state j = 1 .. nt-1 ; carried: O, m, l, P_{j-1}
        j = f.fresh("j")
        carried = o_cur + m_cur + l_cur + p_prev
        ctypes = ["f32"] * (NACC + 4) + ["i32"] * NP
        names = [f.fresh("st") for _ in carried]
        res = f.fresh("res")
        iters = ", ".join(f"{n} = {a}" for n, a in zip(names, carried))
        f.emit(f"{res}:{len(carried)} = scf.for {j} = {f.i32(1)} to {nt} step {f.i32(1)} "
               f"iter_args({iters}) -> ({', '.join(ctypes)}) : i32 {{")
        f.depth += 1
        o_in, m_in, l_in, pp = names[:NACC], names[NACC:NACC + 2], names[NACC + 2:NACC + 4], names[NACC + 4:]
        stage, phase = self.stage_phase(j)
        jm1 = f.sub(j, f.i32(1))
        pstage = self.slot(jm1)
        self.wait_bar(self.full_bar(stage), phase)
        if self.split:
            pstage, pphase = self.stage_phase(jm1)
            self.wait_bar(self.full_bar(pstage, L.fullv), pphase)
        self.pp_sync()
        f.emit("nvvm.wgmma.fence.aligned")
        acc_s = self.qk_wgmma(stage)
        f.emit("nvvm.wgmma.commit.group.sync.aligned")
        o_pv = self.pv_wgmma(pstage, o_in, pp)
        f.emit("nvvm.wgmma.commit.group.sync.aligned")
        self.pp_pass()
        f.emit("nvvm.wgmma.wait.group.sync.aligned 1")
        if self.split:
            self.arrive_bar(stage, L.empty)       # K(j) consumed
        s_vals = [f.op(f"llvm.extractvalue {acc_s}[{i}] : {self.acc_s}", "s") for i in range(self.ns)]
        masked = f.cmp("uge", j, self.nfull)
        sm = f.fresh("sm")
        # softmax in f32 while P(j-1).V(j-1) runs; the bf16 P(j) registers (the
        # next wgmma's A operand) are written only after wait_group 0, else
        # ptxas serializes every wgmma (C7513).
        stypes = ["f32"] * (NS + 6)
        f.emit(f"{sm}:{len(stypes)} = scf.if {masked} -> ({', '.join(stypes)}) {{")
        f.depth += 1
        p_f, m_new, l_new, _, alpha = self.softmax(s_vals, m_in, l_in, None, True, j, pack=False)
        f.emit(f"scf.yield {', '.join(p_f + m_new + l_new + alpha)} : {', '.join(stypes)}")
        f.depth -= 1
        f.emit("} else {")
        f.depth += 1
        p_f, m_new, l_new, _, alpha = self.softmax(s_vals, m_in, l_in, None, False, j, pack=False)
        f.emit(f"scf.yield {', '.join(p_f + m_new + l_new + alpha)} : {', '.join(stypes)}")
        f.depth -= 1
        f.emit("}")
        sv = [f"{sm}#{i}" for i in range(len(stypes))]
        p_f, m_new, l_new, alpha = sv[:NS], sv[NS:NS + 2], sv[NS + 2:NS + 4], sv[NS + 4:NS + 6]
        f.emit("nvvm.wgmma.wait.group.sync.aligned 0")
        if self.split:
            self.arrive_bar(pstage, L.emptyv)     # V(j-1) consumed
        else:
            self.release(pstage, jm1, "arrive")
        o_sc = [f.fmul(o_pv[i], alpha[(i // 2) % 2]) for i in range(NACC)]
        p_new = self.pack_p(p_f)
        out = o_sc + m_new + l_new + p_new
        f.emit(f"scf.yield {', '.join(out)} : {', '.join(ctypes)}")
        f.depth -= 1
        f.emit("}")
        rv = [f"{res}#{i}" for i in range(len(carried))]
        o_fin, m_fin, l_fin, p_last = rv[:NACC], rv[NACC:NACC + 2], rv[NACC + 2:NACC + 4], rv[NACC + 4:]
        # tail: O += P_last V_last
        lastj = f.sub(nt, f.i32(1))
        lstage = self.slot(lastj)
        if self.persistent:
            # every Q.K^T of this work item is done: the producer may load the
            # next item's Q while we finish P.V and store.
            f.emit(f"nvvm.mbarrier.arrive {self.sptr(self.L.qempty)} : !llvm.ptr<3>")
        if self.split:
            lstage, lphase = self.stage_phase(lastj)
            self.wait_bar(self.full_bar(lstage, L.fullv), lphase)
        self.pp_sync()
        f.emit("nvvm.wgmma.fence.aligned")
        o_end = self.pv_wgmma(lstage, o_fin, p_last)
        f.emit("nvvm.wgmma.commit.group.sync.aligned")
        self.pp_pass(last=not self.persistent)
        f.emit("nvvm.wgmma.wait.group.sync.aligned 0")
        if self.split:
            self.arrive_bar(lstage, L.emptyv)
        else:
            self.release(lstage, lastj, "arrive")
        return {"o": o_end, "m": m_fin, "l": l_fin}

    def epilogue(self, st):
        """O / l, bf16, straight to global (rows < N)."""
        f = self.f
        f.comment("epilogue: finish the row sums over the quad, O /= l, store bf16 pairs")
        inv = []
        for r in range(2):
            l = st["l"][r]
            for off in (1, 2):
                sh = f.op(f"nvvm.shfl.sync bfly {f.i32(-1)}, {l}, {f.i32(off)}, {f.i32(31)} : f32 -> f32", "f")
                l = f.fadd(l, sh)
            inv.append(f.op(f"arith.divf {f.f32(1.0)}, {l} : f32", "f"))
        o = [f.fmul(st["o"][i], inv[(i // 2) % 2]) for i in range(NACC)]
        regs = self.pack_p(o)  # same pairing: reg k = (o[2k], o[2k+1])
        for r in range(2):
            row = self.qrow[r]
            ok = f.cmp("slt", row, self.n)
            f.emit(f"scf.if {ok} {{")
            f.depth += 1
            rowg = f.add(f.mul(self.bh, self.n), row)
            rowg = f.op(f"arith.extui {rowg} : i32 to i64")
            base = f.mul(rowg, f.i64(D), "i64")
            base = f.add(base, f.op(f"arith.extui {self.t2} : i32 to i64"), "i64")
            for jn in range(NACC // 4):
                idx = f.add(base, f.i64(8 * jn), "i64")
                ptr = f.op(f"llvm.getelementptr {self.o}[{idx}] : (!llvm.ptr, i64) -> !llvm.ptr, bf16", "gp")
                reg = regs[2 * jn + r]
                f.emit(f"llvm.store {reg}, {ptr} {{alignment = 4 : i64}} : i32, !llvm.ptr")
            f.depth -= 1
            f.emit("}")

    def text(self):
        L = self.L
        self.tq, self.tk, self.tv, self.o = "%tmap_q", "%tmap_k", "%tmap_v", "%o"
        self.n, self.heads, self.sl2, self.batch = "%n", "%heads", "%scale_log2e", "%batch"
        f = self.f
        self.neg_sl2 = None
        # neg scale computed once
        f.emit("%neg_scale_log2e = arith.negf %scale_log2e : f32")
        self.neg_sl2 = "%neg_scale_log2e"
        self.generate()
        attrs = (f"known_block_size = array<i32: {self.threads}, 1, 1>, "
                 f"nvvm.maxntid = array<i32: {self.threads}, 1, 1>, nvvm.minctasm = 1 : i32")
        head = (f"  gpu.func @{self.name}(%tmap_q: !llvm.ptr, %tmap_k: !llvm.ptr, %tmap_v: !llvm.ptr, "
                f"%o: !llvm.ptr, %n: i32, %heads: i32, %scale_log2e: f32, %batch: i32) kernel attributes {{{attrs}}} {{")
        return "\n".join([head] + f.body() + ["  }"])


VARIANTS = {
    # name: Kernel options. Measured numbers: docs/gpu-notes.md.
    # v1: 1 warpgroup (BM=64), thread 0 issues TMA, everything synchronous.
    "v1": dict(consumers=1, producer=False, stages=2),
    # v2: + producer warpgroup / 2 consumer warpgroups (BM=128), setmaxnreg.
    "v2": dict(consumers=2, producer=True, stages=2),
    # v3: + intra-warpgroup overlap (S(j+1) and P(j)V(j) in flight during softmax).
    "v3": dict(consumers=2, producer=True, stages=3, overlap=True),
    # v4: + ex2.approx.ftz (no denormal fix-up around every exp2).
    "v4": dict(consumers=2, producer=True, stages=3, overlap=True, ftz=True),
    # v5: + ping-pong of the two consumer warpgroups (named barriers 1, 2).
    "v5": dict(consumers=2, producer=True, stages=3, overlap=True, ftz=True, pingpong=True),
    # v6/v7: persistent grid (static round robin over work items), without / with ping-pong.
    "v6": dict(consumers=2, producer=True, stages=3, overlap=True, ftz=True, persistent=True),
    "v7": dict(consumers=2, producer=True, stages=3, overlap=True, ftz=True, persistent=True,
               pingpong=True),
    # v8: v5 with separate K and V rings (own full/empty barriers): K(j) is
    # released right after S(j), V(j) after P(j).V(j).
    "v8": dict(consumers=2, producer=True, stages=3, overlap=True, ftz=True, pingpong=True,
               split=True),
    # v9: BN = 176 (FA3's non-causal tile for d = 128), split rings, 2 stages.
    "v9": dict(consumers=2, producer=True, stages=2, overlap=True, ftz=True, pingpong=True,
               split=True, bn=176),
    # v9c: v9 with one K+V slot per stage: with 2 stages the intra-warpgroup
    # overlap leaves no free slot to prefetch into (measured -20%).
    "v9c": dict(consumers=2, producer=True, stages=2, overlap=True, ftz=True, pingpong=True,
                bn=176),
    # v10: v9 + persistent (spills: 32 B non-causal, 248 B causal).
    "v10": dict(consumers=2, producer=True, stages=2, overlap=True, ftz=True, pingpong=True,
                persistent=True, split=True, bn=176),
}
DEFAULT_VARIANTS = "v1,v4,v5"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--output", default="flash_fwd_d128.mlir")
    ap.add_argument("--variants", default=DEFAULT_VARIANTS,
                    help="comma-separated, from: " + ",".join(VARIANTS))
    ap.add_argument("--manifest", default=None,
                    help="write a JSON manifest of kernels (threads, smem, BM)")
    args = ap.parse_args()
    acc = "!acc = !llvm.struct<(" + ", ".join(["f32"] * NACC) + ")>"
    extra_acc = set()
    for v in args.variants.split(","):
        bn = VARIANTS[v].get("bn", BN)
        if bn != 128:
            extra_acc.add(bn)
    for bn in sorted(extra_acc):
        acc += f"\n!acc{bn} = !llvm.struct<(" + ", ".join(["f32"] * (bn // 2)) + ")>"
    out = [
        "// Forward flash attention, head dim 128, bf16 in / f32 accumulate / bf16 out,",
        "// for sm_90a. GENERATED by bench/gpu/gen_flash.py; see docs/gpu-notes.md.",
        "// Lower with bench/gpu/build.sh.",
        acc,
        "module attributes {gpu.container_module} {",
        "gpu.module @tucker_flash {",
        "  llvm.mlir.global external @__tucker_smem() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>",
    ]
    manifest = {}
    for v in args.variants.split(","):
        opts = VARIANTS[v]
        for causal in (False, True):
            name = f"flash_fwd_{v}" + ("_causal" if causal else "")
            k = Kernel(name, causal, **opts)
            out.append(k.text())
            manifest[name] = {"threads": k.threads, "smem": k.L.request, "bm": k.bm,
                              "bn": k.bn, "causal": causal, "variant": v,
                              "persistent": k.persistent}
    out += ["}", "}"]
    with open(args.output, "w") as fh:
        fh.write("\n".join(out) + "\n")
    if args.manifest:
        import json
        with open(args.manifest, "w") as fh:
            json.dump(manifest, fh, indent=1)


if __name__ == "__main__":
    main()
