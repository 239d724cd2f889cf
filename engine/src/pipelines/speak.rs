//! Text to speech, sentence by sentence so the first sentence plays while the next is made: text → sentences
//! ([`split_sentences`], with where each sits in the text, for highlighting) → ids → [`Vits`]. A Piper voice
//! reads phonemes (our espeak-ng-style phonemizer, then the voice's map in Piper's layout); an MMS voice reads
//! characters (its `vocab.json`).

use crate::models::vits::hf::{CharVocab, HfVitsConfig};
use crate::models::vits::piper::PiperConfig;
use crate::models::vits::{Noise, Scales, Synthesis, Vits};
use crate::text::phonemize::Phonemizer;
use crate::{Device, Error, Result};
use std::ops::Range;
use unicode_normalization::UnicodeNormalization;

/// How a voice turns a sentence into ids.
enum Frontend {
    /// Piper: phonemes, through the voice's phoneme map.
    Phonemes {
        config: PiperConfig,
        phonemizer: Phonemizer,
    },
    /// MMS: characters.
    Characters(CharVocab),
}

/// A voice ready to speak.
pub struct Voice {
    vits: Vits,
    frontend: Frontend,
    defaults: Scales,
    sample_rate: u32,
}

/// One sentence's ids and the phonemes the voice does not know (left out, and said).
#[derive(Debug, Clone, PartialEq)]
pub struct PhonemeIds {
    pub ids: Vec<u32>,
    pub unknown: Vec<char>,
}

/// A sentence ready for the model: its ids, what the model reads (phonemes, or the normalised characters),
/// and what could not be said.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub ids: Vec<u32>,
    pub shown: String,
    pub skipped: Vec<String>,
}

impl Prepared {
    /// Whether there is anything to say (more than the begin/end markers and blanks).
    pub fn is_empty(&self) -> bool {
        self.shown.trim().is_empty() || self.ids.len() <= 3
    }
}

impl Voice {
    /// A Piper voice from its `.onnx` and `.onnx.json` files.
    pub fn from_piper(onnx: &[u8], config_json: &str, device: &Device) -> Result<Self> {
        let config = PiperConfig::parse(config_json)?;
        let espeak = config.espeak.as_ref().map_or("en-us", |e| e.voice.as_str());
        let phonemizer = Phonemizer::new(espeak)?;
        let vits = Vits::from_piper_onnx(onnx, config.audio.sample_rate, device)?;
        if let Some((phoneme, &id)) = config.phoneme_id_map.iter().find_map(|(p, ids)| {
            ids.iter()
                .find(|&&i| i as usize >= vits.config().vocab)
                .map(|i| (p, i))
        }) {
            return Err(Error::Malformed(format!(
                "the voice's .onnx.json maps `{phoneme}` to id {id}, beyond the model's {} symbols: the two files do not belong together",
                vits.config().vocab
            )));
        }
        let i = config.inference;
        Ok(Voice {
            vits,
            defaults: Scales {
                noise: i.noise_scale,
                length: i.length_scale,
                noise_w: i.noise_w,
            },
            sample_rate: config.audio.sample_rate,
            frontend: Frontend::Phonemes { config, phonemizer },
        })
    }

