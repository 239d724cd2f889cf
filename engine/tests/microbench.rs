//! The probe's micro-benchmark runs on the CPU and on a real GPU adapter (lavapipe in CI) and yields usable
//! figures for `plan()`: positive, finite, and a GPU entry exactly when a GPU was given.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gpu_common;

use offgrid_engine::microbench::{self, now_ms, Throughput};

fn plausible(t: &Throughput, what: &str) {
    assert!(
        t.gemm_gflops.is_finite() && t.gemm_gflops > 0.0,
        "{what} GEMM: {t:?}"
    );
    assert!(
        t.mem_gbps.is_finite() && t.mem_gbps > 0.0,
        "{what} copy: {t:?}"
    );
}

#[test]
fn cpu_and_gpu_figures() {
    pollster::block_on(async {
        let t0 = now_ms();
        let cpu_only = microbench::run(None).await.unwrap();
        plausible(&cpu_only.cpu, "cpu");
        assert!(cpu_only.gpu.is_none());
        let gpu = gpu_common::gpu().await;
        let both = microbench::run(Some(&gpu)).await.unwrap();
        plausible(&both.cpu, "cpu");
        plausible(&both.gpu.expect("a GPU figure when a GPU is given"), "gpu");
        // Reported, not asserted: timings depend on the machine (and this is usually a debug build).
        eprintln!(
            "micro-benchmark: {cpu_only:?} / {both:?} in {:.0} ms",
            now_ms() - t0
        );
    });
}
