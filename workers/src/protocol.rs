//! Typed messages between the UI and the engine worker. Every request carries a [`JobId`]; the worker
//! answers with any number of [`WorkerEvent::Progress`] / [`WorkerEvent::Partial`] events and then exactly
//! one of `Done`, `Failed` or `Cancelled` for that job.

use serde::{Deserialize, Serialize};

mod chat;
pub use chat::{ChatRole, ChatSettings, ChatTurn};

/// Identifies one request and all the events it causes.
pub type JobId = u32;

/// What the UI asks the worker to do.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkerRequest {
    /// Read the WebGPU adapter (features, limits) and run the micro-benchmark.
    Probe { job: JobId },
    /// Download, verify and cache every file of a catalog variant.
    Download {
        job: JobId,
        variant_id: String,
        mirror: Option<String>,
    },
    /// List cached models and the storage estimate.
    ListCached { job: JobId },
    /// Delete a cached model's files.
    Delete { job: JobId, variant_id: String },
    /// A small engine workload (repeated matmuls) used to check a backend end to end; cancellable.
    SelfTest {
        job: JobId,
        backend: Backend,
        iterations: u32,
    },
    /// Embed passages with a catalog model (downloading it first if needed) and save them as a named
    /// collection (replacing one of the same name).
    BuildIndex {
        job: JobId,
        collection: String,
        variant_id: String,
        mirror: Option<String>,
        backend: Backend,
        passages: Vec<String>,
    },
    /// Top-k passages of a saved collection for a query.
    Search {
        job: JobId,
        collection: String,
        query: String,
        top_k: u32,
        backend: Backend,
        mirror: Option<String>,
    },
    /// The saved collections.
    ListCollections { job: JobId },
    /// Delete a saved collection.
    DeleteCollection { job: JobId, collection: String },
    /// Start a live voice-activity session (microphone): the job streams [`WorkerEvent::Voice`] updates
    /// for the audio sent with `VoiceAudio` and ends with the segments after `VoiceStop`.
    VoiceStart { job: JobId, settings: VadSettings },
    /// Audio for a live session: mono samples at `rate` Hz (resampled to 16 kHz in the worker).
    VoiceAudio {
        job: JobId,
        samples: Vec<f32>,
        rate: u32,
    },
    /// End a live session; the job ends with `JobResult::Voice`.
    VoiceStop { job: JobId },
    /// Voice activity over a whole file, streamed in from the page piece by piece (see [`AudioInput`]).
    VoiceFile {
        job: JobId,
        audio: AudioInput,
        settings: VadSettings,
    },
    /// Live transcription (microphone): a voice-activity session (fed with `VoiceAudio`, ended with
    /// `VoiceStop`) whose utterances are transcribed as each ends; streams [`WorkerEvent::Voice`] and
    /// [`WorkerEvent::Transcript`] updates and ends with `JobResult::Transcript`.
    TranscribeStart {
        job: JobId,
        vad: VadSettings,
        model: ModelChoice,
        settings: TranscribeSettings,
    },
    /// Transcription of a whole file (streamed in like `VoiceFile`), cut into utterances by voice
    /// activity; streams [`WorkerEvent::Transcript`] updates as each utterance is done.
    TranscribeFile {
        job: JobId,
        audio: AudioInput,
        vad: VadSettings,
        model: ModelChoice,
        settings: TranscribeSettings,
    },
    /// A piece of a file job's audio, answering [`WorkerEvent::AudioWanted`].
    FileAudio {
        job: JobId,
        /// Where the piece starts: a byte offset for [`AudioInput::Wav`], a frame for
        /// [`AudioInput::Decoded`].
        from: u64,
        data: FileData,
    },
    /// A chat model's reply to a conversation: the reply streams as [`WorkerEvent::Partial`] text and the job
    /// ends with `JobResult::ChatReply`. The worker keeps the conversation's KV cache, so a next turn that
    /// starts with the same messages only runs its new tokens.
    Chat {
        job: JobId,
        model: ModelChoice,
        messages: Vec<ChatTurn>,
        settings: ChatSettings,
    },
    /// Stop a running job. The job ends with `Cancelled`.
    Cancel { job: JobId },
}

/// A piece of a file: bytes of a WAV file, samples the browser decoded, or why it could not be read.
/// Empty bytes or samples mean the end of the file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum FileData {
    Bytes(Vec<u8>),
    Samples(Vec<f32>),
    Unreadable(String),
}

