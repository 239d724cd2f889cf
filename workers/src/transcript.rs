//! Transcript export: plain text, SubRip (`.srt`) and WebVTT (`.vtt`). Pure functions, so the formats are
//! unit-tested natively; the page only wraps the string in a download.

use crate::protocol::TranscriptLine;

/// A transcript file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Txt,
    Srt,
    Vtt,
}

impl ExportFormat {
    /// Every format, in menu order.
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Txt, ExportFormat::Srt, ExportFormat::Vtt];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Txt => "txt",
            ExportFormat::Srt => "srt",
            ExportFormat::Vtt => "vtt",
        }
    }

    /// The MIME type of the file.
    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Txt => "text/plain;charset=utf-8",
            ExportFormat::Srt => "application/x-subrip;charset=utf-8",
            ExportFormat::Vtt => "text/vtt;charset=utf-8",
        }
    }

    /// The transcript in this format.
    pub fn render(self, lines: &[TranscriptLine]) -> String {
        match self {
            ExportFormat::Txt => to_txt(lines),
            ExportFormat::Srt => to_srt(lines),
            ExportFormat::Vtt => to_vtt(lines),
        }
    }
}

/// Whole milliseconds of a time in seconds; negative and non-finite times become 0.
fn millis(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round() as u64
    } else {
        0
    }
}

/// `hh:mm:ss` + `sep` + `mmm`: SubRip uses a comma, WebVTT a full stop.
fn clock(seconds: f64, sep: char) -> String {
    let ms = millis(seconds);
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// A cue's text: trimmed, and never empty or with a blank line (a blank line ends a cue in both formats).
fn cue_text(text: &str) -> String {
    let joined: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if joined.is_empty() {
        "…".to_string()
    } else {
        joined.join("\n")
    }
}

/// A duration for people: `h:mm:ss`, or `m:ss` under an hour (notices and progress, not subtitle cues).
pub fn short_clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Each line as `[m:ss.s – m:ss.s] text`, one per line.
pub fn to_txt(lines: &[TranscriptLine]) -> String {
    let short = |s: f64| {
        let ms = millis(s);
        format!("{}:{:02}.{}", ms / 60_000, ms / 1000 % 60, ms % 1000 / 100)
    };
    lines
        .iter()
        .map(|l| {
            format!(
                "[{} – {}] {}\n",
                short(l.start_s),
                short(l.end_s),
                l.text.trim()
            )
        })
        .collect()
}

/// SubRip: numbered cues, `00:00:01,500 --> 00:00:03,000`, a blank line between cues.
pub fn to_srt(lines: &[TranscriptLine]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            format!(
                "{}\n{} --> {}\n{}\n\n",
                i + 1,
                clock(l.start_s, ','),
                clock(l.end_s.max(l.start_s), ','),
                cue_text(&l.text)
            )
        })
        .collect()
}

/// WebVTT: the `WEBVTT` header, then cues `00:00:01.500 --> 00:00:03.000`. `-->` may not appear in a cue's text.
pub fn to_vtt(lines: &[TranscriptLine]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for l in lines {
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            clock(l.start_s, '.'),
            clock(l.end_s.max(l.start_s), '.'),
            cue_text(&l.text).replace("-->", "->")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(start_s: f64, end_s: f64, text: &str) -> TranscriptLine {
        TranscriptLine {
            start_s,
            end_s,
            text: text.to_string(),
        }
    }

    #[test]
    fn srt_numbers_cues_with_comma_millis() {
        let srt = to_srt(&[
            line(1.5, 3.0, " Hello there. "),
            line(3661.042, 3662.9996, "Bye"),
        ]);
        assert_eq!(
            srt,
            "1\n00:00:01,500 --> 00:00:03,000\nHello there.\n\n2\n01:01:01,042 --> 01:01:03,000\nBye\n\n"
        );
    }

    #[test]
    fn short_clock_drops_hours_below_one() {
        assert_eq!(short_clock(59.6), "1:00");
        assert_eq!(short_clock(3599.4), "59:59");
        assert_eq!(short_clock(3661.0), "1:01:01");
        assert_eq!(short_clock(-3.0), "0:00");
    }

    #[test]
    fn vtt_has_header_and_full_stop_millis() {
        let vtt = to_vtt(&[line(0.0, 2.25, "a --> b")]);
        assert_eq!(vtt, "WEBVTT\n\n00:00:00.000 --> 00:00:02.250\na -> b\n\n");
    }

    #[test]
    fn empty_text_and_blank_lines_do_not_end_a_cue_early() {
        let srt = to_srt(&[line(0.0, 1.0, "  "), line(1.0, 2.0, "one\n\ntwo")]);
        assert!(srt.contains("00:00:00,000 --> 00:00:01,000\n…\n\n"));
        assert!(srt.contains("one\ntwo\n\n"));
    }

    #[test]
    fn bad_times_are_clamped() {
        let srt = to_srt(&[line(-1.0, f64::NAN, "x"), line(5.0, 4.0, "y")]);
        assert!(srt.contains("00:00:00,000 --> 00:00:00,000\nx"));
        assert!(srt.contains("00:00:05,000 --> 00:00:05,000\ny"));
    }

    #[test]
    fn txt_is_one_timed_line_each() {
        let txt = to_txt(&[line(0.0, 1.25, "first"), line(62.5, 65.0, "second ")]);
        assert_eq!(txt, "[0:00.0 – 0:01.2] first\n[1:02.5 – 1:05.0] second\n");
    }

    #[test]
    fn empty_transcript() {
        assert_eq!(to_srt(&[]), "");
        assert_eq!(to_vtt(&[]), "WEBVTT\n\n");
        assert_eq!(ExportFormat::Vtt.extension(), "vtt");
    }
}
