//! CMUdict's ARPAbet → the IPA espeak-ng writes for American English (the symbols Piper's en_US voices were
//! trained on). The conventions followed, each checked against espeak-ng's output on example words:
//! - the stress mark goes right before the stressed vowel, not at the syllable's start (`həlˈoʊ`);
//! - long vowels carry `ː` (`ɑː`, `ɔː`, `iː`, `uː`, stressed `ɜː`); unstressed `IY` is a short `i` (`sˈɪɾi`);
//! - stressed `AH` is `ʌ`, unstressed `ə`; unstressed `ER` is `ɚ`;
//! - `t` between a vowel and an unstressed vowel is flapped, `ɾ` (`wˈɔːɾɚ`);
//! - unstressed `IH` in a final `-ed`/`-es` and in be-/de-/re- is `ᵻ` (`wˈɔntᵻd`, `bᵻfˈoːɹ`);
//! - a word-initial unstressed `AH` is `ɐ` (`ɐɡˈoʊ`); `AO` before r spelled ore/our/oar/oor is `oː`;
//! - only `t` is flapped; `n` before `k`/`g` is `ŋ`.

/// One ARPAbet phone: its symbol without the stress digit, and the stress (0, 1, 2) for vowels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phone<'a> {
    pub symbol: &'a str,
    pub stress: Option<u8>,
}

/// Splits `HH AH0 L OW1` into phones.
pub fn parse(pron: &str) -> Vec<Phone<'_>> {
    pron.split_whitespace()
        .map(|p| match p.as_bytes().last() {
            Some(d @ b'0'..=b'2') => Phone {
                symbol: &p[..p.len() - 1],
                stress: Some(d - b'0'),
            },
            _ => Phone {
                symbol: p,
                stress: None,
            },
        })
        .collect()
}

fn vowel(symbol: &str, stress: u8) -> &'static str {
    let stressed = stress > 0;
    match symbol {
        "AA" => "ɑː",
        "AE" => "æ",
        "AH" if stressed => "ʌ",
        "AH" => "ə",
        "AO" => "ɔː",
        "AW" => "aʊ",
        "AY" => "aɪ",
        "EH" => "ɛ",
        "ER" if stressed => "ɜː",
        "ER" => "ɚ",
        "EY" => "eɪ",
        "IH" => "ɪ",
        "IY" if stressed => "iː",
        "IY" => "i",
        "OW" => "oʊ",
        "OY" => "ɔɪ",
        "UH" => "ʊ",
        "UW" => "uː",
        _ => "ə",
    }
}

fn consonant(symbol: &str) -> &'static str {
    match symbol {
        "B" => "b",
        "CH" => "tʃ",
        "D" => "d",
        "DH" => "ð",
        "F" => "f",
        "G" => "ɡ",
        "HH" => "h",
        "JH" => "dʒ",
        "K" => "k",
        "L" => "l",
        "M" => "m",
        "N" => "n",
        "NG" => "ŋ",
        "P" => "p",
        "R" => "ɹ",
        "S" => "s",
        "SH" => "ʃ",
        "T" => "t",
        "TH" => "θ",
        "V" => "v",
        "W" => "w",
        "Y" => "j",
        "Z" => "z",
        "ZH" => "ʒ",
        _ => "",
    }
}

/// Function words a word list says without stress (espeak, as Piper calls it, on a word alone).
const UNSTRESSED: [&str; 29] = [
    "a", "an", "the", "and", "or", "of", "to", "for", "from", "with", "at", "as", "is", "am",
    "are", "was", "were", "we", "you", "your", "he", "she", "her", "it", "its", "they", "than",
    "if", "their",
];
/// Function words said with a secondary stress on their own.
const SECONDARY: [&str; 17] = [
    "been", "but", "had", "him", "them", "us", "some", "what", "when", "whose", "into", "our",
    "one", "ones", "any", "though", "upon",
];

/// One vowel after the stress pass: the mark written before it (0 none, 1 ˈ, 2 ˌ) and whether its quality
/// is a full (stressed) one.
#[derive(Debug, Clone, Copy)]
struct Vowel {
    mark: u8,
    full: bool,
}

