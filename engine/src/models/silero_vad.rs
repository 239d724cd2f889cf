//! Silero VAD v5/v6 (16 kHz): STFT conv front end, conv encoder, LSTM cell, decoder.
//!
//! Mirrors `silero_vad/tinygrad_model.py` of the `silero-vad` PyPI package (the readable statement of the
//! graph inside `silero_vad.onnx`) with the call convention of its `OnnxWrapper`: each 512-sample frame is
//! preceded by the last 64 samples of the previous one and the LSTM state carries over between frames.
//!
//! The model is ~310k parameters and runs once per 32 ms frame, where per-call latency matters more than
//! throughput, so it has its own allocation-free CPU forward on plain slices (im2col + dot products that the
//! compiler vectorises) instead of going through `Tensor` ops. It is checked against onnxruntime in
//! `engine/tests/vad_silero.rs`.

pub mod onnx_weights;

use crate::io::VarBuilder;
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

/// One `Conv1d` with kernel 3 and padding 1, weights kept as `[out][in * 3]` rows for im2col.
#[derive(Debug, Clone)]
struct Conv3 {
    weight: Vec<f32>,
    bias: Vec<f32>,
    c_in: usize,
    c_out: usize,
    stride: usize,
}

impl Conv3 {
    fn out_len(&self, len: usize) -> usize {
        (len + 2 - 3) / self.stride + 1
    }

    /// `x` is `[c_in][len]`; writes ReLU(conv(x)) as `[c_out][out_len]` into `out`. `col` is scratch.
    fn forward_relu(&self, x: &[f32], len: usize, col: &mut Vec<f32>, out: &mut Vec<f32>) {
        let lout = self.out_len(len);
        let row = self.c_in * 3;
        col.clear();
        col.resize(lout * row, 0.0);
        for t in 0..lout {
            let dst = &mut col[t * row..(t + 1) * row];
            for i in 0..self.c_in {
                for k in 0..3 {
                    // input position of tap k for output t, with one zero of padding on each side
                    let pos = (t * self.stride + k) as isize - 1;
                    if pos >= 0 && (pos as usize) < len {
                        dst[i * 3 + k] = x[i * len + pos as usize];
                    }
                }
            }
        }
        out.clear();
        out.resize(self.c_out * lout, 0.0);
        for o in 0..self.c_out {
            let w = &self.weight[o * row..(o + 1) * row];
            for t in 0..lout {
                let v = dot(w, &col[t * row..(t + 1) * row]) + self.bias[o];
                out[o * lout + t] = v.max(0.0);
            }
        }
    }
}

/// Scratch buffers reused across frames so `process_frame` does not allocate.
#[derive(Debug, Clone, Default)]
struct Scratch {
    padded: Vec<f32>,
    spec: Vec<f32>,
    col: Vec<f32>,
    a: Vec<f32>,
    b: Vec<f32>,
    xh: Vec<f32>,
    gates: Vec<f32>,
}

