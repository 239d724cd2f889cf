//! Incremental WAV decoding: bytes go in as they arrive, split anywhere (even one byte at a time), and
//! mono f32 samples come out. RIFF and RF64/BW64 (files over 4 GB); PCM 8/16/24/32-bit integer and 32/64-bit
//! float, plain or WAVE_FORMAT_EXTENSIBLE; any channel count and rate. Only a chunk header, the `fmt `
//! chunk and less than one frame of sample bytes are ever buffered, so a file of any length decodes in
//! bounded memory. Chunks the decoder does not need (LIST, bext, JUNK, …) are skipped by position: every
//! [`WavStream::push`] must start at [`WavStream::position`], so a reader that can seek (`File.slice` in
//! the browser, a file on disk) jumps over them instead of reading them.
//!
//! Errors are clauses for a person ("it is not a WAV file …"); callers put them after their own words.

use crate::{Error, Result};

/// A `fmt ` chunk larger than this is a damaged header (WAVE_FORMAT_EXTENSIBLE needs 40 bytes).
const MAX_FMT_BYTES: u64 = 4096;
/// The 32-bit size that means "unknown" (streamed WAV, or RF64's pointer to its `ds64` chunk).
const UNKNOWN_SIZE: u32 = u32::MAX;
/// The fixed part of an RF64 `ds64` chunk: RIFF size, data size, sample count (u64 each), table length.
const DS64_FIXED: u64 = 28;

fn bad(msg: impl Into<String>) -> Error {
    Error::Audio(msg.into())
}

/// How the samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// Unsigned 8-bit integers centred on 128.
    U8,
    /// Signed little-endian integers of 2, 3 or 4 bytes (left-justified when fewer bits are valid).
    Int {
        /// Bytes per sample.
        bytes: u8,
    },
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
}

impl SampleFormat {
    /// Bytes one sample of one channel takes.
    pub fn bytes(self) -> usize {
        match self {
            SampleFormat::U8 => 1,
            SampleFormat::Int { bytes } => usize::from(bytes),
            SampleFormat::F32 => 4,
            SampleFormat::F64 => 8,
        }
    }

    /// Whether samples are floats.
    pub fn is_float(self) -> bool {
        matches!(self, SampleFormat::F32 | SampleFormat::F64)
    }
}

/// What a WAV header says, and where the audio lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Bits per sample as the header states them.
    pub bits_per_sample: u16,
    /// How each sample is stored.
    pub sample_format: SampleFormat,
    /// Bytes per frame (one sample of every channel).
    pub block_align: u16,
    /// Byte offset of the first sample in the file.
    pub data_offset: u64,
    /// Bytes of audio the header announces; `None` when the writer did not know (a streamed WAV).
    pub data_bytes: Option<u64>,
}

impl WavInfo {
    /// Frames (samples per channel) the header announces.
    pub fn frames(&self) -> Option<u64> {
        self.data_bytes.map(|b| b / u64::from(self.block_align))
    }

    /// Seconds of audio the header announces.
    pub fn duration_s(&self) -> Option<f64> {
        self.frames()
            .map(|f| f as f64 / f64::from(self.sample_rate))
    }

    /// Byte offset in the file of frame `frame`.
    pub fn frame_offset(&self, frame: u64) -> u64 {
        self.data_offset
            .saturating_add(frame.saturating_mul(u64::from(self.block_align)))
    }

