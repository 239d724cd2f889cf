//! Whisper speed at real sizes: log-mel ms, encoder ms per 30 s window, decoder ms per token, and the real-time
//! factor of a 30 s window that decodes 100 tokens (about what speech produces).
//!
//! Weights: `.venv/bin/python scripts/bench/whisper_random_weights.py` (random, real shapes and names).
//! Run: `cargo bench -p offgrid-engine --bench whisper` (env: `WHISPER_SIZES=tiny,base`,
//! `OFFGRID_DEVICE=cpu|gpu`, `OFFGRID_BENCH_DIR=<folder with whisper-*-random>`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::models::whisper::WhisperTranscriber;
use offgrid_engine::{Device, Result, Tensor};
use std::path::PathBuf;
use std::time::Instant;

const TOKENS_PER_WINDOW: f64 = 100.0;
const DECODE_STEPS: usize = 48;

fn read(t: &Tensor) -> Result<Vec<f32>> {
    pollster::block_on(t.to_vec_f32_async())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(dir: &PathBuf, device: &Device) -> Result<serde_json::Value> {
    let tr = WhisperTranscriber::from_folder(dir, device)?;
    // 30 s of a deterministic tone with a little noise-like wobble.
    let audio: Vec<f32> = (0..480_000)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            0.2 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.05 * ((i * 7919) % 97) as f32 / 97.0
        })
        .collect();
    let t0 = Instant::now();
    let feats = tr.mel().window_30s(&audio);
    let mel_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mel = Tensor::from_f32(feats.data.clone(), [feats.n_mels, feats.n_frames], device)?;
    let model = tr.model();
    let mut enc_times = Vec::new();
    let mut encoded = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        let e = model.encode(&mel)?;
        read(&e.narrow(0, 0, 1)?)?;
        enc_times.push(t0.elapsed().as_secs_f64() * 1e3);
        encoded = Some(e);
    }
    let encoded =
        encoded.ok_or_else(|| offgrid_engine::Error::invalid("bench", "no encoder run"))?;
    let gen = tr.generation_config();
    let prompt = [
        gen.decoder_start_token_id,
        gen.decoder_start_token_id + 1,
        gen.no_timestamps_token_id - 4,
    ];
    let t0 = Instant::now();
    let mut state = model.start(&encoded)?;
    read(&model.step(&mut state, &prompt)?)?;
    let prompt_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t0 = Instant::now();
    for i in 0..DECODE_STEPS {
        // Ordinary text tokens; reading the logits back each step is part of the cost, as in real decoding.
        read(&model.step(&mut state, &[(1000 + 37 * i) as u32])?)?;
    }
    let per_token = t0.elapsed().as_secs_f64() * 1e3 / DECODE_STEPS as f64;
    let enc_ms = median(enc_times);
    let window_ms = mel_ms + enc_ms + prompt_ms + TOKENS_PER_WINDOW * per_token;
    Ok(serde_json::json!({
        "model": dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        "device": device.name(),
        "mel_ms": mel_ms,
        "encoder_ms": enc_ms,
        "prompt_ms": prompt_ms,
        "decoder_ms_per_token": per_token,
        "window_ms_100_tokens": window_ms,
        "rtf": window_ms / 30_000.0,
        "x_realtime": 30_000.0 / window_ms,
    }))
}

fn main() {
    let root = std::env::var("OFFGRID_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/bench"));
    let sizes = std::env::var("WHISPER_SIZES").unwrap_or_else(|_| "tiny,base".into());
    let device = match std::env::var("OFFGRID_DEVICE").as_deref() {
        Ok("gpu") => match pollster::block_on(GpuDevice::new()) {
            Ok(g) => Device::Gpu(g),
            Err(e) => {
                eprintln!("no GPU: {e}");
                std::process::exit(1);
            }
        },
        _ => Device::Cpu,
    };
    for size in sizes.split(',') {
        let dir = root.join(format!("whisper-{size}-random"));
        match bench(&dir, &device) {
            Ok(v) => println!("{v}"),
            Err(e) => {
                eprintln!(
                    "{}: {e}\nWrite the weights first: .venv/bin/python scripts/bench/whisper_random_weights.py",
                    dir.display()
                );
                std::process::exit(1);
            }
        }
    }
}
