#!/usr/bin/env python3
"""PyTorch reference timings for the Whisper benchmark (engine/benches/whisper.rs), same measures:
encoder ms per 30 s window, decoder ms per token (KV cache, logits copied to the host each step, as greedy
decoding needs), and the real-time factor of a 30 s window that decodes 100 tokens.

Run on the GPU machine: python scripts/bench/whisper_torch.py [--device cuda] [--dtype float32|float16]
(weights from scripts/bench/whisper_random_weights.py, or --model <HF folder>).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration
from transformers.cache_utils import DynamicCache, EncoderDecoderCache

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "bench")
STEPS = 48


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench(path, device, dtype):
    model = WhisperForConditionalGeneration.from_pretrained(path, torch_dtype=dtype).to(device).eval()
    n = 480_000
    i = np.arange(n)
    audio = (0.2 * np.sin(2 * np.pi * 220 * i / 16000) + 0.05 * ((i * 7919) % 97) / 97).astype(np.float32)
    fe = WhisperFeatureExtractor(feature_size=model.config.num_mel_bins)
    t0 = time.perf_counter()
    feats = fe(audio, sampling_rate=16000, return_tensors="pt").input_features
    mel_ms = (time.perf_counter() - t0) * 1e3
    feats = feats.to(device, dtype)
    with torch.no_grad():
        times = []
        for _ in range(3):
            sync(device)
            t0 = time.perf_counter()
            enc = model.model.encoder(feats).last_hidden_state
            sync(device)
            times.append((time.perf_counter() - t0) * 1e3)
        enc_ms = sorted(times)[1]
        gen = model.generation_config
        prompt = torch.tensor([[gen.decoder_start_token_id, gen.decoder_start_token_id + 1,
                                gen.no_timestamps_token_id - 4]], device=device)
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
        t0 = time.perf_counter()
        out = model(encoder_outputs=(enc,), decoder_input_ids=prompt, past_key_values=cache, use_cache=True)
        out.logits[0, -1].float().cpu()
        prompt_ms = (time.perf_counter() - t0) * 1e3
        cache = out.past_key_values
        t0 = time.perf_counter()
        for s in range(STEPS):
            ids = torch.tensor([[1000 + 37 * s]], device=device)
            out = model(encoder_outputs=(enc,), decoder_input_ids=ids, past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            out.logits[0, -1].float().cpu()
        per_token = (time.perf_counter() - t0) * 1e3 / STEPS
    window = mel_ms + enc_ms + prompt_ms + 100 * per_token
    return {"model": os.path.basename(path), "device": device, "dtype": str(dtype), "mel_ms": mel_ms,
            "encoder_ms": enc_ms, "prompt_ms": prompt_ms, "decoder_ms_per_token": per_token,
            "window_ms_100_tokens": window, "rtf": window / 30000, "x_realtime": 30000 / window}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16"])
    ap.add_argument("--model", action="append")
    args = ap.parse_args()
    paths = args.model or [os.path.join(ROOT, f"whisper-{s}-random") for s in ("tiny", "base")]
    for p in paths:
        print(json.dumps(bench(p, args.device, getattr(torch, args.dtype))))


if __name__ == "__main__":
    main()
