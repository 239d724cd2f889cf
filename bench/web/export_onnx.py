"""Exports all-MiniLM-L6-v2 (the same safetensors our engine loads) to ONNX in the folder layout Transformers.js
reads offline: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx.

Usage: export_onnx.py <sentence-transformers folder> <output folder>

The graph is the bare BertModel (input_ids, attention_mask, token_type_ids -> last_hidden_state), as in the
Xenova/* exports that Transformers.js' feature-extraction pipeline expects; pooling and normalisation run in JS.
Checks the export against PyTorch with onnxruntime before returning.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from transformers import AutoModel


class LastHiddenState(torch.nn.Module):
    """BertModel's forward with the padding mask built as plain tensor ops.

    transformers 5 builds the mask with Python branches on tensor values (masking_utils), which the TorchScript
    tracer freezes to the example input's mask; the classic additive mask (0 for tokens, a large negative for
    padding, added to the attention scores by the eager attention) traces as a graph.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.model.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        keep = attention_mask[:, None, None, :].to(hidden.dtype)
        additive = (1.0 - keep) * torch.finfo(hidden.dtype).min
        return self.model.encoder(hidden, attention_mask=additive).last_hidden_state


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    for name in ["config.json", "tokenizer.json", "special_tokens_map.json", "vocab.txt"]:
        if (src / name).exists():
            shutil.copy(src / name, out / name)
    # sentence-transformers cuts inputs at max_seq_length (256 here), the tokenizer config says 512: Transformers.js
    # reads the latter, so write the former there to embed long texts the same way.
    tokenizer_config = json.loads((src / "tokenizer_config.json").read_text())
    sbert = src / "sentence_bert_config.json"
    if sbert.exists():
        tokenizer_config["model_max_length"] = json.loads(sbert.read_text())["max_seq_length"]
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))

    model = AutoModel.from_pretrained(src, attn_implementation="eager").eval()
    batch, seq = 2, 16
    ids = torch.randint(1000, 20000, (batch, seq), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(batch, seq, dtype=torch.int64)
    mask[1, 10:] = 0  # a padded row, so the mask path is exercised by the check below
    types = torch.zeros(batch, seq, dtype=torch.int64)
    # The reference is the unmodified model, run before tracing: after torch.onnx.export the same call gave
    # different values here (transformers 5.23, torch 2.15).
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state.numpy()
    onnx_path = out / "onnx" / "model.onnx"
    dims = {0: "batch_size", 1: "sequence_length"}
    # The TorchScript exporter (dynamo=False) needs no onnxscript and writes one self-contained file.
    torch.onnx.export(
        LastHiddenState(model),
        (ids, mask, types),
        str(onnx_path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": dims, "attention_mask": dims, "token_type_ids": dims, "last_hidden_state": dims},
        opset_version=17,
        dynamo=False,
    )

    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()})[0]
    err = float(np.abs(got - want).max())
    if err > 1e-3:
        sys.exit(f"ONNX export differs from PyTorch by {err}")
    print(f"exported {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB), max |onnx - torch| = {err:.2e}")


if __name__ == "__main__":
    main()