    /// Decodes the whole frames at the start of `bytes` (sample data, starting on a frame) to mono
    /// (channels averaged, in [-1, 1]), appended to `out`; returns the frames decoded. A trailing partial
    /// frame is ignored.
    pub fn decode(&self, bytes: &[u8], out: &mut Vec<f32>) -> usize {
        let ch = usize::from(self.channels);
        // One monomorphic loop per layout: the per-sample conversion inlines.
        match self.sample_format {
            SampleFormat::U8 => mix::<1>(bytes, ch, out, |b| (f32::from(b[0]) - 128.0) / 128.0),
            SampleFormat::Int { bytes: 2 } => mix::<2>(bytes, ch, out, |b| {
                f32::from(i16::from_le_bytes(b)) / 32_768.0
            }),
            SampleFormat::Int { bytes: 3 } => mix::<3>(bytes, ch, out, |b| {
                // Sign-extend by placing the 24 bits at the top of an i32.
                (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
            }),
            SampleFormat::Int { .. } => mix::<4>(bytes, ch, out, |b| {
                i32::from_le_bytes(b) as f32 / 2_147_483_648.0
            }),
            SampleFormat::F32 => mix::<4>(bytes, ch, out, f32::from_le_bytes),
            SampleFormat::F64 => mix::<8>(bytes, ch, out, |b| f64::from_le_bytes(b) as f32),
        }
    }
}

/// Averages the `ch` interleaved samples of each `W`-byte-per-sample frame.
fn mix<const W: usize>(
    bytes: &[u8],
    ch: usize,
    out: &mut Vec<f32>,
    sample: impl Fn([u8; W]) -> f32,
) -> usize {
    let inv = 1.0 / ch as f32;
    let frames = bytes.len() / (W * ch);
    out.reserve(frames);
    for frame in bytes.chunks_exact(W * ch) {
        let mut acc = 0.0f32;
        for s in frame.chunks_exact(W) {
            let mut b = [0u8; W];
            b.copy_from_slice(s);
            acc += sample(b);
        }
        out.push(acc * inv);
    }
    frames
}

/// How a stream ended (from [`WavStream::finish`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WavEnd {
    /// Frames decoded.
    pub frames: u64,
    /// Frames the header announced, when it said.
    pub expected_frames: Option<u64>,
    /// The file stopped before the audio its header announced (or inside a frame): what was there was
    /// decoded, the rest is missing.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The 12-byte `RIFF <size> WAVE` preamble.
    Riff,
    /// An 8-byte chunk header (id, 32-bit size).
    ChunkHeader,
    /// Collecting the `fmt ` chunk (`size` bytes, then a pad byte when odd).
    Fmt { size: u64 },
    /// Collecting the fixed part of RF64's `ds64` chunk, whose full size is `size`.
    Ds64 { size: u64 },
    /// Inside the audio.
    Data,
    /// Past the audio: the rest of the file is not needed.
    Done,
}

/// The parts of `fmt ` needed until the `data` chunk says where the audio is.
#[derive(Debug, Clone, Copy)]
struct Format {
    sample_rate: u32,
    channels: u16,
    bits_per_sample: u16,
    sample_format: SampleFormat,
    block_align: u16,
}

/// An incremental WAV decoder (see the module docs).
#[derive(Debug, Clone)]
pub struct WavStream {
    state: State,
    /// File offset of the next byte the decoder expects.
    pos: u64,
    /// A header part being collected, or the bytes of a partial frame.
    buf: Vec<u8>,
    rf64: bool,
    ds64_data: Option<u64>,
    format: Option<Format>,
    info: Option<WavInfo>,
    data_end: Option<u64>,
    frames: u64,
    failed: bool,
}

impl Default for WavStream {
    fn default() -> Self {
        WavStream::new()
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from(u32_at(b, i)) | (u64::from(u32_at(b, i + 4)) << 32)
}

/// A person's name for a WAV format tag that is not PCM or float.
fn codec_name(tag: u16) -> String {
    let name = match tag {
        0x0002 => "MS ADPCM",
        0x0006 => "A-law",
        0x0007 => "µ-law",
        0x0011 => "IMA ADPCM",
        0x0022 => "TrueSpeech",
        0x0031 | 0x0032 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0050 => "MPEG audio",
        0x0055 => "MP3",
        0x00FF | 0x1600 | 0x1610 => "AAC",
        0x0160..=0x0163 => "WMA",
        0x2000 => "AC-3",
        0xF1AC => "FLAC",
        _ => return format!("codec 0x{tag:04X}"),
    };
    name.to_string()
}

impl WavStream {
    /// A decoder at the start of a file.
    pub fn new() -> Self {
        WavStream {
            state: State::Riff,
            pos: 0,
            buf: Vec::new(),
            rf64: false,
            ds64_data: None,
            format: None,
            info: None,
            data_end: None,
            frames: 0,
            failed: false,
        }
    }

    /// File offset where the next [`WavStream::push`] must start.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The header, once the start of the audio has been reached.
    pub fn info(&self) -> Option<&WavInfo> {
        self.info.as_ref()
    }

    /// Whether all the audio the header announced has been decoded (nothing more is needed).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Frames decoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes of a partial frame held until the rest arrives.
    pub fn pending_bytes(&self) -> usize {
        if self.state == State::Data {
            self.buf.len()
        } else {
            0
        }
    }

    /// Feeds bytes that start at [`WavStream::position`]; the samples of every frame they complete are
    /// appended to `out` as mono f32. After an error the stream is unusable.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<f32>) -> Result<()> {
        if self.failed {
            return Err(bad("the file could not be read past an earlier error"));
        }
        let result = self.push_inner(bytes, out);
        self.failed = result.is_err();
        result
    }

