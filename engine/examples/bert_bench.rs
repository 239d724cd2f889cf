//! Passages/s of all-MiniLM-L6-v2 on batches of 32 × 128 tokens (the benchmark (a)/(d), our side).
//!
//! `cargo run --release -p offgrid-engine --example bert_bench -- [--device cpu|gpu] [--iters N] [--dir PATH]`
//! Prints one JSON line: the median time per batch with the fastest and slowest, and the first passage's
//! [CLS] vector, which `scripts/bench/bert_torch.py` compares with PyTorch's before it reports a ratio.
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
    // One batch as a caller runs it: the forward, then the [CLS] rows read back (which waits for the GPU).
    let run = || -> Result<Vec<f32>> {
        let h = model.forward(&ids, &mask)?;
        pollster::block_on(h.narrow(1, 0, 1)?.contiguous()?.to_vec_f32_async())
    };
    let cls = run()?; // warm-up: pipelines, buffer pools, caches
    let hidden = cls.len() / batch;
    let mut ms = Vec::with_capacity(iters);
    for _ in 0..iters.max(1) {
        let start = Instant::now();
        run()?;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let line = serde_json::json!({
        "impl": "offgrid",
        "device": device.name(),
        "batch": batch,
        "seq": seq,
        "iters": ms.len(),
        "passages_per_s": (batch as f64 * 1e3 / median * 10.0).round() / 10.0,
        "ms_per_batch": median,
        "ms_min": ms[0],
        "ms_max": ms[ms.len() - 1],
        "cls0": &cls[..hidden],
    });
    println!("{line}");
    Ok(())
}
