//! The engine worker: one gloo-worker that runs every model job off the main thread. Each request
//! becomes an async job with a cancel flag; progress and results go back to the bridge that asked.

use crate::chat::SharedChat;
use crate::protocol::{
    ErrorKind, JobId, JobResult, Progress, Stage, WorkerError, WorkerEvent, WorkerRequest,
};
use crate::search::SharedSearch;
use crate::store::{self, CancelFlag};
use crate::transcribe::SharedTranscribe;
use crate::voice::SharedVoice;
use gloo_worker::{HandlerId, Worker, WorkerScope};
use offgrid_catalog::Catalog;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

/// The worker's state: the running jobs' cancel flags.
pub struct EngineWorker {
    jobs: HashMap<JobId, CancelFlag>,
    catalog: Rc<Catalog>,
    search: SharedSearch,
    voice: SharedVoice,
    transcribe: SharedTranscribe,
    chat: SharedChat,
}

/// Internal messages: a job ended.
pub enum EngineMessage {
    Finished(JobId),
}

impl Worker for EngineWorker {
    type Message = EngineMessage;
    type Input = WorkerRequest;
    type Output = WorkerEvent;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        crate::crash::install();
        EngineWorker {
            jobs: HashMap::new(),
            catalog: Rc::new(Catalog::builtin()),
            search: SharedSearch::default(),
            voice: SharedVoice::default(),
            transcribe: SharedTranscribe::default(),
            chat: SharedChat::default(),
        }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, msg: Self::Message) {
        match msg {
            EngineMessage::Finished(job) => {
                self.jobs.remove(&job);
            }
        }
    }

    fn received(&mut self, scope: &WorkerScope<Self>, request: Self::Input, id: HandlerId) {
        // Live audio goes straight to its session, outside any job.
        match &request {
            WorkerRequest::VoiceAudio { job, samples, rate } => {
                return crate::voice::feed(&self.voice, *job, samples, *rate)
            }
            WorkerRequest::VoiceStop { job } => return crate::voice::stop(&self.voice, *job),
            _ => {}
        }
        // A piece of a file goes to the file job that asked for it.
        if let WorkerRequest::FileAudio { job, data, .. } = request {
            return crate::voice_file::deliver(&self.voice, job, data);
        }
        if let WorkerRequest::Cancel { job } = request {
            crate::voice::cancel(&self.voice, job);
            match self.jobs.get(&job) {
                Some(flag) => flag.set(true),
                // Already finished: nothing to stop, but the UI waits for an answer.
                None => scope.respond(id, WorkerEvent::Cancelled { job }),
            }
            return;
        }
        let job = request.job();
        let cancel: CancelFlag = Rc::new(Cell::new(false));
        self.jobs.insert(job, cancel.clone());
        let catalog = self.catalog.clone();
        let search = self.search.clone();
        let voice = self.voice.clone();
        let transcribe = self.transcribe.clone();
        let chat = self.chat.clone();
        let responder = scope.clone();
        scope.send_future(async move {
            let report =
                |progress: Progress| responder.respond(id, WorkerEvent::Progress { job, progress });
            let to_page = responder.clone();
            let emit: crate::voice::Emit =
                Rc::new(move |event: WorkerEvent| to_page.respond(id, event));
            let outcome = match request {
                WorkerRequest::VoiceStart { settings, .. } => {
                    crate::voice::live(&voice, &catalog, job, settings, emit, &report).await
                }
                WorkerRequest::TranscribeStart {
                    vad,
                    model,
                    settings,
                    ..
                } => {
                    crate::transcribe::live(
                        &voice,
                        &transcribe,
                        &catalog,
                        job,
                        vad,
                        model,
                        settings,
                        emit,
                        &cancel,
                        &report,
                    )
                    .await
                }
                WorkerRequest::TranscribeFile {
                    audio,
                    vad,
                    model,
                    settings,
                    ..
                } => {
                    crate::transcribe::file(
                        &voice,
                        &transcribe,
                        &catalog,
                        job,
                        audio,
                        vad,
                        model,
                        settings,
                        emit,
                        &cancel,
                        &report,
                    )
                    .await
                }
                WorkerRequest::VoiceFile {
                    audio, settings, ..
                } => {
                    crate::voice_file::vad(
                        &voice, &catalog, job, audio, settings, emit, &cancel, &report,
                    )
                    .await
                }
                WorkerRequest::Chat {
                    model,
                    messages,
                    settings,
                    ..
                } => {
                    let to_page = responder.clone();
                    let text =
                        move |text: String| to_page.respond(id, WorkerEvent::Partial { job, text });
                    crate::chat::reply(
                        &chat, &catalog, model, messages, settings, &text, &cancel, &report,
                    )
                    .await
                }
                request => run_job(request, &catalog, &search, &cancel, &report).await,
            };
            let event = match outcome {
                _ if cancel.get() => WorkerEvent::Cancelled { job },
                Ok(result) => WorkerEvent::Done { job, result },
                Err(error) => WorkerEvent::Failed { job, error },
            };
            responder.respond(id, event);
            EngineMessage::Finished(job)
        });
    }
}

