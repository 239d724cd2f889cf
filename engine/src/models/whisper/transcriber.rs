//! [`WhisperTranscriber`]: audio in, segments out. Every readback is async, so the same code runs in a browser
//! worker (WebGPU) and natively (block on the future).

use super::quality::{self, candidate_seed, QualityRules, WindowScores};
use super::{
    apply_logit_rules, argmax, split_segments, Config, GenerationConfig, Segment, SegmentRules,
    Task, Whisper, WhisperTokenizer,
};
use crate::audio::mel::{MelFeatures, MelSpectrogram, HOP_LENGTH, N_FRAMES, N_SAMPLES};
use crate::generation::{CancelFlag, Sampler, SamplingParams};
use crate::io::VarBuilder;
use crate::{Device, Error, Result, Tensor};

/// faster-whisper's `prompt_reset_on_temperature`: text decoded hotter than this does not prompt the next window.
const PROMPT_RESET_TEMPERATURE: f32 = 0.5;

/// What to decode and how.
#[derive(Debug, Clone, Default)]
pub struct TranscribeOptions {
    /// Language code ("en", "fr"…); `None` detects it from the first 30 seconds (multilingual models).
    pub language: Option<String>,
    /// Transcribe or translate to English.
    pub task: Task,
    /// Predict timestamp tokens (segments with times); without, `<|notimestamps|>` is forced.
    pub timestamps: bool,
    /// New tokens per 30-second window; `None` fills the model's context (`max_length` of the generation config).
    pub max_new_tokens: Option<usize>,
    /// Text ahead of the audio that sets spelling and style (names, jargon, punctuation), as faster-whisper's
    /// `initial_prompt`: prompted to the first window, and to later ones while conditioning on earlier text.
    pub initial_prompt: Option<String>,
    /// Prompt each 30-second window with the text written so far (faster-whisper's default): steadier
    /// wording across windows, at the risk of carrying a mistake along.
    pub condition_on_previous_text: bool,
    /// Checked before every decoder step: once set, transcription ends with [`Error::Cancelled`] within one
    /// token, not at the end of the window (a window of a slow model can take many seconds).
    pub cancel: CancelFlag,
    /// Judge each window as faster-whisper does: skip silence, decode unsure or repetitive windows again at
    /// higher temperatures ([`QualityRules`]). `None`: one greedy decode per window, kept whatever it is.
    pub quality: Option<QualityRules>,
}

/// One decode of a window: its new tokens (end of text left out) and what it is judged by.
struct Decoded {
    tokens: Vec<u32>,
    /// Log-probabilities of the chosen tokens, the end of text included when it was chosen.
    sum_logprob: f64,
    /// Softmax of the no-speech token at the start-of-transcript position.
    no_speech_prob: Option<f64>,
}

/// The result of [`WhisperTranscriber::transcribe`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Transcript {
    /// Language code used (given or detected); `None` for English-only models.
    pub language: Option<String>,
    /// All segment tokens in order (what transformers' `generate` returns).
    pub tokens: Vec<u32>,
    /// Segments with times and text.
    pub segments: Vec<Segment>,
    /// The whole text.
    pub text: String,
}

/// A loaded Whisper model with its decoding settings, front end and tokenizer.
pub struct WhisperTranscriber {
    model: Whisper,
    gen: GenerationConfig,
    mel: MelSpectrogram,
    tokenizer: Option<WhisperTokenizer>,
    device: Device,
    padding: FeaturePadding,
}

/// How audio shorter than a 30-second window is padded. The two reference runtimes differ, and a model's
/// outputs follow the one it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeaturePadding {
    /// openai-whisper and transformers: the audio is padded with silence to 30 s and the log-mel is computed
    /// (and normalised) over all of it.
    #[default]
    Audio,
    /// faster-whisper (CTranslate2 models): the log-mel of the audio itself (plus one hop of silence),
    /// normalised over the audio, then the window is padded with zero features.
    Features,
}

/// `feats` minus its last frame.
fn without_last_frame(feats: MelFeatures) -> MelFeatures {
    let n = feats.n_frames.saturating_sub(1);
    let data = (0..feats.n_mels)
        .flat_map(|m| {
            feats.data[m * feats.n_frames..m * feats.n_frames + n]
                .iter()
                .copied()
        })
        .collect();
    MelFeatures {
        data,
        n_mels: feats.n_mels,
        n_frames: n,
    }
}

