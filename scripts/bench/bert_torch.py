#!/usr/bin/env python3
"""Benchmark (d): all-MiniLM-L6-v2 passages/s on batches of 32 x 128 tokens, PyTorch (CUDA if present) against
Offgrid's engine (`engine/examples/bert_bench.rs`) on the same safetensors, in one run, printed as a ratio.

Run on the GPU machine from the repo root (weights in $OFFGRID_WEIGHTS or .cache/weights):
    python3 scripts/bench/bert_torch.py [--device cuda|cpu] [--iters 20] [--ours gpu|cpu]
It builds and runs `cargo run --release -p offgrid-engine --example bert_bench -- --device <ours>` unless
--skip-ours is given. Inputs are the same deterministic ids as the Rust side.
"""

import argparse
import json
import os
import subprocess
import time

import torch
from transformers import BertModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def ids(batch, seq):
    rows = []
    for b in range(batch):
        row = []
        for t in range(seq):
            row.append(101 if t == 0 else 102 if t == seq - 1 else 2000 + (b * 7919 + t * 104729) % 20000)
        rows.append(row)
    return torch.tensor(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--ours", default="gpu")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--ours-bin", help="a built bert_bench example (on a machine without cargo)")
    ap.add_argument("--fp16", action="store_true", help="PyTorch in half precision (ours stays as stored)")
    a = ap.parse_args()
    weights = os.environ.get("OFFGRID_WEIGHTS", os.path.join(ROOT, ".cache", "weights"))
    path = os.path.join(weights, "all-MiniLM-L6-v2")
    batch, seq = 32, 128
    model = BertModel.from_pretrained(path, add_pooling_layer=False).eval().to(a.device)
    if a.fp16:
        model = model.half()
    x = ids(batch, seq).to(a.device)
    mask = torch.ones_like(x)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    with torch.inference_mode():
        model(input_ids=x, attention_mask=mask)
        sync()
        t0 = time.perf_counter()
        for _ in range(a.iters):
            out = model(input_ids=x, attention_mask=mask).last_hidden_state[:, 0].float().cpu()
        sync()
        secs = time.perf_counter() - t0
    torch_rate = batch * a.iters / secs
    theirs = {"impl": "pytorch", "device": a.device, "batch": batch, "seq": seq, "iters": a.iters,
              "passages_per_s": round(torch_rate, 1), "ms_per_batch": round(secs * 1000 / a.iters, 1)}
    print(json.dumps(theirs))
    if a.skip_ours:
        return
    run = [a.ours_bin] if a.ours_bin else ["cargo", "run", "--release", "-q", "-p", "offgrid-engine", "--example",
                                           "bert_bench", "--"]
    cmd = run + ["--device", a.ours, "--iters", str(a.iters), "--dir", path]
    ours = json.loads(subprocess.check_output(cmd, cwd=ROOT).decode().strip().splitlines()[-1])
    print(json.dumps(ours))
    print(json.dumps({"ratio_ours_over_pytorch": round(ours["passages_per_s"] / torch_rate, 3)}))
    del out


if __name__ == "__main__":
    main()
