//! `offgrid bench ops`: a quick CPU run prints JSON with a measurement per case, each with a positive time and
//! throughput; so does a quick GPU run of the GEMV cases (the GPU timing path, its clock warm-up included, on
//! whatever GPU the machine has: lavapipe in CI); and a bad device name is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// Runs `offgrid bench ops ARGS --json`, checks it succeeded, and returns its measurements.
fn bench_json(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args(["bench", "ops"])
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["results"].as_array().unwrap().clone()
}

#[test]
fn quick_cpu_run_prints_every_kind_with_positive_figures() {
    let results = bench_json(&["--device", "cpu", "--quick", "--seconds", "0"]);
    for kind in ["copy", "gemm", "gemv", "attention", "conv2d"] {
        assert!(
            results.iter().any(|r| r["kind"] == kind),
            "no {kind} in {results:?}"
        );
    }
    for dtype in ["f32", "f16", "q8_0", "q4_0"] {
        assert!(results
            .iter()
            .any(|r| r["kind"] == "gemv" && r["dtype"] == dtype));
    }
    for r in results {
        assert!(r["ms"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["gbps"].as_f64().unwrap() > 0.0, "{r}");
        if r["kind"] != "copy" {
            assert!(r["gflops"].as_f64().unwrap() > 0.0, "{r}");
        }
    }
}

#[test]
fn quick_gpu_gemv_run_times_every_weight_type() {
    let results = bench_json(&["--device", "gpu", "--quick", "--filter", "gemv"]);
    for dtype in ["f32", "f16", "q8_0", "q4_0"] {
        let r = results
            .iter()
            .find(|r| r["device"] == "gpu" && r["kind"] == "gemv" && r["dtype"] == dtype)
            .unwrap_or_else(|| panic!("no GPU {dtype} GEMV in {results:?}"));
        for field in ["ms", "gbps", "gflops"] {
            assert!(r[field].as_f64().unwrap() > 0.0, "{r}");
        }
    }
}

#[test]
fn an_unknown_device_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args(["bench", "ops", "--device", "abacus"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("abacus"));
}
