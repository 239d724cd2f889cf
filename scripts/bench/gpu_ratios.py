#!/usr/bin/env python3
"""Ratios of the GPU machine's run (scripts/bench/gpu_machine.sh writes the JSON files this reads).

    python3 scripts/bench/gpu_ratios.py OUT_DIR

- GEMV (decode shapes) as a fraction of the device's measured bandwidth: the larger of PyTorch's
  device-to-device copy and our own streaming kernel (goal >= 0.7 for q4_0/q8_0);
- F32 GEMM, ours / PyTorch with TF32 off (goal >= 0.3);
- MiniLM passages/s and Whisper encoder ms, decoder ms/token, real-time factor: ours / PyTorch CUDA.
"""
import json
import os
import sys


def load_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def main():
    out = sys.argv[1]
    ours = json.load(open(os.path.join(out, "ops_ours.json")))
    torch = json.load(open(os.path.join(out, "ops_torch.json")))
    print(f"GPU: {torch['device']} (PyTorch {torch['torch']}); ours through {ours['gpu']}")
    res = ours["results"]
    own_copy = max((r["gbps"] for r in res if r["kind"] == "copy"), default=0.0)
    peak = max(own_copy, torch["copy_gbps_read_plus_write"])
    print(f"bandwidth: PyTorch copy {torch['copy_gbps_read_plus_write']:.0f} GB/s, our streaming kernel "
          f"{own_copy:.0f} GB/s -> yardstick {peak:.0f} GB/s")
    print("\nGEMV (weights streamed once), fraction of the yardstick; PyTorch for f32/f16:")
    for r in res:
        if r["kind"] != "gemv":
            continue
        line = f"  {r['shape']:>10} {r['dtype']:<5} {r['ms'] * 1e3:8.1f} us {r['gbps']:7.0f} GB/s  {r['gbps'] / peak:5.2f}"
        ref = torch["gemv"].get(f"{r['shape']}_{r['dtype']}")
        if ref:
            line += f"   PyTorch {ref['us']:7.1f} us {ref['gbps']:6.0f} GB/s, ours/PyTorch speed {ref['us'] / (r['ms'] * 1e3):5.2f}"
        print(line)
    print("\nGEMM, ours / PyTorch FP32 (TF32 off):")
    for r in res:
        if r["kind"] != "gemm":
            continue
        n = r["shape"].split("x")[0]
        ref = torch["gemm_f32"].get(n)
        ratio = f"{r['gflops'] / ref['gflops']:5.2f}" if ref else "  -  "
        print(f"  {r['shape']:>16} {r['dtype']:<5} {r['gflops']:8.0f} GFLOP/s   vs PyTorch f32 "
              f"{ref['gflops'] if ref else float('nan'):8.0f} -> {ratio}")
    print("\nattention / conv2d (ours only):")
    for r in res:
        if r["kind"] in ("attention", "conv2d"):
            print(f"  {r['kind']:<9} {r['shape']:<24} {r['ms']:8.3f} ms {r['gflops']:8.0f} GFLOP/s")
    bert_path = os.path.join(out, "bert.jsonl")
    if os.path.exists(bert_path):
        rows = load_lines(bert_path)
        t = next(r for r in rows if r.get("impl") == "pytorch")
        o = next(r for r in rows if r.get("impl") == "offgrid")
        print(f"\nMiniLM 32x128: ours {o['passages_per_s']} passages/s, PyTorch CUDA {t['passages_per_s']} "
              f"-> {o['passages_per_s'] / t['passages_per_s']:.2f}x")
    wo, wt = os.path.join(out, "whisper_ours.jsonl"), os.path.join(out, "whisper_torch.jsonl")
    if os.path.exists(wo) and os.path.exists(wt):
        theirs = {r["model"]: r for r in load_lines(wt)}
        print("\nWhisper (ours / PyTorch CUDA; < 1 means ours takes less time):")
        for o in load_lines(wo):
            t = theirs.get(o["model"])
            if not t:
                continue
            print(f"  {o['model']}: encoder {o['encoder_ms']:.1f} vs {t['encoder_ms']:.1f} ms, decoder "
                  f"{o['decoder_ms_per_token']:.2f} vs {t['decoder_ms_per_token']:.2f} ms/token, real-time x"
                  f"{o['x_realtime']:.0f} vs x{t['x_realtime']:.0f} -> speed ratio {o['x_realtime'] / t['x_realtime']:.2f}")
    cm = os.path.join(out, "cpu_models.jsonl")
    if os.path.exists(cm):
        print("\nCPU, same machine, ours / candle (> 1 means ours is faster):")
        for r in load_lines(cm):
            print(f"  {r['bench']}: {r['ratio_ours_over_candle']:.2f}x  {json.dumps(r)}")
    vad = os.path.join(out, "vad.jsonl")
    if os.path.exists(vad):
        rows = load_lines(vad)
        ours = next((r for r in rows if r.get("impl") == "offgrid-native"), None)
        for r in rows:
            if ours and r is not ours:
                print(f"  Silero VAD frames/s, ours / {r['impl']}: "
                      f"{ours['frames_per_second'] / r['frames_per_second']:.2f}x "
                      f"({ours['frames_per_second']:.0f} vs {r['frames_per_second']:.0f})")


if __name__ == "__main__":
    main()
