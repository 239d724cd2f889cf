//! One module per architecture: one struct per layer with `load` + `forward`, quantized weights through
//! the same code (the weight's dtype picks the kernel).

pub mod bert;
pub mod isnet;
pub mod llama;
pub mod silero_vad;
pub mod vits;
pub mod whisper;