    fn push_inner(&mut self, mut input: &[u8], out: &mut Vec<f32>) -> Result<()> {
        while !input.is_empty() {
            match self.state {
                State::Done => return Ok(()),
                State::Data => self.data(&mut input, out),
                State::Riff => {
                    if self.collect(&mut input, 12) {
                        self.riff()?;
                    }
                }
                State::ChunkHeader => {
                    if self.collect(&mut input, 8) {
                        self.chunk_header(&mut input)?;
                    }
                }
                State::Fmt { size } => {
                    if self.collect(&mut input, size as usize) {
                        self.fmt()?;
                        self.buf.clear();
                        self.state = State::ChunkHeader;
                        // The pad byte after an odd-sized chunk.
                        self.skip_to(self.pos + (size & 1), &mut input);
                    }
                }
                State::Ds64 { size } => {
                    if self.collect(&mut input, DS64_FIXED as usize) {
                        self.ds64_data = Some(u64_at(&self.buf, 8));
                        self.buf.clear();
                        self.state = State::ChunkHeader;
                        let rest = size - DS64_FIXED + (size & 1);
                        self.skip_to(self.pos + rest, &mut input);
                    }
                }
            }
        }
        Ok(())
    }

    /// Moves bytes from `input` into `buf` until it holds `want`; whether it does.
    fn collect(&mut self, input: &mut &[u8], want: usize) -> bool {
        let take = want.saturating_sub(self.buf.len()).min(input.len());
        self.buf.extend_from_slice(&input[..take]);
        *input = &input[take..];
        self.pos += take as u64;
        self.buf.len() >= want
    }

    /// Skips to file offset `end`: within `input` when it reaches that far, else by position (the next
    /// push starts there).
    fn skip_to(&mut self, end: u64, input: &mut &[u8]) {
        let gap = end - self.pos;
        if gap <= input.len() as u64 {
            *input = &input[gap as usize..];
        } else {
            *input = &[];
        }
        self.pos = end;
    }

    fn riff(&mut self) -> Result<()> {
        let b = &self.buf;
        let magic = &b[..4];
        if magic == b"RIFX" || magic == b"RIFY" {
            return Err(bad("it is a big-endian WAV (RIFX), which Offgrid does not read; convert it to an ordinary WAV"));
        }
        if !(magic == b"RIFF" || magic == b"RF64" || magic == b"BW64") || &b[8..12] != b"WAVE" {
            return Err(bad(
                "it is not a WAV file (it does not start with RIFF…WAVE)",
            ));
        }
        self.rf64 = magic != b"RIFF";
        self.buf.clear();
        self.state = State::ChunkHeader;
        Ok(())
    }

    fn chunk_header(&mut self, input: &mut &[u8]) -> Result<()> {
        let id: [u8; 4] = [self.buf[0], self.buf[1], self.buf[2], self.buf[3]];
        let raw = u32_at(&self.buf, 4);
        let size = u64::from(raw);
        self.buf.clear();
        match &id {
            b"fmt " if self.format.is_none() => {
                if !(16..=MAX_FMT_BYTES).contains(&size) {
                    return Err(bad(format!(
                        "its header is damaged (the format chunk claims {size} bytes)"
                    )));
                }
                self.state = State::Fmt { size };
            }
            b"ds64" if self.rf64 => {
                if size < DS64_FIXED {
                    return Err(bad(
                        "its RF64 header is damaged (the ds64 chunk is too short)",
                    ));
                }
                self.state = State::Ds64 { size };
            }
            b"data" => {
                let Some(f) = self.format else {
                    return Err(bad(
                        "its audio comes before the format chunk that describes it",
                    ));
                };
                let data_bytes = match raw {
                    UNKNOWN_SIZE if self.rf64 => self.ds64_data,
                    UNKNOWN_SIZE => None,
                    _ => Some(size),
                };
                let data_end = match data_bytes {
                    Some(n) => Some(self.pos.checked_add(n).ok_or_else(|| {
                        bad(format!(
                            "its header is damaged (it claims {n} bytes of audio)"
                        ))
                    })?),
                    None => None,
                };
                self.info = Some(WavInfo {
                    sample_rate: f.sample_rate,
                    channels: f.channels,
                    bits_per_sample: f.bits_per_sample,
                    sample_format: f.sample_format,
                    block_align: f.block_align,
                    data_offset: self.pos,
                    data_bytes,
                });
                self.data_end = data_end;
                self.state = if data_bytes == Some(0) {
                    State::Done
                } else {
                    State::Data
                };
            }
            _ => {
                // Metadata, padding, a second `fmt `: not needed for the audio.
                self.state = State::ChunkHeader;
                self.skip_to(self.pos + size + (size & 1), input);
            }
        }
        Ok(())
    }

