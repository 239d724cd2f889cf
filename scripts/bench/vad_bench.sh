#!/usr/bin/env bash
# Silero VAD frames per second: Offgrid's native CPU forward vs onnxruntime (PyPI) on the same model and
# frames, one run, single thread each; prints both and the ratio (goal ≥ 1.0×).
# Needs: scripts/fetch-test-weights.sh (weights), .venv with onnxruntime + silero-vad (see scripts/fixtures/vad_fixtures.py).
# Usage: scripts/bench/vad_bench.sh [passes]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
passes="${1:-50}"
weights="${OFFGRID_WEIGHTS:-$root/.cache/weights}/silero-vad"
wav="$root/engine/tests/fixtures/vad_speech_16k.wav"
py="${PYTHON:-$root/.venv/bin/python}"
[ -f "$weights/silero_vad_16k.safetensors" ] || { echo "weights missing: run scripts/fetch-test-weights.sh" >&2; exit 1; }
cargo build -q --release -p offgrid-engine --example vad_bench
ours="$("$root/target/release/examples/vad_bench" "$weights/silero_vad_16k.safetensors" "$wav" "$passes")"
ort_lines="$("$py" "$root/scripts/bench/vad_bench_ort.py" "$weights/silero_vad.onnx" "$wav" "$passes" 2>/dev/null)"
echo "$ours"
echo "$ort_lines"
"$py" - "$ours" "$ort_lines" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
for line in sys.argv[2].splitlines():
    ref = json.loads(line)
    print(f"ratio vs {ref['impl']}: {ours['frames_per_second'] / ref['frames_per_second']:.2f}x "
          f"({ours['frames_per_second']:.0f} vs {ref['frames_per_second']:.0f} frames/s)")
PY
