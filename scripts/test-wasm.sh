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
cargo test --target wasm32-unknown-unknown --locked "$@"
