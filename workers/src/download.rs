//! The pure parts of a resumable, verified download (no browser APIs), so they are unit-tested natively.

use sha2::{Digest, Sha256};

/// Cache Storage key of a model file. It names the file, not the source, so switching mirrors does not
/// download again. Cache keys must be http(s) URLs; `.invalid` is reserved and never resolves.
pub fn cache_key(repo: &str, revision: &str, path: &str) -> String {
    format!("https://models.offgrid.invalid/{repo}/{revision}/{path}")
}

/// Cache key under which the bytes of an interrupted download wait to be resumed.
pub fn partial_key(repo: &str, revision: &str, path: &str) -> String {
    format!("{}.partial", cache_key(repo, revision, path))
}

/// Parses `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`).
pub fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = end.trim().parse().ok()?;
    let total = if total.trim() == "*" {
        None
    } else {
        Some(total.trim().parse().ok()?)
    };
    (start <= end).then_some((start, end, total))
}

/// Delay before retry `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s… capped at 8 s.
pub fn backoff_millis(attempt: u32) -> u32 {
    500u32.saturating_mul(1 << attempt.min(4)).min(8_000)
}

/// How many times a failing request is retried before the error is shown.
pub const MAX_ATTEMPTS: u32 = 5;

/// The bytes received so far for one file and their running hash.
#[derive(Clone, Default)]
pub struct PartialFile {
    bytes: Vec<u8>,
    hasher: Sha256,
}

impl PartialFile {
    /// Starts from bytes already received (e.g. a partial download found in the cache).
    pub fn resume_from(bytes: Vec<u8>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(&bytes);
        PartialFile { bytes, hasher }
    }
    /// Bytes received so far.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    /// Whether nothing was received yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// Appends a chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes.extend_from_slice(chunk);
    }
    /// The `Range` header that asks for the rest, if anything was received.
    pub fn range_header(&self) -> Option<String> {
        (!self.bytes.is_empty()).then(|| format!("bytes={}-", self.bytes.len()))
    }
    /// Drops what was received (the server ignored our Range and sent the whole file again).
    pub fn restart(&mut self) {
        *self = PartialFile::default();
    }
    /// The bytes received so far (to store them for a later resume).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Finishes: the bytes and the lowercase hex SHA-256.
    pub fn finish(self) -> (Vec<u8>, String) {
        let digest = self.hasher.finalize();
        (self.bytes, hex::encode(digest))
    }
}

/// How a response to a (possibly ranged) request continues a partial file.
#[derive(Debug, PartialEq, Eq)]
pub enum Continuation {
    /// 206 starting where we stopped: append.
    Append,
    /// 200: the server sent the whole file; start over.
    Restart,
}

/// Decides how to use a response given what we have; `Err` explains a response we cannot use.
pub fn continuation(
    status: u16,
    content_range: Option<&str>,
    have: u64,
) -> Result<Continuation, String> {
    match status {
        200 => Ok(Continuation::Restart),
        206 => {
            let (start, _, _) = content_range
                .and_then(parse_content_range)
                .ok_or("the server answered a ranged request without a valid Content-Range")?;
            if start == have {
                Ok(Continuation::Append)
            } else {
                Err(format!("the server resumed at byte {start}, not {have}"))
            }
        }
        416 => Err("the server rejected the resume range".into()),
        other => Err(format!("unexpected HTTP status {other}")),
    }
}

/// Formats a byte count for people: "41.2 MB".
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 100-199/1000"),
            Some((100, 199, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 0-0/*"), Some((0, 0, None)));
        assert_eq!(parse_content_range("bytes 9-3/10"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }

    #[test]
    fn resumed_hash_equals_whole_hash() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut whole = PartialFile::default();
        whole.push(&data);
        let mut resumed = PartialFile::resume_from(data[..4321].to_vec());
        assert_eq!(resumed.range_header().as_deref(), Some("bytes=4321-"));
        resumed.push(&data[4321..]);
        assert_eq!(whole.finish(), resumed.finish());
    }

    #[test]
    fn continuation_rules() {
        assert_eq!(
            continuation(206, Some("bytes 10-19/20"), 10),
            Ok(Continuation::Append)
        );
        assert!(continuation(206, Some("bytes 0-19/20"), 10).is_err());
        assert!(continuation(206, None, 10).is_err());
        assert_eq!(continuation(200, None, 10), Ok(Continuation::Restart));
        assert!(continuation(500, None, 0).is_err());
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_millis(0), 500);
        assert_eq!(backoff_millis(1), 1000);
        assert_eq!(backoff_millis(10), 8000);
        assert_eq!(format_bytes(41_200_000), "41.2 MB");
        assert_eq!(format_bytes(12), "12 B");
    }
}
