#!/usr/bin/env bash
# gradlens demo: explains the shipped Fashion-MNIST CNN (tools/demo/fashion_cnn.onnx, made by
# tools/train_demo.py) on ten test images, one per class, with the methods in METHODS.
#
#   tools/demo.sh [OUT_DIR]        (default OUT_DIR: gradlens-demo/ in the repository root)
#
# Installs what is missing (tools/bootstrap.sh), builds Release in build/ with all cores, then:
#   - when the CLI has `compare` (with --preset and --labels) it runs the main job
#       gradlens compare tools/demo/fashion_cnn.onnx tools/demo/images --methods $METHODS
#                        --preset fashion-mnist --labels tools/demo/labels.txt --out OUT_DIR
#   - otherwise it runs `gradlens explain` once per method on tools/demo/images.npy (the ten
#     images already normalised with the fashion-mnist preset: (pixel/255 − 0.2860)/0.3530),
#     writing OUT_DIR/<method>.npy and OUT_DIR/<method>.json.
# Methods this build does not have are reported and skipped. Safe to run again: outputs are
# overwritten.
set -euo pipefail

# The demo's methods, in display order (comma-separated, as `compare --methods` takes them).
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
for f in "$model" "$demo/labels.txt" "$demo/images.npy" "$demo/images"; do
  [ -e "$f" ] || die "$f is missing (regenerate with /usr/bin/python3 tools/train_demo.py)"
done

say "checking dependencies (tools/bootstrap.sh)"
bash tools/bootstrap.sh

jobs=$(nproc 2>/dev/null || echo 2)
say "building gradlens (Release, build/, -j$jobs)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
if ! build_log=$(cmake --build build -j"$jobs" --target gradlens_cli 2>&1); then
  printf '%s\n' "$build_log" >&2
  die "build failed"
fi
gradlens=$root/build/gradlens
[ -x "$gradlens" ] || die "build/gradlens was not built"

# What this build offers: commands from `gradlens --help`, methods from `gradlens methods` (the
# table's first column, up to the blank line before its footnote).
help_text=$("$gradlens" --help)
available_methods=$("$gradlens" methods | awk 'NR == 1 { next } /^$/ { exit } { print $1 }')
explain_help=$("$gradlens" explain --help)
have_command() { awk -v c="$1" '$1 == c { found = 1 } END { exit !found }' <<<"$help_text"; }
have_method() { grep -qx -- "$1" <<<"$available_methods"; }
have_noise() { grep -q -- "--noise .*$1" <<<"$explain_help"; }

IFS=, read -r -a wanted <<<"$METHODS"
mkdir -p "$out"

labels=()
while IFS= read -r line; do labels+=("$line"); done <"$demo/labels.txt"

# Compare mode: needs the command and its image/preset/label support.
compare_help=""
if have_command compare; then compare_help=$("$gradlens" compare --help); fi
if grep -q -- "--preset" <<<"$compare_help" && grep -q -- "--labels" <<<"$compare_help"; then
  methods=()
  for m in "${wanted[@]}"; do
    if have_method "$m"; then methods+=("$m"); else say "skipping $m: not in this build"; fi
  done
  [ ${#methods[@]} -gt 0 ] || die "none of the demo's methods ($METHODS) is in this build"
  list=$(IFS=,; echo "${methods[*]}")
  say "running: gradlens compare $model $demo/images --methods $list --preset fashion-mnist" \
      "--labels $demo/labels.txt --out $out"
  "$gradlens" compare "$model" "$demo/images" --methods "$list" --preset fashion-mnist \
    --labels "$demo/labels.txt" --out "$out"
  say "done: $out"
  ls -1 "$out" | sed 's/^/  /'
  exit 0
fi

# Fallback: one `gradlens explain` per method on the pre-normalised batch.
say "this build has no 'gradlens compare' with image inputs yet: running 'gradlens explain'" \
    "per method on $demo/images.npy (the ten images, normalised with the fashion-mnist preset)"

# The model's predictions, which the methods explain (--target auto = the predicted class).
run_json=$("$gradlens" run "$model" "$demo/images.npy" --json)
mapfile -t predicted < <(grep -o '\[{"class":[0-9]*' <<<"$run_json" | grep -o '[0-9]*$')
[ ${#predicted[@]} -eq 10 ] || die "unexpected output from gradlens run: $run_json"
images=()
for f in "$demo"/images/*.png; do images+=("$(basename "$f" .png)"); done

done_methods=()
skipped=()
for m in "${wanted[@]}"; do
  args=(--method "$m")
  how=$m
  if ! have_method "$m"; then
    # SmoothGrad (Smilkov et al. 2017) is the noise wrapper around the plain gradient until a
    # method of that name exists.
    if [ "$m" = smoothgrad ] && have_method gradient && have_noise smoothgrad; then
      args=(--method gradient --noise smoothgrad --samples 50 --noise-level 0.15 --seed 0)
      how="gradient --noise smoothgrad"
    else
      skipped+=("$m")
      continue
    fi
  fi
  say "explain: $how"
  json_tmp=$out/$m.json.tmp.$$
  if ! "$gradlens" explain "$model" "$demo/images.npy" "${args[@]}" \
       --out-npy "$out/$m.npy" --json >"$json_tmp"; then
    rm -f "$json_tmp"
    die "gradlens explain --method $how failed"
  fi
  mv -f "$json_tmp" "$out/$m.json"
  done_methods+=("$m")
done

echo
say "output in $out"
echo "  The ten inputs (rows 0..9 of every array), with the model's prediction:"
for k in "${!images[@]}"; do
  printf '    %d  %-18s predicted: %s\n' "$k" "${images[$k]}.png" "${labels[${predicted[$k]}]}"
done
echo "  Attributions of the predicted class's logit (float32 .npy, one row per image):"
for m in "${done_methods[@]}"; do
  shape=$(grep -o '"attribution_shape":\[[0-9,]*\]' "$out/$m.json" | grep -o '\[.*\]')
  case "$shape" in
    *,1,28,28\]) what="pixel-level map, one value per input pixel" ;;
    *) what="layer-resolution map (the last convolution's grid; upsample to 28x28 to overlay)" ;;
  esac
  printf '    %-22s %-16s %s\n' "$m.npy" "$shape" "$what"
  for extra in "$out/$m".*.npy; do
    if [ -e "$extra" ]; then
      printf '    %-22s %-16s %s\n' "$(basename "$extra")" "" "extra output of $m"
    fi
  done
done
echo "  Each <method>.json holds the method's parameters, targets, scores, passes and timing."
if [ ${#skipped[@]} -gt 0 ]; then
  echo "  Not in this build yet (skipped): ${skipped[*]}"
fi
echo "  Large values mark the pixels (for the CAMs, the 4x4-pixel cells of the 7x7 grid) that most"
echo "  support the predicted class: overlay row k on tools/demo/images/k_*.png to see which part"
echo "  of the garment the model used."
