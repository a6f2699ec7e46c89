//===- Passes.td - Tucker conversions ----------------------*- tablegen -*-===//

#ifndef TUCKER_CONVERSION_PASSES_TD
#define TUCKER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def TuckerFlashToLinalgPass : Pass<"tucker-flash-to-linalg"> {
  let summary = "Lower tucker.flash and tucker.rope to tiled online-softmax linalg loops";
  let description = [{
    Lowers `tucker.flash` to the flash-attention algorithm on tensors (the
    CPU reference path; everything after it is upstream bufferization and
    lowering). No `Nq×Nk` score matrix is built: an `scf.for` runs over
    query tiles and, inside, over key tiles; per key tile

    * `S = Q·Kᵀ` is a linalg.generic contraction in f32 (f16/bf16 operands
      are extended in its body);
    * the running row max `m` (in the log2 domain) and row sum `l` are
      updated, the accumulator is rescaled by `exp2(m_old − m_new)`, and
      `P = exp2(S·c − m_new)` with `c = scale·log2(e)` one constant;
    * `O += P·V` is a second contraction.

    After the key loop, `O / l` is stored in the element type; a row that
    sees no key (`l = 0`, causal with `Nq > Nk`) gives 0. `m` starts at
    `−inf` and is replaced by 0 as the exponent shift while it is `−inf`, so
    no `−inf − (−inf)` NaN arises.

    GQA: `q` is expanded to `[B, Hkv, G, Nq, D]` (`G = Hq / Hkv`), so that
    query head `h = hk·G + g` reads kv head `hk` through the indexing maps;
    batch and heads stay parallel loops of every linalg op (one K/V tile
    serves a whole group, as for latent MQA).

    Causal (query `m` sees key `n` iff `n ≤ m + Nk − Nq`): per query tile
    the key loop ends after the last key its last row sees, and runs in two
    parts: tiles that the first row sees whole, unmasked, then the diagonal
    tiles with a mask. Tails of lengths that are no multiple of the tile are
    `tensor.extract_slice`s of dynamic size `min(tile, N − start)`; lengths
    that are static multiples keep static tile shapes. B, Nq and Nk may be
    dynamic.

    `tucker.rope` and a flash's `rope` (q at positions `m + Nk − Nq`, k at
    `n`, rotated before the loops and kept in f32) become an f64-computed
    `cos`/`sin` table `[(B,) N, width/2]` in f32 and one elementwise
    linalg.generic over the rotated pairs.

    Sketch of the result for a non-causal flash:

    ```mlir
    %q5 = tensor.expand_shape %q [[0], [1, 2], [3], [4]] ...
    %o5 = scf.for %qs = %c0 to %nq step %c64 iter_args(%res = %init) {
      %qt = tensor.extract_slice %q5[0, 0, 0, %qs, 0] ...
      %m:3 = scf.for %ks = %c0 to %nk step %c64
          iter_args(%max = %ninf, %sum = %zero, %acc = %zeros) {
        %s = linalg.generic {...Q·Kᵀ...}
        %tmax = linalg.generic {...arith.maximumf...}
        %st:4 = linalg.generic {...m_new, shift, alpha = math.exp2, l·alpha...}
        %p = linalg.generic {...math.exp2(S·c − shift)...}
        %l = linalg.generic {...l·alpha + Σ P...}
        %o = linalg.generic {...acc·alpha...}
        %pv = linalg.generic {...acc + P·V...}
        scf.yield %st#0, %l, %pv
      }
      %out = linalg.generic {...O / l, 0 where l = 0, truncf...}
      %r = tensor.insert_slice %out into %res[0, 0, 0, %qs, 0] ...
      scf.yield %r
    }
    %o = tensor.collapse_shape %o5 [[0], [1, 2], [3], [4]] ...
    ```

    A lowering to LLVM that runs (mlir-runner):
    `--tucker-flash-to-linalg
     --one-shot-bufferize="bufferize-function-boundaries"
     --buffer-deallocation-pipeline --convert-bufferization-to-memref
     --convert-linalg-to-loops --expand-strided-metadata --lower-affine
     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts`.
    Tile sizes must be positive (else the pass fails with an error).
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Query rows per tile (> 0)">,
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"64",
           "Keys per tile (> 0)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TuckerGpuConfigurePass
    : Pass<"tucker-gpu-configure", "::mlir::ModuleOp"> {
  let summary = "Choose the Hopper schedule of every tucker.flash and flash_backward";
  let description = [{
    Stamps `schedule = #tucker.flash_schedule<...>` on every `tucker.flash`
    that has none, from its shapes and the options (every heuristic of the
    Hopper backend lives here), and checks every schedule, stamped or given,
    against the kernels' resources (shared memory of the K/V ring, the
    registers of the tile sizes, the head widths): a schedule a kernel
    cannot run is an error at the op. A schedule already present is kept,
    so a user, a benchmark or a tuner can set one in IR; the options apply
    to the ops without one.

    * `decode`: `auto` when Nq is static and at most 64 (one query tile);
    * consumer warpgroups: 3 for heads of width 64 or less (they hide the
      softmax), except causal shapes whose 192-row tiles pad over 6 % more
      query rows than 128-row ones; 2 otherwise, and always for decode and
      heads wider than 256;
    * heads per tile: the fewest heads (a power of two dividing Hq / Hkv)
      whose padded query rows are within 1 % of the least;
    * `dependent_launch` for decode.

    A `tucker.flash_backward` gets `#tucker.flash_backward_schedule<
    keys_per_tile = 128, queries_per_tile = 64, head_splits = S,
    ordered_dq = D>` (D: whether the op is `deterministic`; S: 1, or, while
    the main kernel's ceil(Nk / 128) · Hkv · B CTAs are fewer than 16 per SM
    (a dynamic size taken as 1), the powers of two dividing the group that
    reach it, down to one query head per CTA) when its kernels exist (bf16
    or f16, heads of 64 or 128, no rope); the rest is an error at the op
    naming what is missing, as are head splits that do not divide the group
    and a `deterministic` op whose given schedule adds dQ by atomics.

    Before:
    ```mlir
    %o = tucker.flash %q, %k, %v {causal} : tensor<4x16x4096x128xbf16>, ...
    ```
    After:
    ```mlir
    %o = tucker.flash %q, %k, %v {causal, schedule = #tucker.flash_schedule<
        decode = false, consumers = 2, heads_per_tile = 1, keys_per_tile = 0,
        kv_splits = 0, sm_count = 132, ping_pong = true, rope_kernel = true,
        dependent_launch = false>} : tensor<4x16x4096x128xbf16>, ...
    ```
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target chip: sm_90a (sm_90 is taken as sm_90a; the kernels use "
           "wgmma and setmaxnreg, so compile them for sm_90a)">,
    Option<"pingPong", "ping-pong", "bool", /*default=*/"true",
           "Consumer warpgroups take turns issuing wgmma (named barriers)">,
    Option<"headsPerTile", "heads-per-tile", "int64_t", /*default=*/"0",
           "Query heads of one kv head packed into the 128-row M tile: a "
           "power of two dividing Hq / Hkv; 0 picks it from the shapes "
           "(packs when Nq < 128)">,
    Option<"decode", "decode", "::mlir::tucker::FlashDecodeMode",
           /*default=*/"::mlir::tucker::FlashDecodeMode::Auto",
           "Split-KV decode kernel", [{::llvm::cl::values(
             clEnumValN(::mlir::tucker::FlashDecodeMode::Auto, "auto",
                        "when Nq is static and at most 64"),
             clEnumValN(::mlir::tucker::FlashDecodeMode::On, "on",
                        "refused when Nq is dynamic or above 64"),
             clEnumValN(::mlir::tucker::FlashDecodeMode::Off, "off",
                        "the prefill kernel"))}]>,
    Option<"kvSplits", "kv-splits", "int64_t", /*default=*/"0",
           "Decode: key-sequence splits per query tile (0: as many as fill "
           "sm-count SMs; capped by the key tiles)">,
    Option<"smCount", "sm-count", "int64_t", /*default=*/"132",
           "Decode: SMs the automatic split count fills (H100/H200 SXM: 132)">,
    Option<"keysPerTile", "keys-per-tile", "int64_t", /*default=*/"0",
           "Prefill kernel with heads up to 256 wide: keys per K/V tile (a "
           "multiple of 16 up to 256; 0: the largest whose ring fits shared "
           "memory and whose accumulators fit the registers). The decode and "
           "split-O kernels choose their own">,
    Option<"consumerWarpgroups", "consumer-warpgroups", "int64_t",
           /*default=*/"0",
           "Prefill kernel: consumer warpgroups of 64 query rows each, 2 or 3 "
           "(3: a 192-row M tile, 160 registers per consumer thread, for "
           "Dv <= 64); 0 picks from the shapes. The decode and split-O "
           "kernels run 2">,
    Option<"ropeKernel", "rope-kernel", "bool", /*default=*/"true",
           "Prefill with rope: rotate q and k once in a kernel of their own "
           "before the flash kernel (false: every K tile rotated on the fly "
           "by each query tile that reads it)">,
  ];
  let dependentDialects = ["::mlir::tucker::TuckerDialect"];
}

def TuckerFlashToGpuPass : Pass<"tucker-flash-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower tucker.flash to Hopper flash-attention kernels";
  let description = [{
    Replaces each `tucker.flash` (on tensors) by a call of a host launcher
    that runs a generated sm_90a flash-attention kernel. The kernels are
    built op by op with the gpu, nvvm, llvm, arith, scf and vector dialects
    and collected in `gpu.module @tucker_flash_kernels`; ops that share
    element type, head widths, GQA group size, causal flag and scale share
    one kernel (batch, sequence length and head count are run-time values).

    Kernel (docs/gpu-notes.md): 384 threads, a producer warpgroup
    (`setmaxregister` 24) whose one thread issues TMA loads of the Q tile
    (128 rows) and of K/V tiles into 128-byte swizzled shared memory
    through a 3-slot mbarrier ring (full/empty barriers), and two consumer
    warpgroups (`setmaxregister` 240, 64 query rows each) that compute
    `S = Q·Kᵀ` by wgmma from shared memory, the online softmax in registers
    (quad shuffles, `ex2.approx.ftz` with `scale·log2(e)` folded), and
    `O += P·V` by wgmma with P from registers (inline PTX), S of the next
    tile and P·V of the previous in flight during the softmax, the two
    warpgroups taking turns (ping-pong). Causal: query tiles longest first,
    tiles past the diagonal skipped, only diagonal and tail tiles masked.
    GQA reads kv head `h / (Hq/Hkv)` through the TMA coordinates.

    GQA/MQA: the schedule's `heads_per_tile` query heads of one kv head share the M tile
    (128 rows = heads × positions), so each K/V tile is loaded once for all
    of them; when `v` is a column slice of `k` (a shared latent, as
    `--tucker-fold` makes it, also through one `tensor.expand_shape` on
    both), only K is loaded and `P·V` reads the slice in place.

    Every schedule choice comes from the op's `#tucker.flash_schedule`
    (stamped by `--tucker-gpu-configure`); a flash without one is an error.

    Decode (the schedule's `decode`): the split-KV kernel. Its 64-row M tile
    holds the query heads of one kv head times the positions; the key
    sequence is split across CTAs so that the whole GPU streams the cache
    (`kv_splits`, else as many splits as fill `sm_count` SMs), the two
    consumer warpgroups take alternate key tiles, and each writes an
    unnormalized partial result (O in f32, row max and sum) that a second
    kernel, `<kernel>_combine`, merges. Heads wider than 256 use the split-O
    kernel with the same splits. With `dependent_launch`, the launcher calls
    `tuckerLaunchDependentNext()` before the kernel's `gpu.launch_func`: the
    runtime then launches it with programmatic stream serialization.

    A `lengths` operand (i32 `[B]`) gives each sequence its own key count
    (clamped to `[0, Nk]`); the kernels read it at run time.

    A `tucker.flash_backward` (with its `#tucker.flash_backward_schedule`)
    becomes a call of a launcher of three kernels, `<kernel>_prep` (delta =
    rowsum(o ∘ do), dq_accum zeroed), `<kernel>` (a CTA per 128 keys of a kv
    head: dk, dv, and dq accumulated in f32) and `<kernel>_finish` (dq =
    dq_accum · scale), the f32 scratch allocated at the op site; without
    query rows `<kernel>_zero` writes dk and dv (docs/gpu-notes.md, "The
    backward").

    Heads made by `linalg.transpose` of `[B, N, H, D]` with permutation
    `[0, 2, 1, 3]` (how `--tucker-fold` turns projections into heads) are
    read in place through strided tensor maps (a `memref.transpose` view of
    the projection), and a flash whose only user is the transpose back to
    `[B, Nq, Hq, Dv]` writes that layout directly: the transposes are
    erased, no copy is made. A q, k or v that is a column slice of a wider
    tensor (`tensor.extract_slice` of a run of the last dim, every other dim
    whole; `--tucker-merge-products` makes them), directly or through a
    `tensor.expand_shape`, is read in place as well: a view with the wider
    tensor's row stride, the slice's first column its offset.

    `rope` on prefill shapes with the schedule's `rope_kernel`: a kernel
    `<kernel>_rotate` writes rotated copies of q and k (into buffers the op
    site allocates) and the flash kernel without rope reads them (else
    rotation on the fly inside the flash kernel, as decode always does).

    Kernel ABI (FlashKernelArgs): `(tmap_q, tmap_k, tmap_v, o, o_partial,
    stats, lengths: !llvm.ptr, nq, nk, tiles_per_split: i32)`, then
    `counters: !llvm.ptr` for a decode kernel and `lse: !llvm.ptr` (f32
    `[B, Hq, Nq]`) when the flash returns its log-sum-exp; grid `(ceil(Nq / rows) ·
    splits, Hq / heads_per_tile, B)` with `rows = M / heads_per_tile` (M:
    128, or 64 for decode and wide heads), block 384, dynamic shared memory
    as in the kernel's `tucker.launch` attribute; each tmap points to a
    128-byte `CUtensorMap` in device memory (4-D, dims `(D, N, H, B)`
    innermost first, box `(64, rows, heads, 1)`, 128B swizzle, zero fill).
    Pointers a kernel does not use are null.

    Result, for `%o = tucker.flash %q, %k, %v {causal} : ...bf16...`:

    ```mlir
    %qb = bufferization.to_buffer %q read_only : ... to memref<...>
    ...
    %ob = memref.alloc() : memref<4x16x4096x128xbf16>
    call @tucker_flash_launch_flash_fwd_bf16_d128_causal(%qb, %kb, %vb, %ob)
    %o = bufferization.to_tensor %ob restrict writable : ...
    ...
    func.func private @tucker_flash_launch_flash_fwd_bf16_d128_causal(
        %q: memref<...>, %k: memref<...>, %v: memref<...>, %o: memref<...>) {
      %tq = nvgpu.tma.create.descriptor %uq box[%c1, %c1, %c128, %c64] ...
      ...
      gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128_causal
          blocks in (%nx, %c16, %c4) threads in (%c384, %c1, %c1)
          dynamic_shared_memory_size %smem args(%mq : !llvm.ptr, ...)
    }
    gpu.module @tucker_flash_kernels {
      gpu.func @flash_fwd_bf16_d128_causal(...) kernel attributes {...}
    }
    ```

    The launcher's buffers must be device memory. `gpu-lower-to-nvvm-pipeline`
    (after bufferization) lowers the whole result; the host code then calls
    MLIR's `mgpu*` runtime ABI.

    Supported: bf16 and f16; `Dqk` and `Dv` multiples of 16 up to 256 (a
    partial 64-column chunk is zero-filled; keys per tile shrink with the
    width so the ring fits); `Hq % Hkv == 0`; any B, Nq and Nk ≥ 1 (causal
    aligns the last query with the last key; rows that see no key are 0);
    `v` a separate tensor or `tensor.extract_slice` of `k` along the last
    dimension from a multiple of 64; `rope` on the fly (Q and each K tile
    rotated in shared memory). Heads wider than 256
    (Dqk up to 576, Dv up to 512) take the split-O kernel (64 query rows, the
    two consumer warpgroups splitting key tiles for S and value columns for
    O). Everything else (f32, wider heads, a chip other
    than sm_90a) is refused with an error at the op that names the limit.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def TuckerGpuCheckHostPass : Pass<"tucker-gpu-check-host", "::mlir::ModuleOp"> {
  let summary = "Refuse host code the tucker GPU pipeline cannot lower";
  let description = [{
    Runs in `--tucker-gpu-pipeline` after `--tucker-flash-to-gpu`,
    `--tucker-gemm-to-runtime` and the lowering of leftover `tucker.rope`,
    before bufferization. Outside `gpu.module`s, what the rest of the
    pipeline lowers passes: structured linalg ops on tensors (they become
    GPU kernels), the tensor shape ops that bufferize to views, allocations
    or copies (`tensor.empty`, `expand_shape`, `collapse_shape`,
    `extract_slice`, `insert_slice`, `cast`, `dim`), `func`,
    `bufferization` and the launchers' host glue. Refused, with an error
    naming the op: a `tucker` op (no GPU lowering), a non-structured linalg
    op, linalg on buffers, any other op on tensors (`tensor.extract`,
    `tensor.from_elements`, ...: it would run on the host). Tensor constants
    pass: `--tucker-gpu-map-loops` moves them into the kernels that read
    them. With `format=bin` or `fatbin`, a missing
    ptxas ($CUDA_HOME/bin, /usr/local/cuda/bin, $PATH) is an error too.
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"isa\"",
           "gpu.binary format the pipeline will produce (isa|bin|fatbin)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TuckerGpuDeviceBuffersPass
    : Pass<"tucker-gpu-device-buffers", "::mlir::ModuleOp"> {
  let summary = "Place the host functions' device buffers in one workspace argument";
  let description = [{
    After bufferization with results as out-params, every `memref.alloc`
    of a host function is device memory the caller never sees (flash
    outputs, GEMM results and scratch, partial buffers, copies,
    elementwise results). Those of static size in the function's top block
    become `memref.view`s into a workspace: a trailing `memref<W x i8>`
    argument the function gets (W recorded as its `tucker.workspace_bytes`
    attribute; `tucker-compile` writes it into the signature as
    `workspace_bytes`). Offsets are planned at compile time: a buffer is
    live from its allocation to the last op of the top block that uses it
    through any view (all work is enqueued in order on one stream, so a
    region is free for reuse once its last user is enqueued); buffers are
    placed largest first at the lowest 256-byte aligned offset that
    overlaps no buffer live at the same time. The function asserts at run
    time that the workspace is 256-byte aligned. A call of a function that
    has a workspace passes a slice of the caller's (live during the call).

    ```mlir
    func.func @layer(%x: memref<...>, %y: memref<...>, %ws: memref<W x i8>)
        attributes {tucker.workspace_bytes = W : i64} {
      %q = memref.view %ws[%c0][] : memref<W x i8> to memref<4x32x4096x128xbf16>
      ...
    ```

    Buffers of dynamic size (or allocated inside a loop or branch) cannot
    have compile-time offsets: they become `gpu.alloc` (async, on the
    caller's stream), freed by `gpu.dealloc` before their block's
    terminator; the runtime serves them from the device's memory pool,
    stream-ordered (no synchronization). Host deallocations of all of them
    are dropped.

    A static `memref.alloc` with the unit attribute `tucker.persistent`
    (the split-KV decode kernel's arrival counters) keeps its contents from
    one call to the next: its region is used by nothing else for the whole
    function, and a callee's workspace that holds one is reserved in its
    caller likewise. The workspace is zero-filled once by whoever allocates
    it; the kernels leave persistent regions as they found them.

    Constants (`memref.get_global` of a `constant` global: weights, rope
    tables) are host memory in the LLVM module. Each read becomes a call of
    the runtime's `tuckerDeviceConstant` (C interface), which uploads the
    global's bytes to device memory on the first call and returns that copy
    as a `memref<?xi8>` from then on (the device pointer is kept in a
    zero-initialized `memref<1xi64>` global of the module, one per
    constant), viewed with the constant's type:

    ```mlir
    %host = memref.get_global @__constant_2048x2048xbf16 : memref<2048x2048xbf16>
    %dev = call @tuckerDeviceConstant(%hostAddress, %bytes, %slotAddress)
        : (i64, i64, i64) -> memref<?xi8>
    %w = memref.view %dev[%c0][] : memref<?xi8> to memref<2048x2048xbf16>
    ```

    Refused: an allocation returned by its function (results must be
    out-params), a `memref.alloca` (host stack memory), recursion through
    calls, a persistent allocation of dynamic size or outside the top block,
    a read of a mutable global (host memory the kernels cannot see).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TuckerMergeProductsPass : Pass<"tucker-merge-products"> {
  let summary = "Merge contractions that read one tensor into one product over their other operands side by side";
  let description = [{
    Part of `--tucker-gpu-pipeline`, before `--tucker-gemm-to-runtime`.
    Contractions on tensors that read the same tensor A through the same
    map, each against its own B, with the same loops except one N dim
    (innermost in B and in the result) become one contraction against the
    B's concatenated along that dim (`tensor.concat`); each result is a
    column slice of the merged one (`tensor.extract_slice` of a run of the
    last dim), which `--tucker-gemm-to-runtime` (a leading dimension) and
    `--tucker-flash-to-gpu` (a TMA row stride) read in place. A is read
    once instead of once per product: a Tucker layer's `x·U2`, `x·U3` and
    `x·Ũ3` read x, its largest tensor, once.

    ```mlir
    %q = linalg.generic ... ins(%x, %u2 : tensor<16x1024x768xbf16>, tensor<768x128xbf16>) ...
    %k = linalg.generic ... ins(%x, %u3 : tensor<16x1024x768xbf16>, tensor<768x64xbf16>) ...
    // becomes
    %w = tensor.concat dim(1) %u2, %u3 : (...) -> tensor<768x192xbf16>
    %qk = linalg.generic ... ins(%x, %w : ...) ... -> tensor<16x1024x192xf32>
    %q = tensor.extract_slice %qk[0, 0, 0] [16, 1024, 128] [1, 1, 1] : ...
    %k = tensor.extract_slice %qk[0, 0, 128] [16, 1024, 64] [1, 1, 1] : ...
    ```

    A group is merged only when every product has a zero-filled init and
    the same body, every B is static and defined before the group's first
    product (where the merged one goes), each result (or its elementwise
    cast when that is its only user; the casts are merged too, so the
    product is still rounded once) is read only where a slice costs no copy
    (an input of a two-input contraction; q, k or v of `tucker.flash`,
    directly or through `tensor.expand_shape`), and copying the B's
    together moves fewer elements than the extra reads of A save
    (2·ΣB < (n − 1)·A; B's that are all dense constants, as embedded
    weights are, become one constant instead: no copy). Anything else is
    left as it is.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TuckerGemmToRuntimePass
    : Pass<"tucker-gemm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Run GEMM-shaped linalg contractions through the runtime's cuBLASLt call";
  let description = [{
    Part of `--tucker-gpu-pipeline`. Every two-operand contraction on tensors
    (`linalg.matmul`, `linalg.batch_matmul`, a `linalg.generic` whose body
    multiplies and accumulates, with float casts, as `--tucker-fold`'s
    einsums are) with a zero-filled init, f32/f16/bf16 operands of one type
    and an f32/f16/bf16 result, becomes a call of a launcher that calls
    `tuckerGemm` (include/tucker/Runtime/Gemm.h: cuBLASLt, loaded by the
    runtime at run time, f32 accumulation, on the caller's stream):

    ```mlir
    %a = bufferization.to_buffer %x read_only : ... to memref<8x64x128xbf16>
    %b = bufferization.to_buffer %w read_only : ... to memref<128x96xbf16>
    %bias = bufferization.to_buffer %bq read_only : ... to memref<96xbf16>
    %c = memref.alloc() : memref<8x64x96xbf16>
    %scratch = memref.alloc() : memref<33554432xi8>
    call @tucker_gemm_bf16_bf16_bias(%a, %b, %bias, %c, %scratch) : ...
    %y = bufferization.to_tensor %c restrict writable : ...
    ```

    Loop dims are batch (in both operands and the result), M, N or K
    (`linalg::inferContractionDims`). The K dims, and the M (N) dims kept as
    matrix dims, must each be adjacent dims of the operands that have them;
    an M (N) dim that is not becomes a batch dim the other operand
    broadcasts (stride 0); batch dims merge where adjacent; at most two batch
    levels (a cuBLASLt strided batch inside a loop in the runtime). An
    operand may be transposed first (`linalg.transpose`, a copy; the result
    likewise, after); the cheapest plan wins, counting copied elements and
    2^21 elements per extra call of the outer loop (a call's launch and host
    time); a result copy that is a head transpose (`[B, N, H, D]` to
    `[B, H, N, D]`) read only by `tucker.flash` ops is free, since
    `--tucker-flash-to-gpu` reads such operands in place. A
    `linalg.transpose` producing an operand is read through (no copy), and
    so is a column slice (`tensor.extract_slice` of a run of the last dim,
    `--tucker-merge-products`' results): a strided view whose row pitch is
    the leading dimension. The cast of an f32 product to f16/bf16 and a bias add
    over the last dim that follow it (their only users) are absorbed: the
    product is rounded once, the bias added by cuBLASLt's epilogue.

    Contractions it does not take (more operands, no reduction dim, a
    non-zero init, mixed operand types, k = 0) are left for the elementwise
    path (`--tucker-gpu-map-loops`). Each call site allocates
    `workspace-bytes` of cuBLASLt scratch, which
    `--tucker-gpu-device-buffers` places in the function's workspace
    (reused between calls).
  }];
  let options = [
    Option<"workspaceBytes", "workspace-bytes", "int64_t",
           /*default=*/"33554432",
           "cuBLASLt scratch per call site (algorithms needing more are not "
           "chosen; 32 MiB is PyTorch's default on Hopper)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TuckerGpuMapLoopsPass : Pass<"tucker-gpu-map-loops", "::mlir::ModuleOp"> {
  let summary = "Turn the host functions' linalg ops on buffers into 1-D GPU-mappable loop nests";
  let description = [{
    Part of `--tucker-gpu-pipeline`, after bufferization. In every function
    outside `gpu.module`s: `memref.copy` becomes `linalg.copy`; every linalg
    op becomes loops (`linalg::linalgOpToParallelLoops`: `scf.parallel` over
    its parallel dims, `scf.for` over its reduction dims; an op without
    parallel dims gets a one-iteration `scf.parallel`); each outermost
    `scf.parallel` is collapsed to one dim (`collapseParallelLoops`) and
    tiled by `block-size` with constant inner bounds
    (`scf::tileParallelLoop`), so that consecutive threads of a block take
    consecutive innermost elements (coalesced). Upstream
    `--gpu-map-parallel-loops` then maps the tiles to blocks and their
    elements to threads, and `--convert-parallel-loops-to-gpu` makes the
    kernels:

    ```mlir
    scf.parallel (%i) = (%c0) to (%n) step (%c256) {        // blocks
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {     // threads
        %e = arith.addi %t, %i : index
        scf.if (%e < %n) { ...delinearize %e, load, compute, store... }
      }
    }
    ```

    A `memref.get_global` left in a host function (host memory) is an
    error: `--tucker-gpu-device-buffers` reads constants through their
    device copies before this pass. A
    `memref.load`, `memref.store` or `memref.copy` that would be left to
    run on the host (outside every `scf.parallel`) is an error naming it:
    the buffers are device memory.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of the elementwise kernels (1 to 1024)">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // TUCKER_CONVERSION_PASSES_TD
