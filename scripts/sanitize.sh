#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run of the whole test suite.
#
#   scripts/sanitize.sh [--lit-only]
#
# Builds tucker-opt, tucker-compile and the CUDA runtime library with
# -DTUCKER_SANITIZE=ON (-fsanitize=address,undefined, any UB report fatal) in
# its own build directory, then runs
#   1. check-tucker: every lit test, with the sanitized tools (leak checking
#      on), and
#   2. the Python tests, whose tucker.compile calls run the sanitized
#      tucker-compile. Python itself runs with the ASan runtime preloaded, so
#      that the compiled CPU kernels (generated code, loaded with ctypes)
#      allocate and free their temporaries through ASan's allocator: a double
#      or invalid free, or a free of memory the caller owns, is reported.
#      (The kernels' own loads and stores are not instrumented; leak checking
#      is off for Python, which frees little at exit.)
#
# GCC's sanitizers are used (the system compiler, no extra packages): their
# runtime is a shared library (libasan.so), so the tools, which link it, and
# the preloaded Python process share one runtime.
#
# Environment: TUCKER_ASAN_BUILD_DIR (default build-asan), TUCKER_JOBS (2).
# docs/reliability.md describes what runs and what it found.
set -euo pipefail

lit_only=0
case "${1:-}" in
  --lit-only) lit_only=1 ;;
  "") ;;
  *) echo "usage: $0 [--lit-only]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="$(realpath -m "${TUCKER_ASAN_BUILD_DIR:-build-asan}")"
jobs="${TUCKER_JOBS:-2}"
start=$SECONDS

# What scripts/setup.sh installs (GCC brings its sanitizer runtimes).
for tool in cmake ninja "${CC:-cc}" /usr/lib/llvm-22/bin/mlir-opt; do
  command -v "$tool" >/dev/null || {
    echo "sanitize: $tool is missing: run scripts/setup.sh first (it installs what this needs)" >&2
    exit 1
  }
done
libasan="$(${CC:-cc} -print-file-name=libasan.so)"
[[ -f "$libasan" ]] || { echo "sanitize: cannot find libasan.so ($libasan)" >&2; exit 1; }

if [[ ! -f "$build/build.ninja" ]]; then
  # -O1 keeps the build and the tests fast enough; no -DNDEBUG: assertions on.
  cmake -G Ninja -S . -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O1 -g1" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
    -DTUCKER_SANITIZE=ON \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
fi
# --quiet: compiler errors and warnings only, no progress lines.
nice -n 10 ninja -C "$build" -j "$jobs" --quiet
echo "sanitize: built $build ($((SECONDS - start))s)"

# Reports are fatal and go to stderr, which lit and pytest show.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ninja -C "$build" check-tucker
echo "sanitize: lit clean ($((SECONDS - start))s)"
[[ $lit_only -eq 1 ]] && exit 0

TUCKER_BUILD_DIR="$build" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" \
LD_PRELOAD="$libasan" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests
echo "sanitize: lit and pytest clean ($((SECONDS - start))s)"
