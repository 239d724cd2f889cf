//! Numbers, currency, times and symbols → words, before words become phonemes: `21` → "twenty one",
//! `3rd` → "third", `1999` → "nineteen ninety nine", `$3.50` → "three dollars fifty cents", `7:30` → "seven
//! thirty", `50%` → "fifty percent".

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// A whole number in words ("one thousand two hundred thirty four").
pub fn cardinal(n: u64) -> String {
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    if n < 100 {
        let (t, o) = (n / 10, n % 10);
        return if o == 0 {
            TENS[t as usize].to_string()
        } else {
            format!("{} {}", TENS[t as usize], ONES[o as usize])
        };
    }
    if n < 1000 {
        let rest = n % 100;
        let head = format!("{} hundred", ONES[(n / 100) as usize]);
        return if rest == 0 {
            head
        } else {
            format!("{head} {}", cardinal(rest))
        };
    }
    for (scale, name) in SCALES {
        if n >= scale {
            let rest = n % scale;
            let head = format!("{} {name}", cardinal(n / scale));
            return if rest == 0 {
                head
            } else {
                format!("{head} {}", cardinal(rest))
            };
        }
    }
    n.to_string()
}

/// "one" → "first", "twenty three" → "twenty third".
pub fn ordinal(n: u64) -> String {
    let words = cardinal(n);
    let (head, last) = match words.rsplit_once(' ') {
        Some((h, l)) => (format!("{h} "), l.to_string()),
        None => (String::new(), words.clone()),
    };
    let last = match last.as_str() {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        l if l.ends_with('y') => format!("{}ieth", &l[..l.len() - 1]),
        l => format!("{l}th"),
    };
    format!("{head}{last}")
}

/// A four-digit year as people say it: 1999 → "nineteen ninety nine", 2005 → "two thousand five",
/// 1900 → "nineteen hundred".
fn year(n: u64) -> String {
    let (hi, lo) = (n / 100, n % 100);
    if (2000..2010).contains(&n) || n.is_multiple_of(1000) {
        cardinal(n)
    } else if lo == 0 {
        format!("{} hundred", cardinal(hi))
    } else if lo < 10 {
        format!("{} oh {}", cardinal(hi), cardinal(lo))
    } else {
        format!("{} {}", cardinal(hi), cardinal(lo))
    }
}

fn digits_words(digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// One token that holds digits → words; `None` when it has none.
pub fn expand(token: &str) -> Option<String> {
    if !token.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let (currency, body) = match token.chars().next() {
        Some('$') => (Some(("dollar", "dollars", "cent", "cents")), &token[1..]),
        Some('£') => (
            Some(("pound", "pounds", "penny", "pence")),
            &token['£'.len_utf8()..],
        ),
        Some('€') => (
            Some(("euro", "euros", "cent", "cents")),
            &token['€'.len_utf8()..],
        ),
        _ => (None, token),
    };
    let (body, percent) = match body.strip_suffix('%') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let clean: String = body.chars().filter(|&c| c != ',').collect();
    let mut words = if let Some((h, m)) = clean.split_once(':').filter(|(h, m)| {
        h.len() <= 2 && m.len() == 2 && h.chars().chain(m.chars()).all(|c| c.is_ascii_digit())
    }) {
        // A time: 7:30 → "seven thirty", 7:05 → "seven oh five", 7:00 → "seven o'clock".
        let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
        match m {
            0 => format!("{} o'clock", cardinal(h)),
            1..=9 => format!("{} oh {}", cardinal(h), cardinal(m)),
            _ => format!("{} {}", cardinal(h), cardinal(m)),
        }
    } else if let Some(n) = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| clean.strip_suffix(s))
        .and_then(|d| d.parse::<u64>().ok())
    {
        ordinal(n)
    } else if let Some((whole, frac)) = clean.split_once('.') {
        let w: u64 = whole.parse().unwrap_or(0);
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Some(cardinal(w));
        }
        match currency {
            Some((one, many, cent, cents)) if frac.len() == 2 => {
                let c: u64 = frac.parse().ok()?;
                let mut s = format!("{} {}", cardinal(w), if w == 1 { one } else { many });
                if c > 0 {
                    s += &format!(" {} {}", cardinal(c), if c == 1 { cent } else { cents });
                }
                return Some(s);
            }
            _ => format!("{} point {}", cardinal(w), digits_words(frac)),
        }
    } else if let Ok(n) = clean.parse::<u64>() {
        let four_digits = clean.len() == 4 && !body.contains(',') && currency.is_none() && !percent;
        if four_digits && (1100..2100).contains(&n) {
            year(n)
        } else if clean.len() > 15 {
            digits_words(&clean)
        } else {
            cardinal(n)
        }
    } else {
        // Mixed digits and letters ("B2B", "4x4"): digits one by one, letters kept.
        let mut out = String::new();
        for c in clean.chars() {
            match c.to_digit(10) {
                Some(d) => {
                    out.push(' ');
                    out.push_str(ONES[d as usize]);
                    out.push(' ');
                }
                None => out.push(c),
            }
        }
        return Some(out.split_whitespace().collect::<Vec<_>>().join(" "));
    };
    if let Some((one, many, _, _)) = currency {
        words = format!("{words} {}", if words == "one" { one } else { many });
    }
    if percent {
        words += " percent";
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_words() {
        assert_eq!(expand("21").as_deref(), Some("twenty one"));
        assert_eq!(
            expand("1,234").as_deref(),
            Some("one thousand two hundred thirty four")
        );
        assert_eq!(expand("1999").as_deref(), Some("nineteen ninety nine"));
        assert_eq!(expand("2005").as_deref(), Some("two thousand five"));
        assert_eq!(expand("3rd").as_deref(), Some("third"));
        assert_eq!(expand("22nd").as_deref(), Some("twenty second"));
        assert_eq!(expand("40th").as_deref(), Some("fortieth"));
        assert_eq!(
            expand("$3.50").as_deref(),
            Some("three dollars fifty cents")
        );
        assert_eq!(expand("$1").as_deref(), Some("one dollar"));
        assert_eq!(expand("7:30").as_deref(), Some("seven thirty"));
        assert_eq!(expand("3.14").as_deref(), Some("three point one four"));
        assert_eq!(expand("50%").as_deref(), Some("fifty percent"));
        assert_eq!(expand("word"), None);
    }
}
