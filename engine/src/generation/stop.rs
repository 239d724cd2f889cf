//! Stop strings in streamed text: text that might be the start of a stop string is held back until the
//! next token says whether it is, so a stop string never reaches the reader, not even in part.

/// Watches streamed text for any of several stop strings.
#[derive(Debug, Clone, Default)]
pub struct StopStrings {
    stops: Vec<String>,
    pending: String,
}

impl StopStrings {
    /// Watches for `stops` (empty strings are ignored).
    pub fn new(stops: impl IntoIterator<Item = String>) -> Self {
        StopStrings {
            stops: stops.into_iter().filter(|s| !s.is_empty()).collect(),
            pending: String::new(),
        }
    }

    /// Adds streamed text; returns the text safe to show and whether a stop string was reached (the text
    /// before it is returned, the stop string and anything after it are dropped).
    pub fn push(&mut self, text: &str) -> (String, bool) {
        self.pending.push_str(text);
        let first_stop = self
            .stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()))
            .min();
        if let Some(at) = first_stop {
            let out = self.pending[..at].to_string();
            self.pending.clear();
            return (out, true);
        }
        // Hold back the longest tail that could still grow into a stop string.
        let hold = self
            .pending
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let tail = &self.pending[i..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .unwrap_or(self.pending.len());
        let out = self.pending[..hold].to_string();
        self.pending.drain(..hold);
        (out, false)
    }

    /// The text held back, at the end of generation.
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_string_split_over_tokens_is_never_shown() {
        let mut s = StopStrings::new(["\nUser:".to_string()]);
        let mut shown = String::new();
        let mut stopped = false;
        for piece in ["Hello", " there.", "\n", "Us", "er: more"] {
            let (out, stop) = s.push(piece);
            shown.push_str(&out);
            stopped |= stop;
            if stop {
                break;
            }
        }
        assert!(stopped);
        assert_eq!(shown, "Hello there.");
    }

    #[test]
    fn a_false_start_is_released() {
        let mut s = StopStrings::new(["STOP".to_string()]);
        assert_eq!(s.push("a ST"), ("a ".to_string(), false));
        assert_eq!(s.push("ART é"), ("START é".to_string(), false));
        assert_eq!(s.push("ST"), (String::new(), false));
        assert_eq!(s.flush(), "ST");
    }
}
