//! Silero VAD v5/v6 (16 kHz): STFT conv front end, conv encoder, LSTM cell, decoder.
//!
//! Mirrors `silero_vad/tinygrad_model.py` of the `silero-vad` PyPI package (the readable statement of the
//! graph inside `silero_vad.onnx`) with the call convention of its `OnnxWrapper`: each 512-sample frame is
//! preceded by the last 64 samples of the previous one and the LSTM state carries over between frames.
//!
//! The model is ~310k parameters and runs once per 32 ms frame, where per-call latency matters more than
//! throughput, so its layers are the allocation-free per-frame ones of [`crate::nn::frame`] (plain slices,
//! im2col + dot products that the compiler vectorises) instead of `Tensor` ops. It is checked against onnxruntime in
//! `engine/tests/vad_silero.rs`.

pub mod onnx_weights;

use crate::io::VarBuilder;
use crate::nn::frame::{sigmoid, FrameConv1d, FrameConvShape, LstmCell, LstmScratch};
use crate::{Device, Error, Result};
use std::sync::Arc;

/// Samples per frame at 16 kHz.
pub const FRAME_SAMPLES: usize = 512;
/// Samples of the previous frame prepended to each frame.
pub const CONTEXT_SAMPLES: usize = 64;
/// The only sample rate this model accepts.
pub const SAMPLE_RATE: u32 = 16_000;

const INPUT: usize = CONTEXT_SAMPLES + FRAME_SAMPLES; // 576
const REFLECT_PAD: usize = 64;
const PADDED: usize = INPUT + REFLECT_PAD; // 640
const N_FFT: usize = 256;
const HOP: usize = 128;
const STFT_FRAMES: usize = (PADDED - N_FFT) / HOP + 1; // 4
const BINS: usize = N_FFT / 2 + 1; // 129
const HIDDEN: usize = 128;

/// Scratch buffers reused across frames so `process_frame` does not allocate.
#[derive(Debug, Clone, Default)]
struct Scratch {
    padded: Vec<f32>,
    stft: Vec<f32>,
    spec: Vec<f32>,
    col: Vec<f32>,
    a: Vec<f32>,
    b: Vec<f32>,
    lstm: LstmScratch,
    relu_h: Vec<f32>,
    logit: Vec<f32>,
}

/// The weights, shared by every stream.
#[derive(Debug)]
struct Layers {
    /// The STFT as a strided convolution: rows are the real then the imaginary basis, `[2 * BINS][N_FFT]`.
    stft: FrameConv1d,
    /// Four kernel-3 convolutions, each followed by ReLU.
    encoder: [FrameConv1d; 4],
    lstm: LstmCell,
    /// ReLU → this 1×1 convolution → sigmoid.
    decoder: FrameConv1d,
}

/// Silero VAD with its streaming state (context samples and LSTM `h`, `c`).
#[derive(Debug, Clone)]
pub struct SileroVad {
    layers: Arc<Layers>,
    context: [f32; CONTEXT_SAMPLES],
    h: Vec<f32>,
    c: Vec<f32>,
    scratch: Scratch,
}

impl SileroVad {
    /// Loads `silero_vad_16k.safetensors` from its bytes.
    pub fn load(bytes: impl Into<Arc<[u8]>>) -> Result<Self> {
        let vb = VarBuilder::from_safetensors(bytes, &Device::Cpu)?;
        Self::from_var_builder(&vb)
    }

    /// Loads from a [`VarBuilder`] whose names are those of `silero_vad_16k.safetensors`.
    pub fn from_var_builder(vb: &VarBuilder) -> Result<Self> {
        Self::build(|name, shape| vb.get_float(name, shape.to_vec())?.to_vec_f32())
    }

    /// Loads the weights of the package's `silero_vad_16k_op15.onnx` or `silero_vad_op18_ifless.onnx`
    /// (named initializers; `silero_vad.onnx` hides the same weights in constant nodes and is not read).
    pub fn load_onnx(bytes: &[u8]) -> Result<Self> {
        let tensors = onnx_weights::float_initializers(bytes)?;
        Self::build(|name, shape| {
            let onnx_name = onnx_name(name);
            let t = tensors
                .iter()
                .find(|t| t.name == onnx_name)
                .ok_or_else(|| Error::MissingWeight(onnx_name.clone()))?;
            if t.dims != shape {
                return Err(Error::invalid(
                    "load weight",
                    format!("`{onnx_name}` has shape {:?}, expected {shape:?}", t.dims),
                ));
            }
            Ok(t.data.clone())
        })
    }

