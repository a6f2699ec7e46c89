#!/usr/bin/env bash
# compute-sanitizer (memcheck, racecheck, synccheck) over one small call of
# every generated kernel class (bench/gpu/sanitize_cases.py lists them).
#
# On the GPU machine, from the repository root, with bench/gpu/out/gpu and
# bench/gpu/out/layers carried (built here by bench/gpu/build_gpu.sh and
# build_layers.sh; no MLIR is needed there):
#   bash bench/gpu/sanitize_gpu.sh [--log-dir DIR] [--tools memcheck,...]
#                                  [--kernel-filter SUBSTRING] [CASE...]
#
# Each tool runs once, over all cases in one Python process. Inputs and
# references are computed on the CPU, so the kernels the tools see are the
# libraries' own (and the cuBLASLt GEMMs a whole layer calls);
# --kernel-filter instruments only kernels whose name holds SUBSTRING. The
# tools' logs, the driver's output and exit statuses go to DIR (default
# bench/gpu/out/sanitize); then a table, one row per case, one column per
# tool: ok, N errors (reports naming one of the case's kernels), wrong (the
# output failed the reference check), not run.
# Exit status: 0 iff every cell is ok and every tool exited 0 with no report.
#
# Environment: COMPUTE_SANITIZER (default
# /usr/local/cuda/bin/compute-sanitizer), TUCKER_SANITIZE_TIMEOUT (seconds
# per tool, default 90), PYTHON (python3).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/out"
logdir="$HERE/out/sanitize"
tools="memcheck,racecheck,synccheck"
filter=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --log-dir) logdir="$2"; shift 2 ;;
    --tools) tools="$2"; shift 2 ;;
    --kernel-filter) filter="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "sanitize_gpu.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
cs="${COMPUTE_SANITIZER:-/usr/local/cuda/bin/compute-sanitizer}"
python="${PYTHON:-python3}"
limit="${TUCKER_SANITIZE_TIMEOUT:-90}"
[[ -x "$cs" ]] || { echo "sanitize_gpu.sh: no compute-sanitizer at $cs" >&2; exit 2; }
IFS=, read -r -a tool_list <<<"$tools"
for tool in "${tool_list[@]}"; do
  case "$tool" in
    memcheck|racecheck|synccheck) ;;
    *) echo "sanitize_gpu.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
done
"$python" "$HERE/sanitize_cases.py" list "$OUT" "$@" >/dev/null || exit 2
mkdir -p "$logdir"
for tool in memcheck racecheck synccheck; do
  rm -f "$logdir/$tool.log" "$logdir/$tool.run.log" "$logdir/$tool.rc"
done

common=(--error-exitcode 99 --print-limit 200)
[[ -n "$filter" ]] && common+=(--kernel-name "kns=$filter")
# Every tensor its own allocation, so that memcheck sees an access past one.
export PYTORCH_NO_CUDA_MEMORY_CACHING=1

"$cs" --version 2>&1 | tail -1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
for tool in "${tool_list[@]}"; do
  start=$SECONDS
  timeout "$limit" "$cs" --tool "$tool" "${common[@]}" \
    --log-file "$logdir/$tool.log" \
    "$python" "$HERE/sanitize_cases.py" run "$OUT" "$@" >"$logdir/$tool.run.log" 2>&1
  rc=$?
  echo "$rc" >"$logdir/$tool.rc"
  echo "$tool: exit $rc in $((SECONDS - start)) s"
done
"$python" "$HERE/sanitize_cases.py" report "$OUT" "$logdir" "$@"
