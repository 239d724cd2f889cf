//! Malformed weight files must give `Err`, never a panic or a huge allocation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::io::{DTypePolicy, Gguf, SafeTensors};
use offgrid_engine::Device;

const ST: &[u8] = include_bytes!("fixtures/quant_tiny.safetensors");
const GGUF: &[u8] = include_bytes!("fixtures/quant_tiny.gguf");

/// A safetensors file with the given JSON header and `data` bytes.
fn st_file(header: &str, data: usize) -> Vec<u8> {
    let mut f = (header.len() as u64).to_le_bytes().to_vec();
    f.extend_from_slice(header.as_bytes());
    f.resize(f.len() + data, 0);
    f
}

fn st_err(header: &str, data: usize) -> String {
    match SafeTensors::from_bytes(st_file(header, data)) {
        Ok(_) => panic!("accepted {header}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn safetensors_every_truncation_is_an_error() {
    for len in 0..ST.len() {
        assert!(
            SafeTensors::from_bytes(ST[..len].to_vec()).is_err(),
            "accepted {len} of {} bytes",
            ST.len()
        );
    }
    assert!(SafeTensors::from_bytes(ST.to_vec()).is_ok());
}

#[test]
fn safetensors_byte_corruptions_never_panic() {
    let header_end = 8 + u64::from_le_bytes(ST[..8].try_into().unwrap()) as usize;
    for i in 0..header_end {
        for v in [0x00, 0xFF, ST[i].wrapping_add(1), b'9', b'"'] {
            let mut f = ST.to_vec();
            f[i] = v;
            if let Ok(st) = SafeTensors::from_bytes(f) {
                for name in st.names().map(str::to_string).collect::<Vec<_>>() {
                    let _ = st.load(&name, DTypePolicy::F16, &Device::Cpu);
                }
            }
        }
    }
}

#[test]
fn safetensors_structural_errors() {
    let ok = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}"#;
    assert!(SafeTensors::from_bytes(st_file(ok, 12)).is_ok());
    // Overlap, gap, offsets that disagree with the shape, out of bounds, reversed offsets.
    let e = st_err(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        12,
    );
    assert!(e.contains("overlap"), "{e}");
    let e = st_err(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        12,
    );
    assert!(e.contains("gap"), "{e}");
    st_err(
        r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
        8,
    );
    st_err(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        4,
    );
    st_err(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
        8,
    );
    // Trailing bytes no tensor describes.
    st_err(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        9,
    );
    // Absurd shape whose byte size overflows, and one that is merely huge.
    let e = st_err(
        r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#,
        8,
    );
    assert!(e.contains("absurd"), "{e}");
    st_err(
        r#"{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}}"#,
        8,
    );
    st_err(
        r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}"#,
        8,
    );
    // Zero elements, but strides that would overflow.
    st_err(
        r#"{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#,
        0,
    );
    // Unknown dtype, bad JSON, bad metadata.
    let e = st_err(
        r#"{"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#,
        8,
    );
    assert!(e.contains("Q9"), "{e}");
    st_err(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]"#, 8);
    st_err(r#"{"__metadata__":{"k":1}}"#, 0);
    // A header length larger than the file, or u64::MAX.
    let mut f = st_file(ok, 12);
    let len = f.len() as u64;
    f[..8].copy_from_slice(&len.to_le_bytes());
    assert!(SafeTensors::from_bytes(f.clone()).is_err());
    f[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(SafeTensors::from_bytes(f).is_err());
}

#[test]
fn safetensors_unsupported_dtype_is_a_load_error_naming_it() {
    let st = SafeTensors::from_bytes(st_file(
        r#"{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
        16,
    ))
    .unwrap();
    let e = st
        .load("ids", DTypePolicy::AsStored, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(e.contains("I64") && e.contains("ids"), "{e}");
}

/// Minimal GGUF writer for hand-made broken files.
struct G(Vec<u8>);

impl G {
    fn new(version: u32, tensors: u64, kvs: u64) -> Self {
        let mut v = b"GGUF".to_vec();
        v.extend(version.to_le_bytes());
        v.extend(tensors.to_le_bytes());
        v.extend(kvs.to_le_bytes());
        G(v)
    }
    fn u32(mut self, x: u32) -> Self {
        self.0.extend(x.to_le_bytes());
        self
    }
    fn u64(mut self, x: u64) -> Self {
        self.0.extend(x.to_le_bytes());
        self
    }
    fn str(self, s: &str) -> Self {
        let mut g = self.u64(s.len() as u64);
        g.0.extend(s.as_bytes());
        g
    }
    /// Tensor info: name, dims (innermost first), ggml type, offset.
    fn tensor(self, name: &str, dims: &[u64], ty: u32, offset: u64) -> Self {
        let mut g = self.str(name).u32(dims.len() as u32);
        for &d in dims {
            g = g.u64(d);
        }
        g.u32(ty).u64(offset)
    }
    /// Pads to 32 and appends `data` zero bytes.
    fn data(mut self, data: usize) -> Vec<u8> {
        self.0.resize(self.0.len().next_multiple_of(32) + data, 0);
        self.0
    }
}

fn gguf_err(bytes: Vec<u8>) -> String {
    match Gguf::from_bytes(bytes) {
        Ok(_) => panic!("accepted a malformed GGUF"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn gguf_every_truncation_before_the_last_tensor_end_is_an_error() {
    let g = Gguf::from_bytes(GGUF.to_vec()).unwrap();
    let end = g.tensors().iter().map(|t| t.range.end).max().unwrap();
    for len in 0..GGUF.len() {
        let r = Gguf::from_bytes(GGUF[..len].to_vec());
        // Past the last tensor only alignment padding is cut, which loses nothing.
        assert_eq!(
            r.is_ok(),
            len >= end,
            "{len} of {} bytes (last tensor ends at {end})",
            GGUF.len()
        );
    }
}

#[test]
fn gguf_byte_corruptions_never_panic() {
    let g = Gguf::from_bytes(GGUF.to_vec()).unwrap();
    for i in 0..g.data_offset() {
        for v in [0x00, 0xFF, 0x7F, GGUF[i].wrapping_add(1), GGUF[i] ^ 0x80] {
            let mut f = GGUF.to_vec();
            f[i] = v;
            if let Ok(g) = Gguf::from_bytes(f) {
                for t in g.tensors() {
                    let _ = g.load(&t.name, DTypePolicy::F16, &Device::Cpu);
                }
            }
        }
    }
}

#[test]
fn gguf_structural_errors() {
    let ok = G::new(3, 1, 0).tensor("w", &[32, 2], 8, 0).data(68);
    assert_eq!(
        Gguf::from_bytes(ok).unwrap().info("w").unwrap().shape,
        [2, 32]
    );
    assert!(Gguf::from_bytes(G::new(2, 1, 0).tensor("w", &[32, 2], 8, 0).data(68)).is_ok());
    assert!(gguf_err(b"GGUX\x03\0\0\0".to_vec()).contains("magic"));
    assert!(gguf_err(G::new(1, 0, 0).data(0)).contains("version 1"));
    assert!(gguf_err(G::new(3u32.swap_bytes(), 0, 0).data(0)).contains("big-endian"));
    // Too many dims, absurd dims, a product that overflows, unknown type, block-misaligned row.
    gguf_err(G::new(3, 1, 0).tensor("w", &[1, 1, 1, 1, 1], 0, 0).data(4));
    gguf_err(G::new(3, 1, 0).tensor("w", &[u64::MAX, 1], 0, 0).data(4));
    gguf_err(
        G::new(3, 1, 0)
            .tensor("w", &[1 << 40, 1 << 40], 0, 0)
            .data(4),
    );
    gguf_err(
        G::new(3, 1, 0)
            .tensor("w", &[1 << 40, 1 << 40, 0], 0, 0)
            .data(4),
    );
    assert!(gguf_err(G::new(3, 1, 0).tensor("w", &[4], 99, 0).data(16)).contains("99"));
    gguf_err(G::new(3, 1, 0).tensor("w", &[16, 2], 8, 0).data(68));
    // A file that ends before its data section, even with a tensor of no values (found by cargo-fuzz).
    let e = gguf_err(G::new(3, 1, 0).tensor("w", &[0], 0, 0).0);
    assert!(e.contains("before its tensor data"), "{e}");
    // Offset not aligned, past the end, overlapping, duplicate name.
    gguf_err(G::new(3, 1, 0).tensor("w", &[4], 0, 4).data(64));
    gguf_err(G::new(3, 1, 0).tensor("w", &[32, 2], 8, 0).data(67));
    let e = gguf_err(
        G::new(3, 2, 0)
            .tensor("a", &[16], 0, 0)
            .tensor("b", &[16], 0, 32)
            .data(96),
    );
    assert!(e.contains("overlap"), "{e}");
    gguf_err(
        G::new(3, 2, 0)
            .tensor("a", &[8], 0, 0)
            .tensor("a", &[8], 0, 32)
            .data(64),
    );
    // Huge tensor and key counts, a huge string length, a huge array, deep nesting, bad alignment.
    gguf_err(G::new(3, u64::MAX, 0).data(0));
    gguf_err(G::new(3, 0, u64::MAX).data(0));
    gguf_err(G::new(3, 0, 1).u64(u64::MAX).data(0));
    gguf_err(G::new(3, 0, 1).str("k").u32(9).u32(0).u64(1 << 60).data(0));
    gguf_err(G::new(3, 0, 1).str("k").u32(9).u32(8).u64(1 << 40).data(0));
    let mut deep = G::new(3, 0, 1).str("k").u32(9);
    for _ in 0..100 {
        deep = deep.u32(9).u64(1);
    }
    assert!(gguf_err(deep.data(0)).contains("nested"));
    gguf_err(
        G::new(3, 0, 1)
            .str("general.alignment")
            .u32(4)
            .u32(3)
            .data(0),
    );
    gguf_err(
        G::new(3, 0, 1)
            .str("general.alignment")
            .u32(4)
            .u32(0)
            .data(0),
    );
    gguf_err(G::new(3, 0, 1).str("k").u32(13).data(0));
    // A bool that is neither 0 nor 1.
    let mut bad_bool = G::new(3, 0, 1).str("k").u32(7).0;
    bad_bool.push(2);
    assert!(gguf_err(bad_bool).contains("bool"));
    // Two keys announced, one present, no padding after it.
    gguf_err(G::new(3, 0, 2).str("k").u32(0).0);
}

#[test]
fn gguf_unsupported_type_is_a_load_error_naming_it() {
    // Q5_K (13): a known layout the engine does not compute with.
    let g = Gguf::from_bytes(G::new(3, 1, 0).tensor("w", &[256], 13, 0).data(176)).unwrap();
    let e = g
        .load("w", DTypePolicy::AsStored, &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Q5_K"), "{e}");
}
