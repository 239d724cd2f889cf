//! Whisper encoder-decoder speech recognition.
