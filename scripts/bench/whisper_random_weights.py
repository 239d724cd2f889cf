#!/usr/bin/env python3
"""Random-weight Whisper checkpoints with the real shapes and tensor names of openai/whisper-tiny and -base.

For speed benchmarks only (the text is nonsense). Writes config.json, generation_config.json (the real special
token ids of the multilingual models) and model.safetensors to .cache/bench/whisper-{tiny,base}-random/.
Run: .venv/bin/python scripts/bench/whisper_random_weights.py
"""
import os

import torch
from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration
from transformers.models.whisper.tokenization_whisper import LANGUAGES

OUT = os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "bench")
SIZES = {"tiny": (384, 4, 6), "base": (512, 6, 8)}


def main():
    torch.manual_seed(0)
    for name, (d, layers, heads) in SIZES.items():
        cfg = WhisperConfig(vocab_size=51865, num_mel_bins=80, d_model=d, encoder_layers=layers,
                            decoder_layers=layers, encoder_attention_heads=heads, decoder_attention_heads=heads,
                            encoder_ffn_dim=4 * d, decoder_ffn_dim=4 * d, max_source_positions=1500,
                            max_target_positions=448, pad_token_id=50257, bos_token_id=50257, eos_token_id=50257,
                            decoder_start_token_id=50258)
        model = WhisperForConditionalGeneration(cfg).eval()
        model.generation_config = GenerationConfig(
            decoder_start_token_id=50258, eos_token_id=50257, pad_token_id=50257, bos_token_id=50257,
            no_timestamps_token_id=50363, is_multilingual=True, begin_suppress_tokens=[220, 50257],
            suppress_tokens=[1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93],
            lang_to_id={f"<|{c}|>": 50259 + i for i, c in enumerate(LANGUAGES)},
            task_to_id={"translate": 50358, "transcribe": 50359}, max_initial_timestamp_index=50, max_length=448)
        path = os.path.join(OUT, f"whisper-{name}-random")
        model.save_pretrained(path, safe_serialization=True)
        print(path)


if __name__ == "__main__":
    main()
