#!/usr/bin/env bash
# On the GPU machine, from the repository root, with bench/gpu/out/gpu carried
# (built here by bench/gpu/build_gpu.sh; no MLIR is needed there):
#   bash bench/gpu/run_gpu.sh [--check-only] [bench case names...]
# 1. every test/Integration/GPU case through the checker its RUN line names
#    (check_flash.py, check_flash_backward.py for the bwd-* cases: the same
#    check the `REQUIRES: cuda` lit suite runs), each with a timeout;
#    then decode_sweep.py: the decode kernels over batch, cache size and
#    ragged lengths;
# 2. bench_flash.py: the prefill table beside torch SDPA;
# 3. bench_decode.py: the decode table (GB/s) beside torch SDPA.
# Exit status: non-zero if a check failed.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out/gpu"
check_only=0
if [[ "${1:-}" == "--check-only" ]]; then check_only=1; shift; fi
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
failed=0
for f in "$REPO"/test/Integration/GPU/*.mlir; do
  n="$(basename "$f" .mlir)"
  checker="$(grep -o '%S/check_[a-z_]*\.py' "$f" | head -1 || true)"
  checker="${checker#%S/}"
  if ! timeout 120 python3 "$REPO/test/Integration/GPU/${checker:-check_flash.py}" "$f" \
       "$OUT/tests/$n.so" "$OUT/tests/$n.json"; then
    echo "FAIL $n (exit $?)"
    failed=$((failed + 1))
  fi
done
timeout 240 python3 "$HERE/decode_sweep.py" "$OUT/sweep" || failed=$((failed + 1))
echo "checks: $failed failed"
if [[ $check_only -eq 0 ]]; then
  timeout 420 python3 "$HERE/bench_flash.py" "$OUT/bench" "$@"
  timeout 240 python3 "$HERE/bench_decode.py" "$OUT/decode" || failed=$((failed + 1))
fi
exit $((failed > 0))