async fn run_job(
    request: WorkerRequest,
    catalog: &Catalog,
    search: &SharedSearch,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    match request {
        WorkerRequest::Probe { .. } => {
            let mut probe = crate::probe::probe_gpu().await;
            crate::selftest::measure(&mut probe).await;
            Ok(JobResult::Probe(probe))
        }
        WorkerRequest::Download {
            variant_id, mirror, ..
        } => {
            let variant = catalog.get(&variant_id).ok_or_else(|| {
                WorkerError::new(
                    ErrorKind::BadInput,
                    format!("There is no model called \"{variant_id}\" in the catalog."),
                )
            })?;
            let (bytes, from_cache) =
                store::download_variant(variant, mirror.as_deref(), cancel, report).await?;
            Ok(JobResult::Downloaded {
                variant_id,
                bytes,
                from_cache,
            })
        }
        WorkerRequest::ListCached { .. } => {
            Ok(JobResult::Cached(store::cache_report(catalog).await?))
        }
        WorkerRequest::Delete { variant_id, .. } => {
            let variant = catalog.get(&variant_id).ok_or_else(|| {
                WorkerError::new(
                    ErrorKind::BadInput,
                    format!("There is no model called \"{variant_id}\"."),
                )
            })?;
            let files = store::delete_variant(variant).await?;
            Ok(JobResult::Deleted { variant_id, files })
        }
        WorkerRequest::SelfTest {
            backend,
            iterations,
            ..
        } => {
            report(Progress::steps(Stage::Running, 0, iterations as u64));
            crate::selftest::run(backend, iterations, cancel, report).await
        }
        WorkerRequest::BuildIndex {
            collection,
            variant_id,
            mirror,
            backend,
            passages,
            ..
        } => {
            crate::search::build_index(
                search,
                catalog,
                collection,
                &variant_id,
                mirror.as_deref(),
                backend,
                passages,
                cancel,
                report,
            )
            .await
        }
        WorkerRequest::Search {
            collection,
            query,
            top_k,
            backend,
            mirror,
            ..
        } => {
            crate::search::search(
                search,
                catalog,
                &collection,
                &query,
                top_k as usize,
                backend,
                mirror.as_deref(),
                cancel,
                report,
            )
            .await
        }
        WorkerRequest::ListCollections { .. } => crate::search::list(search).await,
        WorkerRequest::DeleteCollection { collection, .. } => {
            crate::search::delete(search, &collection).await
        }
        WorkerRequest::VoiceStart { .. }
        | WorkerRequest::VoiceAudio { .. }
        | WorkerRequest::VoiceStop { .. }
        | WorkerRequest::VoiceFile { .. }
        | WorkerRequest::TranscribeStart { .. }
        | WorkerRequest::TranscribeFile { .. }
        | WorkerRequest::FileAudio { .. }
        | WorkerRequest::Chat { .. } => Err(WorkerError::new(
            ErrorKind::Internal,
            "voice and chat requests are routed before run_job",
        )),
        WorkerRequest::Cancel { .. } => {
            Err(WorkerError::new(ErrorKind::Internal, "cancel is not a job"))
        }
    }
}
