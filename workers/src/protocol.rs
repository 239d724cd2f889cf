//! Typed messages between the UI and the engine worker. Every request carries a [`JobId`]; the worker
//! answers with any number of [`WorkerEvent::Progress`] / [`WorkerEvent::Partial`] events and then exactly
//! one of `Done`, `Failed` or `Cancelled` for that job.

use serde::{Deserialize, Serialize};

mod chat;
mod models;
mod remove_background;
mod search;
mod speak;
mod system;
mod transcribe;
mod voice;
pub use chat::{ChatRequest, ChatRole, ChatSettings, ChatTurn};
pub use models::{CacheReport, CachedModel, LoadedModel, LoadedReport, ModelsRequest};
pub use offgrid_catalog::WeightDType;
pub use remove_background::{Cutout, RemoveBackgroundRequest};
pub use search::{CollectionInfo, SearchHit, SearchRequest};
pub use speak::{SpeakRequest, SpeechSummary, SpokenSentence};
pub use system::{GpuProbe, SystemRequest};
pub use transcribe::{TranscribeRequest, TranscribeSettings, TranscriptLine};
pub use voice::{AudioInput, FileData, SpeechSegment, VadSettings, VoiceRequest, VoiceUpdate};

/// Identifies one request and all the events it causes.
pub type JobId = u32;

/// What the UI sends the worker: a job to start, something for a running job, or a stop.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkerRequest {
    /// Start a job; its events carry `job`.
    Start { job: JobId, request: Request },
    /// Something for a running job's inbox (live audio, a piece of a file, the end of input). Ignored when
    /// the job has ended.
    Input { job: JobId, input: JobInput },
    /// Stop a running job. The job ends with `Cancelled`.
    Cancel { job: JobId },
}

/// The jobs the worker runs, one variant per task (each task's requests live in its own module).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Request {
    System(SystemRequest),
    Models(ModelsRequest),
    Search(SearchRequest),
    Voice(VoiceRequest),
    Transcribe(TranscribeRequest),
    Chat(ChatRequest),
    RemoveBackground(RemoveBackgroundRequest),
    Speak(SpeakRequest),
}

/// What a running job can be sent while it runs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum JobInput {
    /// Live audio: mono samples at `rate` Hz (resampled to 16 kHz in the worker).
    Audio { samples: Vec<f32>, rate: u32 },
    /// A piece of a file job's audio, answering [`WorkerEvent::AudioWanted`]. `from`: a byte offset for
    /// [`AudioInput::Wav`], a frame for [`AudioInput::Decoded`].
    FileAudio { from: u64, data: FileData },
    /// No more input: a live session ends and its job finishes with what it heard.
    Stop,
    /// A speech job's sentence `index` started playing: the worker may make the next ones.
    Played { index: u32 },
}

/// Which catalog model runs a job, from where it is downloaded, on which backend and as which weight type
/// (the plan's choice; `None` runs the type the files store).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelChoice {
    pub variant_id: String,
    /// A mirror with the Hugging Face layout; `None` is the Hub.
    pub mirror: Option<String>,
    pub backend: Backend,
    #[serde(default)]
    pub dtype: Option<WeightDType>,
}

