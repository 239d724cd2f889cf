//! The English phonemizer against espeak-ng as Piper runs it (the `piper_phonemize` wheel, which the voices were
//! trained with), on the 2,000 most frequent English words said alone and on the words of 100 sentences of our
//! own (fixtures: scripts/fixtures/phonemizer_fixtures.py and phonemizer_sentences.py). The floors are the
//! agreement measured when these tests were last changed; the goal is 97%.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::text::phonemize::Phonemizer;

/// Share of words whose phonemes equal Piper's espeak-ng exactly.
const WORDS_FLOOR: f64 = 0.87;
/// Share of the sentences' words (aligned in order) that equal Piper's espeak-ng exactly.
const SENTENCE_WORDS_FLOOR: f64 = 0.82;

fn phonemizer() -> Phonemizer {
    Phonemizer::new("en-us").expect("english")
}

#[test]
fn most_frequent_words_match_espeak_ng() {
    let p = phonemizer();
    // word, Debian's espeak-ng command line, piper_phonemize.
    let rows: Vec<Vec<&str>> = include_str!("fixtures/phonemize/en_us_words.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 2000);
    let (mut piper, mut cli) = (0, 0);
    let mut misses = Vec::new();
    for row in &rows {
        let ours = p.word(row[0]);
        cli += usize::from(ours == row[1]);
        if ours == row[2] {
            piper += 1;
        } else {
            misses.push(format!("{}: ours {ours} piper {}", row[0], row[2]));
        }
    }
    let share = piper as f64 / rows.len() as f64;
    eprintln!(
        "{piper}/{} words identical to Piper's espeak-ng ({:.1}%), {cli} to the espeak-ng command line ({:.1}%)",
        rows.len(),
        share * 100.0,
        cli as f64 / rows.len() as f64 * 100.0
    );
    for m in misses.iter().take(40) {
        eprintln!("  {m}");
    }
    assert!(
        share >= WORDS_FLOOR,
        "agreement {share:.3} below the floor {WORDS_FLOOR}"
    );
}

/// Words of a phoneme string, punctuation dropped.
fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",.;:!?".contains(c)).to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Longest common subsequence length: the words that agree, in order.
fn lcs(a: &[String], b: &[String]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut prev = 0;
        for (j, y) in b.iter().enumerate() {
            let keep = row[j + 1];
            row[j + 1] = if x == y {
                prev + 1
            } else {
                row[j + 1].max(row[j])
            };
            prev = keep;
        }
    }
    row[b.len()]
}

#[test]
fn words_in_sentences_match_espeak_ng() {
    let p = phonemizer();
    let rows: Vec<(&str, &str)> = include_str!("fixtures/phonemize/en_us_sentences.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    assert_eq!(rows.len(), 100);
    let (mut same, mut total) = (0, 0);
    for (i, (text, reference)) in rows.iter().enumerate() {
        let ours: Vec<String> = offgrid_engine::pipelines::speak::split_sentences(text)
            .iter()
            .flat_map(|s| words(&p.phonemize(&s.text).text))
            .collect();
        let want = words(reference);
        same += lcs(&ours, &want);
        total += want.len();
        if i < 8 {
            eprintln!(
                "  {text}\n    ours  {}\n    piper {reference}",
                ours.join(" ")
            );
        }
    }
    let share = same as f64 / total as f64;
    eprintln!(
        "{same}/{total} words of 100 sentences identical to Piper's espeak-ng ({:.1}%)",
        share * 100.0
    );
    assert!(
        share >= SENTENCE_WORDS_FLOOR,
        "agreement {share:.3} below the floor {SENTENCE_WORDS_FLOOR}"
    );
}
