#!/usr/bin/env bash
# Checks that the C++ lines changed since BASE (default: the previous commit)
# are as clang-format 22 formats them (.clang-format: LLVM style). Lines the
# change did not touch are not checked. Installs clang-format-22 (Debian)
# when it is missing, as setup.sh installs the rest.
#   usage: scripts/check-format.sh [BASE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
base="${1:-HEAD~1}"
if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
  echo "check-format: no commit '$base' to compare with (a shallow clone?); nothing checked"
  exit 0
fi
if ! command -v clang-format-22 >/dev/null; then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang-format-22 >/dev/null
fi
out=$(git clang-format-22 --binary "$(command -v clang-format-22)" --diff "$base" \
      -- '*.cpp' '*.h' 2>&1) || true
case "$out" in
  "" | *"did not modify any files"* | *"no modified files to format"*)
    echo "check-format: the C++ changed since $base is formatted" ;;
  *)
    echo "check-format: the C++ changed since $base is not as clang-format-22 formats it:"
    echo "$out"
    echo "(fix with: git clang-format-22 $base)"
    exit 1 ;;
esac
