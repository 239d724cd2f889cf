#!/usr/bin/env python3
"""Chat decoding side by side: Offgrid (`offgrid bench chat`) and llama.cpp (PyPI `llama-cpp-python`) on the
same GGUF, the same raw prompt, the same thread count, greedy, both warm (one untimed run first), medians of
the timed runs. Each side's generated tokens are compared before any figure is printed.

    python3 -m venv V && V/bin/pip install llama-cpp-python
    cargo build --release -p offgrid-cli
    V/bin/python scripts/bench/chat_bench.py --threads 2 [--model .cache/weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf]

llama.cpp runs with an f32 KV cache and without flash attention, as Offgrid computes attention, and without
its AMX/repacking extra buffers (they crash on this machine's CPU; see scripts/fixtures/chat_fixtures.py).
Timing: llama.cpp's `eval()` of the whole prompt (batch 512) for prefill, then one `eval([token])` per
generated token with its logits read, as Offgrid's session does. Prints one JSON object.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import llama_cpp.llama_cpp as llama_capi
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
_default_params = llama_capi.llama_model_default_params


def _params_without_repacking():
    params = _default_params()
    params.use_extra_bufts = False
    return params


llama_capi.llama_model_default_params = _params_without_repacking
from llama_cpp import Llama  # noqa: E402  (after the patch above)

PARAGRAPH = (
    "The history of computing begins with mechanical calculators and continues through vacuum tubes, "
    "transistors, integrated circuits and the microprocessors inside every phone today. "
)


def last_logits(llm) -> np.ndarray:
    """The logits of the last evaluated token (llama.cpp computes only that row unless asked for all)."""
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))


def llama_cpp_side(model: str, prompt: str, gen: int, runs: int, threads: int) -> dict:
    llm = Llama(model_path=model, n_ctx=2048, n_threads=threads, n_threads_batch=threads, n_batch=512,
                type_k=0, type_v=0, flash_attn=False, verbose=False)
    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    prefill, decode, tokens = [], [], None
    for run in range(runs + 1):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        logits = last_logits(llm)
        t1 = time.perf_counter()
        out = [int(np.argmax(logits))]
        t2 = time.perf_counter()
        for _ in range(gen - 1):
            llm.eval([out[-1]])
            out.append(int(np.argmax(last_logits(llm))))
        t3 = time.perf_counter()
        if run == 0:
            tokens = out
            continue
        prefill.append(len(ids) / (t1 - t0))
        decode.append((gen - 1) / (t3 - t2))
    return {"prompt_tokens": len(ids), "tokens": tokens, "prefill_tok_s": statistics.median(prefill),
            "decode_tok_s": statistics.median(decode), "prefill_runs": prefill, "decode_runs": decode}


def offgrid_side(binary: str, model: str, prompt: str, gen: int, runs: int, threads: int) -> dict:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "bench", "chat", "--model", model, "--prompt", prompt, "--gen", str(gen),
                          "--runs", str(runs)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / ".cache/weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--offgrid", default=str(ROOT / "target/release/offgrid"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--prompt-paragraphs", type=int, default=20, help="about 25 tokens each")
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    prompt = PARAGRAPH * args.prompt_paragraphs
    ours = offgrid_side(args.offgrid, args.model, prompt, args.gen, args.runs, args.threads)
    peer = llama_cpp_side(args.model, prompt, args.gen, args.runs, args.threads)
    assert ours["prompt_tokens"] == peer["prompt_tokens"], "the two tokenizers disagree on the prompt"
    same = next((i for i, (a, b) in enumerate(zip(ours["tokens"], peer["tokens"])) if a != b), len(peer["tokens"]))
    print(json.dumps({
        "model": Path(args.model).name,
        "threads": args.threads,
        "prompt_tokens": peer["prompt_tokens"],
        "generated": args.gen,
        "tokens_equal_before_first_difference": same,
        "offgrid": {k: ours[k] for k in ("prefill_tok_s", "decode_tok_s", "prefill_runs", "decode_runs")},
        "llama_cpp": {k: peer[k] for k in ("prefill_tok_s", "decode_tok_s", "prefill_runs", "decode_runs")},
        "ratio_prefill": ours["prefill_tok_s"] / peer["prefill_tok_s"],
        "ratio_decode": ours["decode_tok_s"] / peer["decode_tok_s"],
    }, indent=1))


if __name__ == "__main__":
    main()