/// espeak's stress marks from CMUdict's digits: several primaries keep only the last; a secondary next to
/// the primary (the vowel just before or after it) is dropped, its vowel keeping its full quality; a final
/// `IY2` ("thirty") is unstressed; a word alone always carries a stress unless it is a function word.
fn stress_marks(phones: &[Phone], spelling: &str, alone: bool) -> Vec<Option<Vowel>> {
    let mut v: Vec<Option<Vowel>> = phones
        .iter()
        .map(|p| {
            p.stress.map(|s| Vowel {
                mark: s,
                full: s > 0,
            })
        })
        .collect();
    let vowels: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_some()).collect();
    if let Some(&last) = vowels.last() {
        if phones[last].symbol == "IY" {
            if let Some(x) = v[last].as_mut().filter(|x| x.mark == 2) {
                x.mark = 0;
                x.full = false;
            }
        }
    }
    let primaries: Vec<usize> = vowels
        .iter()
        .copied()
        .filter(|&i| v[i].is_some_and(|x| x.mark == 1))
        .collect();
    for &i in primaries.iter().rev().skip(1) {
        if let Some(x) = v[i].as_mut() {
            x.mark = 2;
        }
    }
    if let Some(&primary) = primaries.last() {
        let at = vowels.iter().position(|&i| i == primary).unwrap_or(0);
        for n in [at.checked_sub(1), Some(at + 1)].into_iter().flatten() {
            if let Some(x) = vowels
                .get(n)
                .and_then(|&i| v[i].as_mut())
                .filter(|x| x.mark == 2)
            {
                x.mark = 0;
            }
        }
    }
    if !alone {
        // Inside a sentence: the word's own stress, none for function words (their weak forms mostly come
        // from the caller's table).
        if UNSTRESSED.contains(&spelling) {
            v.iter_mut().flatten().for_each(|x| x.mark = 0);
        } else if primaries.is_empty() {
            if let Some(x) = vowels.first().and_then(|&i| v[i].as_mut()) {
                x.mark = 1;
            }
        }
    } else if UNSTRESSED.contains(&spelling) {
        v.iter_mut().flatten().for_each(|x| x.mark = 0);
    } else if SECONDARY.contains(&spelling) {
        v.iter_mut()
            .flatten()
            .filter(|x| x.mark == 1)
            .for_each(|x| x.mark = 2);
    } else if primaries.is_empty() {
        if let Some(x) = vowels.first().and_then(|&i| v[i].as_mut()) {
            x.mark = 1;
        }
    }
    v
}

