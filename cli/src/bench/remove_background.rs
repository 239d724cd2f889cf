//! `offgrid bench remove-background`: one IS-Net inference at 1024² (resize and normalise, the network, the
//! mask read back), warm, median of the timed runs, with the mask's summary and an 8-bit copy of it so the
//! peer's output can be checked against ours before the times are compared
//! (`scripts/bench/isnet_bench.py` runs onnxruntime the same way on the same file and photo).

use clap::Args;
use offgrid_engine::image::{decode_photo, encode_gray_png};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// `offgrid bench remove-background` arguments.
#[derive(Debug, Args)]
pub struct RemoveBackgroundBenchArgs {
    /// An IS-Net .onnx file (or a folder holding one).
    #[arg(long)]
    pub model: PathBuf,
    /// The photo.
    #[arg(long)]
    pub photo: PathBuf,
    /// Timed runs after the warm-up run.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Write the 1024² mask here as an 8-bit PNG.
    #[arg(long)]
    pub mask_out: Option<PathBuf>,
}

/// What `offgrid bench remove-background` prints.
#[derive(Debug, Serialize)]
pub struct RemoveBackgroundBenchReport {
    pub device: String,
    pub threads: usize,
    /// Median seconds per inference and every run's.
    pub seconds: f64,
    pub runs: Vec<f64>,
    pub mask_mean: f64,
    pub mask_above_half: f64,
}

pub fn command(args: RemoveBackgroundBenchArgs) -> Result<(), String> {
    let remover = crate::remove_background::load(&args.model, None, &args.device)?;
    let file = std::fs::read(&args.photo).map_err(|e| format!("{}: {e}", args.photo.display()))?;
    let photo = decode_photo(&file).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    let mut mask = Vec::new();
    for run in 0..=args.runs.max(1) {
        let start = Instant::now();
        let m = pollster::block_on(remover.mask(&photo)).map_err(|e| e.to_string())?;
        let took = start.elapsed().as_secs_f64();
        if run == 0 {
            mask = m;
            continue;
        }
        if m != mask {
            return Err("two runs gave different masks".into());
        }
        runs.push(took);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let side = remover.input_side();
    if let Some(path) = &args.mask_out {
        let grey: Vec<u8> = mask
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
            .collect();
        let png = encode_gray_png(&grey, side, side).map_err(|e| e.to_string())?;
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let n = mask.len().max(1) as f64;
    let report = RemoveBackgroundBenchReport {
        device: args.device,
        threads: super::chat::rayon_threads(),
        seconds: sorted[sorted.len() / 2],
        runs,
        mask_mean: mask.iter().map(|&v| f64::from(v)).sum::<f64>() / n,
        mask_above_half: mask.iter().filter(|&&v| v > 0.5).count() as f64 / n,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
