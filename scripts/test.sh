#!/usr/bin/env bash
# Runs every test, installing what it needs first (see README):
#   formatting, clippy (native and wasm32), native tests (CPU and GPU on lavapipe), the engine's tests in
#   headless Chromium (WebGPU and wasm CPU), and the browser end-to-end tests against the built app.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
# Each stage's duration is printed at the end (CI must stay well inside its limit as models are added).
stage_names=(); stage_starts=()
step() {
  stage_names+=("$*"); stage_starts+=("$(date +%s)")
  printf '\n==> %s\n' "$*"; df -h --output=avail,target "$root" | tail -1 | awk '{print "    (disk free: " $1 ")"}'
}
durations() {
  local end i next
  [ "${#stage_names[@]}" -gt 0 ] || return 0
  end="$(date +%s)"
  printf '\n==> stage durations\n'
  for i in "${!stage_names[@]}"; do
    next="${stage_starts[$((i + 1))]:-$end}"
    printf '  %5ss  %s\n' "$((next - stage_starts[i]))" "${stage_names[$i]}"
  done
  printf '  %5ss  total\n' "$((end - stage_starts[0]))"
}
trap durations EXIT
# Disk: a clean build of every test binary with full debug info needed more than CI's disk had (rustc died with
# "No space left on device" in the wasm stage). Line tables keep panics' file:line; incremental caches only
# help repeated local builds.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "install test dependencies"
scripts/install-deps.sh test

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (wasm32)"
cargo clippy --workspace --exclude offgrid-cli --target wasm32-unknown-unknown --locked -- -D warnings

step "native tests (CPU, and GPU on lavapipe)"
# wgpu finds Mesa's lavapipe through the Vulkan loader; no GPU needed.
WGPU_BACKEND=vulkan cargo test --workspace --locked
if [ "${OFFGRID_CI:-0}" = 1 ]; then
  # Nothing after this point uses the native debug build; on CI its gigabytes are better freed.
  rm -rf target/debug
fi

step "fuzz smoke: every reader of outside bytes, 30 s each (scripts/fuzz.sh smoke)"
# libFuzzer on stable Rust, no cargo-fuzz: the targets in engine/fuzz/ (WAV, GGUF, safetensors, CTranslate2,
# ONNX, photos, tokenizer.json, chat templates, model JSON, saved collections), seeded from real files, two at
# a time. A crash, timeout or out-of-memory fails the run and leaves its input in engine/fuzz/artifacts/.
scripts/fuzz.sh smoke
if [ "${OFFGRID_CI:-0}" = 1 ]; then
  rm -rf engine/fuzz/target
fi

step "engine op tests in headless Chromium (WebGPU on SwiftShader, and the wasm CPU path)"
# The PyTorch-fixture op tests, each on the wasm CPU path and on WebGPU: Chrome's shader compiler (Tint)
# rejects WGSL that naga accepts, so this is the real check of the kernels for the browser.
scripts/test-wasm.sh --test 'ops_*'

step "all-MiniLM-L6-v2 (real weights) in headless Chromium, WebGPU and wasm CPU, vs sentence-transformers"
# About 2 minutes: WebGPU in headless Chromium is SwiftShader, a software GPU.
scripts/test-wasm.sh --test bert_minilm_browser

step "build the app (release)"
trunk build --release

step "browser end-to-end tests"
(cd tests && node --test --test-concurrency=1 --test-reporter=spec e2e/)
