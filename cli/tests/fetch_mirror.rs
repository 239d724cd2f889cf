//! `models fetch` through the real hf-hub code path against a local Hub-layout mirror.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{
    files_under, tiny_variant, weights, Mirror, TempDir, CONFIG, CONFIG_SHA, POOLING, WEIGHTS_SHA,
};
use offgrid_catalog::{ModelSource, VerifyError};
use offgrid_cli::{fetch_repo, fetch_variant, FetchError, FetchOptions, ModelDir};

const REPO: &str = "offgrid-test/tiny-model";

fn hub_files(prefix: &str, model: Vec<u8>) -> HashMap<String, Vec<u8>> {
    let url = |file: &str| format!("{prefix}/{REPO}/resolve/main/{file}");
    HashMap::from([
        (url("config.json"), CONFIG.to_vec()),
        (url("1_Pooling/config.json"), POOLING.to_vec()),
        (url("model.safetensors"), model),
    ])
}

fn options(mirror: &str, cache: &TempDir) -> FetchOptions {
    FetchOptions {
        source: ModelSource::mirror(mirror).unwrap_or_else(|e| panic!("{e}")),
        cache_dir: Some(cache.path().to_path_buf()),
        progress: false,
        retries: 0,
    }
}

#[test]
fn fetches_from_a_mirror_with_a_path_prefix_verifies_and_then_uses_the_cache() {
    let mirror = Mirror::start(hub_files("/hf", weights()), true);
    let cache = TempDir::new("fetch-ok");
    let variant = tiny_variant(REPO);
    let opts = options(&format!("{}/", mirror.base("/hf")), &cache);

    let fetched = fetch_variant(&variant, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fetched.files.len(), 3);
    assert!(fetched.files.iter().all(|f| f.verified));
    assert_eq!(fetched.files[2].sha256, WEIGHTS_SHA);
    assert_eq!(fetched.files[2].bytes, 10_240);
    // The snapshot folder is an HF-layout model folder holding exactly what the mirror served.
    let dir = ModelDir::open(&fetched.dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read(dir.path().join("config.json"))
            .ok()
            .as_deref(),
        Some(CONFIG)
    );
    assert_eq!(
        std::fs::read(dir.path().join("1_Pooling/config.json"))
            .ok()
            .as_deref(),
        Some(POOLING)
    );
    assert!(dir
        .path()
        .starts_with(cache.path().join("models--offgrid-test--tiny-model")));
    let seen = mirror.requests();
    assert!(
        seen.iter().all(|s| s
            .path
            .starts_with("/hf/offgrid-test/tiny-model/resolve/main/")),
        "{seen:?}"
    );

    // A second fetch is served from the cache, and still verified.
    let again = fetch_variant(&variant, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, fetched);
    assert_eq!(mirror.requests().len(), seen.len());
}

#[test]
fn a_corrupted_download_is_refused_and_not_kept() {
    let mut bad = weights();
    bad[5000] ^= 0xff;
    let mirror = Mirror::start(hub_files("", bad.clone()), true);
    let cache = TempDir::new("fetch-bad");
    let err = fetch_variant(&tiny_variant(REPO), &options(&mirror.base(""), &cache)).err();
    let Some(FetchError::Verify(VerifyError::Mismatch { name, expected, .. })) = &err else {
        panic!("expected a hash mismatch, got {err:?}");
    };
    assert_eq!(
        (name.as_str(), expected.as_str()),
        ("model.safetensors", WEIGHTS_SHA)
    );
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        "The download of model.safetensors was corrupted (hash mismatch). It was not saved. Retry, or check your model mirror."
    );
    // The good files stay; no copy of the corrupted bytes is left anywhere in the cache.
    let left = files_under(cache.path());
    assert!(left
        .iter()
        .any(|p| std::fs::read(p).ok().as_deref() == Some(CONFIG)));
    assert!(
        !left
            .iter()
            .any(|p| std::fs::read(p).ok() == Some(bad.clone())),
        "{left:?}"
    );
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let mirror = Mirror::start(hub_files("", weights()), true);
    let cache = TempDir::new("fetch-resume");
    // hf-hub keeps a partial download as blobs/<etag>.part; leave 4,000 bytes there as a dropped transfer would.
    cache.write(
        &format!("models--offgrid-test--tiny-model/blobs/{WEIGHTS_SHA}.part"),
        &weights()[..4000],
    );
    let fetched = fetch_variant(&tiny_variant(REPO), &options(&mirror.base(""), &cache))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(fetched.files[2].verified);
    let ranges: Vec<Option<String>> = mirror
        .requests()
        .into_iter()
        .filter(|s| s.path.ends_with("model.safetensors"))
        .map(|s| s.range)
        .collect();
    assert_eq!(
        ranges,
        vec![
            Some("bytes=0-0".to_string()),
            Some("bytes=4000-".to_string())
        ]
    );
}

#[test]
fn missing_repos_unreachable_servers_and_plain_file_servers_give_clear_errors() {
    let mirror = Mirror::start(hub_files("", weights()), true);
    let cache = TempDir::new("fetch-errors");
    let files = vec!["config.json".to_string()];
    let err = fetch_repo(
        "nobody/nothing",
        "main",
        &files,
        &options(&mirror.base(""), &cache),
    )
    .err();
    assert!(matches!(err, Some(FetchError::NotFound { .. })), "{err:?}");
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("/nobody/nothing/resolve/main/config.json was not found (HTTP 404)"),
        "{message}"
    );

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let err = fetch_repo(
        REPO,
        "main",
        &files,
        &options(&format!("http://127.0.0.1:{port}"), &cache),
    )
    .err();
    assert!(
        matches!(err, Some(FetchError::Unreachable { .. })),
        "{err:?}"
    );

    let plain = Mirror::start(hub_files("", weights()), false);
    let err = fetch_repo(REPO, "main", &files, &options(&plain.base(""), &cache)).err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("did not send the `etag` header"),
        "{message}"
    );
}

#[test]
fn the_offgrid_binary_fetches_any_repo_from_a_mirror_without_claiming_verification() {
    let mirror = Mirror::start(hub_files("/hf", weights()), true);
    let cache = TempDir::new("fetch-bin");
    let cache_arg = cache.path().to_string_lossy().to_string();
    let base = mirror.base("/hf");
    let out = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args([
            "models", "fetch", REPO, "--mirror", &base, "--cache", &cache_arg,
        ])
        .args(["--file", "config.json", "--file", "model.safetensors"])
        .output()
        .unwrap_or_else(|e| panic!("run offgrid: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["files"][0]["sha256"], CONFIG_SHA);
    assert_eq!(json["files"][1]["sha256"], WEIGHTS_SHA);
    assert_eq!(json["files"][1]["verified"], false);
    assert!(
        stderr.contains("model.safetensors: not verified (no known checksum)."),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args([
            "models",
            "fetch",
            REPO,
            "--mirror",
            "ftp://example.org",
            "--cache",
            &cache_arg,
        ])
        .output()
        .unwrap_or_else(|e| panic!("run offgrid: {e}"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: The mirror address must start with http:// or https:// (got \"ftp:\")."
    );
}
