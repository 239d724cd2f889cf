#!/usr/bin/env python3
"""onnxruntime side of scripts/bench/vad_bench.sh: Silero VAD frames per second on the same frames.

Two figures: `onnxruntime-session` (InferenceSession.run with numpy, one thread, as OnnxWrapper configures it:
the runtime's own cost) and `silero-vad-OnnxWrapper` (the package's Python wrapper, what its users call).
Usage: vad_bench_ort.py <model.onnx> <16 kHz wav> [passes]; prints one JSON line per figure.
"""
import json
import sys
import time
import wave

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, wav_path = sys.argv[1], sys.argv[2]
    passes = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    with wave.open(wav_path, "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    frames = [audio[i : i + 512] for i in range(0, len(audio) - 511, 512)]

    opts = ort.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"], sess_options=opts)
    sr = np.array(16000, dtype=np.int64)

    def one_pass() -> float:
        state = np.zeros((2, 1, 128), np.float32)
        ctx = np.zeros((1, 64), np.float32)
        total = 0.0
        for f in frames:
            x = np.concatenate([ctx, f[None, :]], axis=1)
            out, state = sess.run(None, {"input": x, "state": state, "sr": sr})
            ctx = x[:, -64:]
            total += float(out[0, 0])
        return total

    one_pass()
    start = time.perf_counter()
    for _ in range(passes):
        one_pass()
    sec = time.perf_counter() - start
    n = passes * len(frames)
    print(json.dumps({"impl": "onnxruntime-session", "frames": n, "seconds": sec,
                      "frames_per_second": n / sec, "us_per_frame": sec * 1e6 / n}))

    try:
        import torch
        from silero_vad.utils_vad import OnnxWrapper
    except ImportError as e:  # e.g. the GPU machine, which has onnxruntime but not the silero-vad package
        print(f"skipping the silero-vad wrapper figure: {e}", file=sys.stderr)
        return

    wrapper = OnnxWrapper(model, force_onnx_cpu=True)
    tframes = [torch.from_numpy(f.copy()) for f in frames]
    wrapper.reset_states()
    for f in tframes:
        wrapper(f, 16000)
    wpasses = max(1, passes // 5)
    start = time.perf_counter()
    for _ in range(wpasses):
        wrapper.reset_states()
        for f in tframes:
            wrapper(f, 16000)
    sec = time.perf_counter() - start
    n = wpasses * len(frames)
    print(json.dumps({"impl": "silero-vad-OnnxWrapper", "frames": n, "seconds": sec,
                      "frames_per_second": n / sec, "us_per_frame": sec * 1e6 / n}))


if __name__ == "__main__":
    main()