    /// An MMS voice (HF `VitsModel`) from its `model.safetensors`, `config.json` and `vocab.json`.
    pub fn from_mms(
        model: &[u8],
        config_json: &str,
        vocab_json: &str,
        device: &Device,
    ) -> Result<Self> {
        let config = HfVitsConfig::parse(config_json)?;
        let vocab = CharVocab::parse(vocab_json)?;
        let vits = Vits::from_hf_config(model, &config, device)?;
        Ok(Voice {
            vits,
            defaults: Scales {
                noise: config.noise_scale,
                length: 1.0 / config.speaking_rate.max(0.01),
                noise_w: config.noise_scale_duration,
            },
            sample_rate: config.sampling_rate,
            frontend: Frontend::Characters(vocab),
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The voice's own default scales, with `speed` (1 = as trained, 2 = twice as fast) applied.
    pub fn scales(&self, speed: f32) -> Scales {
        Scales {
            length: self.defaults.length / speed.clamp(0.25, 4.0),
            ..self.defaults
        }
    }

    pub fn vits(&self) -> &Vits {
        &self.vits
    }

    /// One sentence → ids.
    pub fn prepare(&self, sentence: &str) -> Prepared {
        match &self.frontend {
            Frontend::Phonemes { phonemizer, .. } => {
                let p = phonemizer.phonemize(sentence);
                let ids = self.ids(&p.text);
                let mut skipped = p.skipped;
                skipped.extend(ids.unknown.iter().map(|c| c.to_string()));
                Prepared {
                    ids: ids.ids,
                    shown: p.text,
                    skipped,
                }
            }
            Frontend::Characters(vocab) => {
                let (ids, dropped) = vocab.encode(sentence);
                Prepared {
                    shown: sentence.to_lowercase(),
                    ids,
                    skipped: dropped.iter().map(|c| c.to_string()).collect(),
                }
            }
        }
    }

    /// Piper's layout for phonemes: begin, pad, then each phoneme followed by pad, then end. Phonemes are code
    /// points after NFD, as Piper splits them. (An MMS voice takes the phonemes as characters.)
    pub fn ids(&self, phonemes: &str) -> PhonemeIds {
        let config = match &self.frontend {
            Frontend::Phonemes { config, .. } => config,
            Frontend::Characters(vocab) => {
                let (ids, unknown) = vocab.encode(phonemes);
                return PhonemeIds { ids, unknown };
            }
        };
        let id = |c: char| config.id(c);
        let pad = id('_').unwrap_or(0);
        let mut ids = vec![id('^').unwrap_or(1), pad];
        let mut unknown = Vec::new();
        for c in phonemes.nfd() {
            match id(c) {
                Some(i) => ids.extend([i, pad]),
                None if !unknown.contains(&c) => unknown.push(c),
                None => {}
            }
        }
        ids.push(id('$').unwrap_or(2));
        PhonemeIds { ids, unknown }
    }

    /// Audio for one sentence.
    pub async fn speak(
        &self,
        sentence: &str,
        scales: Scales,
        noise: &mut Noise,
    ) -> Result<Synthesis> {
        let prepared = self.prepare(sentence);
        if prepared.is_empty() {
            return Err(Error::Text("There is nothing to say.".into()));
        }
        self.vits.synthesize(&prepared.ids, scales, noise).await
    }
}

/// One sentence of the text and where it is (byte range), so a page can highlight it while it plays.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub text: String,
    pub range: Range<usize>,
}

/// Words after which a full stop does not end the sentence.
const ABBREVIATIONS: [&str; 14] = [
    "mr", "mrs", "ms", "dr", "st", "prof", "vs", "etc", "e.g", "i.e", "no", "jr", "sr", "mt",
];

/// The longest sentence made in one piece, in characters: a longer one is cut at a comma or space so that
/// audio keeps coming and attention stays small.
pub const MAX_SENTENCE_CHARS: usize = 400;

/// Splits text into sentences at `.`, `!`, `?`, `;`, `:` followed by a space or the end, and at blank lines;
/// abbreviations (`Dr.`) and decimals (`3.5`) do not end one. Very long sentences are cut at a comma or a space.
pub fn split_sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        let next = chars.get(n + 1).map(|&(_, c)| c);
        let ends = match c {
            '!' | '?' | ';' | ':' => next.is_none_or(char::is_whitespace),
            '.' => {
                let word: String = text[start..i]
                    .rsplit(|ch: char| ch.is_whitespace())
                    .next()
                    .unwrap_or("")
                    .to_lowercase();
                next.is_none_or(char::is_whitespace)
                    && !ABBREVIATIONS.contains(&word.as_str())
                    && !(word.len() == 1 && word.chars().all(char::is_alphabetic))
            }
            '\n' => next == Some('\n') || next.is_none(),
            _ => false,
        };
        if ends {
            push_sentence(text, start..i + c.len_utf8(), &mut out);
            start = i + c.len_utf8();
        }
    }
    push_sentence(text, start..text.len(), &mut out);
    out
}

fn push_sentence(text: &str, range: Range<usize>, out: &mut Vec<Sentence>) {
    let piece = &text[range.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    if trimmed.is_empty() {
        return;
    }
    let mut start = range.start + lead;
    let end = start + trimmed.len();
    // Cut long runs at the last comma (else space) before the limit.
    while text[start..end].chars().count() > MAX_SENTENCE_CHARS {
        let limit = text[start..end]
            .char_indices()
            .nth(MAX_SENTENCE_CHARS)
            .map_or(end, |(i, _)| start + i);
        let window = &text[start..limit];
        let cut = window
            .rfind(',')
            .map(|i| i + 1)
            .or_else(|| window.rfind(' '))
            .filter(|&i| i > 0)
            .map_or(limit, |i| start + i);
        let part = text[start..cut].trim();
        if !part.is_empty() {
            let s = start + (text[start..cut].len() - text[start..cut].trim_start().len());
            out.push(Sentence {
                text: part.to_string(),
                range: s..s + part.len(),
            });
        }
        start = cut + (text[cut..end].len() - text[cut..end].trim_start().len());
    }
    if start < end {
        out.push(Sentence {
            text: text[start..end].to_string(),
            range: start..end,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        split_sentences(s).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn sentences_end_at_stops_but_not_at_abbreviations_or_decimals() {
        assert_eq!(
            texts("Dr. Smith paid $3.50 today. Did he?  Yes!\n\nNew paragraph"),
            [
                "Dr. Smith paid $3.50 today.",
                "Did he?",
                "Yes!",
                "New paragraph"
            ]
        );
        assert_eq!(texts("   "), Vec::<String>::new());
        let text = "Hi there. Bye";
        for s in split_sentences(text) {
            assert_eq!(&text[s.range.clone()], s.text);
        }
    }

    #[test]
    fn a_very_long_sentence_is_cut_at_commas_and_spaces() {
        let long = "word, ".repeat(200);
        let parts = split_sentences(&long);
        assert!(parts.len() >= 3, "{}", parts.len());
        for p in &parts {
            assert!(p.text.chars().count() <= MAX_SENTENCE_CHARS);
            assert_eq!(&long[p.range.clone()], p.text);
        }
        let unbroken = "a".repeat(1000);
        let parts = split_sentences(&unbroken);
        assert_eq!(parts.iter().map(|p| p.text.len()).sum::<usize>(), 1000);
    }
}
