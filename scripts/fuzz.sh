#!/usr/bin/env bash
# Builds the libFuzzer target tools/tucker-fuzz (clang 22, AddressSanitizer +
# UndefinedBehaviorSanitizer, coverage on the whole compiler) in its own build
# directory, seeds it with the lit inputs (test/**/*.mlir split at
# `// -----` and at split-file's `//---`) and runs it for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]           default 300
#
# Environment: TUCKER_FUZZ_BUILD_DIR (default build-fuzz), TUCKER_JOBS (2),
# TUCKER_FUZZ_ARGS (more libFuzzer flags, e.g. -jobs=2 or -seed=1).
# The corpus grows in $BUILD/fuzz/corpus across runs; a crash, assertion,
# sanitizer report, timeout (hang) or out-of-memory leaves its input in
# $BUILD/fuzz/artifacts/ and makes the script exit non-zero. Reproduce one
# with `$BUILD/bin/tucker-fuzz FILE` (or tucker-opt on it); see
# docs/reliability.md.
set -euo pipefail

seconds="${1:-300}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${TUCKER_FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${TUCKER_JOBS:-2}"

# clang 22 and its compiler-rt (libFuzzer, the sanitizer runtimes).
missing=()
for pkg in clang-22 libclang-rt-22-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -f "$build/build.ninja" ]]; then
  # -O1 with assertions (no -DNDEBUG): our asserts are findings too.
  cmake -G Ninja -S . -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=/usr/lib/llvm-22/bin/clang \
    -DCMAKE_CXX_COMPILER=/usr/lib/llvm-22/bin/clang++ \
    -DCMAKE_C_FLAGS_RELEASE="-O1 -g1" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
    -DTUCKER_ENABLE_FUZZER=ON -DTUCKER_SANITIZE=ON \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
fi
nice -n 10 ninja -C "$build" -j "$jobs" --quiet tucker-fuzz
echo "fuzz: built $build/bin/tucker-fuzz"

work="$build/fuzz"
seeds="$work/seeds"
corpus="$work/corpus"
artifacts="$work/artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
/usr/bin/python3 - "$seeds" <<'EOF'
import hashlib, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
count = 0
for path in sorted(pathlib.Path("test").rglob("*.mlir")):
    text = path.read_text()
    for chunk in re.split(r"^// -----\s*$|^//--- .*$", text, flags=re.M):
        # RUN/CHECK lines are comments to the parser: drop them to keep seeds short.
        lines = [l for l in chunk.splitlines() if not re.match(r"\s*//", l)]
        body = "\n".join(lines).strip()
        if body and len(body) <= 16384:
            (out / hashlib.sha1(body.encode()).hexdigest()).write_text(body + "\n")
            count += 1
print(f"fuzz: {count} seed inputs from test/")
EOF

before=$(ls "$artifacts" | wc -l)
echo "fuzz: running for ${seconds}s (corpus $corpus, artifacts $artifacts)"
set +e
# shellcheck disable=SC2086
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$build/bin/tucker-fuzz" "$corpus" "$seeds" \
  -dict=tools/tucker-fuzz/tucker.dict -only_ascii=1 -max_len=16384 \
  -timeout=30 -rss_limit_mb=4096 -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" ${TUCKER_FUZZ_ARGS:-} 2>&1 | tee "$work/last-run.log" \
  | grep -E "^#[0-9]+[[:space:]]+(DONE|INITED|pulse)|^(==|SUMMARY|stat::|tucker-fuzz:|artifact_prefix|Test unit written|.*ERROR)" 
status=${PIPESTATUS[0]}
set -e
after=$(ls "$artifacts" | wc -l)
if [[ $status -ne 0 || $after -gt $before ]]; then
  echo "fuzz: FOUND a problem (exit $status); inputs in $artifacts, log $work/last-run.log" >&2
  exit 1
fi
echo "fuzz: no crash in ${seconds}s"
