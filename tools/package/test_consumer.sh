#!/usr/bin/env bash
# The installed package, as a product sees it: installs BUILD_DIR (default build/) into a
# temporary prefix, then builds and runs a C program through pkg-config (against libgradlens.so)
# and a C++ program through find_package(gradlens) (gradlens::gradlens, static), runs the
# installed CLI, checks that libgradlens.so exports the C API only, and configures (without
# building) a product that adds gradlens with add_subdirectory(): no tests, no CLI, no doctest,
# not -march=native. Called by tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
build=$(cd "${1:-build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=$src/tests/data/fixtures/small_cnn/model.onnx
fail() { echo "test_consumer: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install failed"; }
for f in include/gradlens/gradlens.h include/gradlens/attribution/method.h include/gradlens/engine/tensor.h bin/gradlens \
         share/gradlens/imagenet_classes.txt; do
  [ -e "$tmp/prefix/$f" ] || fail "not installed: $f"
done
pc=$(find "$tmp/prefix" -name gradlens.pc)
[ -n "$pc" ] || fail "gradlens.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
so=$(readlink -f "$libdir/libgradlens.so")
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
[[ "$soname" == libgradlens.so.[0-9]* ]] || fail "libgradlens.so has no versioned SONAME ($soname)"
others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^gradlens_' || true)
[ -z "$others" ] || fail "libgradlens.so exports more than the C API: $(echo "$others" | head -3)"

# C through pkg-config.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$src/tools/capi/example.c" -o "$tmp/c_example" \
   $(pkg-config --cflags --libs gradlens) -lm -Wl,-rpath,"$libdir"
"$tmp/c_example" "$model" integrated-gradients | tee "$tmp/c.out"
grep -q "completeness gap" "$tmp/c.out" || fail "C example output"

# C++ through find_package.
cmake -S "$src/tools/package/consumer" -B "$tmp/cxx" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cxx" >/dev/null
"$tmp/cxx/consumer" "$model"

"$tmp/prefix/bin/gradlens" methods >/dev/null || fail "installed CLI"
# The installed CLI finds its ImageNet names under PREFIX/share/gradlens (the demo model has 10
# classes, so it reads all 1000 and refuses them, naming the file).
if "$tmp/prefix/bin/gradlens" compare "$src/tools/demo/fashion_cnn.onnx" "$src/tools/demo/images/0_T-shirt-top.png" \
     --methods saliency --labels imagenet --quiet --out "$tmp/compare" 2>"$tmp/labels.err"; then
  fail "--labels imagenet accepted 1000 names for a 10-class model"
fi
grep -q "$tmp/prefix/share/gradlens/imagenet_classes.txt: 1000 labels" "$tmp/labels.err" ||
  fail "installed CLI: --labels imagenet: $(cat "$tmp/labels.err")"

# add_subdirectory(gradlens) in a product: configure only.
mkdir -p "$tmp/product"
cat >"$tmp/product/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(product LANGUAGES C CXX)
add_subdirectory("$src" gradlens)
CMAKE
cmake -S "$tmp/product" -B "$tmp/product/build" >/dev/null
targets=$(cmake --build "$tmp/product/build" --target help)
grep -q "gradlens_static" <<<"$targets" || fail "add_subdirectory: no library target"
! grep -qE "gradlens_tests|gradlens_cli|gradlens_capi_test" <<<"$targets" || fail "add_subdirectory builds tests or the CLI"
! grep -q "DOCTEST_INCLUDE_DIR" "$tmp/product/build/CMakeCache.txt" || fail "add_subdirectory looks for doctest"
grep -q "GRADLENS_NATIVE:BOOL=OFF" "$tmp/product/build/CMakeCache.txt" || fail "add_subdirectory: -march=native by default"
# A top-level build configured for installation (an install prefix given) is portable by default.
cmake -S "$src" -B "$tmp/for-install" -DCMAKE_INSTALL_PREFIX="$tmp/elsewhere" >/dev/null
grep -q "GRADLENS_NATIVE:BOOL=OFF" "$tmp/for-install/CMakeCache.txt" || fail "build for installation is -march=native"
echo "test_consumer: install, pkg-config C consumer, find_package C++ consumer, add_subdirectory: ok"
