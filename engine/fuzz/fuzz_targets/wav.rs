//! WAV, whole and incremental. The first four bytes choose the sizes of the pieces the rest (the file) is fed
//! in; then the same file is decoded three ways, which must agree sample for sample:
//! - [`WavStream`] fed piece by piece, jumping where [`WavStream::position`] says (as the browser's
//!   `File.slice` reader does);
//! - [`WavReader`] over a reader that returns short reads of those sizes;
//! - [`read_wav`] over the whole file.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation sized from the header's claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::audio::{read_wav, WavReader, WavStream};
use std::io::Read;

/// Piece sizes from the four leading bytes: 1..=256 bytes each, cycled.
struct Pieces([usize; 4], usize);

impl Pieces {
    fn next(&mut self) -> usize {
        let n = self.0[self.1 % 4];
        self.1 += 1;
        n
    }
}

/// A reader that never returns more than the next piece size.
struct Trickle<'a> {
    bytes: &'a [u8],
    pieces: Pieces,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.pieces.next().min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let sizes = [0, 1, 2, 3].map(|i| usize::from(data[i]) + 1);
    let file = &data[4..];

    // The stream, fed in pieces from where it asks.
    let mut stream = WavStream::new();
    let mut streamed = Vec::new();
    let mut pieces = Pieces(sizes, 0);
    let mut stream_ok = true;
    while !stream.is_done() {
        let Ok(at) = usize::try_from(stream.position()) else {
            break;
        };
        if at >= file.len() {
            break;
        }
        let end = (at + pieces.next()).min(file.len());
        if stream.push(&file[at..end], &mut streamed).is_err() {
            stream_ok = false;
            break;
        }
    }
    let stream_end = stream_ok.then(|| stream.finish()).and_then(Result::ok);

    // The reader, over short reads.
    let trickle = Trickle {
        bytes: file,
        pieces: Pieces(sizes, 0),
    };
    let mut read = Vec::new();
    let mut reader_end = None;
    if let Ok(mut r) = WavReader::new(trickle) {
        let info = r.info();
        assert!(info.block_align > 0 && info.channels > 0 && info.sample_rate > 0);
        let _ = (
            info.duration_s(),
            info.frame_offset(info.frames().unwrap_or(0)),
        );
        loop {
            match r.read_mono(sizes[0] * 64, &mut read) {
                Ok(0) => {
                    reader_end = r.end();
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    // The whole file.
    let whole = read_wav(file);

    // Whatever decodes fully must decode the same way every time.
    if let (Some(a), Some(b)) = (stream_end, reader_end) {
        assert_eq!(
            a, b,
            "the stream and the reader disagree on how the file ends"
        );
        assert_eq!(
            bits(&streamed),
            bits(&read),
            "stream and reader samples differ"
        );
        assert_eq!(a.frames as usize, streamed.len());
    }
    if let Ok(audio) = whole {
        if reader_end.is_some() {
            assert_eq!(
                bits(&audio.samples),
                bits(&read),
                "whole and reader samples differ"
            );
        }
    }
});