/// IPA for one word's phones. `alone`: the word is said on its own (function words then follow espeak's
/// isolated forms); else it is a word of a sentence.
pub fn to_ipa(phones: &[Phone], alone: bool, spelling: &str) -> String {
    let marks = stress_marks(phones, spelling, alone);
    let vowel_at: Vec<usize> = (0..phones.len()).filter(|&i| marks[i].is_some()).collect();
    let groups = super::spelling::align(spelling, vowel_at.len());
    let group = |i: usize| -> Option<&str> {
        let n = vowel_at.iter().position(|&v| v == i)?;
        groups.as_ref().map(|g| g[n].letters.as_str())
    };
    let group_start = |i: usize| -> Option<usize> {
        let n = vowel_at.iter().position(|&v| v == i)?;
        groups.as_ref().map(|g| g[n].start)
    };
    let is_vowel = |i: usize| marks.get(i).is_some_and(Option::is_some);
    let primary = marks.iter().position(|m| m.is_some_and(|x| x.mark == 1));
    let next_vowel = |i: usize| vowel_at.iter().copied().find(|&v| v > i);
    let prev_vowel = |i: usize| vowel_at.iter().rev().copied().find(|&v| v < i);
    let first_vowel = vowel_at.first().copied();
    let last = phones.len().saturating_sub(1);
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| spelling.ends_with(s));
    let starts = |prefixes: &[&str]| prefixes.iter().any(|s| spelling.starts_with(s));
    let mut out = String::new();
    for (i, p) in phones.iter().enumerate() {
        let next = phones.get(i + 1).map(|n| n.symbol);
        let Some(Vowel { mark, full }) = marks[i] else {
            out.push_str(&consonant_ipa(phones, &marks, i, spelling, primary));
            continue;
        };
        let g = group(i).unwrap_or("");
        let reduced = !full;
        // IY + AH at the end ("idea" aɪdˈiə): the mark stays before i.
        if mark == 1 {
            out.push('ˈ');
        } else if mark == 2 {
            out.push('ˌ');
        }
        let before_primary = primary.is_some_and(|pr| next_vowel(i) == Some(pr));
        let ipa: &str = match p.symbol {
            // Final -ed, -es: ᵻ ("wanted" wˈɔntᵻd, "changes").
            "IH" | "AH"
                if reduced
                    && i + 2 == phones.len()
                    && matches!(next, Some("D" | "Z"))
                    && (g == "e" || g.is_empty() && (ends(&["ed", "es"]))) =>
            {
                "ᵻ"
            }
            // -ity: ᵻɾi ("university").
            "IH" | "AH"
                if reduced
                    && ends(&["ity", "ities"])
                    && i + 3 >= phones.len().saturating_sub(1)
                    && phones.get(i + 1).is_some_and(|n| n.symbol == "T") =>
            {
                "ᵻ"
            }
            // Unstressed prefixes.
            "IH" | "IY" | "AH" | "EH"
                if reduced && Some(i) == first_vowel && starts(&["en", "em", "ex"]) && g == "e" =>
            {
                "ɛ"
            }
            "IH" | "IY" | "AH"
                if reduced
                    && Some(i) == first_vowel
                    && starts(&["be", "re", "de", "pre"])
                    && (g == "e" || g.is_empty()) =>
            {
                if next == Some("Z") || starts(&["bec", "beg", "dev", "pre"]) {
                    "ɪ"
                } else {
                    "ᵻ"
                }
            }
            "IH" | "IY" if reduced && Some(i) == first_vowel && i == 0 && g == "e" => "ᵻ",
            // An unstressed a at the start, or just before the stress: ɐ ("about", "again", "traditional").
            "AH" if reduced
                && g == "a"
                && (group_start(i) == Some(0) || before_primary)
                && phones.len() > 2 =>
            {
                "ɐ"
            }
            "AE" if reduced && group_start(i) == Some(0) && g == "a" => "ɐ",
            // Reduced vowels spelled i or y: ɪ ("family" fˈæmɪli, "service").
            "AH" | "IH" if reduced && (g == "i" || g == "y") => "ɪ",
            "AH" if reduced
                && g == "u"
                && next == Some("L")
                && phones.get(i + 2).is_some_and(|n| n.stress.is_some()) =>
            {
                "ʊ"
            }
            // un- keeps a full ʌ ("until" ʌntˈɪl, "unless").
            "AH" if reduced
                && Some(i) == first_vowel
                && starts(&["un"])
                && (g == "u" || g.is_empty()) =>
            {
                "ʌ"
            }
            "AH" if full => "ʌ",
            "AH" => "ə",
            "UH" if reduced && ends(&["ful", "fully"]) => "ə",
            // Weekdays, "yesterday", "birthday": espeak says a full, unstressed deɪ where CMUdict has IY0.
            "IY" if reduced
                && i == last
                && i > 0
                && phones[i - 1].symbol == "D"
                && ends(&["day"]) =>
            {
                "eɪ"
            }
            // The y of every-/any- inside a compound is ɪ ("everything" ˈɛvɹɪθˌɪŋ, "anyone" ˈɛnɪwˌʌn).
            "IY" if reduced
                && i != last
                && vowel_at.iter().position(|&v| v == i) == Some(1)
                && (starts(&["every"]) && spelling.len() > 5
                    || starts(&["any"]) && spelling.len() > 3) =>
            {
                "ɪ"
            }
            // dir- before the stress: dᵻɹ ("direct" dᵻɹˈɛkt, "director").
            "ER" if reduced
                && Some(i) == first_vowel
                && i == 1
                && phones[0].symbol == "D"
                && starts(&["dir"]) =>
            {
                "ᵻɹ"
            }
            // u + r + vowel: espeak doubles the r ("during" dˈʊɹɹɪŋ, "europe", "security").
            "UH" if full && next == Some("R") && is_vowel(i + 2) => "ʊɹ",
            "IY" if full && next == Some("R") => "ɪ",
            "IY" if full && i + 2 == phones.len() && phones[last].symbol == "AH" => "i",
            "IY" if full => "iː",
            "IY" if i == last || i + 1 == last && phones[last].symbol == "Z" => {
                if g.ends_with("ee") || g == "e" && ends(&["e", "es"]) {
                    "iː"
                } else {
                    "i"
                }
            }
            "IY" if g == "y" => "ɪ",
            "IY" if g.starts_with('i') => {
                if next_vowel(i).is_some_and(|n| {
                    next_vowel(i) == Some(i + 1) && matches!(phones[n].symbol, "AH" | "ER")
                }) {
                    "i"
                } else {
                    "ɪ"
                }
            }
            "IY" if g == "e" && next_vowel(i) == Some(i + 1) => {
                if starts(&["re"]) {
                    "ɪ"
                } else {
                    "iː"
                }
            }
            "IY" => "i",
            "ER" if full && is_vowel(i + 1) => "ɜːɹ",
            "ER" if full => "ɜː",
            "ER" if g == "e"
                && prev_vowel(i) == primary
                && next_vowel(i).is_some_and(|n| marks[n].is_some_and(|x| x.mark == 0)) =>
            {
                "ɹ"
            }
            "ER" if next_vowel(i) == Some(i + 1) => "ɚɹ",
            "ER" => "ɚ",
            "AO" | "AA" if next == Some("R") => {
                let oo = ["oa", "ou", "oo"].contains(&g)
                    || ends(&["ore", "ory", "ories", "ores", "ored"])
                    || ["port", "ourse", "orce", "ourt"]
                        .iter()
                        .any(|s| spelling.contains(s));
                if p.symbol == "AO" && oo {
                    "oː"
                } else if p.symbol == "AO" {
                    "ɔː"
                } else {
                    "ɑː"
                }
            }
            "AO" | "AA" if g == "o" => {
                let after = group_start(i).map_or("", |s| &spelling[s + 1..]);
                let short = ["ng", "st", "ss", "ft", "th"]
                    .iter()
                    .any(|c| after.starts_with(c))
                    || after.starts_with("ff") && !after.starts_with("ffi")
                    || ["n", "ne", "nd"].contains(&after);
                if short {
                    "ɔ"
                } else {
                    "ɑː"
                }
            }
            "AA" | "AO"
                if g == "a"
                    && i > 0
                    && phones[i - 1].symbol == "W"
                    && matches!(next, Some("N" | "L")) =>
            {
                "ɔ"
            }
            other => vowel(other, u8::from(full)),
        };
        out.push_str(ipa);
        // "idea", "museum": iə.
        if p.symbol == "IY" && full && i + 2 == phones.len() && phones[last].symbol == "AH" {
            out.push('ə');
            break;
        }
    }
    out
}

