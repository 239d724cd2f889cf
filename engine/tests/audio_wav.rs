//! WAV decoding of every supported sample format, channel mixing, round trips, and bad files.
//! Test files are written here with `hound`; expected values follow from the format definitions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::audio::{read_wav, read_wav_16k, write_wav_16bit, WavReader};
use std::io::Cursor;

fn wav_int(bits: u16, channels: u16, rate: u32, frames: &[Vec<i32>]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    for f in frames {
        for &s in f {
            if bits == 8 {
                w.write_sample(s as i8).unwrap();
            } else {
                w.write_sample(s).unwrap();
            }
        }
    }
    w.finalize().unwrap();
    cur.into_inner()
}

fn wav_f32(channels: u16, rate: u32, samples: &[f32]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut cur = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    cur.into_inner()
}

#[test]
fn integer_depths_scale_to_unit_range() {
    for (bits, full) in [(8u16, 128i64), (16, 32768), (24, 1 << 23), (32, 1 << 31)] {
        let half = (full / 2) as i32;
        let min = (-full) as i32;
        let frames = vec![vec![0], vec![half], vec![-half], vec![min]];
        let audio = read_wav(&wav_int(bits, 1, 8000, &frames)).unwrap();
        assert_eq!(audio.sample_rate, 8000);
        assert_eq!(audio.samples, vec![0.0, 0.5, -0.5, -1.0], "{bits}-bit");
    }
}

#[test]
fn float_and_channel_mixing() {
    // Stereo float: frames (0.5, -0.5), (1.0, 0.0), (0.25, 0.75) → mono means.
    let audio = read_wav(&wav_f32(2, 44_100, &[0.5, -0.5, 1.0, 0.0, 0.25, 0.75])).unwrap();
    assert_eq!(audio.sample_rate, 44_100);
    assert_eq!(audio.samples, vec![0.0, 0.5, 0.5]);
    // Six channels of 16-bit: the mean of 0, 1, …, 5 × 1024 over 32768.
    let frame: Vec<i32> = (0..6).map(|c| c * 1024).collect();
    let audio = read_wav(&wav_int(16, 6, 96_000, &[frame.clone(), frame])).unwrap();
    let want = (0..6).map(|c| c as f32 * 1024.0).sum::<f32>() / 6.0 / 32768.0;
    assert_eq!(audio.samples.len(), 2);
    for v in audio.samples {
        assert!((v - want).abs() < 1e-6, "{v} vs {want}");
    }
}

#[test]
fn streaming_reader_gives_the_same_samples_in_blocks() {
    let frames: Vec<Vec<i32>> = (0..1000).map(|i| vec![(i * 37 % 2000) - 1000, i]).collect();
    let bytes = wav_int(16, 2, 22_050, &frames);
    let whole = read_wav(&bytes).unwrap().samples;
    let mut r = WavReader::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(r.info().channels, 2);
    assert_eq!(r.info().frames(), Some(1000));
    let mut blocks = Vec::new();
    while r.read_mono(77, &mut blocks).unwrap() > 0 {}
    assert_eq!(blocks, whole);
}

#[test]
fn write_then_read_round_trips_to_16_bit_precision() {
    let samples: Vec<f32> = (0..500).map(|i| ((i as f32) * 0.05).sin() * 0.9).collect();
    let bytes = write_wav_16bit(&samples, 16_000).unwrap();
    assert_eq!(bytes.len(), 44 + 2 * samples.len());
    let back = read_wav(&bytes).unwrap();
    assert_eq!(back.sample_rate, 16_000);
    assert_eq!(back.samples.len(), samples.len());
    for (a, b) in samples.iter().zip(&back.samples) {
        assert!((a - b).abs() < 1.0 / 32000.0, "{a} vs {b}");
    }
    // Out-of-range input is clipped, not wrapped.
    let clipped = read_wav(&write_wav_16bit(&[2.0, -2.0], 8000).unwrap()).unwrap();
    assert!(clipped.samples[0] > 0.999 && clipped.samples[1] < -0.999);
}

#[test]
fn any_rate_becomes_16k_mono() {
    // One second at 8 kHz and at 96 kHz gives one second at 16 kHz.
    for rate in [8000u32, 11_025, 44_100, 96_000] {
        let samples = vec![0.25f32; rate as usize];
        let out = read_wav_16k(&wav_f32(1, rate, &samples)).unwrap();
        assert_eq!(out.len(), 16_000, "{rate} Hz");
        // DC passes at unit gain away from the edges.
        assert!((out[8000] - 0.25).abs() < 1e-4, "{rate} Hz: {}", out[8000]);
    }
}

#[test]
fn corrupt_and_truncated_files_are_errors() {
    let good = wav_int(
        16,
        1,
        16_000,
        &(0..400).map(|i| vec![i]).collect::<Vec<_>>(),
    );
    assert!(read_wav(&good).is_ok());
    // Not a WAV at all, an empty file, a header only, a RIFF of another kind.
    assert!(read_wav(b"hello, this is not audio").is_err());
    assert!(read_wav(&[]).is_err());
    assert!(read_wav(&good[..30]).is_err());
    let mut avi = good.clone();
    avi[8..12].copy_from_slice(b"AVI ");
    assert!(read_wav(&avi).is_err());
    // Data cut short (mid-sample and on a sample boundary): an error that says it is truncated.
    for cut in [good.len() - 101, good.len() - 100] {
        let err = read_wav(&good[..cut]).unwrap_err().to_string();
        assert!(
            err.contains("truncated") || err.contains("cut short"),
            "cut at {cut}: {err}"
        );
    }
    // An unsupported codec (format tag 2 = MS ADPCM) is refused, with a message.
    let mut adpcm = good.clone();
    adpcm[20..22].copy_from_slice(&2u16.to_le_bytes());
    assert!(read_wav(&adpcm).is_err());
    // Zero channels.
    let mut zero = good;
    zero[22..24].copy_from_slice(&0u16.to_le_bytes());
    assert!(read_wav(&zero).is_err());
}
