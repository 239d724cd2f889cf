#!/usr/bin/env bash
# The engine's tests compiled to wasm32 and run by wasm-bindgen-test-runner in headless Chromium
# (through chromedriver), with WebGPU enabled (engine/webdriver.json holds the browser flags).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/engine"
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# tests/bert_minilm_browser.rs fetches the real MiniLM weights from the runner's server, which serves engine/
# but refuses symlinks that leave it: hard-link the folder in (a copy where .cache is on another filesystem).
weights="$root/.cache/weights/all-MiniLM-L6-v2"
if [ -f "$weights/model.safetensors" ]; then
  rm -rf .test-weights && mkdir -p .test-weights
  cp -al "$weights" .test-weights/ 2>/dev/null || cp -a "$weights" .test-weights/
fi
cargo test --target wasm32-unknown-unknown --locked "$@"