/// Silero VAD with its streaming state (context samples and LSTM `h`, `c`).
#[derive(Debug, Clone)]
pub struct SileroVad {
    stft: Arc<Vec<f32>>, // [2 * BINS][N_FFT]
    convs: Arc<[Conv3; 4]>,
    lstm_w: Arc<Vec<f32>>, // [4 * HIDDEN][2 * HIDDEN]: rows are [w_ih | w_hh], gate order i, f, g, o
    lstm_b: Arc<Vec<f32>>, // b_ih + b_hh
    final_w: Arc<Vec<f32>>,
    final_b: f32,
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
        let conv = |name: &str, c_in: usize, c_out: usize, stride: usize| -> Result<Conv3> {
            Ok(Conv3 {
                weight: get(&format!("{name}.weight"), &[c_out, c_in, 3])?,
                bias: get(&format!("{name}.bias"), &[c_out])?,
                c_in,
                c_out,
                stride,
            })
        };
        let stft = get("stft_conv.weight", &[2 * BINS, 1, N_FFT])?;
        let convs = [
            conv("conv1", BINS, 128, 1)?,
            conv("conv2", 128, 64, 2)?,
            conv("conv3", 64, 64, 2)?,
            conv("conv4", 64, HIDDEN, 1)?,
        ];
        let w_ih = get("lstm_cell.weight_ih", &[4 * HIDDEN, HIDDEN])?;
        let w_hh = get("lstm_cell.weight_hh", &[4 * HIDDEN, HIDDEN])?;
        let b_ih = get("lstm_cell.bias_ih", &[4 * HIDDEN])?;
        let b_hh = get("lstm_cell.bias_hh", &[4 * HIDDEN])?;
        let mut lstm_w = Vec::with_capacity(4 * HIDDEN * 2 * HIDDEN);
        for r in 0..4 * HIDDEN {
            lstm_w.extend_from_slice(&w_ih[r * HIDDEN..(r + 1) * HIDDEN]);
            lstm_w.extend_from_slice(&w_hh[r * HIDDEN..(r + 1) * HIDDEN]);
        }
        let lstm_b = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
        let final_w = get("final_conv.weight", &[1, HIDDEN, 1])?;
        let final_b = *get("final_conv.bias", &[1])?
            .first()
            .ok_or_else(|| Error::Malformed("final_conv.bias is empty".into()))?;
        Ok(SileroVad {
            stft: Arc::new(stft),
            convs: Arc::new(convs),
            lstm_w: Arc::new(lstm_w),
            lstm_b: Arc::new(lstm_b),
            final_w: Arc::new(final_w),
            final_b,
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
        s.spec.clear();
        s.spec.resize(BINS * STFT_FRAMES, 0.0);
        for t in 0..STFT_FRAMES {
            let win = &s.padded[t * HOP..t * HOP + N_FFT];
            for f in 0..BINS {
                let re = dot(&self.stft[f * N_FFT..(f + 1) * N_FFT], win);
                let im = dot(&self.stft[(f + BINS) * N_FFT..(f + BINS + 1) * N_FFT], win);
                s.spec[f * STFT_FRAMES + t] = (re * re + im * im).sqrt();
            }
        }

        let mut len = STFT_FRAMES;
        self.convs[0].forward_relu(&s.spec, len, &mut s.col, &mut s.a);
        len = self.convs[0].out_len(len);
        self.convs[1].forward_relu(&s.a, len, &mut s.col, &mut s.b);
        len = self.convs[1].out_len(len);
        self.convs[2].forward_relu(&s.b, len, &mut s.col, &mut s.a);
        len = self.convs[2].out_len(len);
        self.convs[3].forward_relu(&s.a, len, &mut s.col, &mut s.b);
        debug_assert_eq!(self.convs[3].out_len(len), 1);

        // LSTM cell on [x | h].
        s.xh.clear();
        s.xh.extend_from_slice(&s.b[..HIDDEN]);
        s.xh.extend_from_slice(&self.h);
        s.gates.clear();
        for r in 0..4 * HIDDEN {
            let w = &self.lstm_w[r * 2 * HIDDEN..(r + 1) * 2 * HIDDEN];
            s.gates.push(dot(w, &s.xh) + self.lstm_b[r]);
        }
        for j in 0..HIDDEN {
            let i = sigmoid(s.gates[j]);
            let f = sigmoid(s.gates[HIDDEN + j]);
            let g = s.gates[2 * HIDDEN + j].tanh();
            let o = sigmoid(s.gates[3 * HIDDEN + j]);
            self.c[j] = f * self.c[j] + i * g;
            self.h[j] = o * self.c[j].tanh();
        }

        // Decoder: ReLU → 1×1 conv → sigmoid (the mean over one time step is the value itself).
        let mut logit = self.final_b;
        for (w, h) in self.final_w.iter().zip(&self.h) {
            logit += w * h.max(0.0);
        }
        sigmoid(logit)
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

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Dot product with eight independent accumulators so it vectorises (native SIMD and wasm simd128).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]) + tail
}
