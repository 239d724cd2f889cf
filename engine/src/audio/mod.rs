//! Audio pre-processing: WAV decoding, resampling to 16 kHz mono, log-mel spectrograms.

pub mod mel;
