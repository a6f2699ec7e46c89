#!/usr/bin/env bash
# The main job on the shipped examples (examples/*.mlir: MHA with biases, GQA
# with RoPE, DeepSeek MLA, a dense Tucker layer): each is compiled through
# --tucker-cpu-pipeline to a shared library, run on random inputs and compared
# with the independent NumPy reference; prints the error, parameter count and
# KV-cache bytes per token of each.
set -euo pipefail
build_dir="${1:-build}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TUCKER_BUILD_DIR="$(cd "$root/$build_dir" && pwd)"
exec /usr/bin/python3 "$root/examples/run_examples.py"
