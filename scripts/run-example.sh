#!/usr/bin/env bash
# The main job on the shipped example: a GQA layer with RoPE, parsed,
# verified and printed by tucker-opt.
set -euo pipefail
build_dir="${1:-build}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/$build_dir/bin/tucker-opt" "$root/examples/gqa_layer.mlir"
