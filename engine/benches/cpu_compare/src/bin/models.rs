//! Whole models on the CPU, the engine next to candle on the same safetensors, same inputs, same run:
//! - all-MiniLM-L6-v2, passages/s on a batch of 32 × 128 tokens (issue #4, benchmark (a));
//! - Whisper tiny and base (random weights at the real shapes, `scripts/bench/whisper_random_weights.py`):
//!   encoder ms per 30 s window, decoder ms per token, real-time factor of a window decoding 100 tokens (#5).
//!
//! candle's Whisper caches only the cross-attention keys/values, so its decoder re-reads the whole prefix each
//! step (as its own example decodes); both sides are timed decoding the same 48 tokens after a 3-token prompt.
//! The log-mel front end is left out of both (the engine's is measured by `cargo bench --bench whisper`).
//!
//! Usage: `models [--iters N] [--weights DIR] [--bench-dir DIR]` — prints one JSON line per comparison.

use candle_core::{DType as CDType, Device as CDevice, IndexOp, Tensor as CTensor};
use candle_nn::VarBuilder as CVarBuilder;
use candle_transformers::models::{bert, whisper};
use offgrid_engine::io::ModelFolder;
use offgrid_engine::models::bert::{BertModel, Config};
use offgrid_engine::models::whisper::WhisperTranscriber;
use offgrid_engine::{Device, Tensor};
use std::path::{Path, PathBuf};
use std::time::Instant;

type AnyResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const BATCH: usize = 32;
const SEQ: usize = 128;
const DECODE_STEPS: usize = 48;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The same deterministic ids as `bert_bench` and `scripts/bench/bert_torch.py`.
fn ids() -> Vec<u32> {
    let mut ids = Vec::with_capacity(BATCH * SEQ);
    for b in 0..BATCH {
        for t in 0..SEQ {
            ids.push(match t {
                0 => 101,
                t if t == SEQ - 1 => 102,
                t => 2000 + ((b * 7919 + t * 104_729) % 20_000) as u32,
            });
        }
    }
    ids
}

fn bert(dir: &Path, iters: usize) -> AnyResult<()> {
    let ids = ids();
    // Ours.
    let folder = ModelFolder::new(dir);
    let config: Config = folder.config()?;
    let model = BertModel::load(&folder.var_builder(&Device::Cpu)?, &config)?;
    let x = Tensor::from_u32(ids.clone(), [BATCH, SEQ], &Device::Cpu)?;
    let mask = Tensor::from_f32(vec![1.0; BATCH * SEQ], [BATCH, SEQ], &Device::Cpu)?;
    let ours_out = model.forward(&x, &mask)?.to_vec_f32()?;
    let t0 = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(model.forward(&x, &mask)?.to_vec_f32()?);
    }
    let ours = t0.elapsed().as_secs_f64() / iters as f64;
    // candle.
    let dev = CDevice::Cpu;
    let cconfig: bert::Config = serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)?;
    let vb = unsafe {
        CVarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], CDType::F32, &dev)?
    };
    let cmodel = bert::BertModel::load(vb, &cconfig)?;
    let cx = CTensor::from_vec(ids, (BATCH, SEQ), &dev)?;
    let ctt = cx.zeros_like()?;
    let cmask = cx.ones_like()?;
    let theirs_out = cmodel.forward(&cx, &ctt, Some(&cmask))?;
    let theirs_flat: Vec<f32> = theirs_out.flatten_all()?.to_vec1()?;
    let max_diff = ours_out
        .iter()
        .zip(&theirs_flat)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let t0 = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(cmodel.forward(&cx, &ctt, Some(&cmask))?);
    }
    let theirs = t0.elapsed().as_secs_f64() / iters as f64;
    println!(
        "{}",
        serde_json::json!({
            "bench": "minilm_32x128_cpu",
            "ours_passages_per_s": BATCH as f64 / ours,
            "candle_passages_per_s": BATCH as f64 / theirs,
            "ratio_ours_over_candle": theirs / ours,
            "max_abs_diff_hidden_states": max_diff,
            "iters": iters,
            "threads": rayon::current_num_threads(),
        })
    );
    Ok(())
}