/// Which catalog model runs a job, from where it is downloaded, and on which backend.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelChoice {
    pub variant_id: String,
    /// A mirror with the Hugging Face layout; `None` is the Hub.
    pub mirror: Option<String>,
    pub backend: Backend,
}

/// Whisper decoding choices, carried in the page's URL (`lang`, `task`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TranscribeSettings {
    /// Language code ("fr"); `None` detects it per utterance.
    pub language: Option<String>,
    /// Translate to English instead of transcribing in the spoken language.
    pub translate: bool,
}

/// One timed line of a transcript.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TranscriptLine {
    /// Start in seconds from the beginning of the recording.
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

/// The audio of a file job. Neither side holds the whole of it: the worker asks for one piece at a time
/// ([`WorkerEvent::AudioWanted`]) and the page reads just that piece of the file ([`WorkerRequest::FileAudio`]),
/// so a recording of hours streams through in bounded memory.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum AudioInput {
    /// A `.wav` file of `bytes` bytes, decoded in the worker as it streams in.
    Wav { bytes: u64 },
    /// Mono samples at `rate` Hz that the page decoded (other formats, through `decodeAudioData`).
    Decoded { frames: u64, rate: u32 },
}

/// Voice-activity settings (vad-web's names), carried in the page's URL.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct VadSettings {
    /// A frame at or above this probability is speech.
    pub positive_threshold: f32,
    /// Frames below this probability count towards the end of speech.
    pub negative_threshold: f32,
    /// Speech shorter than this (ms) is ignored.
    pub min_speech_ms: f32,
    /// Audio kept before the start of speech (ms).
    pub pre_speech_pad_ms: f32,
    /// Silence (ms) that ends a segment.
    pub redemption_ms: f32,
}

impl Default for VadSettings {
    /// vad-web's defaults for Silero v5.
    fn default() -> Self {
        VadSettings {
            positive_threshold: 0.5,
            negative_threshold: 0.35,
            min_speech_ms: 400.0,
            pre_speech_pad_ms: 800.0,
            redemption_ms: 1400.0,
        }
    }
}

/// A detected stretch of speech.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeechSegment {
    pub start_s: f64,
    pub end_s: f64,
    /// Its audio as a 16 kHz 16-bit mono WAV file, for live sessions (the microphone's audio is kept
    /// nowhere else). `None` for files: the page cuts the span from the file itself when asked.
    pub wav: Option<Vec<u8>>,
}

/// What a live voice session learnt from the latest audio.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VoiceUpdate {
    /// Speech probability of each new 32 ms frame.
    pub probs: Vec<f32>,
    /// Whether speech is in progress after these frames.
    pub speaking: bool,
    /// Segments that ended in these frames.
    pub segments: Vec<SpeechSegment>,
    /// Seconds of audio processed so far.
    pub seconds: f64,
}

impl WorkerRequest {
    /// The job this request belongs to.
    pub fn job(&self) -> JobId {
        match self {
            WorkerRequest::Probe { job }
            | WorkerRequest::Download { job, .. }
            | WorkerRequest::ListCached { job }
            | WorkerRequest::Delete { job, .. }
            | WorkerRequest::SelfTest { job, .. }
            | WorkerRequest::BuildIndex { job, .. }
            | WorkerRequest::Search { job, .. }
            | WorkerRequest::ListCollections { job }
            | WorkerRequest::DeleteCollection { job, .. }
            | WorkerRequest::VoiceStart { job, .. }
            | WorkerRequest::VoiceAudio { job, .. }
            | WorkerRequest::VoiceStop { job }
            | WorkerRequest::VoiceFile { job, .. }
            | WorkerRequest::TranscribeStart { job, .. }
            | WorkerRequest::TranscribeFile { job, .. }
            | WorkerRequest::FileAudio { job, .. }
            | WorkerRequest::Chat { job, .. }
            | WorkerRequest::Cancel { job } => *job,
        }
    }
}

/// Which engine backend runs a job: the same type the plan decides with.
pub use offgrid_catalog::Backend;

/// What a slow job is doing right now.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Stage {
    CheckingStorage,
    Downloading,
    Verifying,
    Caching,
    Loading,
    Running,
    /// Reading a recording: `done` and `total` are milliseconds of audio (`total` 0 when unknown).
    Listening,
}

