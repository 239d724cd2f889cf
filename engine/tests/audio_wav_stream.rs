//! The incremental WAV decoder: every sample format, headers split at every byte, chunks skipped by
//! position, files cut short, RF64, streamed WAV (unknown length), compressed codecs and damaged headers.
//! Files are built byte by byte here, so each test states exactly what the decoder is given.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::audio::{read_wav, SampleFormat, WavEnd, WavReader, WavStream};
use std::io::Cursor;

/// A `fmt ` chunk body: tag, channels, rate, block align, bits (and the extensible tail when `sub` is set).
fn fmt_body(
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    width: u16,
    sub: Option<u16>,
) -> Vec<u8> {
    let block = channels * width;
    let mut b = Vec::new();
    b.extend(tag.to_le_bytes());
    b.extend(channels.to_le_bytes());
    b.extend(rate.to_le_bytes());
    b.extend((rate * u32::from(block)).to_le_bytes());
    b.extend(block.to_le_bytes());
    b.extend(bits.to_le_bytes());
    if let Some(sub) = sub {
        b.extend(22u16.to_le_bytes());
        b.extend(bits.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(sub.to_le_bytes());
        b.extend([
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    b
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((body.len() as u32).to_le_bytes());
    c.extend(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut f = b"RIFF".to_vec();
    f.extend((body.len() as u32 + 4).to_le_bytes());
    f.extend(b"WAVE");
    f.extend(body);
    f
}

/// A plain WAV: `fmt ` then `data`.
fn wav(fmt: Vec<u8>, data: &[u8]) -> Vec<u8> {
    riff(&[chunk(b"fmt ", &fmt), chunk(b"data", data)])
}

/// Decodes `file` in pieces of `piece` bytes, each starting where the decoder asks.
fn decode_in_pieces(file: &[u8], piece: usize) -> (Vec<f32>, WavEnd, usize) {
    let mut s = WavStream::new();
    let mut out = Vec::new();
    let mut pushed = 0;
    while !s.is_done() {
        let at = s.position() as usize;
        if at >= file.len() {
            break;
        }
        let end = (at + piece).min(file.len());
        s.push(&file[at..end], &mut out).unwrap();
        pushed += end - at;
    }
    (out, s.finish().unwrap(), pushed)
}

fn decode_whole(file: &[u8]) -> (Vec<f32>, WavEnd) {
    let (out, end, _) = decode_in_pieces(file, file.len().max(1));
    (out, end)
}

fn error_of(file: &[u8]) -> String {
    let mut s = WavStream::new();
    let mut out = Vec::new();
    match s.push(file, &mut out) {
        Err(e) => e.to_string(),
        Ok(()) => s
            .finish()
            .map(|e| format!("no error: {e:?}"))
            .unwrap_or_else(|e| e.to_string()),
    }
}

type FormatCase = (&'static str, u16, u16, u16, Option<u16>, Vec<u8>);

#[test]
fn every_sample_format_decodes_to_the_unit_range() {
    // (name, format tag, bits, bytes per sample, extensible sub-format, the bytes of 0, +½, −½, −1)
    let cases: Vec<FormatCase> = vec![
        ("u8", 1, 8, 1, None, vec![128, 192, 64, 0]),
        (
            "i16",
            1,
            16,
            2,
            None,
            [0i16, 16_384, -16_384, i16::MIN]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        (
            "i24",
            1,
            24,
            3,
            None,
            [0i32, 1 << 22, -(1 << 22), -(1 << 23)]
                .iter()
                .flat_map(|v| v.to_le_bytes()[..3].to_vec())
                .collect(),
        ),
        (
            "i32",
            1,
            32,
            4,
            None,
            [0i32, 1 << 30, -(1 << 30), i32::MIN]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        (
            "f32",
            3,
            32,
            4,
            None,
            [0f32, 0.5, -0.5, -1.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        (
            "f64",
            3,
            64,
            8,
            None,
            [0f64, 0.5, -0.5, -1.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        (
            "extensible 24-bit in 32-bit slots",
            0xFFFE,
            32,
            4,
            Some(1),
            [0i32, 1 << 30, -(1 << 30), i32::MIN]
                .iter()
                .flat_map(|v| (v & !0xFF).to_le_bytes())
                .collect(),
        ),
        (
            "extensible float",
            0xFFFE,
            32,
            4,
            Some(3),
            [0f32, 0.5, -0.5, -1.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
    ];
    for (name, tag, bits, width, sub, data) in cases {
        let file = wav(fmt_body(tag, 1, 8000, bits, width, sub), &data);
        let (out, end) = decode_whole(&file);
        assert_eq!(out, vec![0.0, 0.5, -0.5, -1.0], "{name}");
        assert_eq!(
            end,
            WavEnd {
                frames: 4,
                expected_frames: Some(4),
                truncated: false
            },
            "{name}"
        );
        // The batch reader goes through the same decoder.
        assert_eq!(read_wav(&file).unwrap().samples, out, "{name}");
    }
}

#[test]
fn channels_are_averaged_and_the_header_is_reported() {
    // Three channels of 16-bit: frames (a, b, c) → (a + b + c) / 3.
    let frames: [[i16; 3]; 2] = [[3000, -3000, 9000], [100, 200, 300]];
    let data: Vec<u8> = frames
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let file = wav(fmt_body(1, 3, 44_100, 16, 2, None), &data);
    let mut s = WavStream::new();
    let mut out = Vec::new();
    s.push(&file, &mut out).unwrap();
    let info = *s.info().unwrap();
    assert_eq!(info.sample_rate, 44_100);
    assert_eq!(info.channels, 3);
    assert_eq!(info.block_align, 6);
    assert_eq!(info.sample_format, SampleFormat::Int { bytes: 2 });
    assert_eq!(info.data_offset, 44);
    assert_eq!(info.frames(), Some(2));
    assert_eq!(info.frame_offset(1), 50);
    for (got, f) in out.iter().zip(&frames) {
        let want = f.iter().map(|&v| f32::from(v) / 32768.0).sum::<f32>() / 3.0;
        assert!((got - want).abs() < 1e-7, "{got} vs {want}");
    }
}

/// A file with metadata before and between the chunks that matter, odd-sized (padded) chunks, and a
/// trailing chunk after the audio.
fn busy_file(samples: &[i16]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    riff(&[
        chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00sox!\x00"),
        chunk(b"JUNK", &[0u8; 27]),
        chunk(b"fmt ", &fmt_body(1, 2, 22_050, 16, 2, None)),
        chunk(b"bext", &[7u8; 101]),
        chunk(b"data", &data),
        chunk(b"LIST", b"trailing metadata"),
    ])
}

#[test]
fn a_header_split_at_every_byte_decodes_the_same() {
    let samples: Vec<i16> = (0..400)
        .map(|i| ((i * 911) % 20_000 - 10_000) as i16)
        .collect();
    let file = busy_file(&samples);
    let (whole, whole_end) = decode_whole(&file);
    assert_eq!(whole.len(), 200);
    assert_eq!(whole_end.frames, 200);
    assert!(!whole_end.truncated);
    // Two pushes, split at every byte (each later push starting where the decoder asks).
    for k in 0..file.len() {
        let mut s = WavStream::new();
        let mut out = Vec::new();
        s.push(&file[..k], &mut out).unwrap();
        while !s.is_done() && (s.position() as usize) < file.len() {
            let at = s.position() as usize;
            s.push(&file[at..], &mut out).unwrap();
        }
        assert_eq!(out, whole, "split at byte {k}");
        assert_eq!(s.finish().unwrap(), whole_end, "split at byte {k}");
    }
    // And pieces of every small size, one byte at a time included.
    for piece in 1..=64 {
        let (out, end, _) = decode_in_pieces(&file, piece);
        assert_eq!(out, whole, "pieces of {piece} bytes");
        assert_eq!(end, whole_end, "pieces of {piece} bytes");
    }
}

#[test]
fn unneeded_chunks_are_skipped_by_position_not_read() {
    // 1 MB of metadata before the audio: a reader asking for 4 KB at a time never reads into it.
    let mut big = vec![b'x'; 1 << 20];
    big[0] = b'!';
    let data: Vec<u8> = (0..1000i16).flat_map(|v| v.to_le_bytes()).collect();
    let file = riff(&[
        chunk(b"fmt ", &fmt_body(1, 1, 16_000, 16, 2, None)),
        chunk(b"JUNK", &big),
        chunk(b"data", &data),
    ]);
    let (out, end, pushed) = decode_in_pieces(&file, 4096);
    assert_eq!(out.len(), 1000);
    assert!(!end.truncated);
    assert!(
        pushed < 12_000,
        "read {pushed} bytes of a {} byte file",
        file.len()
    );
    // A reader that cannot seek reads past it.
    let mut r = WavReader::new(Cursor::new(&file)).unwrap();
    let mut got = Vec::new();
    while r.read_mono(300, &mut got).unwrap() > 0 {}
    assert_eq!(got, out);
}

#[test]
fn a_file_cut_short_gives_what_is_there_and_says_so() {
    let samples: Vec<i16> = (0..1000).map(|i| (i * 13) as i16).collect();
    let data: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    // Stereo 16-bit: 4-byte frames. Cut on a frame boundary, inside a frame, and inside a sample.
    let file = wav(fmt_body(1, 2, 16_000, 16, 2, None), &data);
    let (full, _) = decode_whole(&file);
    for cut_frames in [0usize, 1, 123, 499] {
        for extra in [0usize, 1, 2, 3] {
            let cut = 44 + cut_frames * 4 + extra;
            for piece in [7, 4096] {
                let (out, end, _) = decode_in_pieces(&file[..cut], piece);
                assert_eq!(out, full[..cut_frames], "cut at {cut}");
                assert_eq!(
                    end,
                    WavEnd {
                        frames: cut_frames as u64,
                        expected_frames: Some(500),
                        truncated: true
                    },
                    "cut at {cut}"
                );
            }
        }
    }
    // The batch reader refuses it, in words that say so.
    let err = read_wav(&file[..44 + 401]).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    // The streaming reader gives what is there and reports the cut.
    let mut r = WavReader::new(Cursor::new(&file[..44 + 400])).unwrap();
    let mut got = Vec::new();
    while r.read_mono(64, &mut got).unwrap() > 0 {}
    assert_eq!(got, full[..100]);
    assert!(r.end().unwrap().truncated);
}

#[test]
fn a_streamed_wav_of_unknown_length_is_read_to_the_end() {
    let data: Vec<u8> = (0..300i16).flat_map(|v| v.to_le_bytes()).collect();
    let mut file = wav(fmt_body(1, 1, 16_000, 16, 2, None), &data);
    // What a writer that could not seek back leaves: 0xFFFFFFFF for the sizes.
    file[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    file[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let (out, end) = decode_whole(&file);
    assert_eq!(out.len(), 300);
    assert_eq!(
        end,
        WavEnd {
            frames: 300,
            expected_frames: None,
            truncated: false
        }
    );
    // Ending inside a frame is still a cut.
    let (out, end) = decode_whole(&file[..file.len() - 1]);
    assert_eq!(out.len(), 299);
    assert!(end.truncated);
}

/// An RF64 (or BW64) file: 32-bit sizes set to 0xFFFFFFFF, the real ones in `ds64`.
fn rf64(magic: &[u8; 4], data: &[u8], trailing: &[u8]) -> Vec<u8> {
    let mut ds64 = Vec::new();
    ds64.extend(0u64.to_le_bytes());
    ds64.extend((data.len() as u64).to_le_bytes());
    ds64.extend((data.len() as u64 / 4).to_le_bytes());
    ds64.extend(0u32.to_le_bytes());
    let mut f = magic.to_vec();
    f.extend(u32::MAX.to_le_bytes());
    f.extend(b"WAVE");
    f.extend(chunk(b"ds64", &ds64));
    f.extend(chunk(b"fmt ", &fmt_body(3, 1, 48_000, 32, 4, None)));
    f.extend(b"data");
    f.extend(u32::MAX.to_le_bytes());
    f.extend(data);
    f.extend(trailing);
    f
}

#[test]
fn rf64_and_bw64_take_their_sizes_from_ds64() {
    let samples: Vec<f32> = (0..777).map(|i| (i as f32 / 777.0) - 0.5).collect();
    let data: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    for magic in [b"RF64", b"BW64"] {
        // Bytes after the audio (a chunk the size in ds64 excludes) are not decoded.
        let file = rf64(magic, &data, b"LIST\x04\x00\x00\x00abcd");
        for piece in [1, 5, 4096] {
            let (out, end, _) = decode_in_pieces(&file, piece);
            assert_eq!(out, samples);
            assert_eq!(
                end,
                WavEnd {
                    frames: 777,
                    expected_frames: Some(777),
                    truncated: false
                }
            );
        }
        let mut s = WavStream::new();
        s.push(&file, &mut Vec::new()).unwrap();
        assert_eq!(s.info().unwrap().data_bytes, Some(777 * 4));
        assert!(s.is_done());
        // Cut short, RF64 knows how much is missing too.
        let (out, end) = decode_whole(&file[..file.len() - 12 - 400]);
        assert_eq!(out, samples[..677]);
        assert!(end.truncated);
    }
}

#[test]
fn compressed_codecs_are_refused_by_name() {
    for (tag, sub, name) in [
        (2u16, None, "MS ADPCM"),
        (0x11, None, "IMA ADPCM"),
        (7, None, "µ-law"),
        (0x55, None, "MP3"),
        (0xFFFE, Some(2u16), "MS ADPCM"),
        (0x1234, None, "codec 0x1234"),
    ] {
        let file = wav(fmt_body(tag, 1, 8000, 4, 1, sub), &[0; 16]);
        let err = error_of(&file);
        assert!(
            err.contains(name) && err.contains("PCM WAV"),
            "tag {tag:#x}: {err}"
        );
    }
}

#[test]
fn damaged_headers_are_clear_errors() {
    let good = wav(fmt_body(1, 1, 16_000, 16, 2, None), &[0; 8]);
    let with = |at: usize, bytes: &[u8]| {
        let mut f = good.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        f
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty"),
        (b"RIFF\x00\x00".to_vec(), "too short"),
        (
            b"hello, this is not audio at all".to_vec(),
            "not a WAV file",
        ),
        (with(8, b"AVI "), "not a WAV file"),
        (with(0, b"RIFX"), "big-endian"),
        (good[..30].to_vec(), "ends inside its header"),
        (good[..36].to_vec(), "no audio data"),
        (with(16, &u32::MAX.to_le_bytes()), "damaged"),
        (with(16, &8u32.to_le_bytes()), "damaged"),
        (with(22, &0u16.to_le_bytes()), "no channels"),
        (with(24, &0u32.to_le_bytes()), "0 Hz"),
        (with(34, &24u16.to_le_bytes()), "damaged"),
        (with(34, &0u16.to_le_bytes()), "0 bits"),
        (with(20, &3u16.to_le_bytes()), "16-bit float"),
        (
            riff(&[
                chunk(b"data", &[0; 8]),
                chunk(b"fmt ", &fmt_body(1, 1, 8000, 16, 2, None)),
            ]),
            "before the format chunk",
        ),
        (
            riff(&[chunk(b"fmt ", &fmt_body(0xFFFE, 1, 8000, 16, 2, None))]),
            "extensible format chunk is too short",
        ),
    ];
    for (file, want) in cases {
        let err = error_of(&file);
        assert!(err.contains(want), "{want:?} expected, got {err:?}");
        // And once broken, a stream stays broken rather than decoding garbage.
        let mut s = WavStream::new();
        if s.push(&file, &mut Vec::new()).is_err() {
            assert!(s.push(&[0; 64], &mut Vec::new()).is_err());
        }
    }
    // A `data` chunk of zero bytes is an empty recording, not an error.
    let (out, end) = decode_whole(&wav(fmt_body(1, 1, 8000, 16, 2, None), &[]));
    assert!(out.is_empty());
    assert_eq!(end.frames, 0);
    assert!(!end.truncated);
}
