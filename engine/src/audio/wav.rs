//! WAV in and out: reading through the incremental decoder ([`WavStream`]: PCM 8/16/24/32-bit, 32/64-bit
//! float, RIFF and RF64, any rate and channel count, decoded to f32 mono in [-1, 1]); 16-bit mono writing
//! with `hound` for segment downloads.

use super::wav_stream::{WavEnd, WavInfo, WavStream};
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

/// Bytes read at a time while looking for the start of the audio.
const HEADER_BLOCK: usize = 4096;
/// The most bytes read at a time once the audio has started. A frame can be 64 KB (65,535 one-byte channels), so
/// `max_frames` frames are not what sizes a read: the header's claims must not size an allocation.
const READ_BLOCK: usize = 1 << 20;
/// Frames reserved up front when the file's length is not known (a stream); more come as the audio does.
const STREAM_RESERVE: u64 = 1 << 18;

/// Streaming WAV decoder over a [`Read`]: yields mono f32 blocks, so long files use bounded memory.
/// Chunks before the audio that are not needed are read past, not kept.
pub struct WavReader<R: Read> {
    reader: R,
    stream: WavStream,
    info: WavInfo,
    /// File offset of the next byte `reader` gives.
    read_pos: u64,
    /// Samples decoded with the header's last block, handed out first.
    ready: Vec<f32>,
    scratch: Vec<u8>,
    end: Option<WavEnd>,
}

impl<R: Read> std::fmt::Debug for WavReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavReader")
            .field("info", &self.info)
            .field("read_pos", &self.read_pos)
            .finish()
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Audio(format!("the file could not be read ({e})"))
}

fn no_audio() -> Error {
    Error::Audio("it has no audio data".into())
}

impl<R: Read> WavReader<R> {
    /// Reads up to the start of the audio and checks the header.
    pub fn new(reader: R) -> Result<Self> {
        let mut stream = WavStream::new();
        let mut reader = reader;
        let mut read_pos = 0;
        let mut scratch = Vec::new();
        let mut ready = Vec::new();
        while stream.info().is_none() {
            let more = fill_and_push(
                &mut reader,
                &mut stream,
                &mut read_pos,
                &mut scratch,
                HEADER_BLOCK,
                &mut ready,
            )?;
            if !more {
                // The end of the file before the audio: `finish` says what is wrong.
                stream.finish()?;
                return Err(no_audio());
            }
        }
        let info = *stream.info().ok_or_else(no_audio)?;
        Ok(WavReader {
            reader,
            stream,
            info,
            read_pos,
            ready,
            scratch,
            end: None,
        })
    }

    /// The header's facts.
    pub fn info(&self) -> WavInfo {
        self.info
    }

    /// How the file ended, once [`WavReader::read_mono`] has returned 0.
    pub fn end(&self) -> Option<WavEnd> {
        self.end
    }

    /// Decodes up to `max_frames` frames, averaging channels, appending to `out`; returns frames read
    /// (0 at the end, after which [`WavReader::end`] says whether the file was cut short).
    pub fn read_mono(&mut self, max_frames: usize, out: &mut Vec<f32>) -> Result<usize> {
        let max_frames = max_frames.max(1);
        if !self.ready.is_empty() {
            let n = max_frames.min(self.ready.len());
            out.extend(self.ready.drain(..n));
            return Ok(n);
        }
        loop {
            if self.end.is_some() {
                return Ok(0);
            }
            let before = out.len();
            // No more bytes than `max_frames` frames need, so no more frames than asked come out.
            let want = max_frames
                .saturating_mul(usize::from(self.info.block_align))
                .min(READ_BLOCK)
                .saturating_sub(self.stream.pending_bytes());
            let more = !self.stream.is_done()
                && fill_and_push(
                    &mut self.reader,
                    &mut self.stream,
                    &mut self.read_pos,
                    &mut self.scratch,
                    want,
                    out,
                )?;
            if !more {
                self.end = Some(self.stream.finish()?);
            }
            if out.len() > before {
                return Ok(out.len() - before);
            }
        }
    }
}