impl WhisperTranscriber {
    /// Assembles a transcriber from a loaded model (the tokenizer is optional: without it, text is empty).
    pub fn new(
        model: Whisper,
        gen: GenerationConfig,
        tokenizer: Option<WhisperTokenizer>,
        device: &Device,
    ) -> Result<Self> {
        let mel = MelSpectrogram::new(model.config().num_mel_bins)?;
        Ok(WhisperTranscriber {
            model,
            gen,
            mel,
            tokenizer,
            device: device.clone(),
            padding: FeaturePadding::Audio,
        })
    }

    /// The same transcriber with another padding convention.
    pub fn with_feature_padding(mut self, padding: FeaturePadding) -> Self {
        self.padding = padding;
        self
    }

    /// Loads from the bytes of a model folder's `config.json`, `generation_config.json`, `tokenizer.json` and
    /// weights (a [`VarBuilder`] over `model.safetensors`, with whatever dtype policy the caller chose).
    pub fn from_parts(
        config_json: &[u8],
        generation_json: &[u8],
        tokenizer_json: Option<&[u8]>,
        vb: &VarBuilder,
    ) -> Result<Self> {
        let config: Config = crate::io::hf::parse_config(config_json)?;
        let gen: GenerationConfig = crate::io::hf::parse_config(generation_json)?;
        let tokenizer = tokenizer_json
            .map(WhisperTokenizer::from_json)
            .transpose()?;
        let model = Whisper::load(vb, config)?;
        Self::new(model, gen, tokenizer, vb.device())
    }

    /// Loads a CTranslate2 Whisper (`model.bin`, its `config.json`, `tokenizer.json`: the
    /// `Systran/faster-whisper-*` files); `weights_as` sets how the weights are held (dtype policy, load-time
    /// quantization) on the converted checkpoint.
    pub fn from_ctranslate2(
        model_bin: &[u8],
        ct2_config: &[u8],
        tokenizer_json: &[u8],
        device: &Device,
        weights_as: impl FnOnce(VarBuilder) -> Result<VarBuilder>,
    ) -> Result<Self> {
        let parts = super::ct2::convert(model_bin, ct2_config, tokenizer_json)?;
        let vb = weights_as(VarBuilder::from_safetensors(parts.safetensors, device)?)?;
        // The files are faster-whisper's, and so is the front end their outputs are checked against.
        Ok(Self::from_parts(
            &parts.config_json,
            &parts.generation_json,
            Some(tokenizer_json),
            &vb,
        )?
        .with_feature_padding(FeaturePadding::Features))
    }

