//! The English phonemizer against espeak-ng (the phonemizer Piper voices were trained on) on the 2,000 most
//! frequent English words, each on its own (fixture: scripts/fixtures/phonemizer_fixtures.py). The floor is
//! the agreement measured when this test was written; the goal is 97%.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::text::phonemize::Phonemizer;

/// Words whose phonemes must equal espeak-ng's exactly, as a share of the list.
const FLOOR: f64 = 0.76;

#[test]
fn most_frequent_words_match_espeak_ng() {
    let p = Phonemizer::new("en-us").expect("english");
    let rows: Vec<(&str, &str)> = include_str!("fixtures/phonemize/en_us_words.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    assert_eq!(rows.len(), 2000);
    let mut same = 0;
    let mut misses = Vec::new();
    for (word, espeak) in &rows {
        let ours = p.word(word);
        if ours == *espeak {
            same += 1;
        } else {
            misses.push(format!("{word}: ours {ours} espeak {espeak}"));
        }
    }
    let share = same as f64 / rows.len() as f64;
    eprintln!(
        "{same}/{} words identical to espeak-ng ({:.1}%)",
        rows.len(),
        share * 100.0
    );
    for m in misses.iter().take(60) {
        eprintln!("  {m}");
    }
    assert!(
        share >= FLOOR,
        "agreement {share:.3} below the floor {FLOOR}"
    );
}
