//! Weight readers: safetensors and GGUF from byte buffers, and a name-path weight loader.