impl WorkerRequest {
    /// The job this request belongs to.
    pub fn job(&self) -> JobId {
        match self {
            WorkerRequest::Start { job, .. }
            | WorkerRequest::Input { job, .. }
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
    /// A sentence of a speech job, ready to play.
    Speech {
        job: JobId,
        sentence: Box<SpokenSentence>,
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
            | WorkerEvent::Speech { job, .. }
            | WorkerEvent::Transcript { job, .. } => *job,
        }
    }
    /// The event that ends job `job`: `Done` with its result, `Failed` with its error, or `Cancelled` when
    /// it was stopped (`stopped`) or its error is [`ErrorKind::Cancelled`], whatever else happened.
    pub fn ending(
        job: JobId,
        outcome: Result<JobResult, WorkerError>,
        stopped: bool,
    ) -> WorkerEvent {
        match outcome {
            _ if stopped => WorkerEvent::Cancelled { job },
            Err(error) if error.kind == ErrorKind::Cancelled => WorkerEvent::Cancelled { job },
            Ok(result) => WorkerEvent::Done { job, result },
            Err(error) => WorkerEvent::Failed { job, error },
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
                | WorkerEvent::Speech { .. }
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
    /// The models in the worker's memory.
    Loaded(LoadedReport),
    /// The registry's new budget was applied.
    BudgetSet {
        bytes: u64,
        evicted: u32,
    },
    /// The GPU device was destroyed (fault injection).
    GpuLost,
    /// The worker holds its life lock (the page learns of the worker's death when the lock frees).
    LifeLockHeld,
    /// A photo cut out of its background.
    Cutout(Box<Cutout>),
    Spoken(SpeechSummary),
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
    /// The GPU went away: its models were dropped and the next use loads them on a new device.
    DeviceLost,
    /// The job was stopped (Cancel, or its input ended early). Its job ends with `Cancelled`, not `Failed`.
    Cancelled,
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

/// Name of the BroadcastChannel of the test hooks: `"lose-gpu"` destroys the worker's GPU device as a
/// driver reset would, `"exit"` ends the worker as the browser would kill it (no goodbye). Only same-origin
/// scripts can post on it, and they can do anything to the app anyway; tests use it to inject faults in
/// the middle of a job without leaving the page.
pub const TEST_HOOKS_CHANNEL: &str = "offgrid-test-hooks";

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
        let piece = WorkerRequest::Input {
            job: 7,
            input: JobInput::FileAudio {
                from: 44,
                data: FileData::Bytes(vec![1, 2, 3]),
            },
        };
        assert_eq!(piece.job(), 7);
        // The serde derive is what the bridge encodes (with bincode) on its way to the worker.
        let json = serde_json::to_string(&piece).expect("serialises");
        assert_eq!(
            serde_json::from_str::<WorkerRequest>(&json).expect("parses"),
            piece
        );
    }

    #[test]
    fn a_model_choice_without_a_dtype_still_parses() {
        // Choices written before the plan's dtype travelled with them have no dtype field.
        let json = r#"{"variant_id":"minilm-l6-v2","mirror":null,"backend":"cpu"}"#;
        let choice: ModelChoice = serde_json::from_str(json).expect("parses");
        assert_eq!(choice.dtype, None);
        let with = r#"{"variant_id":"minilm-l6-v2","mirror":null,"backend":"gpu","dtype":"q8_0"}"#;
        let choice: ModelChoice = serde_json::from_str(with).expect("parses");
        assert_eq!(choice.dtype, Some(WeightDType::Q8_0));
    }

    #[test]
    fn a_stopped_job_ends_as_cancelled_not_as_a_failure() {
        let stopped = WorkerError::new(ErrorKind::Cancelled, "Stopped.");
        let broken = WorkerError::new(ErrorKind::Network, "offline");
        let done = JobResult::GpuLost;
        // Its own kind of error ends it as Cancelled even when nobody pressed Stop (its input ended).
        assert_eq!(
            WorkerEvent::ending(3, Err(stopped), false),
            WorkerEvent::Cancelled { job: 3 }
        );
        // Stop wins over whatever the job was doing when it saw it.
        assert_eq!(
            WorkerEvent::ending(3, Err(broken.clone()), true),
            WorkerEvent::Cancelled { job: 3 }
        );
        assert_eq!(
            WorkerEvent::ending(3, Ok(done.clone()), true),
            WorkerEvent::Cancelled { job: 3 }
        );
        assert_eq!(
            WorkerEvent::ending(3, Err(broken.clone()), false),
            WorkerEvent::Failed {
                job: 3,
                error: broken
            }
        );
        assert_eq!(
            WorkerEvent::ending(3, Ok(done.clone()), false),
            WorkerEvent::Done {
                job: 3,
                result: done
            }
        );
        assert!(WorkerEvent::ending(3, Ok(JobResult::GpuLost), true).is_final());
    }
}
