#!/usr/bin/env bash
# Builds, here (no GPU needed), everything the GPU machine runs, into
# bench/gpu/out/gpu/ (carry that path to the device):
#   tests/<case>.so .json   test/Integration/GPU/*.mlir, tucker-compile --target=cuda
#   bench/<shape>.so .json  bench_cases.py prefill shapes, likewise; cases.json
#   decode/<shape>.so .json bench_cases.py decode shapes, likewise; cases.json
#   sweep/<config>.so .json decode kernels with dynamic B, Nk and lengths
#   backward/<case>.so .json bench_backward.py's tucker.flash_backward cases
#   autograd/<hash>.so .json the kernels of python/tests/test_flash_autograd_cuda.py
#   libTuckerCudaRuntime.so next to them ($ORIGIN rpath)
#   ptxas.txt               registers, spills and shared memory of every kernel
# usage: bench/gpu/build_gpu.sh [BUILD_DIR] [--only REGEX]   (default: build)
#   --only REGEX  compile only the cases whose name matches REGEX (grep -E)
set -euo pipefail
only=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$(cd "${1:-$REPO/build}" && pwd)"
OUT="$HERE/out/gpu"
PTXAS="${CUDA_HOME:-/usr/local/cuda}/bin/ptxas"
rm -rf "$OUT" && mkdir -p "$OUT/tests" "$OUT/bench" "$OUT/decode" "$OUT/sweep" "$OUT/backward" "$OUT/ptx"

compile() { # case.mlir outdir
  local name opts
  name="$(basename "$1" .mlir)"
  if [[ -n "$only" ]] && ! grep -qE "$only" <<<"$name"; then return 0; fi
  opts="$(grep -o "pipeline-options='[^']*'" "$1" | head -1 | sed "s/pipeline-options='//;s/'//" || true)"
  "$BUILD/bin/tucker-compile" "$1" --target=cuda --pipeline-options="${opts:-format=bin}" \
    -o "$2/$name.so" --signature="$2/$name.json" --cuda-runtime-dir="$BUILD/lib/Runtime"
  # The same kernels as PTX, for ptxas's resource report.
  "$BUILD/bin/tucker-opt" "$1" --tucker-gpu-pipeline="${opts/format=bin/format=isa}" \
    -o "$OUT/ptx/$name.mlir"
  python3 "$HERE/extract_ptx.py" "$OUT/ptx/$name.mlir" "$OUT/ptx/$name.ptx"
  "$PTXAS" -arch=sm_90a -v "$OUT/ptx/$name.ptx" -o /dev/null 2>&1 \
    | sed -n "s/.*Compiling entry function '\(.*\)' for.*/\1/p;s/.*Used \([0-9][0-9]*\) registers.*/regs=\1/p;s/.*, \([0-9][0-9]*\) bytes spill stores.*/spill_stores=\1/p" \
    >> "$OUT/ptxas.txt"
  rm -f "$OUT/ptx/$name.mlir"
}

for f in "$REPO"/test/Integration/GPU/*.mlir; do compile "$f" "$OUT/tests"; done
python3 "$HERE/bench_cases.py" write "$OUT/bench-src"
cp "$OUT/bench-src/cases.json" "$OUT/bench/"
for f in "$OUT"/bench-src/*.mlir; do compile "$f" "$OUT/bench"; done
python3 "$HERE/bench_cases.py" write-decode "$OUT/decode-src"
cp "$OUT/decode-src/cases.json" "$OUT/decode/"
for f in "$OUT"/decode-src/*.mlir; do compile "$f" "$OUT/decode"; done
python3 "$HERE/bench_cases.py" write-sweep "$OUT/sweep-src"
cp "$OUT/sweep-src/cases.json" "$OUT/sweep/"
for f in "$OUT"/sweep-src/*.mlir; do compile "$f" "$OUT/sweep"; done
python3 "$HERE/bench_backward.py" write "$OUT/backward-src"
cp "$OUT/backward-src/cases.json" "$OUT/backward/"
for f in "$OUT"/backward-src/*.mlir; do compile "$f" "$OUT/backward"; done
if [[ -z "$only" ]]; then
  TUCKER_BUILD_DIR="$BUILD" /usr/bin/python3 "$REPO/python/tests/test_flash_autograd_cuda.py" \
    prebuild "$OUT/autograd" > /dev/null
fi
for d in tests bench decode sweep backward; do
  cp "$BUILD/lib/Runtime/libTuckerCudaRuntime.so" "$OUT/$d/"
done
rm -rf "$OUT/bench-src" "$OUT/decode-src" "$OUT/sweep-src" "$OUT/backward-src" "$OUT/ptx"
paste - - - < "$OUT/ptxas.txt" | sort -u | column -t
du -sh "$OUT"