    fn fmt(&mut self) -> Result<()> {
        let b = &self.buf;
        let mut tag = u16_at(b, 0);
        let channels = u16_at(b, 2);
        let sample_rate = u32_at(b, 4);
        let mut block_align = u16_at(b, 12);
        let bits = u16_at(b, 14);
        if tag == 0xFFFE {
            // WAVE_FORMAT_EXTENSIBLE: the real format tag opens the sub-format GUID.
            if b.len() < 40 {
                return Err(bad(
                    "its header is damaged (an extensible format chunk is too short)",
                ));
            }
            tag = u16_at(b, 24);
        }
        let float = match tag {
            1 => false,
            3 => true,
            _ => {
                return Err(bad(format!(
                    "it holds {}-compressed audio, which Offgrid does not decode; convert it to 16-bit PCM WAV (for example `ffmpeg -i in.wav -c:a pcm_s16le out.wav`)",
                    codec_name(tag)
                )))
            }
        };
        if channels == 0 {
            return Err(bad("its header says it has no channels"));
        }
        if sample_rate == 0 {
            return Err(bad("its header gives a sample rate of 0 Hz"));
        }
        if bits == 0 {
            return Err(bad("its header gives 0 bits per sample"));
        }
        let want_bytes = bits.div_ceil(8);
        if block_align == 0 {
            // Some writers leave it out; it follows from the other fields.
            block_align = want_bytes.saturating_mul(channels);
        }
        let width = block_align / channels;
        if !block_align.is_multiple_of(channels) || width < want_bytes {
            return Err(bad(format!(
                "its header is damaged ({channels} channels of {bits}-bit samples cannot fill {block_align}-byte frames)"
            )));
        }
        let sample_format = match (float, width) {
            (false, 1) => SampleFormat::U8,
            (false, 2..=4) => SampleFormat::Int { bytes: width as u8 },
            (true, 4) => SampleFormat::F32,
            (true, 8) => SampleFormat::F64,
            _ => {
                return Err(bad(format!(
                "{bits}-bit {} samples are not supported (use PCM 8/16/24/32-bit or 32-bit float)",
                if float { "float" } else { "integer" }
            )))
            }
        };
        self.format = Some(Format {
            sample_rate,
            channels,
            bits_per_sample: bits,
            sample_format,
            block_align,
        });
        Ok(())
    }

    fn data(&mut self, input: &mut &[u8], out: &mut Vec<f32>) {
        let Some(info) = self.info else {
            self.state = State::Done;
            return;
        };
        let ba = usize::from(info.block_align);
        let avail = match self.data_end {
            Some(end) => ((end - self.pos).min(input.len() as u64)) as usize,
            None => input.len(),
        };
        let mut data = &input[..avail];
        *input = &input[avail..];
        self.pos += avail as u64;
        if !self.buf.is_empty() {
            let take = (ba - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == ba {
                self.frames += info.decode(&self.buf, out) as u64;
                self.buf.clear();
            }
        }
        let whole = data.len() / ba * ba;
        self.frames += info.decode(&data[..whole], out) as u64;
        self.buf.extend_from_slice(&data[whole..]);
        if Some(self.pos) == self.data_end {
            // A data size that is not a whole number of frames leaves a stray partial frame: dropped.
            self.buf.clear();
            self.state = State::Done;
        }
    }

    /// Ends the stream (the file has no more bytes): how much audio there was and whether the file was
    /// cut short. An error when the audio never started (not a WAV file, a damaged or cut header).
    pub fn finish(&self) -> Result<WavEnd> {
        if self.failed {
            return Err(bad("the file could not be read past an earlier error"));
        }
        let expected_frames = self.info.as_ref().and_then(WavInfo::frames);
        match self.state {
            State::Done => Ok(WavEnd {
                frames: self.frames,
                expected_frames,
                truncated: false,
            }),
            State::Data => Ok(WavEnd {
                frames: self.frames,
                expected_frames,
                truncated: self.data_end.is_some() || !self.buf.is_empty(),
            }),
            State::Riff if self.pos == 0 => Err(bad("the file is empty")),
            State::Riff => Err(bad("it is too short to be a WAV file")),
            _ if self.format.is_none() => Err(bad(
                "it ends inside its header (the file is cut short or is not a complete WAV file)",
            )),
            _ => Err(bad(
                "it has no audio data (no data chunk before the end of the file)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found while writing the fuzz target: an RF64 `ds64` chunk claiming 2^64 - 1 bytes of audio overflowed the end offset.
    #[test]
    fn an_impossible_rf64_data_size_is_an_error() {
        let mut file = b"RF64\xff\xff\xff\xffWAVEds64".to_vec();
        file.extend_from_slice(&28u32.to_le_bytes());
        file.extend_from_slice(&0u64.to_le_bytes());
        file.extend_from_slice(&u64::MAX.to_le_bytes());
        file.extend_from_slice(&[0; 12]);
        file.extend_from_slice(
            b"fmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00",
        );
        file.extend_from_slice(b"data\xff\xff\xff\xff\x01\x00");
        let mut stream = WavStream::new();
        let err = stream.push(&file, &mut Vec::new()).expect_err("refused");
        assert!(err.to_string().contains("claims"), "{err}");
    }
}
