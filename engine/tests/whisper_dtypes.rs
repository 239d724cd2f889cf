//! One model code path for F32, F16 and Q8_0 weights: the tiny-random Whisper's first-step logits with F16
//! weights and with load-time Q8_0 stay close to the F32 ones (which match transformers, see whisper_generate).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::audio::mel::MelSpectrogram;
use offgrid_engine::io::{DTypePolicy, VarBuilder};
use offgrid_engine::models::whisper::{Config, Whisper};
use offgrid_engine::{DType, Device, Tensor};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/whisper_tiny")
}

fn logits(vb: VarBuilder) -> Vec<f32> {
    let config: Config =
        serde_json::from_slice(&std::fs::read(dir().join("config.json")).expect("config"))
            .expect("parse config");
    let model = Whisper::load(&vb, config).expect("load");
    let audio: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
    let feats = MelSpectrogram::new(80).expect("mel").window_30s(&audio);
    let mel = Tensor::from_f32(feats.data, [80, 3000], &Device::Cpu).expect("tensor");
    let enc = model.encode(&mel).expect("encode");
    let mut state = model.start(&enc).expect("start");
    let l = model.step(&mut state, &[321, 322, 423]).expect("step");
    model
        .step(&mut state, &[500])
        .expect("second step")
        .to_vec_f32()
        .expect("read");
    l.to_vec_f32().expect("read")
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn builder() -> VarBuilder {
    let bytes = std::fs::read(dir().join("model.safetensors")).expect("weights");
    VarBuilder::from_safetensors(bytes, &Device::Cpu).expect("safetensors")
}

#[test]
fn f16_and_q8_0_weights_track_f32() {
    let f32_logits = logits(builder());
    let f16_logits = logits(builder().with_dtype(DTypePolicy::F16));
    let q8_logits = logits(
        builder()
            .with_quantization(Some(DType::Q8_0))
            .expect("q8_0"),
    );
    assert_eq!(f32_logits.len(), 1929);
    let c16 = cosine(&f32_logits, &f16_logits);
    let c8 = cosine(&f32_logits, &q8_logits);
    assert!(c16 > 0.9999, "f16 cosine {c16}");
    assert!(c8 > 0.99, "q8_0 cosine {c8}");
    // The quantized run really differs (it is not silently F32).
    assert!(f32_logits
        .iter()
        .zip(&q8_logits)
        .any(|(a, b)| (a - b).abs() > 1e-4));
}
