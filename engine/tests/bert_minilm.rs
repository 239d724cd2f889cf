//! all-MiniLM-L6-v2 with the REAL weights against sentence-transformers' own output
//! (`scripts/fixtures/bert_fixtures.py` wrote `fixtures/bert_minilm.json`), on the CPU and on the GPU.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bert_common;

use bert_common::{assert_max_abs, gpu, load, minilm_dir};
use offgrid_engine::models::bert::Pooling;
use offgrid_engine::Device;
use serde_json::Value;

/// Largest difference allowed per value of a unit-length embedding (see `check`).
const MAX_ABS: f32 = 1e-5;

fn fixture() -> (Vec<String>, Vec<Vec<f32>>) {
    let v: Value = serde_json::from_str(include_str!("fixtures/bert_minilm.json")).unwrap();
    let sentences = serde_json::from_value(v["sentences"].clone()).unwrap();
    let embeddings = serde_json::from_value(v["embeddings"].clone()).unwrap();
    (sentences, embeddings)
}

fn check(device: &Device) {
    let (sentences, want) = fixture();
    assert!(sentences.len() >= 20);
    let enc = load(&minilm_dir(), device, |vb| vb).with_batch_size(8);
    assert_eq!(enc.pooling(), Pooling::Mean);
    assert_eq!(enc.tokenizer().max_len(), 256);
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let got = pollster::block_on(enc.encode_detailed(&texts)).expect("encode");
    // The fixture is rounded to 5 decimals (±5e-6 on its own); measured: 5.2e-6 at most on the CPU and on
    // lavapipe, so the f32 paths add almost nothing. 1e-5 per value, where the old cosine ≥ 0.999 allowed
    // about 4.5% L2 error.
    assert_max_abs(&got.vectors, &want, MAX_ABS, device.name());
    // The last sentence is ~400 tokens: cut at 256 and reported.
    assert_eq!(got.truncated.iter().filter(|t| **t).count(), 1);
    assert!(got.truncated[texts.len() - 1]);
    for v in &got.vectors {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "vectors are unit length, got {norm}"
        );
    }
    // Batching and padding do not change a sentence's vector.
    let alone = pollster::block_on(enc.encode(&texts[12..13])).expect("encode one");
    assert_max_abs(&alone, &want[12..13], MAX_ABS, "unpadded");
}

#[test]
fn minilm_cpu_matches_sentence_transformers() {
    check(&Device::Cpu);
}

#[test]
fn minilm_gpu_matches_sentence_transformers() {
    check(&gpu());
}
