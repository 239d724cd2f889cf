//! `offgrid remove-background` on a real photo with the real IS-Net file: the cut-out PNG has the photo's
//! size and alpha, its alpha equals the `--mask` output, and both equal the committed alpha the browser test
//! (tests/e2e/remove_background.test.mjs) also checks the app's export against, so the CLI and the app are
//! held to the same result. Bad input gets a reason and a failing exit code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::image::decode_photo;
use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/isnet")
}

fn model() -> PathBuf {
    let file = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join("isnet-imgly/model_fp16.onnx");
    assert!(
        file.is_file(),
        "{} missing; run scripts/fetch-test-weights.sh first",
        file.display()
    );
    file
}

fn channel(path: &std::path::Path, c: usize) -> (usize, usize, Vec<u8>) {
    let photo = decode_photo(&std::fs::read(path).expect("output written")).expect("decodes");
    let values = photo.rgba.chunks_exact(4).map(|p| p[c]).collect();
    (photo.width, photo.height, values)
}

#[test]
fn cuts_a_photo_out_as_the_app_does() {
    let dir = std::env::temp_dir().join(format!("offgrid-rmbg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, mask) = (dir.join("cut.png"), dir.join("mask.png"));
    let run = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .arg("remove-background")
        .arg("--model")
        .arg(model())
        .arg(fixtures().join("photos/chelsea.png"))
        .arg("--out")
        .arg(&out)
        .arg("--mask")
        .arg(&mask)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (w, h, alpha) = channel(&out, 3);
    assert_eq!((w, h), (451, 300));
    let (_, _, mask_values) = channel(&mask, 0);
    assert_eq!(alpha, mask_values, "--mask is the cut-out's alpha");
    let (_, _, committed) = channel(&fixtures().join("chelsea_cli_alpha.png"), 0);
    let worst = alpha
        .iter()
        .zip(&committed)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(
        worst <= 2,
        "alpha differs from the committed cut-out by {worst} levels"
    );
    // A cat fills most of the photo: most of it kept, some of it transparent.
    let opaque = alpha.iter().filter(|&&a| a > 128).count() as f64 / alpha.len() as f64;
    let clear = alpha.iter().filter(|&&a| a < 5).count() as f64 / alpha.len() as f64;
    assert!(
        opaque > 0.5 && clear > 0.05,
        "opaque {opaque}, transparent {clear}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn refuses_what_is_not_a_photo() {
    let dir = std::env::temp_dir().join(format!("offgrid-rmbg-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .arg("remove-background")
        .arg("--model")
        .arg(model())
        .arg(&text)
        .output()
        .expect("runs");
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("not an image Offgrid can open"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
