//! `offgrid bench speak`: a Piper voice's real-time factor on given phoneme ids (the fixture's sentences, so
//! both sides get the same input whatever the phonemizer), noise scales 0 so the output is deterministic and
//! can be checked against the peer's before times are compared; warm, median of the timed runs. Prints the
//! audio too (`--wav-out`), and the durations, so `scripts/bench/piper_bench.py` can compare them with
//! onnxruntime's.

use clap::Args;
use offgrid_engine::audio::wav::write_wav_16bit;
use offgrid_engine::models::vits::{Noise, Scales};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// `offgrid bench speak` arguments.
#[derive(Debug, Args)]
pub struct SpeakBenchArgs {
    /// A Piper voice (.onnx with its .onnx.json beside it, or their folder).
    #[arg(long)]
    pub model: PathBuf,
    /// Phoneme ids, comma-separated, per sentence; repeat for several sentences.
    #[arg(long, required = true)]
    pub ids: Vec<String>,
    /// Timed runs after the warm-up run.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Write the audio of all sentences (one after the other) here as 16-bit WAV.
    #[arg(long)]
    pub wav_out: Option<PathBuf>,
}

/// What `offgrid bench speak` prints.
#[derive(Debug, Serialize)]
pub struct SpeakBenchReport {
    pub device: String,
    pub threads: usize,
    /// Seconds of audio made per run.
    pub audio_seconds: f64,
    /// Median seconds per run (all sentences) and every run's.
    pub seconds: f64,
    pub runs: Vec<f64>,
    /// Audio seconds per compute second.
    pub real_time_factor: f64,
    /// Median seconds to the first sentence's audio.
    pub first_sentence_seconds: f64,
    pub durations: Vec<Vec<u32>>,
}

pub fn command(args: SpeakBenchArgs) -> Result<(), String> {
    let voice = crate::speak::load(&args.model, &args.device)?;
    let sentences: Vec<Vec<u32>> = args
        .ids
        .iter()
        .map(|s| {
            s.split(',')
                .map(|v| {
                    v.trim()
                        .parse::<u32>()
                        .map_err(|e| format!("--ids {v:?}: {e}"))
                })
                .collect::<Result<Vec<u32>, String>>()
        })
        .collect::<Result<_, _>>()?;
    let flat = Scales {
        noise: 0.0,
        length: 1.0,
        noise_w: 0.0,
    };
    let mut runs = Vec::new();
    let mut firsts = Vec::new();
    let mut reference: Vec<Vec<f32>> = Vec::new();
    let mut durations = Vec::new();
    for run in 0..=args.runs.max(1) {
        let start = Instant::now();
        let mut first = 0.0;
        let mut outs = Vec::new();
        for (i, ids) in sentences.iter().enumerate() {
            let out = pollster::block_on(voice.vits().synthesize(ids, flat, &mut Noise::new(0)))
                .map_err(|e| e.to_string())?;
            if i == 0 {
                first = start.elapsed().as_secs_f64();
            }
            outs.push(out);
        }
        let took = start.elapsed().as_secs_f64();
        let audio: Vec<Vec<f32>> = outs.iter().map(|o| o.audio.clone()).collect();
        if run == 0 {
            durations = outs.into_iter().map(|o| o.durations).collect();
            reference = audio;
            continue;
        }
        if audio != reference {
            return Err("two runs gave different audio".into());
        }
        runs.push(took);
        firsts.push(first);
    }
    let median = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let samples: usize = reference.iter().map(Vec::len).sum();
    let audio_seconds = samples as f64 / f64::from(voice.sample_rate());
    if let Some(path) = &args.wav_out {
        let all: Vec<f32> = reference.concat();
        let wav = write_wav_16bit(&all, voice.sample_rate()).map_err(|e| e.to_string())?;
        std::fs::write(path, wav).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let seconds = median(&runs);
    let report = SpeakBenchReport {
        device: args.device,
        threads: super::chat::rayon_threads(),
        audio_seconds,
        seconds,
        runs,
        real_time_factor: audio_seconds / seconds,
        first_sentence_seconds: median(&firsts),
        durations,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
