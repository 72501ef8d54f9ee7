#!/usr/bin/env bash
# Installs what gradlens needs to build and test, from Debian's packages only. Idempotent; silent
# when everything is present. Runs apt-get as root or through sudo.
set -euo pipefail

packages=(cmake g++ make pkg-config libeigen3-dev libstb-dev doctest-dev libonnx-testdata chromium)
# Extra packages for a caller's purpose, e.g. `bootstrap.sh chromium`.
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "bootstrap: missing packages (${missing[*]}) and not root, and sudo is not available" >&2
  exit 1
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
