#!/usr/bin/env bash
# On the GPU machine (carry bench/gpu/out/gpu): Nsight Compute on one launch of
# each named benchmark kernel (default: MHA N4096 and absorbed MLA), speed of
# light, memory workload and warp stall sections; the report text goes to
# stdout.  usage: bash bench/gpu/profile_gpu.sh [bench case names...]
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NCU="$(command -v ncu || ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
if [[ -z "$NCU" ]]; then echo "profile_gpu.sh: no ncu (Nsight Compute) on this machine" >&2; exit 1; fi
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(mha-h16-d128-n4096 mla-absorbed-h128-576-512-n4096)
for c in "${cases[@]}"; do
  echo "=== $c"
  "$NCU" --kernel-name regex:flash_fwd --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats \
    --section LaunchStats --print-summary none \
    python3 "$HERE/bench_flash.py" --profile "$HERE/out/gpu/bench" "$c" 2>&1 \
    | grep -vE "^==PROF==|UserWarning|scaled_dot_product" | sed -n '/Section:/,$p' | head -90
done
