#!/usr/bin/env bash
# ThreadSanitizer build of the parallel code (build-tsan/): one model explained from many threads
# through the C++ API (tests/test_concurrency.cpp) and the C API (tests/capi/test_capi.c), and the
# OpenMP kernels and batched passes (test_conv, test_network, test_path_methods,
# test_metrics_faithfulness) with two OpenMP threads. Built with clang-14 and LLVM's OpenMP
# runtime, whose Archer tool (libarcher.so, Debian's libomp-14-dev) tells TSan about OpenMP's
# barriers, tasks and locks — so races inside parallel regions are found without false reports on
# the runtime's own synchronisation (GCC's libgomp is not instrumented). Called by tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh clang-14 libomp-14-dev
archer=/usr/lib/llvm-14/lib/libarcher.so
[ -f "$archer" ] || { echo "tsan: $archer is missing (install libomp-14-dev)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
flags="-O1 -g -fsanitize=thread -fno-omit-frame-pointer"
# clang's TSan runtime is linked into the executables; libgradlens.so's TSan hooks resolve against
# it at load time, hence GRADLENS_NO_UNDEFINED=OFF.
link="-fsanitize=thread"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADLENS_NATIVE=OFF -DGRADLENS_BUILD_CLI=OFF -DGRADLENS_NO_UNDEFINED=OFF \
      -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 "${launcher[@]}" \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="$link" -DCMAKE_SHARED_LINKER_FLAGS="$link" >/dev/null
cmake --build build-tsan -j"$(nproc 2>/dev/null || echo 2)" --target gradlens_concurrency_tests gradlens_capi_test
export OMP_NUM_THREADS=2 OMP_TOOL_LIBRARIES=$archer ARCHER_OPTIONS="verbose=1"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1"
log=build-tsan/archer.log
build-tsan/tests/gradlens_concurrency_tests --no-version >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
grep "test cases:" "$log"
# Without Archer attached, OpenMP's synchronisation would be invisible to TSan: make sure it was.
grep -q "Archer detected OpenMP application with TSan" "$log" || { cat "$log" >&2; echo "tsan: Archer was not loaded" >&2; exit 1; }
GRADLENS_CAPI_THREADS_ONLY=1 build-tsan/tests/gradlens_capi_test tests/data/fixtures
echo "tsan: the parallel code is clean under ThreadSanitizer (with Archer, 2 OpenMP threads)"
