#!/usr/bin/env bash
# On the GPU machine, from the repository root:
#   bash bench/gpu/device_run.sh [run_flash.py arguments]
# Reads the artifacts that bench/gpu/build.sh left in bench/gpu/out/ (nothing is
# built there), prints the SASS summary, checks and times. Logs go to $OUT.
set -o pipefail
OUT="${OUT:-/tmp/tucker-bench-out}"
mkdir -p "$OUT"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$HERE/out/flash_fwd_d128.cubin" > "$OUT/flash_fwd_d128.sass" 2>&1
  python3 "$HERE/sass_summary.py" "$OUT/flash_fwd_d128.sass"
fi
PYTHONUNBUFFERED=1 python3 "$HERE/run_flash.py" "$@" 2>&1 | tee "$OUT/run_flash.log"