fn whisper_bench(dir: &Path) -> AnyResult<()> {
    // Identical input for both: a deterministic log-mel-like window from the engine's front end.
    let tr = WhisperTranscriber::from_folder(dir, &Device::Cpu)?;
    let audio: Vec<f32> = (0..480_000)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            0.2 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.05 * ((i * 7919) % 97) as f32 / 97.0
        })
        .collect();
    let feats = tr.mel().window_30s(&audio);
    let gen = tr.generation_config();
    let prompt = [
        gen.decoder_start_token_id,
        gen.decoder_start_token_id + 1,
        gen.no_timestamps_token_id - 4,
    ];
    let steps: Vec<u32> = (0..DECODE_STEPS).map(|i| (1000 + 37 * i) as u32).collect();

    // Ours: encoder, then the prompt and 48 single-token steps with the KV cache.
    let model = tr.model();
    let mel = Tensor::from_f32(
        feats.data.clone(),
        [feats.n_mels, feats.n_frames],
        &Device::Cpu,
    )?;
    let _ = model.encode(&mel)?; // warm-up
    let t0 = Instant::now();
    let encoded = model.encode(&mel)?;
    let ours_enc = t0.elapsed().as_secs_f64() * 1e3;
    let mut state = model.start(&encoded)?;
    model.step(&mut state, &prompt)?.to_vec_f32()?;
    let t0 = Instant::now();
    for &id in &steps {
        model.step(&mut state, &[id])?.to_vec_f32()?;
    }
    let ours_tok = t0.elapsed().as_secs_f64() * 1e3 / DECODE_STEPS as f64;

    // candle: same weights, same mel; its decoder takes the whole prefix each step.
    let dev = CDevice::Cpu;
    // transformers writes `"suppress_tokens": null`, which candle's Config does not accept.
    let mut raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)?;
    if raw["suppress_tokens"].is_null() {
        raw["suppress_tokens"] = serde_json::json!([]);
    }
    let cfg: whisper::Config = serde_json::from_value(raw)?;
    let vb = unsafe {
        CVarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], CDType::F32, &dev)?
    };
    let mut cm = whisper::model::Whisper::load(&vb, cfg)?;
    let cmel = CTensor::from_vec(feats.data.clone(), (1, feats.n_mels, feats.n_frames), &dev)?;
    let _ = cm.encoder.forward(&cmel, true)?;
    let t0 = Instant::now();
    let cenc = cm.encoder.forward(&cmel, true)?;
    let theirs_enc = t0.elapsed().as_secs_f64() * 1e3;
    let mut tokens: Vec<u32> = prompt.to_vec();
    let logits =
        |cm: &mut whisper::model::Whisper, tokens: &[u32], flush: bool| -> AnyResult<Vec<f32>> {
            let t = CTensor::new(tokens, &dev)?.unsqueeze(0)?;
            let ys = cm.decoder.forward(&t, &cenc, flush)?;
            let last = ys.i((..1, tokens.len() - 1..))?;
            Ok(cm.decoder.final_linear(&last)?.flatten_all()?.to_vec1()?)
        };
    logits(&mut cm, &tokens, true)?;
    let t0 = Instant::now();
    for &id in &steps {
        tokens.push(id);
        logits(&mut cm, &tokens, false)?;
    }
    let theirs_tok = t0.elapsed().as_secs_f64() * 1e3 / DECODE_STEPS as f64;
    let window = |enc: f64, tok: f64| enc + 100.0 * tok;
    println!(
        "{}",
        serde_json::json!({
            "bench": format!("{}_cpu", dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            "ours_encoder_ms": ours_enc,
            "candle_encoder_ms": theirs_enc,
            "ours_decoder_ms_per_token": ours_tok,
            "candle_decoder_ms_per_token": theirs_tok,
            "ours_rtf": window(ours_enc, ours_tok) / 30_000.0,
            "candle_rtf": window(theirs_enc, theirs_tok) / 30_000.0,
            "ratio_ours_over_candle": window(theirs_enc, theirs_tok) / window(ours_enc, ours_tok),
            "threads": rayon::current_num_threads(),
        })
    );
    Ok(())
}

fn main() -> AnyResult<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let iters: usize = arg("--iters").and_then(|s| s.parse().ok()).unwrap_or(3);
    let weights = arg("--weights")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/weights"));
    let bench_dir = arg("--bench-dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/bench"));
    let only = arg("--only").unwrap_or_default();
    if only.is_empty() || only == "bert" {
        bert(&weights.join("all-MiniLM-L6-v2"), iters)?;
    }
    if only.is_empty() || only == "whisper" {
        for size in ["tiny", "base"] {
            whisper_bench(&bench_dir.join(format!("whisper-{size}-random")))?;
        }
    }
    Ok(())
}
