#!/usr/bin/env bash
# trunk pre_build hook: puts Silero VAD (silero_vad_16k_op15.onnx, the checkpoint Silero's own runtime runs,
# from the PyPI package `silero-vad`, unpacked by fetch-test-weights.sh) into the build as models/, so it ships with the app shell and the
# service worker precaches it. The worker checks its SHA-256 against the catalog; it is never committed.
set -euo pipefail
staging="${TRUNK_STAGING_DIR:?run by trunk as a pre_build hook}"
root="$(cd "$(dirname "$0")/.." && pwd)"
weights="${OFFGRID_WEIGHTS:-$root/.cache/weights}/silero-vad/silero_vad_16k_op15.onnx"
if [ ! -f "$weights" ]; then
  bash "$root/scripts/fetch-test-weights.sh"
fi
if [ ! -f "$weights" ]; then
  echo "bundle-vad-model: $weights is missing and could not be fetched from PyPI" >&2
  exit 1
fi
mkdir -p "$staging/models"
cp "$weights" "$staging/models/silero_vad_16k_op15.onnx"
echo "bundle-vad-model: models/silero_vad_16k_op15.onnx ($(stat -c %s "$weights") bytes)"
