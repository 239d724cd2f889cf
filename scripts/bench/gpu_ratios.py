#!/usr/bin/env python3
"""Ratios of the GPU machine's run (scripts/bench/gpu_machine.sh writes the JSON files this reads).

    python3 scripts/bench/gpu_ratios.py OUT_DIR

- GEMV (decode shapes) as a fraction of the device's measured bandwidth: the larger of PyTorch's
  device-to-device copy and our own streaming kernel (goal >= 0.7 for q4_0/q8_0);
- F32 GEMM, ours / PyTorch with TF32 off (goal >= 0.3);
- MiniLM passages/s, IS-Net seconds per photo and Whisper encoder ms, decoder ms/token, real-time factor:
  ours / PyTorch CUDA.
Every figure is a median with its [min, max]; any bandwidth above the yardstick (the measured copy bandwidth)
is printed as an ERROR, since no kernel can read memory faster than a copy does, and makes the exit status 1.
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
    print(f"timing: ours {ours.get('method', 'chained runs in one submit, median of 7')}; PyTorch {torch.get('method', '?')}")
    errors = []
    for r in res:
        if r["kind"] != "copy" and r["gbps"] > 1.02 * peak:
            errors.append(f"{r['kind']} {r['shape']} {r['dtype']}: {r['gbps']:.0f} GB/s is above the copy bandwidth")
    for key, ref in torch["gemv"].items():
        if ref["gbps"] > 1.02 * peak:
            errors.append(f"PyTorch gemv {key}: {ref['gbps']:.0f} GB/s is above the copy bandwidth")
    print("\nGEMV (weights streamed once), fraction of the yardstick; PyTorch for f32/f16:")
    for r in res:
        if r["kind"] != "gemv":
            continue
        line = (f"  {r['shape']:>10} {r['dtype']:<5} {r['ms'] * 1e3:8.1f} us [{r['ms_min'] * 1e3:.1f}-{r['ms_max'] * 1e3:.1f}]"
                f" {r['gbps']:7.0f} GB/s  {r['gbps'] / peak:5.2f}")
        ref = torch["gemv"].get(f"{r['shape']}_{r['dtype']}")
        if ref:
            line += (f"   PyTorch {ref['us']:7.1f} us [{ref['us_min']:.1f}-{ref['us_max']:.1f}] {ref['gbps']:6.0f} GB/s,"
                     f" ours/PyTorch speed {ref['us'] / (r['ms'] * 1e3):5.2f}")
        print(line)
    print("\nGEMM, ours / PyTorch FP32 (TF32 off):")
    for r in res:
        if r["kind"] != "gemm":
            continue
        n = r["shape"].split("x")[0]
        ref = torch["gemm_f32"].get(n)
        ratio = f"{r['gflops'] / ref['gflops']:5.2f}" if ref else "  -  "
        print(f"  {r['shape']:>16} {r['dtype']:<5} {r['gflops']:8.0f} GFLOP/s [{r['ms_min']:.3f}-{r['ms_max']:.3f} ms]"
              f"   vs PyTorch f32 {ref['gflops'] if ref else float('nan'):8.0f} -> {ratio}")
    print("\nattention / conv2d (ours only):")
    for r in res:
        if r["kind"] in ("attention", "conv2d"):
            print(f"  {r['kind']:<9} {r['shape']:<24} {r['ms']:8.3f} ms {r['gflops']:8.0f} GFLOP/s")
    isnet_path = os.path.join(out, "isnet.json")
    if os.path.exists(isnet_path):
        try:
            i = json.load(open(isnet_path))
            print(f"\nIS-Net 1024² photo to mask (masks agree within {i['max_abs_diff']}): ours {i['ours_gpu_s']} s, "
                  f"PyTorch fp32 {i['torch_fp32_s']} s -> speed {i['ratio_ours_over_torch_fp32_speed']:.2f}x "
                  f"(PyTorch fp16 autocast {i['torch_fp16_autocast_s']} s)")
        except (ValueError, KeyError) as e:
            print(f"\nIS-Net: no result ({e})")
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
            if "whisper" in r["bench"]:
                # candle's Whisper caches only the cross-attention and recomputes the whole prefix each step:
                # not the same algorithm as our KV-cached decoder, so no ratio is reported (issue #20).
                print(f"  {r['bench']}: not reported (candle recomputes the prefix each step; ours caches it)")
                continue
            print(f"  {r['bench']}: {r['ratio_ours_over_candle']:.2f}x  {json.dumps(r)}")
    vad = os.path.join(out, "vad.jsonl")
    if os.path.exists(vad):
        rows = load_lines(vad)
        ours = next((r for r in rows if r.get("impl") == "offgrid-native"), None)
        for r in rows:
            if ours and r is not ours and r.get("impl") == "onnxruntime-c-api":
                gap = abs(r["pass_sum"] - ours["pass_sum"]) / ours["pass_sum"]
                if gap > 5e-3:
                    errors.append(f"Silero VAD: probabilities differ (sum {ours['pass_sum']} vs {r['pass_sum']})")
                    continue
                print(f"  Silero VAD frames/s, ours / {r['impl']}: "
                      f"{ours['frames_per_second'] / r['frames_per_second']:.2f}x "
                      f"({ours['frames_per_second']:.0f} vs {r['frames_per_second']:.0f})")
    if errors:
        print("\nERRORS (figures above a physical limit):")
        for e in errors:
            print(f"  {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