impl Stage {
    /// Words for the progress line.
    pub fn label(self) -> &'static str {
        match self {
            Stage::CheckingStorage => "Checking storage",
            Stage::Downloading => "Downloading",
            Stage::Verifying => "Verifying",
            Stage::Caching => "Saving for offline use",
            Stage::Loading => "Loading",
            Stage::Running => "Running",
            Stage::Listening => "Processing audio",
        }
    }
}

/// Progress of a job: per file and in total, in bytes (or steps for `Running`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub stage: Stage,
    pub file: Option<String>,
    pub file_done: u64,
    pub file_total: u64,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    /// Progress counted in steps (loading, running), with no file involved.
    pub fn steps(stage: Stage, done: u64, total: u64) -> Progress {
        Progress {
            stage,
            file: None,
            file_done: 0,
            file_total: 0,
            done,
            total,
        }
    }
}

/// What the worker tells the UI.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkerEvent {
    Progress {
        job: JobId,
        progress: Progress,
    },
    /// A piece of a streamed result (e.g. text as it is produced).
    Partial {
        job: JobId,
        text: String,
    },
    Done {
        job: JobId,
        result: JobResult,
    },
    Failed {
        job: JobId,
        error: WorkerError,
    },
    Cancelled {
        job: JobId,
    },
    /// A live voice session's new frames and segments.
    Voice {
        job: JobId,
        update: VoiceUpdate,
    },
    /// A file job wants the next piece of its audio: `len` bytes (WAV) or frames (decoded audio) from
    /// `from`. The page answers with [`WorkerRequest::FileAudio`]; the worker asks again only once it has
    /// that piece, so at most one piece is in flight.
    AudioWanted {
        job: JobId,
        from: u64,
        len: u64,
    },
    /// Transcript lines of an utterance that was just transcribed.
    Transcript {
        job: JobId,
        lines: Vec<TranscriptLine>,
        /// The language used (given or detected); `None` for English-only models.
        language: Option<String>,
    },
}

impl WorkerEvent {
    /// The job this event belongs to.
    pub fn job(&self) -> JobId {
        match self {
            WorkerEvent::Progress { job, .. }
            | WorkerEvent::Partial { job, .. }
            | WorkerEvent::Done { job, .. }
            | WorkerEvent::Failed { job, .. }
            | WorkerEvent::Cancelled { job }
            | WorkerEvent::Voice { job, .. }
            | WorkerEvent::AudioWanted { job, .. }
            | WorkerEvent::Transcript { job, .. } => *job,
        }
    }
    /// Whether this event ends its job.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            WorkerEvent::Progress { .. }
                | WorkerEvent::Partial { .. }
                | WorkerEvent::Voice { .. }
                | WorkerEvent::AudioWanted { .. }
                | WorkerEvent::Transcript { .. }
        )
    }
}

/// The result of a finished job.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum JobResult {
    Probe(GpuProbe),
    Cached(CacheReport),
    Downloaded {
        variant_id: String,
        bytes: u64,
        from_cache: bool,
    },
    Deleted {
        variant_id: String,
        files: u32,
    },
    SelfTest {
        backend: Backend,
        millis: f64,
        checksum: f32,
    },
    IndexBuilt {
        collection: String,
        passages: u32,
        truncated: Vec<u32>,
        millis: f64,
        backend: Backend,
    },
    SearchResults {
        collection: String,
        query: String,
        hits: Vec<SearchHit>,
        millis: f64,
    },
    Collections(Vec<CollectionInfo>),
    DeletedCollection {
        collection: String,
    },
    /// Voice activity of a file or a finished live session.
    Voice {
        /// Speech probabilities for the plot: each the largest of `prob_frames` consecutive 32 ms frames
        /// (1 for short audio; more for long recordings, so the list stays a few thousand long).
        probs: Vec<f32>,
        prob_frames: u32,
        segments: Vec<SpeechSegment>,
        seconds: f64,
        /// Something the person should know about the result (a file that was cut short).
        notice: Option<String>,
    },
    /// A finished chat reply and what it cost.
    ChatReply {
        text: String,
        /// Why it ended: `end_of_turn`, `max_tokens`, `context_full`, `stop_string` or `cancelled`.
        stop: String,
        prompt_tokens: u32,
        /// Prompt tokens already in the conversation's cache (not run again).
        reused_tokens: u32,
        /// Old messages left out because the conversation outgrew the context.
        dropped_messages: u32,
        /// Tokens the conversation holds after this reply, and the most it can hold.
        context_used: u32,
        context_len: u32,
        prefill_tok_s: f64,
        decode_tok_s: f64,
        backend: Backend,
    },
    /// A finished transcription: every line, in order.
    Transcript {
        lines: Vec<TranscriptLine>,
        language: Option<String>,
        /// Seconds of audio heard.
        seconds: f64,
        /// Something the person should know about the result (a file that was cut short).
        notice: Option<String>,
    },
}

