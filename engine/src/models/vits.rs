//! VITS (Kim et al. 2021, "Conditional Variational Autoencoder with Adversarial Learning for End-to-End
//! Text-to-Speech"), the model behind Piper's voices and Meta's MMS-TTS: phoneme ids → waveform in one pass.
//!
//! At inference: the [`text_encoder`] gives each phoneme a prior (mean, log-std) and hidden states; the
//! stochastic [`duration`] predictor turns noise into a whole number of frames per phoneme; the prior is
//! repeated over those frames and sampled (`mean + noise · exp(log_std) · noise_scale`); the [`flow`] maps the
//! sample to the decoder's latent, and the HiFi-GAN [`decoder`] upsamples it to audio (256 samples a frame for
//! Piper). Noise comes from a seeded generator, so a seed gives the same audio every time; scales of 0 make it
//! deterministic outright.

pub mod config;
mod decoder;
mod duration;
mod flow;
pub mod hf;
pub mod piper;
mod spline;
mod text_encoder;

use crate::io::VarBuilder;
use crate::{Device, Error, Result, Tensor};
pub use config::VitsConfig;
use decoder::Decoder;
use duration::DurationPredictor;
use flow::Flow;
use text_encoder::TextEncoder;

/// The three knobs of VITS sampling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// How far the latent may stray from the prior's mean (voice variation; 0 = flat and repeatable).
    pub noise: f32,
    /// Frames per phoneme multiplier: above 1 is slower speech.
    pub length: f32,
    /// Noise in the duration predictor (rhythm variation).
    pub noise_w: f32,
}

/// What one synthesis produced.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// Mono samples in [-1, 1] at the model's sample rate.
    pub audio: Vec<f32>,
    /// Frames given to each id (one frame is [`VitsConfig::hop`] samples).
    pub durations: Vec<u32>,
}

/// Standard normal noise from a seed (SplitMix64 and Box–Muller): portable, so a seed sounds the same in the
/// browser and natively.
#[derive(Debug, Clone)]
pub struct Noise {
    state: u64,
}

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// `n` standard normal values times `scale` (nothing is drawn when `scale` is 0).
    pub fn normal(&mut self, n: usize, scale: f32) -> Vec<f32> {
        if scale == 0.0 {
            return vec![0.0; n];
        }
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let (u1, u2) = (self.uniform(), self.uniform());
            let r = (-2.0 * u1.ln()).sqrt();
            let a = std::f64::consts::TAU * u2;
            out.push((r * a.cos()) as f32 * scale);
            out.push((r * a.sin()) as f32 * scale);
        }
        out.truncate(n);
        out
    }
}

/// The longest sentence one call takes, in ids: attention is quadratic in it, and the pipeline splits text
/// into sentences far shorter than this.
pub const MAX_IDS: usize = 2_000;
/// The most frames one call makes (about 3 minutes at Piper's 22,050 Hz), whatever the length scale.
pub const MAX_FRAMES: usize = 16_000;

pub struct Vits {
    config: VitsConfig,
    encoder: TextEncoder,
    durations: DurationPredictor,
    flow: Flow,
    decoder: Decoder,
    device: Device,
}

impl Vits {
    /// Builds the model from PyTorch-named weights (see [`piper::to_safetensors`]).
    pub fn load(vb: &VarBuilder, config: VitsConfig) -> Result<Self> {
        let device = vb.device().clone();
        Ok(Vits {
            encoder: TextEncoder::load(&vb.pp("enc_p"), &config)?,
            durations: DurationPredictor::load(&vb.pp("dp"), &config)?,
            flow: Flow::load(&vb.pp("flow"), &config, &device)?,
            decoder: Decoder::load(&vb.pp("dec"), &config)?,
            config,
            device,
        })
    }

    /// A Piper voice from its `.onnx` bytes and sample rate (from the `.onnx.json`).
    pub fn from_piper_onnx(onnx: &[u8], sample_rate: u32, device: &Device) -> Result<Self> {
        let (st, config) = piper::to_safetensors(onnx, sample_rate)?;
        let vb = VarBuilder::from_safetensors(st, device)?;
        Self::load(&vb, config)
    }

