#!/usr/bin/env bash
# Silero VAD frames per second: Offgrid's native CPU forward vs onnxruntime on the same model and frames, one
# run, single thread each, frame by frame; prints both and the ratio (goal ≥ 1.0×). The peer is onnxruntime's
# C API (engine/benches/cpu_compare `vad_ort`, loading the library the PyPI wheel ships), as a native app calls
# it; the Python per-frame loop (`vad_bench_ort.py`) is printed beside it for reference only, since it adds
# Python's call cost to every frame. The two sides' sums of probabilities must agree before a ratio is printed.
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
CARGO_TARGET_DIR="$root/target" cargo build -q --release --manifest-path engine/benches/cpu_compare/Cargo.toml --bin vad_ort
ortlib="$("$py" -c 'import glob, os, onnxruntime; print(sorted(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*")))[0])')"
ours="$("$root/target/release/examples/vad_bench" "$weights/silero_vad_16k.safetensors" "$wav" "$passes")"
ort_lines="$("$root/target/release/vad_ort" "$ortlib" "$weights/silero_vad.onnx" "$wav" "$passes")
$("$py" "$root/scripts/bench/vad_bench_ort.py" "$weights/silero_vad.onnx" "$wav" "$passes" 2>/dev/null)"
echo "$ours"
echo "$ort_lines"
"$py" - "$ours" "$ort_lines" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
for line in sys.argv[2].splitlines():
    ref = json.loads(line)
    if "pass_sum" in ref:
        # Verify before timing counts: the sums of one pass's probabilities (183 frames) agree within 0.5%.
        gap = abs(ref["pass_sum"] - ours["pass_sum"]) / ours["pass_sum"]
        assert gap <= 5e-3, f"outputs differ: sum {ours['pass_sum']} vs {ref['pass_sum']}"
    else:
        print(f"(reference only, Python's call cost on every frame) {ref['impl']}: {ref['frames_per_second']:.0f} frames/s")
        continue
    print(f"ratio vs {ref['impl']}: {ours['frames_per_second'] / ref['frames_per_second']:.2f}x "
          f"({ours['frames_per_second']:.0f} vs {ref['frames_per_second']:.0f} frames/s)")
PY