/// One search result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SearchHit {
    pub index: u32,
    pub score: f32,
    pub text: String,
}

/// A saved collection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CollectionInfo {
    pub name: String,
    pub variant_id: String,
    pub passages: u32,
    pub bytes: u64,
}

/// The worker's half of the hardware probe: what WebGPU offers in a worker.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct GpuProbe {
    pub webgpu: bool,
    /// Why there is no adapter, when there is none.
    pub unavailable_reason: Option<String>,
    pub vendor: String,
    pub architecture: String,
    pub device: String,
    pub description: String,
    pub is_software: bool,
    pub features: Vec<String>,
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u64,
    pub max_compute_workgroup_size_x: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_workgroups_per_dimension: u32,
    /// Measured by the micro-benchmark: GEMM throughput on the GPU, if it ran.
    pub gpu_gflops: Option<f64>,
    /// Measured by the micro-benchmark: GEMM throughput on the CPU (wasm).
    pub cpu_gflops: Option<f64>,
    /// Measured by the micro-benchmark: copy bandwidth (read + write) on the GPU, GB/s.
    #[serde(default)]
    pub gpu_gbps: Option<f64>,
    /// Measured by the micro-benchmark: copy bandwidth (read + write) on the CPU, GB/s.
    #[serde(default)]
    pub cpu_gbps: Option<f64>,
}

/// Cached models and the browser's storage estimate.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CacheReport {
    pub models: Vec<CachedModel>,
    pub usage_bytes: Option<u64>,
    pub quota_bytes: Option<u64>,
}

/// One catalog variant and how much of it is cached.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CachedModel {
    pub variant_id: String,
    pub files_cached: u32,
    pub files_total: u32,
    pub bytes: u64,
}

/// Why a job failed, in words a person can act on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorkerError {
    pub kind: ErrorKind,
    pub message: String,
}

/// The kind of failure, so the UI can offer the right action.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ErrorKind {
    /// The network or the mirror failed (offline, CORS, 5xx); retrying may help.
    Network,
    /// The file is not on the model source (404).
    NotFound,
    /// The downloaded bytes do not match the catalog's hash; nothing was cached.
    Integrity,
    /// Not enough storage for the model.
    Quota,
    /// The request itself is wrong (unknown model, bad mirror URL).
    BadInput,
    /// The GPU went away; the worker will be restarted.
    DeviceLost,
    /// A bug or an unexpected browser failure.
    Internal,
}

impl WorkerError {
    /// Builds an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WorkerError {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Name of the BroadcastChannel on which a crashing worker says so (gloo's bridge has no error hook).
pub const CRASH_CHANNEL: &str = "offgrid-worker-crash";

/// Cache Storage name for model files. App updates never delete it (the service worker only removes
/// `offgrid-shell-*` caches).
pub const MODEL_CACHE: &str = "offgrid-models-v1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_pieces_belong_to_their_job_and_never_end_it() {
        let wanted = WorkerEvent::AudioWanted {
            job: 7,
            from: 44,
            len: 2 << 20,
        };
        assert_eq!(wanted.job(), 7);
        assert!(
            !wanted.is_final(),
            "asking for audio is not the end of the job"
        );
        let piece = WorkerRequest::FileAudio {
            job: 7,
            from: 44,
            data: FileData::Bytes(vec![1, 2, 3]),
        };
        assert_eq!(piece.job(), 7);
        // The serde derive is what the bridge encodes (with bincode) on its way to the worker.
        let json = serde_json::to_string(&piece).expect("serialises");
        assert_eq!(
            serde_json::from_str::<WorkerRequest>(&json).expect("parses"),
            piece
        );
    }
}