    /// Loads a model folder from disk (native only): Hugging Face's layout (`model.safetensors`,
    /// `config.json`, `generation_config.json`) or CTranslate2's (`model.bin`, `config.json`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_folder(dir: impl AsRef<std::path::Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        if dir.join("model.bin").is_file() && !dir.join("model.safetensors").is_file() {
            let read = |f: &str| {
                std::fs::read(dir.join(f)).map_err(|e| {
                    Error::Malformed(format!("cannot read {}: {e}", dir.join(f).display()))
                })
            };
            return Self::from_ctranslate2(
                &read("model.bin")?,
                &read("config.json")?,
                &read("tokenizer.json")?,
                device,
                Ok,
            );
        }
        let folder = crate::io::hf::ModelFolder::new(dir);
        let tokenizer = folder.read("tokenizer.json").ok();
        Self::from_parts(
            &folder.read("config.json")?,
            &folder.read("generation_config.json")?,
            tokenizer.as_deref(),
            &folder.var_builder(device)?,
        )
    }

    /// The model.
    pub fn model(&self) -> &Whisper {
        &self.model
    }

    /// The log-mel front end.
    pub fn mel(&self) -> &MelSpectrogram {
        &self.mel
    }

    /// The decoding settings.
    pub fn generation_config(&self) -> &GenerationConfig {
        &self.gen
    }

    async fn read(&self, t: &Tensor) -> Result<Vec<f32>> {
        match self.device {
            Device::Cpu => t.to_vec_f32(),
            Device::Gpu(_) => t.to_vec_f32_async().await,
        }
    }

    fn encode_window(&self, feats: &MelFeatures, start: usize) -> Result<Tensor> {
        let window = feats.window(start, N_FRAMES);
        let mel = Tensor::from_f32(window, [feats.n_mels, N_FRAMES], &self.device)?;
        self.model.encode(&mel)
    }

    /// The most likely language of a 30-second window (`detect_language` in transformers): the decoder's
    /// choice among language tokens after `<|startoftranscript|>`.
    pub async fn detect_language(&self, feats: &MelFeatures) -> Result<String> {
        if self.gen.lang_to_id.is_empty() {
            return Err(Error::invalid(
                "whisper",
                "this model has no language tokens (an English-only model?)",
            ));
        }
        let encoded = self.encode_window(feats, 0)?;
        let mut state = self.model.start(&encoded)?;
        let logits = self
            .read(
                &self
                    .model
                    .step(&mut state, &[self.gen.decoder_start_token_id])?,
            )
            .await?;
        let mut best: Option<(u32, f32)> = None;
        for &id in self.gen.lang_to_id.values() {
            let v = logits
                .get(id as usize)
                .copied()
                .unwrap_or(f32::NEG_INFINITY);
            // Ties go to the lower id, as an argmax over the vocabulary would.
            if best.is_none_or(|(b, bv)| v > bv || (v == bv && id < b)) {
                best = Some((id, v));
            }
        }
        best.and_then(|(id, _)| self.gen.language_code(id))
            .ok_or_else(|| Error::invalid("whisper", "language detection found no language token"))
    }

    fn prompt(&self, language: Option<&str>, opts: &TranscribeOptions) -> Result<Vec<u32>> {
        let mut init = vec![self.gen.decoder_start_token_id];
        if self.gen.is_multilingual {
            if let Some(code) = language {
                init.push(self.gen.language_token(code)?);
            }
            let task = self
                .gen
                .task_to_id
                .get(opts.task.name())
                .copied()
                .ok_or_else(|| {
                    Error::invalid("whisper", format!("this model cannot {}", opts.task.name()))
                })?;
            init.push(task);
        }
        if !opts.timestamps {
            init.push(self.gen.no_timestamps_token_id);
        }
        Ok(init)
    }

    /// The ids of a person's prompt text, as faster-whisper encodes `initial_prompt` (a leading space).
    fn prompt_tokens(&self, text: &str) -> Result<Vec<u32>> {
        let tok = self.tokenizer.as_ref().ok_or_else(|| {
            Error::invalid(
                "whisper prompt",
                "a text prompt needs the model's tokenizer",
            )
        })?;
        tok.encode(&format!(" {}", text.trim()))
    }

    /// `<|startofprev|>` and the last of `previous` (at most half the context), then the start sequence.
    fn with_previous(&self, previous: &[u32], init: &[u32]) -> Result<Vec<u32>> {
        if previous.is_empty() {
            return Ok(init.to_vec());
        }
        let sot_prev = self.gen.prev_sot_token_id.ok_or_else(|| {
            Error::invalid("whisper prompt", "this model has no <|startofprev|> token")
        })?;
        let keep = (self.model.config().max_target_positions / 2).saturating_sub(1);
        let mut out = vec![sot_prev];
        out.extend_from_slice(&previous[previous.len().saturating_sub(keep)..]);
        out.extend_from_slice(init);
        Ok(out)
    }

    /// Decodes one window after `init`: greedy at temperature 0, else sampled with `seed`. The no-speech
    /// probability is read at the start-of-transcript token of `init` when `quality` scoring is on.
    async fn decode_window(
        &self,
        encoded: &Tensor,
        init: &[u32],
        max_new: usize,
        opts: &TranscribeOptions,
        temperature: f32,
        seed: u64,
    ) -> Result<Decoded> {
        let timestamps = opts.timestamps;
        opts.cancel.check()?;
        let mut state = self.model.start(encoded)?;
        let sot_at = init
            .iter()
            .rposition(|&t| t == self.gen.decoder_start_token_id);
        let (mut logits, no_speech_prob) = match (&opts.quality, sot_at, self.no_speech_token()) {
            (Some(_), Some(at), Some(no_speech)) => {
                let (last, at_sot) = self.model.step_also_at(&mut state, init, at)?;
                let at_sot = self.read(&at_sot).await?;
                (last, Some(quality::prob(&at_sot, no_speech as usize)))
            }
            _ => (self.model.step(&mut state, init)?, None),
        };
        let mut sampler = if temperature > 0.0 {
            Some(Sampler::new(SamplingParams {
                temperature,
                top_k: 0,
                top_p: 1.0,
                min_p: 0.0,
                seed,
                ..SamplingParams::greedy()
            })?)
        } else {
            None
        };
        let mut out = Vec::new();
        let mut sum_logprob = 0.0;
        while out.len() < max_new {
            opts.cancel.check()?;
            let mut values = self.read(&logits).await?;
            apply_logit_rules(&mut values, &out, &self.gen, timestamps);
            let next = match sampler.as_mut() {
                Some(s) => s.sample(&mut values.clone(), &out)?,
                None => argmax(&values),
            };
            if opts.quality.is_some() {
                sum_logprob += quality::log_prob(&values, next as usize);
            }
            if next == self.gen.eos_token_id {
                break;
            }
            out.push(next);
            if out.len() == max_new {
                break;
            }
            logits = self.model.step(&mut state, &[next])?;
        }
        Ok(Decoded {
            tokens: out,
            sum_logprob,
            no_speech_prob,
        })
    }

    /// The no-speech token (`<|nospeech|>` in newer vocabularies, `<|nocaptions|>` before).
    fn no_speech_token(&self) -> Option<u32> {
        let tok = self.tokenizer.as_ref()?;
        tok.special_id("<|nospeech|>")
            .or_else(|| tok.special_id("<|nocaptions|>"))
    }

    /// The text of a window's tokens (timestamps and other special tokens left out).
    fn text_of(&self, tokens: &[u32]) -> String {
        self.tokenizer
            .as_ref()
            .map(|t| t.decode(tokens))
            .unwrap_or_default()
    }

    /// How one decode is judged (faster-whisper's `generate_with_fallback`).
    fn scores_of(&self, d: &Decoded, temperature: f32) -> WindowScores {
        WindowScores {
            avg_logprob: d.sum_logprob / (d.tokens.len() + 1) as f64,
            compression_ratio: quality::compression_ratio(self.text_of(&d.tokens).trim()),
            no_speech_prob: d.no_speech_prob,
            temperature,
        }
    }

    /// Decodes a window under `rules`: greedy first, then `best_of` samples at each higher temperature while
    /// the result is unsure or repetitive; the first that passes is kept, else the best of all tries (by
    /// average log-probability, among those not too repetitive if any).
    async fn decode_judged(
        &self,
        encoded: &Tensor,
        init: &[u32],
        max_new: usize,
        opts: &TranscribeOptions,
        rules: &QualityRules,
        window: usize,
    ) -> Result<(Vec<u32>, WindowScores)> {
        let mut tries: Vec<(Vec<u32>, WindowScores)> = Vec::new();
        for (ti, &temperature) in rules.temperatures.iter().enumerate() {
            let candidates = if temperature > 0.0 {
                rules.best_of.max(1)
            } else {
                1
            };
            let mut best: Option<(Vec<u32>, WindowScores, f64)> = None;
            for c in 0..candidates {
                let seed = candidate_seed(rules, window, ti, c);
                let d = self
                    .decode_window(encoded, init, max_new, opts, temperature, seed)
                    .await?;
                let scores = self.scores_of(&d, temperature);
                // Candidates are ranked by their length-normalised log-probability, as CTranslate2 ranks
                // hypotheses (length penalty 1).
                let rank = d.sum_logprob / d.tokens.len().max(1) as f64;
                if best.as_ref().is_none_or(|b| rank > b.2) {
                    best = Some((d.tokens, scores, rank));
                }
            }
            let Some((tokens, scores, _)) = best else {
                continue;
            };
            if !rules.needs_fallback(&scores) {
                return Ok((tokens, scores));
            }
            tries.push((tokens, scores));
        }
        let not_repetitive: Vec<&(Vec<u32>, WindowScores)> = tries
            .iter()
            .filter(|t| t.1.compression_ratio <= rules.compression_ratio_threshold)
            .collect();
        let pool: Vec<&(Vec<u32>, WindowScores)> = if not_repetitive.is_empty() {
            tries.iter().collect()
        } else {
            not_repetitive
        };
        pool.into_iter()
            .max_by(|a, b| a.1.avg_logprob.total_cmp(&b.1.avg_logprob))
            .cloned()
            .ok_or_else(|| Error::invalid("whisper", "the quality rules list no temperature"))
    }

    /// Transcribes 16 kHz mono `samples`. Up to 30 s is one padded window; longer audio is walked in 30-second
    /// windows with seek, as transformers' long-form `generate`.
    pub async fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let feats = match self.padding {
            FeaturePadding::Audio if samples.len() <= N_SAMPLES => self.mel.window_30s(samples),
            FeaturePadding::Audio => self.mel.compute(samples),
            FeaturePadding::Features => {
                let mut padded = Vec::with_capacity(samples.len() + HOP_LENGTH);
                padded.extend_from_slice(samples);
                padded.resize(samples.len() + HOP_LENGTH, 0.0);
                // Normalised over every frame, but the last (the hop of silence) is not content.
                without_last_frame(self.mel.compute(&padded))
            }
        };
        self.transcribe_features(&feats, opts).await
    }

    /// Transcribes precomputed log-mel features (all of their frames are audio).
    pub async fn transcribe_features(
        &self,
        feats: &MelFeatures,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        if feats.n_mels != self.mel.n_mels() {
            return Err(Error::invalid(
                "whisper",
                format!(
                    "features have {} mel bins, the model wants {}",
                    feats.n_mels,
                    self.mel.n_mels()
                ),
            ));
        }
        let language = match (&opts.language, self.gen.is_multilingual) {
            (_, false) => None,
            (Some(code), true) => Some(code.clone()),
            (None, true) => Some(self.detect_language(feats).await?),
        };
        let init = self.prompt(language.as_deref(), opts)?;
        let context = self.model.config().max_target_positions;
        let max_len = self.gen.max_length.unwrap_or(context).min(context);
        let max_new = |prompt_len: usize| {
            opts.max_new_tokens
                .unwrap_or(max_len.saturating_sub(prompt_len))
                .min(context.saturating_sub(prompt_len))
        };
        // What the windows are prompted with, as faster-whisper keeps it: the person's prompt, then each
        // window's tokens; without conditioning, only what came since the last window.
        let mut all_tokens = match opts.initial_prompt.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => self.prompt_tokens(text)?,
            _ => Vec::new(),
        };
        let mut prompt_reset_since = 0usize;
        let ts_begin = self.gen.timestamp_begin();
        let max_frames = feats.n_frames;
        let mut seek = 0usize;
        let mut window = 0usize;
        let mut segments = Vec::new();
        while seek < max_frames {
            let seek_frames = (max_frames - seek).min(N_FRAMES);
            let time_offset = seek as f64 * 0.02 / 2.0;
            let encoded = self.encode_window(feats, seek)?;
            let prompt = self.with_previous(&all_tokens[prompt_reset_since..], &init)?;
            let max_new = max_new(prompt.len());
            let (seq, scores) = match &opts.quality {
                None => {
                    let d = self
                        .decode_window(&encoded, &prompt, max_new, opts, 0.0, 0)
                        .await?;
                    (d.tokens, WindowScores::default())
                }
                Some(rules) => {
                    self.decode_judged(&encoded, &prompt, max_new, opts, rules, window)
                        .await?
                }
            };
            window += 1;
            if opts.quality.as_ref().is_some_and(|r| r.is_silence(&scores)) {
                // faster-whisper's no-speech rule: the whole window is silence, music or noise.
                seek += seek_frames;
                continue;
            }
            let rules = match self.padding {
                FeaturePadding::Audio => SegmentRules::Transformers,
                FeaturePadding::Features => SegmentRules::FasterWhisper,
            };
            let (mut segs, offset) =
                split_segments(&seq, ts_begin, time_offset, seek_frames, rules);
            if let Some(tok) = &self.tokenizer {
                for s in &mut segs {
                    s.text = tok.decode(&s.tokens);
                }
            }
            for s in &mut segs {
                s.scores = scores;
            }
            for s in &segs {
                // faster-whisper leaves empty and zero-length segments out of what later windows see.
                if s.start != s.end && !s.text.trim().is_empty() {
                    all_tokens.extend_from_slice(&s.tokens);
                }
            }
            // A window that needed a hot temperature is not trusted as the next one's prompt.
            if !opts.condition_on_previous_text || scores.temperature > PROMPT_RESET_TEMPERATURE {
                prompt_reset_since = all_tokens.len();
            }
            segments.extend(segs);
            // A window that would not move (a `<|0.00|>` pair) is skipped rather than decoded forever.
            seek += if offset == 0 { seek_frames } else { offset };
        }
        let tokens: Vec<u32> = segments
            .iter()
            .flat_map(|s| s.tokens.iter().copied())
            .collect();
        let text = segments.iter().map(|s| s.text.as_str()).collect();
        Ok(Transcript {
            language,
            tokens,
            segments,
            text,
        })
    }
}
