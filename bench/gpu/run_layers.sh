#!/usr/bin/env bash
# On the GPU machine, from the repository root, with bench/gpu/out/layers
# carried (built here by bench/gpu/build_layers.sh; no MLIR is needed there):
#   bash bench/gpu/run_layers.sh [--check-only] [bench case names...]
# 1. every test/Integration/GPU/layers case through check_layer.py (what the
#    `REQUIRES: cuda` lit suite runs), each with a timeout;
# 2. bench_layers.py: whole-layer forward times beside torch eager layers
#    (cuDNN SDPA), after checking each case.
# Exit status: non-zero if a check failed (a wrong answer in either step).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out/layers"
check_only=0
if [[ "${1:-}" == "--check-only" ]]; then check_only=1; shift; fi
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
failed=0
for f in "$REPO"/test/Integration/GPU/layers/*.mlir; do
  n="$(basename "$f" .mlir)"
  if ! timeout 180 python3 "$REPO/test/Integration/GPU/layers/check_layer.py" "$f" \
       "$OUT/tests/$n.so" "$OUT/tests/$n.json"; then
    echo "FAIL $n (exit $?)"
    failed=$((failed + 1))
  fi
done
echo "checks: $failed failed"
if [[ $check_only -eq 0 ]]; then
  timeout 540 python3 "$HERE/bench_layers.py" run "$OUT/bench" "$@" || failed=$((failed + 1))
fi
exit $((failed > 0))