    /// Builds the model from a lookup of safetensors-named weights with their expected shapes.
    fn build(get: impl Fn(&str, &[usize]) -> Result<Vec<f32>>) -> Result<Self> {
        let conv = |name: &str, c_in: usize, c_out: usize, stride: usize| {
            let shape = FrameConvShape {
                c_in,
                c_out,
                kernel: 3,
                stride,
                padding: 1,
                bias: true,
            };
            FrameConv1d::load(&get, name, shape)
        };
        let stft_shape = FrameConvShape {
            c_in: 1,
            c_out: 2 * BINS,
            kernel: N_FFT,
            stride: HOP,
            padding: 0,
            bias: false,
        };
        let decoder_shape = FrameConvShape {
            c_in: HIDDEN,
            c_out: 1,
            kernel: 1,
            stride: 1,
            padding: 0,
            bias: true,
        };
        let layers = Layers {
            stft: FrameConv1d::load(&get, "stft_conv", stft_shape)?,
            encoder: [
                conv("conv1", BINS, 128, 1)?,
                conv("conv2", 128, 64, 2)?,
                conv("conv3", 64, 64, 2)?,
                conv("conv4", 64, HIDDEN, 1)?,
            ],
            lstm: LstmCell::load(&get, "lstm_cell", HIDDEN, HIDDEN)?,
            decoder: FrameConv1d::load(&get, "final_conv", decoder_shape)?,
        };
        Ok(SileroVad {
            layers: Arc::new(layers),
            context: [0.0; CONTEXT_SAMPLES],
            h: vec![0.0; HIDDEN],
            c: vec![0.0; HIDDEN],
            scratch: Scratch::default(),
        })
    }

    /// Forgets the context samples and the LSTM state (start of a new stream).
    pub fn reset(&mut self) {
        self.context = [0.0; CONTEXT_SAMPLES];
        self.h.fill(0.0);
        self.c.fill(0.0);
    }

    /// A copy that shares the weights but starts with fresh state (one per concurrent stream).
    pub fn fresh(&self) -> Self {
        let mut v = self.clone();
        v.reset();
        v
    }

    /// Speech probability of one 512-sample 16 kHz frame; advances the streaming state.
    pub fn process_frame(&mut self, frame: &[f32; FRAME_SAMPLES]) -> f32 {
        let s = &mut self.scratch;
        // [context | frame], then reflect-pad 64 on the right as the model's STFT does.
        s.padded.clear();
        s.padded.extend_from_slice(&self.context);
        s.padded.extend_from_slice(frame);
        for j in 0..REFLECT_PAD {
            let v = s.padded[INPUT - 2 - j];
            s.padded.push(v);
        }
        self.context
            .copy_from_slice(&frame[FRAME_SAMPLES - CONTEXT_SAMPLES..]);

        // STFT as a strided conv; real and imaginary halves → magnitude, laid out [BINS][STFT_FRAMES].
        let l = &*self.layers;
        l.stft.forward(&s.padded, PADDED, &mut s.col, &mut s.stft);
        s.spec.clear();
        s.spec.extend(
            s.stft[..BINS * STFT_FRAMES]
                .iter()
                .zip(&s.stft[BINS * STFT_FRAMES..])
                .map(|(re, im)| (re * re + im * im).sqrt()),
        );

        // Encoder: conv → ReLU, four times, down to one time step of HIDDEN channels.
        let mut len = STFT_FRAMES;
        s.a.clone_from(&s.spec);
        for conv in &l.encoder {
            conv.forward(&s.a, len, &mut s.col, &mut s.b);
            s.b.iter_mut().for_each(|v| *v = v.max(0.0));
            len = conv.out_len(len);
            std::mem::swap(&mut s.a, &mut s.b);
        }
        debug_assert_eq!(len, 1);

        l.lstm.step(&s.a, &mut self.h, &mut self.c, &mut s.lstm);

        // Decoder: ReLU → 1×1 conv → sigmoid (the mean over one time step is the value itself).
        s.relu_h.clear();
        s.relu_h.extend(self.h.iter().map(|v| v.max(0.0)));
        l.decoder.forward(&s.relu_h, 1, &mut s.col, &mut s.logit);
        sigmoid(s.logit[0])
    }

    /// Like [`Self::process_frame`] for a slice, which must hold exactly 512 samples.
    pub fn process(&mut self, frame: &[f32]) -> Result<f32> {
        let frame: &[f32; FRAME_SAMPLES] = frame.try_into().map_err(|_| {
            Error::invalid(
                "silero vad",
                format!(
                    "a frame must hold {FRAME_SAMPLES} samples at 16 kHz, got {}",
                    frame.len()
                ),
            )
        })?;
        Ok(self.process_frame(frame))
    }

    /// Probabilities for a whole 16 kHz signal from a fresh state, one per 512 samples; the last partial
    /// frame is zero-padded (as `get_speech_timestamps` does).
    pub fn probabilities(&mut self, samples: &[f32]) -> Vec<f32> {
        self.reset();
        let mut out = Vec::with_capacity(samples.len().div_ceil(FRAME_SAMPLES));
        let mut frame = [0.0f32; FRAME_SAMPLES];
        for chunk in samples.chunks(FRAME_SAMPLES) {
            frame[..chunk.len()].copy_from_slice(chunk);
            frame[chunk.len()..].fill(0.0);
            out.push(self.process_frame(&frame));
        }
        out
    }
}

/// The ONNX initializer name of a safetensors weight name (same tensors, the PyTorch module paths).
fn onnx_name(name: &str) -> String {
    let (module, param) = name.rsplit_once('.').unwrap_or((name, ""));
    match module {
        "stft_conv" => "model.stft.forward_basis_buffer".to_string(),
        "lstm_cell" => format!("model.decoder.rnn.{param}"),
        "final_conv" => format!("model.decoder.decoder.2.{param}"),
        m => match m.strip_prefix("conv").and_then(|i| i.parse::<usize>().ok()) {
            Some(i) if i >= 1 => format!("model.encoder.{}.reparam_conv.{param}", i - 1),
            _ => name.to_string(),
        },
    }
}
