//! CTranslate2 `model.bin` and what the Whisper loader reads with it. Input: a little-endian u16 length `n`,
//! `n` bytes of the model's `config.json`, then `model.bin` (scripts/fuzz.sh builds seeds this way from real
//! files). The model is parsed, every variable (and alias) read as f32, and then converted and loaded as a
//! Whisper model as `WhisperTranscriber::from_ctranslate2` does.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation the file's bytes do not back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::io::ctranslate2::Ct2Model;
use offgrid_engine::io::VarBuilder;
use offgrid_engine::models::whisper::{ct2, WhisperTranscriber};
use offgrid_engine::Device;

/// The special tokens the conversion looks up (faster-whisper-tiny.en's ids); the vocabulary itself is
/// not needed to load a model.
const TOKENIZER: &[u8] = br#"{"added_tokens": [
    {"id": 50256, "content": "<|endoftext|>", "special": true},
    {"id": 50257, "content": "<|startoftranscript|>", "special": true},
    {"id": 50358, "content": "<|translate|>", "special": true},
    {"id": 50359, "content": "<|transcribe|>", "special": true},
    {"id": 50361, "content": "<|startofprev|>", "special": true},
    {"id": 50362, "content": "<|notimestamps|>", "special": true}]}"#;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
    let (config, model_bin) = data[2..].split_at(n);

    if let Ok(model) = Ct2Model::parse(model_bin) {
        let names: Vec<String> = model.names().map(str::to_string).collect();
        for name in &names {
            let _ = model.to_f32(name);
            let _ = model.scalar_int(name);
            // Every alias or implicit companion resolves without recursion or a panic.
            let _ = model.to_f32(&format!("{name}_scale"));
        }
    }
    if let Ok(parts) = ct2::convert(model_bin, config, TOKENIZER) {
        if let Ok(vb) = VarBuilder::from_safetensors(parts.safetensors, &Device::Cpu) {
            let _ = WhisperTranscriber::from_parts(
                &parts.config_json,
                &parts.generation_json,
                None,
                &vb,
            );
        }
    }
});
