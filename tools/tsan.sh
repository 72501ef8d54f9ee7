#!/usr/bin/env bash
# ThreadSanitizer build of the concurrency tests (one model explained from many threads through
# the C++ API, tests/test_concurrency.cpp, and the C API, tests/capi/test_capi.c) in build-tsan/.
# OpenMP runs one thread per team here (OMP_NUM_THREADS=1): libgomp is not instrumented, and its
# barriers would be reported as races; the threads under test are the callers' own.
# Usage: tools/tsan.sh [CXX compiler, default g++]. Called by tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=${1:-g++}
cc=gcc
[[ "$cxx" == clang* ]] && cc=${cxx/clang++/clang}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
flags="-O1 -g -fsanitize=thread -fno-omit-frame-pointer"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADLENS_NATIVE=OFF -DGRADLENS_BUILD_CLI=OFF \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" "${launcher[@]}" \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan -j"$(nproc 2>/dev/null || echo 2)" --target gradlens_concurrency_tests gradlens_capi_test
export OMP_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
build-tsan/tests/gradlens_concurrency_tests --no-version
GRADLENS_CAPI_THREADS_ONLY=1 build-tsan/tests/gradlens_capi_test tests/data/fixtures
echo "tsan: concurrency tests clean under ThreadSanitizer"
