#!/usr/bin/env bash
# Builds the hand-written MLIR flash-attention kernels and tucker's CUDA runtime
# here (no GPU needed) and leaves what the GPU machine needs in bench/gpu/out/:
#   flash_fwd_d128.cubin  flash_fwd_d128.ptx  flash_fwd_d128.json (kernel manifest)
#   libTuckerCudaRuntime.so  ptxas.log
# usage: bench/gpu/build.sh [--variants v1,v2,v3]
# Build trees go to /tmp (TUCKER_BENCH_BUILD overrides).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LLVM_BIN="${LLVM_BIN:-/usr/lib/llvm-22/bin}"
CUDA_BIN="${CUDA_BIN:-/usr/local/cuda/bin}"
BUILD="${TUCKER_BENCH_BUILD:-/tmp/tucker-bench-gpu}"
OUT="$HERE/out"
mkdir -p "$BUILD" "$OUT"

# 1. kernel source (generated; see gen_flash.py)
python3 "$HERE/gen_flash.py" -o "$HERE/flash_fwd_d128.mlir" --manifest "$OUT/flash_fwd_d128.json" "$@"

# 2. MLIR -> PTX. The pipeline lowers gpu/nvvm/arith/scf/math/vector to the LLVM
#    dialect and runs the NVPTX backend; cubin-format=isa keeps the PTX text in
#    the gpu.binary (we assemble it ourselves with ptxas -v).
"$LLVM_BIN/mlir-opt" "$HERE/flash_fwd_d128.mlir" \
  -gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 opt-level=3 cubin-format=isa" \
  -o "$BUILD/flash_fwd_d128.lowered.mlir"
python3 "$HERE/extract_ptx.py" "$BUILD/flash_fwd_d128.lowered.mlir" "$OUT/flash_fwd_d128.ptx"

# 3. PTX -> cubin, with the resource report
"$CUDA_BIN/ptxas" -arch=sm_90a -v "$OUT/flash_fwd_d128.ptx" -o "$OUT/flash_fwd_d128.cubin" \
  > "$OUT/ptxas.log" 2>&1 || { cat "$OUT/ptxas.log"; exit 1; }
python3 - "$OUT/ptxas.log" "$OUT/flash_fwd_d128.json" <<'PY'
import json, re, sys
log = open(sys.argv[1]).read()
man = json.load(open(sys.argv[2]))
print(f"{'kernel':24s} {'regs':>5s} {'spill st/ld':>12s} {'stack':>6s} {'threads':>7s} {'smem(dyn)':>10s}")
for m in re.finditer(r"Compiling entry function '(\w+)'.*?(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads.*?Used (\d+) registers", log, re.S):
    name, stack, st, ld, regs = m.groups()
    k = man.get(name, {})
    print(f"{name:24s} {regs:>5s} {st + '/' + ld:>12s} {stack:>6s} {k.get('threads', '?'):>7} {k.get('smem', '?'):>10}")
warn = [l for l in log.splitlines() if "C75" in l or "warning" in l.lower()]
for l in warn:
    print("ptxas:", l.strip())
PY

# 4. tucker's CUDA runtime (plain CMake, no CUDA needed)
cmake -S "$HERE/runtime-build" -B "$BUILD/runtime" -DCMAKE_BUILD_TYPE=Release \
  -DTUCKER_SOURCE_DIR="$REPO" > "$BUILD/runtime.cmake.log"
cmake --build "$BUILD/runtime" -j2 > "$BUILD/runtime.build.log"
cp "$BUILD/runtime/runtime/libTuckerCudaRuntime.so" "$OUT/"
ls -la "$OUT"
