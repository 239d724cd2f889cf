//! The kernel cases of `kernels.rs` natively, on ONE thread (the wasm build is single-threaded), one JSON line
//! per case; `scripts/bench/browser.sh` divides the browser's figures by these.
//!
//! Usage: `kernels_native [seconds-per-case]` (default 0.5).

use offgrid_bench_web::kernels;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let budget: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    // The engine's CPU kernels split work over rayon's global pool; one thread makes this the same work as the
    // browser's.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()?;
    let origin = Instant::now();
    let now = || origin.elapsed().as_secs_f64();
    for case in kernels::cases() {
        println!("{}", kernels::run(&case, budget, &now)?.to_json());
    }
    Ok(())
}
