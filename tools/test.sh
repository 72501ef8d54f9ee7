#!/usr/bin/env bash
# Installs what is missing, builds gradlens (Release, in build/) and runs every test through ctest;
# then the installed-package test, the suite under ASan + UBSan and the parallel code under TSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
# The installed package seen by a product (C via pkg-config, C++ via find_package, add_subdirectory).
bash tools/package/test_consumer.sh build
# The whole suite again under AddressSanitizer + UBSan (build-asan/, see tools/sanitize.sh).
bash tools/sanitize.sh
# The parallel code under ThreadSanitizer with OpenMP's Archer tool (build-tsan/, see tools/tsan.sh).
bash tools/tsan.sh
