//! `ModelDir` and `offgrid models check` on real folders in a temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

mod common;

use std::process::Command;

use common::{tiny_variant, weights, TempDir, CONFIG, POOLING};
use offgrid_catalog::VerifyError;
use offgrid_cli::{ModelDir, ModelDirError};

#[test]
fn open_accepts_hf_and_gguf_folders_and_explains_what_is_missing() {
    let tmp = TempDir::new("dir-open");
    let missing = tmp.path().join("nope");
    let err = ModelDir::open(&missing)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with(&format!("No folder at {}.", missing.display())),
        "{err}"
    );

    let file = tmp.write("weights.bin", b"x");
    assert!(matches!(
        ModelDir::open(&file),
        Err(ModelDirError::NotAFolder(_))
    ));

    let hf = tmp.path().join("hf");
    tmp.write("hf/config.json", CONFIG);
    let err = ModelDir::open(&hf).err();
    assert!(
        matches!(&err, Some(ModelDirError::MissingFile { file, .. }) if file == "model.safetensors"),
        "{err:?}"
    );
    tmp.write("hf/model.safetensors", &weights());
    let dir = ModelDir::open(&hf).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dir.file("config.json").ok(), Some(hf.join("config.json")));
    assert!(dir.file("tokenizer.json").is_err());

    tmp.write("gguf/b.gguf", b"GGUF");
    tmp.write("gguf/a.gguf", b"GGUF");
    let dir = ModelDir::open(tmp.path().join("gguf")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dir.gguf(), Some(tmp.path().join("gguf/a.gguf")));
}

#[test]
fn verify_checks_every_catalog_file_and_catches_corruption() {
    let tmp = TempDir::new("dir-verify");
    let mut variant = tiny_variant("offgrid-test/tiny-model");
    tmp.write("m/config.json", CONFIG);
    tmp.write("m/model.safetensors", &weights());
    let err = ModelDir::open_for(tmp.path().join("m"), &variant).err();
    assert!(
        matches!(&err, Some(ModelDirError::MissingFile { file, .. }) if file == "1_Pooling/config.json"),
        "{err:?}"
    );
    tmp.write("m/1_Pooling/config.json", POOLING);
    let dir = ModelDir::open_for(tmp.path().join("m"), &variant).unwrap_or_else(|e| panic!("{e}"));
    let report = dir.verify(&variant).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.iter().filter(|(_, ok)| *ok).count(), 3);

    // A file with no known digest is reported, never verified.
    variant.files[0].sha256 = None;
    let report = dir.verify(&variant).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report[0], ("config.json".to_string(), false));

    let mut bad = weights();
    bad[0] = 1;
    tmp.write("m/model.safetensors", &bad);
    assert!(matches!(
        dir.verify(&variant),
        Err(ModelDirError::Verify(VerifyError::Mismatch { .. }))
    ));
    tmp.write("m/model.safetensors", &weights()[..100]);
    let err = dir
        .verify(&variant)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(err, "The download of model.safetensors is incomplete (100 bytes of 10 kB). It was not saved. Retry?");
}

#[test]
fn models_check_command_reports_a_good_folder_and_fails_on_a_bad_one() {
    let tmp = TempDir::new("dir-cli");
    tmp.write("m/config.json", CONFIG);
    tmp.write("m/model.safetensors", &weights());
    let run = |dir: &str| {
        Command::new(env!("CARGO_BIN_EXE_offgrid"))
            .args(["models", "check", "--model"])
            .arg(tmp.path().join(dir))
            .output()
            .unwrap_or_else(|e| panic!("run offgrid: {e}"))
    };
    let ok = run("m");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap_or_default();
    assert_eq!(json["ok"], true);
    let bad = run("absent");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("No folder at"));
}
