//! Silero VAD frames per second on the native CPU path, single thread, frame by frame as in streaming.
//! Usage: `vad_bench <silero_vad_16k.safetensors> <16 kHz wav> [passes]`; prints one JSON line.
//! Run by `scripts/bench/vad_bench.sh`, which runs onnxruntime on the same frames and prints the ratio.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::audio::read_wav_16k;
use offgrid_engine::models::silero_vad::{SileroVad, FRAME_SAMPLES};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(model), Some(wav)) = (args.get(1), args.get(2)) else {
        return Err("usage: vad_bench <silero_vad_16k.safetensors> <file.wav> [passes]".into());
    };
    let passes: usize = args.get(3).map(|p| p.parse()).transpose()?.unwrap_or(50);
    let mut vad = SileroVad::load(std::fs::read(model)?)?;
    let samples = read_wav_16k(&std::fs::read(wav)?)?;
    let frames: Vec<[f32; FRAME_SAMPLES]> = samples
        .chunks_exact(FRAME_SAMPLES)
        .map(|c| {
            let mut f = [0.0; FRAME_SAMPLES];
            f.copy_from_slice(c);
            f
        })
        .collect();
    // Warm-up pass (caches, page faults); its sum of probabilities is compared with onnxruntime's.
    let mut checksum = 0.0f64;
    for f in &frames {
        checksum += f64::from(vad.process_frame(f));
    }
    let pass_sum = checksum;
    let start = Instant::now();
    for _ in 0..passes {
        vad.reset();
        for f in &frames {
            checksum += f64::from(vad.process_frame(f));
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let n = passes * frames.len();
    println!(
        "{{\"impl\": \"offgrid-native\", \"frames\": {n}, \"seconds\": {seconds:.6}, \"frames_per_second\": {:.1}, \"us_per_frame\": {:.2}, \"checksum\": {checksum:.3}, \"pass_sum\": {pass_sum:.6}}}",
        n as f64 / seconds,
        seconds * 1e6 / n as f64
    );
    Ok(())
}
