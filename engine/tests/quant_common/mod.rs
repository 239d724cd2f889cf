//! Helpers shared by the io/quant tests: fixture decoding and a seeded generator.
#![allow(dead_code)] // each test crate uses a different subset

/// Bytes from a hex string written by `scripts/fixtures/quant_fixtures.py`.
pub fn unhex(s: &str) -> Vec<u8> {
    let nib = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("bad hex digit {c}"),
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| nib(p[0]) << 4 | nib(p[1]))
        .collect()
}

/// f32 values from the hex of their little-endian bytes.
pub fn unhex_f32(s: &str) -> Vec<f32> {
    unhex(s)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// A fixture JSON value by path, failing the test with the path when absent.
pub fn field<'a>(v: &'a serde_json::Value, path: &[&str]) -> &'a serde_json::Value {
    path.iter().fold(v, |v, k| {
        v.get(k).unwrap_or_else(|| panic!("fixture lacks {path:?}"))
    })
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift), so tests need no rand crate.
pub fn seeded(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}
