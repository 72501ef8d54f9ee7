#!/usr/bin/env bash
# gradlens demo: explains the shipped Fashion-MNIST CNN (tools/demo/fashion_cnn.onnx, made by
# tools/train_demo.py, 90.1% test accuracy) on ten test images, one per class, with the main
# methods, and writes a labelled grid, an HTML report and the raw .npy attributions.
#
#   tools/demo.sh [OUT_DIR]        (default OUT_DIR: gradlens-demo/ in the repository root)
#
# Installs what is missing (tools/bootstrap.sh), builds Release in build/ with all cores, then runs
#   gradlens compare tools/demo/fashion_cnn.onnx tools/demo/images --methods $METHODS
#                    --preset fashion-mnist --labels tools/demo/labels.txt --out OUT_DIR
# Safe to run again: outputs are overwritten (atomically).
set -euo pipefail

# The demo's methods, in display order.
METHODS="saliency,guided-backprop,grad-cam,grad-cam-pp,integrated-gradients,smoothgrad,fullgrad"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -gt 1 ]; then
  echo "usage: tools/demo.sh [OUT_DIR]" >&2
  exit 2
elif [ $# -eq 1 ]; then
  case "$1" in
    /*) out=$1 ;;
    *) out=$(pwd)/$1 ;;  # relative to where the script is run from
  esac
else
  out=$root/gradlens-demo
fi
cd "$root"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '%sdemo:%s %s\n' "$bold" "$plain" "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

demo=tools/demo
model=$demo/fashion_cnn.onnx
for f in "$model" "$demo/labels.txt" "$demo/images"; do
  [ -e "$f" ] || die "$f is missing (regenerate with /usr/bin/python3 tools/train_demo.py)"
done

say "checking dependencies (tools/bootstrap.sh)"
bash tools/bootstrap.sh

jobs=$(nproc 2>/dev/null || echo 2)
say "building gradlens (Release, build/, -j$jobs)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
# The build's progress, condensed from cmake's "[ 45%] Building ..." lines: one line redrawn on a
# terminal, a line per 10% otherwise; the whole log is printed only if the build fails.
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
start=$SECONDS
set +o pipefail
cmake --build build -j"$jobs" --target gradlens_cli 2>&1 | tee "$build_log" | {
  shown=-10
  while IFS= read -r line; do
    [[ $line =~ ^\[\ *([0-9]+)%\]\ (.*)$ ]] || continue
    pct=${BASH_REMATCH[1]} what=${BASH_REMATCH[2]##*/}
    elapsed=$((SECONDS - start))
    eta=""
    if [ "$pct" -gt 0 ]; then eta=", ~$(( elapsed * (100 - pct) / pct ))s left"; fi
    if [ -t 2 ]; then
      printf '\r  build %3d%% (%ds%s) %-40.40s' "$pct" "$elapsed" "$eta" "$what" >&2
    elif [ "$pct" -ge $((shown + 10)) ]; then
      shown=$pct
      printf '  build %3d%% (%ds%s)\n' "$pct" "$elapsed" "$eta" >&2
    fi
  done
  [ -t 2 ] && printf '\n' >&2
  true
}
status=${PIPESTATUS[0]}
set -o pipefail
if [ "$status" -ne 0 ]; then
  cat "$build_log" >&2
  die "build failed"
fi
gradlens=$root/build/gradlens
[ -x "$gradlens" ] || die "build/gradlens was not built"

mkdir -p "$out"
say "running: gradlens compare $model $demo/images --methods $METHODS --preset fashion-mnist" \
    "--labels $demo/labels.txt --out $out"
"$gradlens" compare "$model" "$demo/images" --methods "$METHODS" --preset fashion-mnist \
  --labels "$demo/labels.txt" --out "$out" --quiet

pngs=("$demo"/images/*.png)
npys=("$out"/*.npy)
images=${#pngs[@]}
arrays=${#npys[@]}
cat <<TXT

$(say "done. Open these:")
  $out/grid.png     rows: the $images test images (one per class), labelled with the predicted class
                    and its probability; columns: the image, then one heatmap per method
                    (${METHODS//,/, }),
                    each explaining the class the model predicts for that image; on the right the
                    colour bar (each tile is scaled on its own: 0 … its max)
  $out/report.html  the same, self-contained, with each image's top-5 predictions (names, probabilities),
                    every method's parameters and time, and FullGrad's completeness gap
  $out/*.npy        the $arrays raw attributions (<image>.<method>.npy, float32): pixel methods
                    [1,1,28,28] signed and unnormalised, CAMs [1,1,7,7] at the layer's resolution,
                    fullgrad.map the paper's post-processed map

What to look for: gradients (saliency, smoothgrad, integrated-gradients) are pixel-level and noisy
on a small network; guided-backprop sharpens them into edges; grad-cam and grad-cam-pp are coarse
7x7 maps of where the last convolution saw the class; fullgrad adds the bias terms, which make its
map denser. 'gradlens explain --help' and 'gradlens methods' show every option and method.
TXT
