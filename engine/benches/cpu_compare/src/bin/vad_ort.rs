//! Silero VAD frames per second on onnxruntime through its **C API** (the `ort` crate, the library loaded at run
//! time), the peer of `engine/examples/vad_bench.rs`: the same model (`silero_vad.onnx`), the same frames, one
//! thread, frame by frame as a streaming app calls it. Python's per-frame loop (`vad_bench_ort.py`) paid
//! Python's call cost on every 32 ms frame; this one pays only what a native app would.
//!
//! Each call feeds 64 samples of context + 512 new ones, the recurrent state and the sample rate, and reads the
//! probability and the next state back (as silero-vad's own wrapper does). The sum of the probabilities of one
//! pass is printed so the two sides can be compared before the ratio counts.
//!
//! Usage: `vad_ort <libonnxruntime.so> <silero_vad.onnx> <16 kHz wav> [passes]`; prints one JSON line.

use offgrid_engine::audio::read_wav_16k;
use ort::session::Session;
use ort::value::TensorRef;
use std::time::Instant;

type AnyResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const FRAME: usize = 512;
const CONTEXT: usize = 64;

/// One pass over `frames` from a fresh state; the sum of the speech probabilities.
fn pass(session: &mut Session, frames: &[&[f32]]) -> AnyResult<f64> {
    let mut state = vec![0f32; 2 * 128];
    let mut input = vec![0f32; CONTEXT + FRAME];
    let sr = [16_000i64];
    let mut total = 0f64;
    for frame in frames {
        input.copy_within(FRAME.., 0); // the last 64 samples of the previous input are the context
        input[CONTEXT..].copy_from_slice(frame);
        let outputs = session.run(ort::inputs![
            "input" => TensorRef::from_array_view(([1usize, CONTEXT + FRAME], &input[..]))?,
            "state" => TensorRef::from_array_view(([2usize, 1, 128], &state[..]))?,
            "sr" => TensorRef::from_array_view(((), &sr[..]))?,
        ])?;
        let (_, p) = outputs["output"].try_extract_tensor::<f32>()?;
        total += f64::from(p.first().copied().ok_or("no output")?);
        let (_, next) = outputs["stateN"].try_extract_tensor::<f32>()?;
        state.copy_from_slice(next);
    }
    Ok(total)
}

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(lib), Some(model), Some(wav)) = (args.get(1), args.get(2), args.get(3)) else {
        return Err(
            "usage: vad_ort <libonnxruntime.so> <silero_vad.onnx> <file.wav> [passes]".into(),
        );
    };
    let passes: usize = args.get(4).map(|p| p.parse()).transpose()?.unwrap_or(50);
    ort::init_from(lib).commit()?;
    let mut session = Session::builder()?
        .with_intra_threads(1)?
        .with_inter_threads(1)?
        .commit_from_file(model)?;
    let samples = read_wav_16k(&std::fs::read(wav)?)?;
    let frames: Vec<&[f32]> = samples.chunks_exact(FRAME).collect();
    let pass_sum = pass(&mut session, &frames)?; // warm-up, and the sum compared with ours
    let start = Instant::now();
    for _ in 0..passes {
        pass(&mut session, &frames)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let n = passes * frames.len();
    println!(
        "{}",
        serde_json::json!({
            "impl": "onnxruntime-c-api",
            "frames": n,
            "seconds": seconds,
            "frames_per_second": n as f64 / seconds,
            "us_per_frame": seconds * 1e6 / n as f64,
            "pass_sum": pass_sum,
        })
    );
    Ok(())
}
