//! Query latency of exact top-10 over 10k and 100k passages of width 384 (MiniLM), random unit vectors.
//! `cargo run --release -p offgrid-search --example query_latency`
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_search::FlatIndex;
use std::time::Instant;

fn unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let row: Vec<f32> = (0..dim)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect();
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(row.iter().map(|x| x / norm));
    }
    out
}

fn main() -> Result<(), offgrid_search::Error> {
    let dim = 384;
    for n in [10_000usize, 100_000] {
        let index = FlatIndex::from_flat(dim, unit_vectors(n, dim, 1))?;
        let queries = unit_vectors(50, dim, 2);
        let mut best = 0usize;
        index.top_k(&queries[..dim], 10)?; // warm the caches
        let start = Instant::now();
        for q in queries.chunks(dim) {
            best ^= index.top_k(q, 10)?[0].index;
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / 50.0;
        println!("{{\"passages\": {n}, \"dim\": {dim}, \"k\": 10, \"ms_per_query\": {ms:.3}, \"check\": {best}}}");
    }
    Ok(())
}
