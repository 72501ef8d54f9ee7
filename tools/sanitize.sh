#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (GCC, -O1, build-asan/):
# any sanitizer report fails the test that triggered it (halt_on_error), including the CLI runs
# the tests spawn, the C API tests and the method × fixture-model matrix
# (tests/test_method_matrix.cpp). Called by tools/test.sh.
#   tools/sanitize.sh [CTEST_REGEX]    (default: every test)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADLENS_NATIVE=OFF "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="" -DCMAKE_C_FLAGS_RELWITHDEBINFO="" >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j"$jobs" ${1:+-R "$1"}
echo "sanitize: the test suite is clean under AddressSanitizer + UndefinedBehaviorSanitizer"
