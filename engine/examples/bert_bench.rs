//! Passages/s of all-MiniLM-L6-v2 on batches of 32 × 128 tokens (the benchmark (a)/(d), our side).
//!
//! `cargo run --release -p offgrid-engine --example bert_bench -- [--device cpu|gpu] [--iters N] [--dir PATH]`
//! Prints one JSON line. The PyTorch side is `scripts/bench/bert_torch.py`, which prints the same fields.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::io::ModelFolder;
use offgrid_engine::models::bert::{BertModel, Config};
use offgrid_engine::{Device, Result, Tensor};
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<()> {
    let (batch, seq) = (32usize, 128usize);
    let iters: usize = arg("--iters").and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = arg("--dir").unwrap_or_else(|| {
        std::env::var("OFFGRID_WEIGHTS")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/weights").into())
            + "/all-MiniLM-L6-v2"
    });
    let device = match arg("--device").as_deref() {
        Some("gpu") => Device::Gpu(pollster::block_on(GpuDevice::new())?),
        _ => Device::Cpu,
    };
    let folder = ModelFolder::new(&dir);
    let config: Config = folder.config()?;
    let model = BertModel::load(&folder.var_builder(&device)?, &config)?;
    // Deterministic ids in the ordinary-word range of the vocabulary, [CLS] … [SEP], no padding.
    let mut ids = Vec::with_capacity(batch * seq);
    for b in 0..batch {
        for t in 0..seq {
            ids.push(match t {
                0 => 101,
                t if t == seq - 1 => 102,
                t => 2000 + ((b * 7919 + t * 104_729) % 20_000) as u32,
            });
        }
    }
    let ids = Tensor::from_u32(ids, [batch, seq], &device)?;
    let mask = Tensor::from_f32(vec![1.0; batch * seq], [batch, seq], &device)?;
    let run = || -> Result<f32> {
        let h = model.forward(&ids, &mask)?;
        let v = pollster::block_on(h.narrow(1, 0, 1)?.contiguous()?.to_vec_f32_async())?;
        Ok(v[0])
    };
    run()?; // warm-up: pipelines, buffer pools, caches
    let start = Instant::now();
    for _ in 0..iters {
        run()?;
    }
    let secs = start.elapsed().as_secs_f64();
    let per_s = (batch * iters) as f64 / secs;
    println!(
        "{{\"impl\": \"offgrid\", \"device\": \"{}\", \"batch\": {batch}, \"seq\": {seq}, \"iters\": {iters}, \"passages_per_s\": {per_s:.1}, \"ms_per_batch\": {:.1}}}",
        device.name(),
        secs * 1000.0 / iters as f64
    );
    Ok(())
}
