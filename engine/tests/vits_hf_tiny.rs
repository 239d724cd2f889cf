//! HF `VitsModel` (the MMS-TTS layout) read by our VITS: a tiny random-weight checkpoint saved by transformers
//! the way the Hub's MMS files are stored (weight norm as weight_g/weight_v on the WaveNets; fixture:
//! scripts/fixtures/vits_hf_fixtures.py), its characters encoded as VitsTokenizer does, against transformers'
//! own output with both noise scales at 0: the same ids, the same frames per id, the same waveform.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gpu_common;

use offgrid_engine::models::vits::hf::{CharVocab, HfVitsConfig};
use offgrid_engine::models::vits::{Noise, Scales, Vits};
use offgrid_engine::Device;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    speaking_rate: f32,
    durations: Vec<u32>,
    samples: usize,
    waveform: Vec<f32>,
}

#[derive(Deserialize)]
struct Expected {
    cases: Vec<Case>,
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vits_hf_tiny");

fn load(device: &Device) -> Vits {
    let model = std::fs::read(format!("{DIR}/model.safetensors")).unwrap();
    let config = std::fs::read_to_string(format!("{DIR}/config.json")).unwrap();
    Vits::from_hf(&model, &config, device).expect("loads")
}

fn check(device: &Device, tolerance: f32, what: &str) {
    let vits = load(device);
    let vocab =
        CharVocab::parse(&std::fs::read_to_string(format!("{DIR}/vocab.json")).unwrap()).unwrap();
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected.cases.len(), 4);
    for case in &expected.cases {
        let (ids, _) = vocab.encode(&case.text);
        assert_eq!(ids, case.ids, "{what} {:?}: ids", case.text);
        let scales = Scales {
            noise: 0.0,
            length: 1.0 / case.speaking_rate,
            noise_w: 0.0,
        };
        let out =
            pollster::block_on(vits.synthesize(&ids, scales, &mut Noise::new(0))).expect("speaks");
        assert_eq!(
            out.durations, case.durations,
            "{what} {:?}: frames per id",
            case.text
        );
        assert_eq!(out.audio.len(), case.samples, "{what} {:?}", case.text);
        let worst = out
            .audio
            .iter()
            .zip(&case.waveform)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!(
            "{what} {:?}: {} samples, max |Δ| {worst:.2e}",
            case.text,
            out.audio.len()
        );
        assert!(
            worst <= tolerance,
            "{what} {:?}: max |Δ| {worst}",
            case.text
        );
    }
}

#[test]
fn tiny_mms_matches_transformers_on_the_cpu() {
    check(&Device::Cpu, 1e-4, "cpu");
}

#[test]
fn tiny_mms_matches_transformers_on_the_gpu() {
    check(&pollster::block_on(gpu_common::gpu()), 1e-3, "gpu");
}

#[test]
fn other_configs_are_refused_with_a_reason() {
    let config = std::fs::read_to_string(format!("{DIR}/config.json")).unwrap();
    let deterministic = config.replace(
        "\"use_stochastic_duration_prediction\": true",
        "\"use_stochastic_duration_prediction\": false",
    );
    let err = HfVitsConfig::parse(&deterministic).expect_err("refused");
    assert!(err.to_string().contains("deterministic"), "{err}");
    let model = std::fs::read(format!("{DIR}/model.safetensors")).unwrap();
    assert!(Vits::from_hf(&model[..model.len() / 2], &config, &Device::Cpu).is_err());
}
