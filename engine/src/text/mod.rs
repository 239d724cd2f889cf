//! Text pre-processing: tokenizers (HF `tokenizer.json`) and chat templates.
