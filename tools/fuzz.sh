#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14 + AddressSanitizer + UBSan (in
# build-fuzz/) and runs each one for SECONDS seconds (default 600) or RUNS executions, whichever
# comes first, under nice -n 19, with -rss_limit_mb=2048 -timeout=10 (FUZZ_TIMEOUT overrides it:
# libFuzzer times wall-clock seconds, which a niced run on a loaded machine can exceed). Seeds: the project's own
# files (fixture models, .npy test files, demo images) plus tests/fuzz/seeds/; the growing corpus
# stays in build-fuzz/corpus/TARGET. A crash, timeout or OOM leaves build-fuzz/crashes/TARGET-*:
# turn each into a regression input in tests/data/hostile/regressions/{onnx,npy,image}/ (replayed
# by test_hostile_inputs.cpp in the ordinary suite).
#   tools/fuzz.sh [SECONDS] [RUNS] [TARGET...]     e.g. tools/fuzz.sh 3600 10000000 fuzz_onnx
# Prints one summary line per target: executions, coverage (libFuzzer's cov/ft), time, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
runs=${2:--1}
shift $(( $# > 2 ? 2 : $# )) || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_onnx fuzz_npy fuzz_image fuzz_cli_args)
build=build-fuzz
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link"
if [ ! -f $build/CMakeCache.txt ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B $build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADLENS_FUZZ=ON \
    -DGRADLENS_NATIVE=OFF -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="" \
    ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
fi
[ -n "${FUZZ_NO_BUILD:-}" ] || nice -n 19 cmake --build $build -j"${FUZZ_JOBS:-2}" --target "${targets[@]}" >/dev/null

seeds() {  # the seed folder of a target
  local dir=$build/seeds/$1
  rm -rf "$dir" && mkdir -p "$dir"
  case $1 in
    fuzz_onnx) for f in tests/data/fixtures/*/model.onnx; do cp "$f" "$dir/$(basename "$(dirname "$f")").onnx"; done ;;
    fuzz_npy) cp tests/data/npy/*.npy "$dir/"; for f in tests/data/fixtures/*/input.npy; do cp "$f" "$dir/$(basename "$(dirname "$f")").npy"; done ;;
    fuzz_image) cp tools/demo/images/*.png tests/fuzz/seeds/image/* "$dir/" ;;
    fuzz_cli_args) cp tests/fuzz/seeds/cli/* "$dir/" ;;
  esac
  echo "$dir"
}

export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  mkdir -p $build/corpus/$t $build/crashes $build/logs
  log=$build/logs/$t.log
  start=$(date +%s)
  set +e
  quiet=()
  [ "$t" = fuzz_cli_args ] && quiet=(-close_fd_mask=3)  # the commands' stdout/stderr, not libFuzzer's
  nice -n 19 $build/tests/fuzz/$t $build/corpus/$t "$(seeds $t)" -max_total_time="$seconds" -runs="$runs" "${quiet[@]}" \
    -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-10}" -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=$build/crashes/$t- >"$log" 2>&1
  status=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo "cov: ?")
  crashes=$(ls $build/crashes/$t-* 2>/dev/null | wc -l || true)
  echo "$t: ${execs} executions, ${cov}, ${elapsed} s, exit ${status}, ${crashes} crash/timeout/oom files"
done
