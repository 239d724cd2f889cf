#!/usr/bin/env python3
"""IS-Net at 1024², side by side: `offgrid bench remove-background` against onnxruntime (CPU execution
provider, graph optimisations on, its own NCHWc convolutions) on the same file (imgly's fp16 IS-Net from
.cache/weights/isnet-imgly, fetched by scripts/fetch-test-weights.sh), the same photo, the same threads,
warm, median of timed runs. Both sides time the same work: the photo resized to 1024² and normalised, the
network, the mask in memory. Each side's mask is compared (max |Δ| ≤ 0.02, the test's tolerance) before its
time counts.

    cargo build --release -p offgrid-cli
    RAYON_NUM_THREADS=2 /work/venv/ref/bin/python scripts/bench/isnet_bench.py --threads 2
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts/fixtures"))
from isnet_fixtures import MODEL, SIZE, normalise, resize_bilinear_half_pixel  # noqa: E402

PHOTO = ROOT / "engine/tests/fixtures/isnet/photos/chelsea.png"


def onnxruntime(threads, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(MODEL), so, providers=["CPUExecutionProvider"])
    times, mask = [], None
    for run in range(runs + 1):
        start = time.perf_counter()
        with Image.open(PHOTO) as im:
            rgb = np.asarray(im.convert("RGB"))
        x = normalise(resize_bilinear_half_pixel(rgb, SIZE, SIZE))
        m = sess.run(["output"], {"input": x})[0][0, 0]
        took = time.perf_counter() - start
        if run == 0:
            mask = m
        else:
            times.append(took)
    return statistics.median(times), times, mask


def ours(threads, runs, mask_path):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([str(ROOT / "target/release/offgrid"), "bench", "remove-background",
                          "--model", str(MODEL), "--photo", str(PHOTO), "--runs", str(runs),
                          "--mask-out", mask_path], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mask_path = os.path.join(tmp, "ours.png")
        mine = ours(a.threads, a.runs, mask_path)
        ort_s, ort_runs, ort_mask = onnxruntime(a.threads, a.runs)
        our_mask = np.asarray(Image.open(mask_path), dtype=np.float32) / 255.0
    diff = float(np.abs(our_mask - ort_mask).max())
    assert diff <= 0.02, f"masks differ by {diff}"
    print(json.dumps({
        "photo": PHOTO.name, "threads": a.threads, "max_abs_diff": round(diff, 4),
        "ours_s": round(mine["seconds"], 3), "ours_runs": [round(t, 3) for t in mine["runs"]],
        "onnxruntime_s": round(ort_s, 3), "onnxruntime_runs": [round(t, 3) for t in ort_runs],
        "onnxruntime_version": ort.__version__,
        "ratio_ours_over_onnxruntime_speed": round(ort_s / mine["seconds"], 3),
    }, indent=1))


if __name__ == "__main__":
    main()
