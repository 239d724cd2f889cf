#!/usr/bin/env bash
# Every GPU benchmark of the issues, side by side with PyTorch CUDA on the same GPU, in one run, after the
# engine's GPU correctness tests on that same GPU. Meant for the GPU machine (NVIDIA, Vulkan for wgpu, PyTorch
# installed, no cargo, no network): build here first with
#   scripts/bench/gpu_machine.sh --prepare
# which puts release binaries, the GPU test binaries and small configs in .devbin/ and packs them into
# .devpack/bins.tgz (both git-ignored; the pack is what a device call carries); then, on the GPU machine, from
# the repo root with .devpack (and the Vulkan loader debs, see the device tool's notes) present:
#   scripts/bench/gpu_machine.sh [OUT_DIR]
# Order: (1) correctness: the GPU op and model tests (`gpu_ops`, `gpu_backend`, `gpu_large_weights`, tiny-random
# BERT, Whisper and VITS against their PyTorch fixtures) on the NVIDIA GPU; (2) timings, each verifying its
# output before it times (see BENCHMARKS.md, "How we time"). Prints each JSON result and the ratios
# (scripts/bench/gpu_ratios.py); the weights of MiniLM, Whisper and IS-Net are random at the real shapes (speed
# does not depend on the values), generated on that machine. Exits non-zero if any correctness test failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if [ "${1:-}" = "--prepare" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
  # Two commands: naming --example limits a build to that target, which would leave a stale `offgrid`.
  cargo build --release --locked -p offgrid-cli --bin offgrid
  cargo build --release --locked -p offgrid-engine --example bert_bench --example vad_bench --example gemv_lab
  CARGO_TARGET_DIR="$root/target" cargo build --release --manifest-path engine/benches/cpu_compare/Cargo.toml --bins
  cargo bench --locked -p offgrid-engine --bench whisper --no-run 2>&1 | tee /tmp/whisper-bench-build.log
  rm -rf .devbin .devpack && mkdir -p .devbin
  cp target/release/offgrid target/release/examples/bert_bench target/release/examples/vad_bench target/release/examples/gemv_lab .devbin/
  cp target/release/offgrid-bench-cpu target/release/models target/release/vad_ort .devbin/
  vad="${OFFGRID_WEIGHTS:-.cache/weights}/silero-vad"
  cp "$vad/silero_vad_16k.safetensors" "$vad/silero_vad.onnx" .devbin/
  whisper_bin="$(ls -t target/release/deps/whisper-* | grep -v '\.d$' | head -1)"
  cp "$whisper_bin" .devbin/whisper_bench
  cp "${OFFGRID_WEIGHTS:-.cache/weights}/all-MiniLM-L6-v2/config.json" .devbin/minilm-config.json
  # The GPU correctness tests: their fixtures are read from the source tree the binaries were built in
  # (CARGO_MANIFEST_DIR), recorded so the GPU machine can link its checkout there.
  gpu_tests="gpu_ops gpu_backend gpu_large_weights bert_tiny whisper_generate vits_hf_tiny"
  cargo test --release --locked -p offgrid-engine --no-run $(printf -- '--test %s ' $gpu_tests) 2>&1 |
    tee /tmp/gpu-tests-build.log
  for t in $gpu_tests; do
    cp "$(grep -o "target/release/deps/$t-[0-9a-f]*" /tmp/gpu-tests-build.log | tail -1)" ".devbin/test_$t"
  done
  echo "$root" >.devbin/built_in
  strip .devbin/* 2>/dev/null || true
  mkdir -p .devpack
  tar czf .devpack/bins.tgz -C .devbin .
  du -sh .devbin .devpack
  exit 0
fi
if [ ! -x .devbin/offgrid ] && [ -f .devpack/bins.tgz ]; then
  mkdir -p .devbin && tar xzf .devpack/bins.tgz -C .devbin
fi
out="${1:-${OUT:-/tmp/gpu-bench}}"
mkdir -p "$out"
py="${PYTHON:-python3}"
step() { printf '\n==> %s\n' "$*" >&2; }

step "GPU and drivers"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.csv" >&2 || true

step "correctness on this GPU: the engine's GPU op and model tests"
built_in="$(cat .devbin/built_in)"
if [ "$built_in" != "$root" ] && [ ! -e "$built_in" ]; then
  mkdir -p "$(dirname "$built_in")" && ln -s "$root" "$built_in"
fi
failed_tests=""
for t in .devbin/test_*; do
  name="${t#.devbin/test_}"
  if ! "$t" --test-threads 4 >"$out/test_$name.txt" 2>&1; then failed_tests="$failed_tests $name"; fi
  grep -E "^test result|panicked|FAILED" "$out/test_$name.txt" | sed "s/^/  $name: /" >&2 || true
done
echo "correctness: ${failed_tests:-all passed}" | tee "$out/correctness.txt" >&2
# From here a failing benchmark (one whose output check fails, say) is reported and the others still run.
set +e

step "ops: offgrid bench ops (wgpu/Vulkan) and PyTorch (TF32 off)"
.devbin/offgrid bench ops --device gpu --json >"$out/ops_ours.json"
"$py" scripts/bench/ops_torch.py >"$out/ops_torch.json"

step "GEMV as a decode pass runs it: each product waiting for the one before (engine/examples/gemv_lab.rs)"
.devbin/gemv_lab >"$out/gemv_lab.txt"

step "IS-Net 1024²: ours (GPU) vs PyTorch CUDA fp32 (random weights at the real shapes)"
"$py" scripts/bench/isnet_torch.py --ours .devbin/offgrid --runs 10 | tee "$out/isnet.json"

step "MiniLM batch 32 x 128: ours (GPU) vs PyTorch CUDA fp32, random weights at the real shapes"
mkdir -p /tmp/w/all-MiniLM-L6-v2
"$py" - <<'PY'
import torch
from transformers import BertConfig, BertModel
torch.manual_seed(0)
config = BertConfig.from_json_file(".devbin/minilm-config.json")
BertModel(config, add_pooling_layer=False).save_pretrained("/tmp/w/all-MiniLM-L6-v2", safe_serialization=True)
PY
OFFGRID_WEIGHTS=/tmp/w "$py" scripts/bench/bert_torch.py --device cuda --ours gpu --iters 20 \
  --ours-bin .devbin/bert_bench | tee "$out/bert.jsonl"

step "Whisper tiny/base (random weights, real shapes): ours (GPU) vs PyTorch CUDA"
"$py" scripts/bench/whisper_random_weights.py
OFFGRID_DEVICE=gpu OFFGRID_BENCH_DIR="$root/.cache/bench" .devbin/whisper_bench --bench | tee "$out/whisper_ours.jsonl"
"$py" scripts/bench/whisper_torch.py --device cuda | tee "$out/whisper_torch.jsonl"

step "CPU, same machine: engine vs candle (GEMM/GEMV, MiniLM, Whisper) and Silero VAD vs onnxruntime"
nproc >&2
.devbin/offgrid-bench-cpu 0.3 | tee "$out/cpu_ops.txt"
.devbin/models --iters 5 --weights /tmp/w --bench-dir "$root/.cache/bench" | tee "$out/cpu_models.jsonl"
.devbin/vad_bench .devbin/silero_vad_16k.safetensors engine/tests/fixtures/vad_speech_16k.wav 50 | tee "$out/vad.jsonl"
# The peer through onnxruntime's C API (as a native app calls it), from the library the Python wheel ships.
ortlib="$("$py" -c 'import glob, os, onnxruntime; print(sorted(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*")))[0])')"
.devbin/vad_ort "$ortlib" .devbin/silero_vad.onnx engine/tests/fixtures/vad_speech_16k.wav 50 | tee -a "$out/vad.jsonl"

step "ratios"
"$py" scripts/bench/gpu_ratios.py "$out" | tee "$out/ratios.txt"
if [ -n "$failed_tests" ]; then
  echo "GPU correctness tests failed:$failed_tests (logs in $out/test_*.txt)" >&2
  exit 1
fi
