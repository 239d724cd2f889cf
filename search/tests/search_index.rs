//! Exact top-k against a brute-force sort, HNSW recall@10 against exact on random unit vectors, splitting and
//! the saved format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_search::{
    exact::select_top, paragraphs, windows, Collection, FlatIndex, HnswIndex, Passage,
};

/// Seeded unit vectors (xorshift; no rand dependency).
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

#[test]
fn exact_top_k_equals_a_full_sort() {
    let dim = 48;
    let index = FlatIndex::from_flat(dim, unit_vectors(3000, dim, 1)).unwrap();
    let queries = unit_vectors(20, dim, 2);
    for q in queries.chunks(dim) {
        let got = index.top_k(q, 10).unwrap();
        let mut all: Vec<(usize, f32)> = (0..index.len())
            .map(|i| {
                (
                    i,
                    index
                        .row(i)
                        .unwrap()
                        .iter()
                        .zip(q)
                        .map(|(a, b)| a * b)
                        .sum(),
                )
            })
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(got.len(), 10);
        for (h, (i, s)) in got.iter().zip(&all) {
            assert_eq!(h.index, *i);
            assert!((h.score - s).abs() < 1e-5);
        }
    }
    assert!(
        index.top_k(&[1.0; 3], 1).is_err(),
        "wrong width is an error"
    );
    assert!(index.top_k(&queries[..dim], 0).unwrap().is_empty());
    assert_eq!(index.top_k(&queries[..dim], 5000).unwrap().len(), 3000);
}

#[test]
fn selection_puts_nan_last() {
    let hits = select_top(&[0.5, f32::NAN, 0.9, 0.1], 3);
    let idx: Vec<usize> = hits.iter().map(|h| h.index).collect();
    assert_eq!(idx, vec![2, 0, 3]);
}

#[test]
fn hnsw_recall_at_10_is_at_least_095() {
    let (n, dim) = (10_000, 64);
    let index = FlatIndex::from_flat(dim, unit_vectors(n, dim, 3)).unwrap();
    let hnsw = HnswIndex::build(&index, 100, 100).unwrap();
    assert_eq!(hnsw.len(), n);
    let queries = unit_vectors(100, dim, 4);
    let mut found = 0;
    for q in queries.chunks(dim) {
        let exact: Vec<usize> = index
            .top_k(q, 10)
            .unwrap()
            .iter()
            .map(|h| h.index)
            .collect();
        let approx = hnsw.top_k(q, 10).unwrap();
        assert_eq!(approx.len(), 10);
        found += approx.iter().filter(|h| exact.contains(&h.index)).count();
    }
    let recall = found as f64 / 1000.0;
    println!("recall@10 = {recall}");
    assert!(recall >= 0.95, "recall@10 {recall} < 0.95");
}

#[test]
fn paragraphs_split_on_blank_lines() {
    let text = "First para\nstill first.\n\n  \nSecond one.\n\n\nThird";
    let p = paragraphs(text);
    let texts: Vec<&str> = p.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        vec!["First para\nstill first.", "Second one.", "Third"]
    );
    for q in &p {
        assert_eq!(&text[q.start..q.end], q.text);
    }
    assert!(paragraphs("").is_empty());
    assert!(paragraphs("\n \n").is_empty());
}

#[test]
fn windows_overlap() {
    let text = "a b c d e f g";
    let offsets: Vec<(usize, usize)> = (0..7).map(|i| (2 * i, 2 * i + 1)).collect();
    let w = windows(text, &offsets, 3, 1).unwrap();
    let texts: Vec<&str> = w.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, vec!["a b c", "c d e", "e f g"]);
    assert!(windows(text, &offsets, 3, 3).is_err());
    assert!(windows(text, &[(0, 99)], 3, 1).is_err());
}

#[test]
fn collection_round_trips_and_rejects_damage() {
    let dim = 8;
    let passages: Vec<Passage> = (0..5)
        .map(|i| Passage {
            text: format!("passage {i} ✨"),
            start: i,
            end: i + 1,
        })
        .collect();
    let vectors = FlatIndex::from_flat(dim, unit_vectors(5, dim, 9)).unwrap();
    let c = Collection::new("sample", "minilm", passages.clone(), vectors.clone()).unwrap();
    let bytes = c.to_bytes().unwrap();
    let back = Collection::from_bytes(&bytes).unwrap();
    assert_eq!(back.passages, passages);
    assert_eq!(back.vectors(), &vectors);
    assert_eq!(
        (back.name.as_str(), back.model.as_str()),
        ("sample", "minilm")
    );
    let q = vectors.row(3).unwrap().to_vec();
    assert_eq!(back.search(&q, 1).unwrap()[0].index, 3);
    assert!(Collection::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(Collection::from_bytes(b"garbage!!!!!!!!").is_err());
    assert!(Collection::new("x", "m", passages[..2].to_vec(), vectors).is_err());
}