/// Reads up to `want` bytes at the stream's position (reading past skipped chunks first) and decodes
/// them into `out`; false at the end of the file.
fn fill_and_push<R: Read>(
    reader: &mut R,
    stream: &mut WavStream,
    read_pos: &mut u64,
    scratch: &mut Vec<u8>,
    want: usize,
    out: &mut Vec<f32>,
) -> Result<bool> {
    let target = stream.position();
    if target > *read_pos {
        let gap = target - *read_pos;
        let skipped =
            std::io::copy(&mut reader.take(gap), &mut std::io::sink()).map_err(io_error)?;
        *read_pos += skipped;
        if skipped < gap {
            return Ok(false);
        }
    }
    scratch.resize(want.max(1), 0);
    let mut n = 0;
    while n < scratch.len() {
        match reader.read(&mut scratch[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    *read_pos += n as u64;
    if n == 0 {
        return Ok(false);
    }
    stream.push(&scratch[..n], out)?;
    Ok(true)
}

/// Decodes a whole WAV file held in memory to mono f32.
pub fn read_wav(bytes: &[u8]) -> Result<MonoAudio> {
    read_all(Cursor::new(bytes), Some(bytes.len() as u64))
}

/// Decodes a whole WAV stream to mono f32. A file cut short is an error here (a caller that wants
/// what is there streams with [`WavReader`] or [`WavStream`]).
pub fn read_wav_from<R: Read>(reader: R) -> Result<MonoAudio> {
    read_all(reader, None)
}

fn read_all<R: Read>(reader: R, file_len: Option<u64>) -> Result<MonoAudio> {
    let mut r = WavReader::new(reader)?;
    let info = r.info();
    // The header's length is a claim (streams write 0 or a wrong value): reserve no more frames than the
    // file's bytes can hold, or, for a stream of unknown length, than a few seconds.
    let room = file_len.map_or(STREAM_RESERVE, |len| {
        len.saturating_sub(info.data_offset) / u64::from(info.block_align)
    });
    let frames = info.frames().unwrap_or(room).min(room);
    let mut samples = Vec::with_capacity(usize::try_from(frames).unwrap_or(0));
    while r.read_mono(1 << 16, &mut samples)? > 0 {}
    if let Some(end) = r.end().filter(|e| e.truncated) {
        return Err(Error::Audio(match end.expected_frames {
            Some(want) => format!(
                "the WAV file is truncated: {} of the {want} samples its header announces are there",
                end.frames
            ),
            None => "the WAV file is truncated in the middle of a sample".into(),
        }));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV header of `channels` one-byte channels announcing `data_bytes` of audio, then `frames` frames.
    fn wav_u8(channels: u16, data_bytes: u32, frames: usize) -> Vec<u8> {
        let block = usize::from(channels);
        let mut out = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&8000u32.to_le_bytes());
        out.extend_from_slice(&(8000 * block as u32).to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_bytes.to_le_bytes());
        out.extend(std::iter::repeat_n(128u8, block * frames));
        out
    }

    /// Found while writing the fuzz target: 65,535 channels make a 64 KB frame, and `read_mono(65536)` sized a 4 GB read buffer.
    #[test]
    fn wide_frames_do_not_size_a_huge_read() {
        let file = wav_u8(u16::MAX, u32::MAX - 1, 3);
        let mut r = WavReader::new(Cursor::new(&file)).expect("header");
        let mut out = Vec::new();
        while r.read_mono(1 << 16, &mut out).expect("reads") > 0 {}
        assert_eq!(out, vec![0.0; 3]);
        assert!(
            r.scratch.capacity() <= 2 * READ_BLOCK,
            "{}",
            r.scratch.capacity()
        );
        assert!(r.end().expect("ended").truncated);
    }

    /// The header's data size is a claim: the samples reserved are what the file can hold.
    #[test]
    fn the_reservation_is_checked_against_the_file_length() {
        let file = wav_u8(1, u32::MAX - 64, 100);
        let err = read_wav(&file).expect_err("cut short");
        assert!(err.to_string().contains("truncated"), "{err}");
        let mut r = WavReader::new(Cursor::new(&file)).expect("header");
        let mut out = Vec::new();
        while r.read_mono(1 << 16, &mut out).expect("reads") > 0 {}
        assert_eq!(out.len(), 100);
    }
}
