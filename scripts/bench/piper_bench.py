#!/usr/bin/env python3
"""Piper text-to-speech, side by side: `offgrid bench speak` against onnxruntime (CPU execution provider, graph
optimisations on) on the same voice file (en_US-joe-medium from .cache/weights/piper-joe, fetched by
scripts/fetch-test-weights.sh), the same phoneme ids (the three sentences of engine/tests/fixtures/piper, made
by espeak-ng), the same threads, scales [0, 1, 0] (deterministic), warm, median of timed runs. Both sides time
the same work: ids in, the waveform of every sentence in memory, one sentence after the other. Each side's
audio is checked first: same frames per phoneme and SNR >= 40 dB against the other.

    cargo build --release -p offgrid-cli
    /work/venv/ref/bin/python scripts/bench/piper_bench.py --threads 2 [--device gpu --ours target/release/offgrid]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time
import wave

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
VOICE = ROOT / ".cache/weights/piper-joe/en_US-joe-medium.onnx"
FIXTURE = ROOT / "engine/tests/fixtures/piper/piper_joe.json"


def onnxruntime(cases, threads, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(VOICE), so, providers=["CPUExecutionProvider"])
    scales = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    times, firsts, audio = [], [], None
    for run in range(runs + 1):
        start = time.perf_counter()
        outs = []
        for i, c in enumerate(cases):
            ids = np.array([c["ids"]], dtype=np.int64)
            outs.append(sess.run(["output"], {"input": ids, "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
                                              "scales": scales})[0].reshape(-1))
            if i == 0:
                first = time.perf_counter() - start
        took = time.perf_counter() - start
        if run == 0:
            audio = np.concatenate(outs)
        else:
            times.append(took)
            firsts.append(first)
    return statistics.median(times), times, statistics.median(firsts), audio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--ours", default=str(ROOT / "target/release/offgrid"))
    a = ap.parse_args()
    cases = json.loads(FIXTURE.read_text())["cases"]
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = os.path.join(tmp, "ours.wav")
        env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
        cmd = [a.ours, "bench", "speak", "--model", str(VOICE), "--runs", str(a.runs), "--device", a.device,
               "--wav-out", wav_path]
        for c in cases:
            cmd += ["--ids", ",".join(map(str, c["ids"]))]
        mine = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
        with wave.open(wav_path) as f:
            ours_audio = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32) / 32767.0
    ort_s, ort_runs, ort_first, ort_audio = onnxruntime(cases, a.threads, a.runs)
    assert mine["durations"] == [c["durations"] for c in cases], "frames per phoneme differ"
    assert ours_audio.size == ort_audio.size, (ours_audio.size, ort_audio.size)
    snr = 10 * np.log10(np.sum(ort_audio ** 2) / max(np.sum((ours_audio - ort_audio) ** 2), 1e-20))
    assert snr >= 40, f"SNR {snr:.1f} dB"
    audio_s = ort_audio.size / 22050
    print(json.dumps({
        "voice": VOICE.name, "sentences": len(cases), "audio_s": round(audio_s, 3), "threads": a.threads,
        "device": a.device, "snr_db": round(float(snr), 1),
        "ours_s": round(mine["seconds"], 4), "ours_runs": [round(t, 4) for t in mine["runs"]],
        "ours_rtf": round(mine["real_time_factor"], 1), "ours_first_sentence_s": round(mine["first_sentence_seconds"], 4),
        "onnxruntime_s": round(ort_s, 4), "onnxruntime_runs": [round(t, 4) for t in ort_runs],
        "onnxruntime_rtf": round(audio_s / ort_s, 1), "onnxruntime_first_sentence_s": round(ort_first, 4),
        "onnxruntime_version": ort.__version__,
        "ratio_ours_over_onnxruntime_speed": round(ort_s / mine["seconds"], 3),
    }, indent=1))


if __name__ == "__main__":
    main()
