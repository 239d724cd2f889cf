//! `offgrid bench transcribe`: Whisper's real-time factor on one recording (seconds of audio per second of
//! compute), warm, timed over whole transcriptions (log-mel, encoder, greedy decoding with timestamps), median
//! of the timed runs. Prints the text too, so the peer's output can be checked against ours before the
//! figures are compared (`scripts/bench/whisper_bench.py` runs faster-whisper the same way).

use clap::Args;
use offgrid_engine::io::DTypePolicy;
use offgrid_engine::models::whisper::{Task, TranscribeOptions, WhisperTranscriber};
use offgrid_engine::DType;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// `offgrid bench transcribe` arguments.
#[derive(Debug, Args)]
pub struct TranscribeBenchArgs {
    /// A Whisper folder (CTranslate2's model.bin or Hugging Face's safetensors layout).
    #[arg(long)]
    pub model: PathBuf,
    /// The recording (WAV, any rate).
    #[arg(long)]
    pub wav: PathBuf,
    /// Weights as f32, f16 (as stored) or q8_0 (quantized at load).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Timed runs after the warm-up run.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// What `offgrid bench transcribe` prints.
#[derive(Debug, Serialize)]
pub struct TranscribeBenchReport {
    pub device: String,
    pub dtype: String,
    pub threads: usize,
    pub audio_s: f64,
    pub text: String,
    /// Median seconds per transcription and every run's.
    pub seconds: f64,
    pub runs: Vec<f64>,
    /// Audio seconds per compute second (higher is faster).
    pub real_time_factor: f64,
}

fn read(dir: &std::path::Path, name: &str) -> Result<Vec<u8>, String> {
    std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
}

/// Runs the benchmark and prints JSON.
pub fn command(args: TranscribeBenchArgs) -> Result<(), String> {
    let device = crate::transcribe::open_device(&args.device)?;
    let (policy, quantize) = match args.dtype.as_str() {
        "f32" => (DTypePolicy::F32, None),
        "f16" => (DTypePolicy::F16, None),
        "q8_0" => (DTypePolicy::AsStored, Some(DType::Q8_0)),
        other => return Err(format!("--dtype must be f32, f16 or q8_0, not \"{other}\"")),
    };
    let model = if args.model.join("model.bin").is_file() {
        WhisperTranscriber::from_ctranslate2(
            &read(&args.model, "model.bin")?,
            &read(&args.model, "config.json")?,
            &read(&args.model, "tokenizer.json")?,
            &device,
            |vb| vb.with_dtype(policy).with_quantization(quantize),
        )
    } else {
        WhisperTranscriber::from_folder(&args.model, &device)
    }
    .map_err(|e| format!("{}: {e}", args.model.display()))?;
    let samples = crate::transcribe::read_16k(&args.wav)?;
    let opts = TranscribeOptions {
        language: None,
        task: Task::Transcribe,
        timestamps: true,
        max_new_tokens: None,
        initial_prompt: None,
        condition_on_previous_text: false,
        ..Default::default()
    };
    let mut runs = Vec::new();
    let mut text = String::new();
    for run in 0..=args.runs.max(1) {
        let start = Instant::now();
        let t = pollster::block_on(model.transcribe(&samples, &opts)).map_err(|e| e.to_string())?;
        let took = start.elapsed().as_secs_f64();
        if run == 0 {
            text = t.text;
            continue;
        }
        if t.text != text {
            return Err("two greedy runs wrote different text".into());
        }
        runs.push(took);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let seconds = sorted[sorted.len() / 2];
    let audio_s = samples.len() as f64 / 16_000.0;
    let report = TranscribeBenchReport {
        device: args.device,
        dtype: args.dtype,
        threads: super::chat::rayon_threads(),
        audio_s,
        text,
        seconds,
        runs,
        real_time_factor: audio_s / seconds,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
