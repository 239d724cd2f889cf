#!/usr/bin/env python3
"""Whisper real-time factor, side by side: `offgrid bench transcribe` against faster-whisper (CTranslate2) on
the same model files (Systran/faster-whisper-tiny.en from .cache/weights, fetched by
scripts/fetch-test-weights.sh), the same recording, the same threads, greedy with timestamps, warm, median
of timed runs. Each side's text is printed and must be equal before its time counts.

The recording is the engine's espeak-ng fixtures joined (about 24 s; under 30 s, so one window each side).

    python -m venv /tmp/fw && /tmp/fw/bin/pip install faster-whisper==1.2.1
    cargo build --release -p offgrid-cli
    RAYON_NUM_THREADS=2 /tmp/fw/bin/python scripts/bench/whisper_bench.py --threads 2
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time
import wave

from faster_whisper import WhisperModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "engine/tests/fixtures"
MODEL = ROOT / ".cache/weights/faster-whisper-tiny.en"
PARTS = ["speech/weather_en_m.wav", "speech/kitchen_en_f.wav", "speech/numbers_en_m.wav", "vad_speech_16k.wav"]


def joined(path):
    frames = b""
    for p in PARTS:
        with wave.open(str(FIXTURES / p)) as w:
            frames += w.readframes(w.getnframes())
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    return len(frames) / 2 / 16000


def faster_whisper(wav, compute_type, threads, runs):
    model = WhisperModel(str(MODEL), device="cpu", compute_type=compute_type, cpu_threads=threads)
    times, text = [], None
    for run in range(runs + 1):
        start = time.perf_counter()
        segments, _ = model.transcribe(str(wav), beam_size=1, temperature=0.0, language="en",
                                       condition_on_previous_text=False, vad_filter=False)
        t = "".join(s.text for s in segments)  # the generator runs the model
        took = time.perf_counter() - start
        if run == 0:
            text = t
        else:
            assert t == text, "two greedy runs differ"
            times.append(took)
    return text, statistics.median(times)


def ours(wav, dtype, runs):
    out = subprocess.run([str(ROOT / "target/release/offgrid"), "bench", "transcribe", "--model", str(MODEL),
                          "--wav", str(wav), "--dtype", dtype, "--runs", str(runs)],
                         check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["text"], r["seconds"], r["threads"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(a.threads)
    wav = pathlib.Path("/tmp/offgrid-whisper-bench.wav")
    audio_s = joined(wav)
    rows = []
    for ours_dtype, peer_type in [("f32", "float32"), ("q8_0", "int8")]:
        t_ours, s_ours, threads = ours(wav, ours_dtype, a.runs)
        t_peer, s_peer = faster_whisper(wav, peer_type, a.threads, a.runs)
        same = t_ours.strip() == t_peer.strip()
        rows.append((ours_dtype, peer_type, audio_s / s_ours, audio_s / s_peer, same))
        print(json.dumps({"ours": ours_dtype, "peer": peer_type, "threads": threads, "audio_s": round(audio_s, 2),
                          "ours_rtf": round(audio_s / s_ours, 2), "peer_rtf": round(audio_s / s_peer, 2),
                          "ratio": round(s_peer / s_ours, 3), "same_text": same}))
        if not same:
            print("  ours:", t_ours)
            print("  peer:", t_peer)


if __name__ == "__main__":
    main()
