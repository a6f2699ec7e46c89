#!/usr/bin/env bash
# Installs what tucker needs on Debian 12, configures and builds it with
# Ninja, then runs the shipped example (--example) or the whole test suite
# (--test). Safe to run again: installed packages and a configured build are
# reused.
set -euo pipefail

usage() {
  echo "usage: $0 [--example | --test | --build-only] [--build-dir DIR]" >&2
  exit 2
}

mode=build-only
build_dir=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --example) mode=example ;;
    --test) mode=test ;;
    --build-only) mode=build-only ;;
    --build-dir) shift; [[ $# -gt 0 ]] || usage; build_dir="$1" ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
  shift
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

packages=(llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
          cmake ninja-build g++ libeigen3-dev
          python3 python3-numpy python3-pytest python3-torch python3-matplotlib python3-venv)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -G Ninja -S . -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
fi
ninja -C "$build_dir" -j "${TUCKER_JOBS:-2}" >/dev/null
echo "setup: built $build_dir/bin/tucker-opt"

# A venv with PyPI's torch, pinned in scripts/requirements-torch.txt (about 3 GB of wheels, a
# minute or two here), for the tests that need torch >= 2.4: Debian's python3-torch is 1.13.
# Made again only when the requirements change; TUCKER_TORCH_VENV=0 skips it (and those tests).
torch_venv() {
  local venv="$1" requirements=scripts/requirements-torch.txt
  if ! cmp -s "$requirements" "$venv/requirements.txt"; then
    echo "setup: installing the pinned torch into $venv (scripts/requirements-torch.txt)"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --progress-bar off -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
  fi
}

case "$mode" in
  example)
    exec bash scripts/run-example.sh "$build_dir" ;;
  test)
    ninja -C "$build_dir" check-tucker
    # Debian's numpy and torch live with the system interpreter.
    /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests
    if [[ "${TUCKER_TORCH_VENV:-1}" == 0 ]]; then
      echo "setup: TUCKER_TORCH_VENV=0: python/tests/test_torch_ops.py not run with torch >= 2.4"
      exit 0
    fi
    torch_venv "$build_dir/py-torch2"
    # torch.compile and the torch.ops.tucker ops (its other tests ran above, on torch 1.13).
    exec "$build_dir/py-torch2/bin/python" -m pytest -q -p no:cacheprovider python/tests/test_torch_ops.py ;;
esac
