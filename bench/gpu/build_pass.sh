#!/usr/bin/env bash
# Builds the kernels of --tucker-flash-to-gpu here (no GPU needed) and leaves
# what the GPU machine needs in bench/gpu/out/pass/:
#   flash_pass.cubin  flash_pass.ptx  flash_pass.json (manifest)  ptxas.log
#   libTuckerCudaRuntime.so
# usage: bench/gpu/build_pass.sh [--widths 128,64,256]
# Needs tucker-opt: TUCKER_BUILD_DIR (default /tmp/build-gpu), then PATH.
# Steps: tucker.flash ops (pass_cases.py) -> tucker-opt --tucker-flash-to-gpu
# -> one-shot-bufferize (host code) -> gpu-lower-to-nvvm-pipeline (PTX in the
# gpu.binary) -> ptxas -arch=sm_90a -v -> cubin, resource table.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LLVM_BIN="${LLVM_BIN:-/usr/lib/llvm-22/bin}"
CUDA_BIN="${CUDA_BIN:-/usr/local/cuda/bin}"
BUILD="${TUCKER_BENCH_BUILD:-/tmp/tucker-bench-gpu}/pass"
OUT="$HERE/out/pass"
TUCKER_OPT="${TUCKER_BUILD_DIR:-/tmp/build-gpu}/bin/tucker-opt"
[ -x "$TUCKER_OPT" ] || TUCKER_OPT="$(command -v tucker-opt)"
mkdir -p "$BUILD" "$OUT"

python3 "$HERE/pass_cases.py" input "$BUILD/flash_cases.mlir" "$@"
"$TUCKER_OPT" "$BUILD/flash_cases.mlir" --tucker-flash-to-gpu -o "$BUILD/flash_pass.mlir"
python3 "$HERE/pass_cases.py" manifest "$BUILD/flash_pass.mlir" "$OUT/flash_pass.json"
"$LLVM_BIN/mlir-opt" "$BUILD/flash_pass.mlir" \
  --one-shot-bufferize="bufferize-function-boundaries" \
  -gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 opt-level=3 cubin-format=isa" \
  -o "$BUILD/flash_pass.lowered.mlir"
python3 "$HERE/extract_ptx.py" "$BUILD/flash_pass.lowered.mlir" "$OUT/flash_pass.ptx"
"$CUDA_BIN/ptxas" -arch=sm_90a -v "$OUT/flash_pass.ptx" -o "$OUT/flash_pass.cubin" \
  > "$OUT/ptxas.log" 2>&1 || { cat "$OUT/ptxas.log"; exit 1; }
python3 - "$OUT/ptxas.log" "$OUT/flash_pass.json" <<'PY'
import json, re, sys
log = open(sys.argv[1]).read()
man = json.load(open(sys.argv[2]))
print(f"{'kernel':34s} {'regs':>5s} {'spill st/ld':>12s} {'stack':>6s} {'threads':>7s} {'smem(dyn)':>10s}")
for m in re.finditer(r"Compiling entry function '(\w+)'.*?(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads.*?Used (\d+) registers", log, re.S):
    name, stack, st, ld, regs = m.groups()
    k = man.get(name, {})
    print(f"{name:34s} {regs:>5s} {st + '/' + ld:>12s} {stack:>6s} {k.get('threads', '?'):>7} {k.get('shared_bytes', '?'):>10}")
for l in log.splitlines():
    if "C75" in l or "warning" in l.lower():
        print("ptxas:", l.strip())
PY

# tucker's CUDA runtime (plain CMake, no CUDA needed)
cmake -S "$HERE/runtime-build" -B "$BUILD/runtime" -DCMAKE_BUILD_TYPE=Release \
  -DTUCKER_SOURCE_DIR="$REPO" > "$BUILD/runtime.cmake.log"
cmake --build "$BUILD/runtime" -j2 > "$BUILD/runtime.build.log"
cp "$BUILD/runtime/runtime/libTuckerCudaRuntime.so" "$OUT/"
ls -la "$OUT"
