//! Silero VAD v5/v6 (16 kHz): STFT conv front end, conv encoder, LSTM cell, decoder.
