#!/usr/bin/env bash
# Every GPU benchmark of the issues, side by side with PyTorch CUDA on the same GPU, in one run. Meant for the
# GPU machine (NVIDIA, Vulkan for wgpu, PyTorch installed, no cargo, no network): build here first with
#   scripts/bench/gpu_machine.sh --prepare
# which puts release binaries and small configs in .devbin/ (git-ignored); then, on the GPU machine, from the
# repo root with .devbin (and the Vulkan loader debs, see the device tool's notes) present:
#   scripts/bench/gpu_machine.sh [OUT_DIR]
# Prints each JSON result and the ratios (scripts/bench/gpu_ratios.py); the weights of MiniLM and Whisper are
# random at the real shapes (speed does not depend on the values), generated on that machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if [ "${1:-}" = "--prepare" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
  # Two commands: naming --example limits a build to that target, which would leave a stale `offgrid`.
  cargo build --release --locked -p offgrid-cli --bin offgrid
  cargo build --release --locked -p offgrid-engine --example bert_bench --example vad_bench --example gemv_lab
  CARGO_TARGET_DIR="$root/target" cargo build --release --locked --manifest-path engine/benches/cpu_compare/Cargo.toml --bins
  cargo bench --locked -p offgrid-engine --bench whisper --no-run 2>&1 | tee /tmp/whisper-bench-build.log
  mkdir -p .devbin
  cp target/release/offgrid target/release/examples/bert_bench target/release/examples/vad_bench target/release/examples/gemv_lab .devbin/
  cp target/release/offgrid-bench-cpu target/release/models .devbin/
  vad="${OFFGRID_WEIGHTS:-.cache/weights}/silero-vad"
  cp "$vad/silero_vad_16k.safetensors" "$vad/silero_vad.onnx" .devbin/
  whisper_bin="$(ls -t target/release/deps/whisper-* | grep -v '\.d$' | head -1)"
  cp "$whisper_bin" .devbin/whisper_bench
  cp "${OFFGRID_WEIGHTS:-.cache/weights}/all-MiniLM-L6-v2/config.json" .devbin/minilm-config.json
  du -sh .devbin
  exit 0
fi
out="${1:-${OUT:-/tmp/gpu-bench}}"
mkdir -p "$out"
py="${PYTHON:-python3}"
step() { printf '\n==> %s\n' "$*" >&2; }

step "GPU and drivers"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.csv" >&2 || true

step "ops: offgrid bench ops (wgpu/Vulkan) and PyTorch (TF32 off)"
.devbin/offgrid bench ops --device gpu --json >"$out/ops_ours.json"
"$py" scripts/bench/ops_torch.py >"$out/ops_torch.json"

step "GEMV as a decode pass runs it: each product waiting for the one before (engine/examples/gemv_lab.rs)"
.devbin/gemv_lab >"$out/gemv_lab.txt"

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
"$py" scripts/bench/vad_bench_ort.py .devbin/silero_vad.onnx engine/tests/fixtures/vad_speech_16k.wav 50 | tee -a "$out/vad.jsonl"

step "ratios"
"$py" scripts/bench/gpu_ratios.py "$out" | tee "$out/ratios.txt"
