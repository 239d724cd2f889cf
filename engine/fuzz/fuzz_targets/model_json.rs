//! The small JSON files that come with models: a Piper voice's `.onnx.json`, an MMS/VITS `config.json` and
//! `vocab.json`, Whisper's `config.json` and `generation_config.json`, a Llama `config.json`, a BERT
//! `config.json` and sentence-transformers' `1_Pooling/config.json`. Every reader
//! gets the same bytes, and whatever parses is used the way loading uses it.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::io::parse_config;
use offgrid_engine::models::bert::{self, PoolingConfig};
use offgrid_engine::models::llama::LlamaConfig;
use offgrid_engine::models::vits::hf::{CharVocab, HfVitsConfig};
use offgrid_engine::models::vits::piper::PiperConfig;
use offgrid_engine::models::whisper::{Config, GenerationConfig};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = PiperConfig::parse(text) {
            for ch in "həˈloʊ wɜːld, ?!".chars() {
                let _ = c.id(ch);
            }
        }
        let _ = HfVitsConfig::parse(text);
        if let Ok(v) = CharVocab::parse(text) {
            let _ = v.encode("Hello, World! Ça va?");
        }
    }
    let _ = parse_config::<Config>(data);
    let _ = parse_config::<GenerationConfig>(data);
    let _ = LlamaConfig::from_hf_json(data);
    let _ = parse_config::<bert::Config>(data);
    if let Ok(p) = parse_config::<PoolingConfig>(data) {
        let _ = p.pooling();
    }
});