/// One consonant: `t` flapped between a vowel and an unstressed vowel (not after n, not in r-t-ə-n:
/// "important"); a `D` CMUdict wrote for a flapped t ("thirty"); `n` before `k`/`g` is `ŋ`.
fn consonant_ipa(
    phones: &[Phone],
    marks: &[Option<Vowel>],
    i: usize,
    spelling: &str,
    primary: Option<usize>,
) -> String {
    let p = phones[i];
    let is_vowel = |j: usize| marks.get(j).is_some_and(Option::is_some);
    let spelled_t = p.symbol == "D" && spelling.contains('t') && !spelling.contains('d');
    let after_vowel =
        i > 0 && (is_vowel(i - 1) || phones[i - 1].symbol == "R" && i > 1 && is_vowel(i - 2));
    let unstressed_next =
        is_vowel(i + 1) && primary != Some(i + 1) && marks[i + 1].is_some_and(|x| x.mark != 1);
    let rtn =
        i > 0 && phones[i - 1].symbol == "R" && phones.get(i + 2).is_some_and(|n| n.symbol == "N");
    if (p.symbol == "T" || spelled_t) && after_vowel && unstressed_next && !rtn {
        return "ɾ".into();
    }
    if p.symbol == "N" && matches!(phones.get(i + 1).map(|n| n.symbol), Some("K" | "G")) {
        return "ŋ".into();
    }
    // A y-glide written i after a consonant, before an unstressed final -ə or -ən, is the vowel i ("million"
    // mˈɪliən, "union", "opinion", "california"; but "william" wˈɪljəm, "population" keep j).
    let reduced_ah_next = phones
        .get(i + 1)
        .is_some_and(|n| n.symbol == "AH" && n.stress == Some(0))
        && (i + 2 == phones.len() || i + 3 == phones.len() && phones[i + 2].symbol == "N");
    if p.symbol == "Y"
        && i > 0
        && !is_vowel(i - 1)
        && reduced_ah_next
        && ["ia", "io", "iu"].iter().any(|s| spelling.contains(s))
    {
        return "i".into();
    }
    consonant(p.symbol).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arpabet_becomes_espeak_style_ipa() {
        let ipa = |p: &str| to_ipa(&parse(p), true, "");
        assert_eq!(to_ipa(&parse("W AO1 N T IH0 D"), true, "wanted"), "wˈɔntᵻd");
        assert_eq!(ipa("HH AH0 L OW1"), "həlˈoʊ");
        assert_eq!(ipa("W ER1 L D"), "wˈɜːld");
        assert_eq!(ipa("W AO1 T ER0"), "wˈɔːɾɚ");
        assert_eq!(ipa("S IH1 T IY0"), "sˈɪɾi");
        assert_eq!(ipa("K W IH1 K"), "kwˈɪk");
        assert_eq!(to_ipa(&parse("HH AW1 Z IH0 Z"), true, "houses"), "hˈaʊzᵻz");
        assert_eq!(to_ipa(&parse("DH AH0"), true, "the"), "ðə");
        assert_eq!(
            to_ipa(&parse("F AE1 M AH0 L IY0"), true, "family"),
            "fˈæmɪli"
        );
        assert_eq!(to_ipa(&parse("AO1 L W EY2 Z"), true, "always"), "ˈɔːlweɪz");
        assert_eq!(to_ipa(&parse("AY0 D IY1 AH0"), true, "idea"), "aɪdˈiə");
        assert_eq!(to_ipa(&parse("L AO1 NG"), true, "long"), "lˈɔŋ");
        assert_eq!(to_ipa(&parse("M AO1 R"), true, "more"), "mˈoːɹ");
        assert_eq!(to_ipa(&parse("B IH0 F AO1 R"), true, "before"), "bᵻfˈoːɹ");
        assert_eq!(to_ipa(&parse("AH0 G OW1"), true, "ago"), "ɐɡˈoʊ");
    }

    /// The rules added in session 13, each on a word espeak-ng says that way (and one it does not change).
    #[test]
    fn compounds_weekdays_glides_and_prefixes() {
        let w = |p: &str, word: &str| to_ipa(&parse(p), true, word);
        assert_eq!(w("M AH1 N D IY0", "monday"), "mˈʌndeɪ");
        assert_eq!(w("EH1 V R IY0 TH IH2 NG", "everything"), "ˈɛvɹɪθˌɪŋ");
        assert_eq!(w("EH1 V R IY0", "every"), "ˈɛvɹi");
        assert_eq!(w("M IH1 L Y AH0 N", "million"), "mˈɪliən");
        assert_eq!(w("W IH1 L Y AH0 M", "william"), "wˈɪljəm");
        assert_eq!(w("AH0 N T IH1 L", "until"), "ʌntˈɪl");
        assert_eq!(w("D ER0 EH1 K T", "direct"), "dᵻɹˈɛkt");
        assert_eq!(w("D UH1 R IH0 NG", "during"), "dˈʊɹɹɪŋ");
    }
}
