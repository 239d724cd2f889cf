//! WAV in and out with `hound`: any integer depth from 8 to 32 bits or 32-bit float, any rate, any channel
//! count, decoded to f32 mono in [-1, 1]; 16-bit mono writing for segment downloads.

use crate::{Error, Result};
use std::io::{Cursor, Read, Seek, Write};

/// Decoded audio: mono samples and their rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Samples in [-1, 1], channels averaged.
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl MonoAudio {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// What a WAV header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// Whether samples are IEEE floats.
    pub float: bool,
    /// Frames (samples per channel) the header announces.
    pub frames: u32,
}

fn wav_error(e: hound::Error) -> Error {
    let msg = match e {
        hound::Error::IoError(io) => format!(
            "the WAV file is cut short or unreadable ({io}); it may be incomplete — try exporting it again"
        ),
        hound::Error::FormatError(m) => format!("this is not a valid WAV file ({m})"),
        hound::Error::Unsupported => {
            "this WAV encoding is not supported (use PCM 8/16/24/32-bit or 32-bit float)".to_string()
        }
        hound::Error::TooWide => "the WAV samples are wider than 32 bits; use 32-bit float or PCM".into(),
        hound::Error::UnfinishedSample => {
            "the WAV file ends in the middle of a sample; it is truncated".into()
        }
        hound::Error::InvalidSampleFormat => "the WAV sample format does not match its header".into(),
    };
    Error::invalid("read WAV", msg)
}

/// Streaming WAV decoder: yields mono f32 blocks so long files use bounded memory.
pub struct WavReader<R: Read> {
    inner: hound::WavReader<R>,
    info: WavInfo,
}

impl<R: Read> std::fmt::Debug for WavReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavReader")
            .field("info", &self.info)
            .finish()
    }
}

impl<R: Read> WavReader<R> {
    /// Reads and checks the header.
    pub fn new(reader: R) -> Result<Self> {
        let inner = hound::WavReader::new(reader).map_err(wav_error)?;
        let spec = inner.spec();
        let float = spec.sample_format == hound::SampleFormat::Float;
        if spec.channels == 0 {
            return Err(Error::invalid("read WAV", "the WAV file has no channels"));
        }
        if spec.sample_rate == 0 {
            return Err(Error::invalid(
                "read WAV",
                "the WAV file has a sample rate of 0",
            ));
        }
        if float && spec.bits_per_sample != 32 {
            return Err(Error::invalid(
                "read WAV",
                format!(
                    "{}-bit float WAV is not supported; use 32-bit float or PCM",
                    spec.bits_per_sample
                ),
            ));
        }
        if !float && !(1..=32).contains(&spec.bits_per_sample) {
            return Err(Error::invalid(
                "read WAV",
                format!("{}-bit PCM WAV is not supported", spec.bits_per_sample),
            ));
        }
        let info = WavInfo {
            sample_rate: spec.sample_rate,
            channels: spec.channels,
            bits_per_sample: spec.bits_per_sample,
            float,
            frames: inner.duration(),
        };
        Ok(WavReader { inner, info })
    }

    /// The header's facts.
    pub fn info(&self) -> WavInfo {
        self.info
    }

    /// Decodes up to `max_frames` frames, averaging channels, appending to `out`; returns frames read
    /// (0 at the end). A truncated file is an error, not a short read.
    pub fn read_mono(&mut self, max_frames: usize, out: &mut Vec<f32>) -> Result<usize> {
        let ch = usize::from(self.info.channels);
        let inv_ch = 1.0 / ch as f32;
        let mut frames = 0;
        let mut acc = 0.0f32;
        let mut k = 0;
        if self.info.float {
            let mut it = self.inner.samples::<f32>();
            while frames < max_frames {
                let Some(s) = it.next() else { break };
                acc += s.map_err(wav_error)?;
                k += 1;
                if k == ch {
                    out.push(acc * inv_ch);
                    acc = 0.0;
                    k = 0;
                    frames += 1;
                }
            }
        } else {
            // hound sign-extends every depth into i32; 8-bit unsigned WAV is re-centred by hound too.
            let scale = 1.0 / (1u64 << (self.info.bits_per_sample - 1)) as f32;
            let mut it = self.inner.samples::<i32>();
            while frames < max_frames {
                let Some(s) = it.next() else { break };
                acc += s.map_err(wav_error)? as f32 * scale;
                k += 1;
                if k == ch {
                    out.push(acc * inv_ch);
                    acc = 0.0;
                    k = 0;
                    frames += 1;
                }
            }
        }
        if k != 0 {
            return Err(Error::invalid(
                "read WAV",
                "the WAV file ends in the middle of a frame; it is truncated",
            ));
        }
        Ok(frames)
    }
}

/// Decodes a whole WAV file held in memory to mono f32.
pub fn read_wav(bytes: &[u8]) -> Result<MonoAudio> {
    read_wav_from(Cursor::new(bytes))
}

/// Decodes a whole WAV stream to mono f32.
pub fn read_wav_from<R: Read>(reader: R) -> Result<MonoAudio> {
    let mut r = WavReader::new(reader)?;
    let info = r.info();
    // The header's length is only a hint (streams write 0 or a wrong value); cap the reservation.
    let mut samples = Vec::with_capacity((info.frames as usize).min(1 << 24));
    while r.read_mono(1 << 16, &mut samples)? > 0 {}
    if samples.len() < info.frames as usize {
        return Err(Error::invalid(
            "read WAV",
            format!(
                "the WAV file is truncated: {} of {} samples present",
                samples.len(),
                info.frames
            ),
        ));
    }
    Ok(MonoAudio {
        samples,
        sample_rate: info.sample_rate,
    })
}

/// Encodes mono f32 samples as a 16-bit PCM WAV file (the inverse of the reader's scale; clipped).
pub fn write_wav_16bit(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>> {
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    write_wav_16bit_to(&mut cursor, samples, sample_rate)?;
    Ok(cursor.into_inner())
}

/// Encodes mono f32 samples as 16-bit PCM WAV into a seekable writer.
pub fn write_wav_16bit_to<W: Write + Seek>(w: W, samples: &[f32], sample_rate: u32) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| Error::invalid("write WAV", e.to_string());
    let mut writer = hound::WavWriter::new(w, spec).map_err(err)?;
    for &s in samples {
        writer
            .write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .map_err(err)?;
    }
    writer.finalize().map_err(err)
}
