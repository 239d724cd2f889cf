//! Hugging Face `tokenizer.json` files, as each of our readers loads them: the encoder models' tokenizer
//! (truncation, padding), a chat model's, and Whisper's (its own vocabulary reader for decoding, the
//! `tokenizers` crate for prompts). A fixed text is encoded and the ids decoded back.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation the file does not back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::models::whisper::WhisperTokenizer;
use offgrid_engine::text::{ChatTokenizer, TextTokenizer};

const TEXT: &str =
    "Offgrid runs the model on this device: ünïcödé, 数字 12345, emoji 🙂, and <|im_end|> [SEP].";

fuzz_target!(|data: &[u8]| {
    if let Ok(tok) = TextTokenizer::from_bytes(data, 16) {
        if let Ok(e) = tok.encode(TEXT) {
            assert!(e.ids.len() <= 16);
            let _ = tok.decode(&e.ids);
        }
        let _ = tok.encode_batch(&[TEXT, "a", ""]);
        let _ = tok.offsets(TEXT);
        let _ = tok.ids_untruncated(TEXT);
    }
    if let Ok(tok) = ChatTokenizer::from_tokenizer_json(data, Some("<s>"), Some("</s>")) {
        if let Ok(ids) = tok.encode(TEXT) {
            let _ = tok.decode(&ids);
        }
        let _ = (tok.vocab_size(), tok.end_of_turn().len());
    }
    if let Ok(tok) = WhisperTokenizer::from_json(data) {
        let _ = tok.decode(&[0, 1, 2, 50256, 50257, u32::MAX]);
        if let Ok(ids) = tok.encode(TEXT) {
            let _ = tok.decode(&ids);
        }
    }
});
