#!/usr/bin/env bash
# Browser benchmarks in Debian's headless Chromium, one run, printed as absolute figures and ratios:
#   (b) all-MiniLM-L6-v2, batch 32 x 128 tokens, passages/s: our wasm CPU path vs Transformers.js (WASM backend,
#       1 thread) on the same weights exported to ONNX (bench/web/export_onnx.py)
#   (c) the same workload on our WebGPU path vs our wasm CPU path (headless WebGPU here is SwiftShader, on the CPU)
#   (issue #3) the engine's CPU GEMM/GEMV kernels in Chromium's wasm vs the same kernels natively, one thread each
#   (d) Speak: the Piper voice en_US-joe-medium, phoneme ids to audio: our wasm CPU VITS vs piper-tts-web's
#       onnxruntime-web runtime (WASM, 1 thread) on the same .onnx; real-time factor, first-sentence time
# Needs what `scripts/install-deps.sh test` installs (Chromium, wasm-bindgen-cli, the real MiniLM weights); installs
# the bench's npm packages (bench/web) and the Python export tools (.venv) when missing.
# Extra arguments go to bench/web/run.mjs (--iters N, --gpu-iters N, --kernel-budget S, --skip-gpu, --json FILE,
# --piper-iters N). --only minilm,kernels,piper runs only those steps, and prepares only what they need
# (e.g. `--only piper`: no ONNX export, no native kernel build).
# OFFGRID_BUILD_LOCK=<file>: run the cargo builds under flock on that file (machines shared with other builds).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target-bench}"
web=bench/web
step() { printf '\n==> %s\n' "$*"; }
locked() { if [ -n "${OFFGRID_BUILD_LOCK:-}" ]; then flock "$OFFGRID_BUILD_LOCK" "$@"; else "$@"; fi; }
only=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = --only ] && only="${args[i + 1]:-}"
done
runs() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

step "weights, Python export tools, npm packages"
scripts/fetch-test-weights.sh
weights="$root/.cache/weights/all-MiniLM-L6-v2"
if runs minilm; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -c 'import torch, transformers, onnx, onnxruntime' 2>/dev/null ||
    .venv/bin/pip install -q torch transformers safetensors onnx onnxruntime
fi
# --ignore-scripts: onnxruntime-node (a dependency of Transformers.js the browser never loads) downloads native
# binaries from its install script.
[ -d "$web/node_modules/@huggingface/transformers" ] && [ -d "$web/node_modules/piper-tts-web" ] ||
  (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

onnx="$web/model-onnx"
if runs minilm; then
  step "ONNX export of the same weights for Transformers.js"
  if [ ! -f "$onnx/onnx/model.onnx" ] || [ "$weights/model.safetensors" -nt "$onnx/onnx/model.onnx" ]; then
    # The tracer's warnings are about Python branches on shapes; the script checks the export numerically.
    PYTHONWARNINGS=ignore .venv/bin/python "$web/export_onnx.py" "$weights" "$onnx"
  fi
fi

step "build: the bench page's wasm (release, simd128)$(runs kernels && echo " and the native kernel binary")"
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$web/Cargo.lock")
wasm-bindgen --version | grep -q " ${wb_version}\$" || {
  echo "wasm-bindgen-cli must be ${wb_version} (bench/web/Cargo.lock): scripts/install-deps.sh build" >&2; exit 1; }
locked cargo build --release --locked --manifest-path "$web/Cargo.toml" --lib --target wasm32-unknown-unknown
locked wasm-bindgen --target web --out-dir "$web/pkg" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/offgrid_bench_web.wasm"
native_args=()
if runs kernels; then
  locked cargo build --release --locked --manifest-path "$web/Cargo.toml" --bin kernels_native
  step "native kernels (one thread)"
  native="$CARGO_TARGET_DIR/kernels_native.jsonl"
  "$CARGO_TARGET_DIR/release/kernels_native" 0.5 | tee "$native"
  native_args=(--native "$native")
fi

step "headless Chromium"
node "$web/run.mjs" --weights "$weights" --onnx "$onnx" "${native_args[@]}" "$@"