    /// An HF `VitsModel` (MMS-TTS) from its `model.safetensors` and `config.json`.
    pub fn from_hf(model: &[u8], config_json: &str, device: &Device) -> Result<Self> {
        Self::from_hf_config(model, &hf::HfVitsConfig::parse(config_json)?, device)
    }

    /// The same, from an already parsed `config.json`.
    pub fn from_hf_config(
        model: &[u8],
        config: &hf::HfVitsConfig,
        device: &Device,
    ) -> Result<Self> {
        let (st, vits) = hf::to_safetensors(model, config)?;
        let vb = VarBuilder::from_safetensors(st, device)?;
        Self::load(&vb, vits)
    }

    pub fn config(&self) -> &VitsConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Audio for one sentence's ids.
    pub async fn synthesize(
        &self,
        ids: &[u32],
        scales: Scales,
        noise: &mut Noise,
    ) -> Result<Synthesis> {
        if ids.is_empty() {
            return Err(Error::Text("There is nothing to say.".into()));
        }
        if ids.len() > MAX_IDS {
            return Err(Error::invalid(
                "vits",
                format!("{} phonemes in one sentence; at most {MAX_IDS}", ids.len()),
            ));
        }
        if let Some(bad) = ids.iter().find(|&&i| i as usize >= self.config.vocab) {
            return Err(Error::invalid(
                "vits",
                format!(
                    "phoneme id {bad} is outside the voice's {} symbols",
                    self.config.vocab
                ),
            ));
        }
        if !(scales.length.is_finite() && scales.length > 0.0) {
            return Err(Error::invalid("vits", "the length scale must be above 0"));
        }
        let len = ids.len();
        let ids_t = Tensor::from_u32(ids.to_vec(), [len], &self.device)?;
        let enc = self.encoder.forward(&ids_t)?;
        let log_w = self
            .durations
            .log_durations(&enc.hidden, noise.normal(2 * len, scales.noise_w))
            .await?;
        let durations: Vec<u32> = log_w
            .iter()
            .map(|lw| (lw.exp() * scales.length).ceil().max(0.0) as u32)
            .collect();
        let frames = (durations.iter().map(|&d| d as usize).sum::<usize>()).max(1);
        if frames > MAX_FRAMES {
            return Err(Error::invalid(
                "vits",
                format!("{frames} frames for one sentence; at most {MAX_FRAMES}"),
            ));
        }
        // Each frame takes its phoneme's prior (the reference's one-hot path matrix, as indices). A sentence
        // whose durations all round to 0 still gets one frame of its last phoneme's prior, as the reference's
        // `clamp_min(1)`: the path is empty there, so that frame's prior is 0.
        let mut frame_ids: Vec<u32> = Vec::with_capacity(frames);
        for (i, &d) in durations.iter().enumerate() {
            frame_ids.extend(std::iter::repeat_n(i as u32, d as usize));
        }
        let latent = self.config.latent;
        let (mean, log_std) = if frame_ids.is_empty() {
            let zero = Tensor::zeros([1, latent], crate::DType::F32, &self.device)?;
            (zero.clone(), zero)
        } else {
            let idx = Tensor::from_u32(frame_ids, [frames], &self.device)?;
            (
                enc.mean.index_select(&idx, 0)?,
                enc.log_std.index_select(&idx, 0)?,
            )
        };
        let mut z = mean;
        if scales.noise != 0.0 {
            let eps = Tensor::from_f32(
                noise.normal(frames * latent, scales.noise),
                [frames, latent],
                &self.device,
            )?;
            z = z.add(&eps.mul(&log_std.exp()?)?)?;
        }
        let z = z.t()?.contiguous()?.unsqueeze(0)?;
        let audio = self
            .decoder
            .forward(&self.flow.reverse(&z)?)?
            .to_vec_f32_async()
            .await?;
        Ok(Synthesis { audio, durations })
    }
}
