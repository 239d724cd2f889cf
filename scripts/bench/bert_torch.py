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
import statistics
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


def time_batches(model, x, mask, iters, device):
    """Milliseconds per batch, each sample one batch with its [CLS] rows copied to the CPU (as ours reads them
    back). On CUDA the forward is captured once in a CUDA graph, so Python's per-kernel launch cost is not in the
    figure (ours records its dispatches into one command encoder); if capture fails, eager timing is used and
    the method says so."""
    run = lambda: model(input_ids=x, attention_mask=mask).last_hidden_state[:, 0]
    method = "eager"
    if device == "cuda":
        try:
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):
                    run()
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = run()
            eager = run

            def run():
                graph.replay()
                return static_out

            run()
            torch.cuda.synchronize()
            if not torch.allclose(run(), eager(), atol=1e-4, rtol=1e-4):
                raise RuntimeError("graph replay differs from eager")
            method = "cuda-graph"
        except Exception as e:  # noqa: BLE001 - report and fall back to eager timing
            print(json.dumps({"note": f"CUDA graph capture failed, timing eager: {e}"[:300]}))
            run = lambda: model(input_ids=x, attention_mask=mask).last_hidden_state[:, 0]
    run().float().cpu()
    ms = []
    for _ in range(max(iters, 1)):
        t0 = time.perf_counter()
        run().float().cpu()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms, method


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
    with torch.inference_mode():
        ref_cls = model(input_ids=x, attention_mask=mask).last_hidden_state[0, 0].float().cpu()
        ms, method = time_batches(model, x, mask, a.iters, a.device)
    med = statistics.median(ms)
    torch_rate = batch * 1e3 / med
    theirs = {"impl": "pytorch", "device": a.device, "batch": batch, "seq": seq, "iters": a.iters, "method": method,
              "passages_per_s": round(torch_rate, 1), "ms_per_batch": round(med, 3), "ms_min": round(min(ms), 3),
              "ms_max": round(max(ms), 3)}
    print(json.dumps(theirs))
    if a.skip_ours:
        return
    run = [a.ours_bin] if a.ours_bin else ["cargo", "run", "--release", "-q", "-p", "offgrid-engine", "--example",
                                           "bert_bench", "--"]
    cmd = run + ["--device", a.ours, "--iters", str(a.iters), "--dir", path]
    ours = json.loads(subprocess.check_output(cmd, cwd=ROOT).decode().strip().splitlines()[-1])
    # Verify before the ratio counts: the first passage's [CLS] vector on both sides (f32 on both; only
    # summation order differs).
    cls = torch.tensor(ours.pop("cls0"))
    err = ((cls - ref_cls).abs().max() / ref_cls.abs().max()).item()
    ours["cls_vs_pytorch"] = err
    print(json.dumps(ours))
    if not err <= 1e-3:
        raise SystemExit(f"outputs differ: relative max error {err:.2e} of our [CLS] against PyTorch's")
    print(json.dumps({"ratio_ours_over_pytorch": round(ours["passages_per_s"] / torch_rate, 3)}))


if __name__ == "__main__":
    main()
