#!/usr/bin/env bash
# Measures the hand-made hostile files of tests/hostile_files.h on the CLI: the test binary writes
# them (GRADLENS_HOSTILE_DIR), then each file's command runs under /usr/bin/time. Prints one
# Markdown table row per file: exit code, stderr lines, CPU time (user + system; wall time depends
# on the machine's load), peak memory (max RSS), and the message. Usage: tools/hostile_table.sh [BUILD_DIR]   (default build/)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GRADLENS_HOSTILE_DIR=$dir "$build/tests/gradlens_tests" --source-file='*test_hostile_inputs.cpp' \
  --test-case='hostile files*' >/dev/null || { echo "writing the files failed" >&2; exit 1; }
echo "| file | exit | stderr lines | CPU time | peak RSS | message |"
echo "|---|---|---|---|---|---|"
for c in "$dir"/*/; do
  name=$(basename "$c")
  /usr/bin/time -f "%U %S %M" -o "$dir/time.txt" bash "$c/command.sh" >/dev/null 2>"$dir/err.txt"
  code=$?
  read -r user sys kb < <(tail -1 "$dir/time.txt")
  secs=$(echo "$user + $sys" | bc)
  lines=$(wc -l <"$dir/err.txt")
  msg=$(head -c 160 "$dir/err.txt" | head -1 | sed "s|$dir/||g; s/|/\\\\|/g")
  printf '| `%s` | %s | %s | %s s | %s MB | %s |\n' "$name" "$code" "$lines" "$secs" "$((kb / 1024))" "$msg"
done
