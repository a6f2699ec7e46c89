#!/usr/bin/env bash
# On the GPU machine, from the repository root (carry bench/gpu/out/pass):
#   bash bench/gpu/device_pass.sh [run_pass.py arguments]
# Reads what bench/gpu/build_pass.sh left in bench/gpu/out/pass/ (nothing is
# built there): SASS summary of the pass's kernels, then run_pass.py (checks,
# then timing beside torch SDPA cuDNN/flash; one table last). Logs go to $OUT.
set -o pipefail
OUT="${OUT:-/tmp/tucker-bench-out}"
mkdir -p "$OUT"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$HERE/out/pass/flash_pass.cubin" > "$OUT/flash_pass.sass" 2>&1
  python3 "$HERE/sass_summary.py" "$OUT/flash_pass.sass"
fi
PYTHONUNBUFFERED=1 python3 "$HERE/run_pass.py" "$@" 2>&1 | tee "$OUT/run_pass.log"
