#!/usr/bin/env bash
# Builds, here (no GPU needed), what the GPU machine runs for whole layers, into
# bench/gpu/out/layers/ (carry that path to the device):
#   tests/<case>.so .json   test/Integration/GPU/layers/*.mlir (check_layer.py)
#   bench/<case>.so .json   bench_layers.py's cases (issue 9 sizes); cases.json
#   libTuckerCudaRuntime.so next to them ($ORIGIN rpath)
#   ptxas.txt               registers and spills of every kernel
# usage: bench/gpu/build_layers.sh [BUILD_DIR]   (default: build)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$(cd "${1:-$REPO/build}" && pwd)"
OUT="$HERE/out/layers"
PTXAS="${CUDA_HOME:-/usr/local/cuda}/bin/ptxas"
rm -rf "$OUT" && mkdir -p "$OUT/tests" "$OUT/bench" "$OUT/src" "$OUT/ptx"

compile() { # case.mlir outdir
  local name
  name="$(basename "$1" .mlir)"
  "$BUILD/bin/tucker-compile" "$1" --target=cuda --pipeline-options=format=bin \
    -o "$2/$name.so" --signature="$2/$name.json" --cuda-runtime-dir="$BUILD/lib/Runtime"
  # The kernels as PTX, every gpu.binary of the module, for ptxas's report.
  "$BUILD/bin/tucker-opt" "$1" --tucker-gpu-pipeline=format=isa -o "$OUT/ptx/$name.mlir"
  python3 - "$OUT/ptx/$name.mlir" "$OUT/ptx/$name" "$HERE" <<'PY'
import re, sys
sys.path.insert(0, sys.argv[3])
from extract_ptx import unescape
text = open(sys.argv[1]).read()
for i, m in enumerate(re.finditer(r'assembly\s*=\s*"((?:[^"\\]|\\.)*)"', text, re.S)):
    open(f"{sys.argv[2]}.{i}.ptx", "w").write(unescape(m.group(1)))
PY
  for ptx in "$OUT/ptx/$name".*.ptx; do
    "$PTXAS" -arch=sm_90a -v "$ptx" -o /dev/null 2>&1 \
      | sed -n "s/.*Compiling entry function '\(.*\)' for.*/\1/p;s/.*Used \([0-9][0-9]*\) registers.*/regs=\1/p;s/.*, \([0-9][0-9]*\) bytes spill stores.*/spill_stores=\1/p" \
      >> "$OUT/ptxas.txt"
  done
  rm -f "$OUT/ptx/$name".*
}

for f in "$REPO"/test/Integration/GPU/layers/*.mlir; do compile "$f" "$OUT/tests"; done
python3 "$HERE/bench_layers.py" write "$OUT/src"
cp "$OUT/src/cases.json" "$OUT/bench/"
for f in "$OUT"/src/*.mlir; do compile "$f" "$OUT/bench"; done
for d in tests bench; do cp "$BUILD/lib/Runtime/libTuckerCudaRuntime.so" "$OUT/$d/"; done
rm -rf "$OUT/src" "$OUT/ptx"
paste - - - < "$OUT/ptxas.txt" | sort -u | column -t
du -sh "$OUT"
