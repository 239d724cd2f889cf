//! What every job is handed: [`JobCtx`] (its id, a way to send events, its cancel flag, its inbox, the
//! catalog, the model registry and the tasks' shared state), and the one place requests are routed
//! ([`run`]). Adding a task adds one line to [`run`].

use crate::protocol::{
    ErrorKind, JobId, JobInput, JobResult, Progress, Request, WorkerError, WorkerEvent,
};
use crate::registry::Registry;
use crate::store::CancelFlag;
use futures::channel::mpsc;
use futures::StreamExt;
use offgrid_catalog::Catalog;
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Sends an event to the page that started a job.
pub type Emit = Rc<dyn Fn(WorkerEvent)>;

/// State a task keeps between its jobs (saved collections, a chat's KV cache), one value per type, made on
/// first use. Models do not go here: they live in the [`Registry`].
#[derive(Default)]
pub struct TaskStates {
    by_type: RefCell<HashMap<TypeId, Rc<dyn Any>>>,
}

impl TaskStates {
    /// The worker's one `T`, created with `T::default()` the first time it is asked for.
    pub fn get<T: Default + 'static>(&self) -> Rc<RefCell<T>> {
        let mut map = self.by_type.borrow_mut();
        let entry = map
            .entry(TypeId::of::<RefCell<T>>())
            .or_insert_with(|| Rc::new(RefCell::new(T::default())) as Rc<dyn Any>)
            .clone();
        drop(map);
        match entry.downcast::<RefCell<T>>() {
            Ok(state) => state,
            // The key is T's own TypeId, so the value is always a RefCell<T>.
            Err(_) => Rc::new(RefCell::new(T::default())),
        }
    }
}

/// The error a stopped job ends with (the worker turns it into `WorkerEvent::Cancelled`).
pub fn cancelled() -> WorkerError {
    WorkerError::new(ErrorKind::Cancelled, "Stopped.")
}

/// An engine error as the UI sees it; a lost GPU is its own kind (the registry then drops its models).
pub fn engine_error(e: offgrid_engine::Error) -> WorkerError {
    let kind = match e {
        offgrid_engine::Error::DeviceLost(detail) => {
            // The registry drops the lost device's models, so a retry really does start afresh.
            return WorkerError::new(
                ErrorKind::DeviceLost,
                format!("The GPU stopped working while this ran (the graphics driver may have been reset: {detail}). Retry to load the model again on a fresh GPU device, or choose the CPU on the Device page."),
            );
        }
        // An image the person chose that cannot be read, text that cannot be spoken: their input, not our failure.
        offgrid_engine::Error::Image(_) | offgrid_engine::Error::Text(_) => ErrorKind::BadInput,
        // The job's own cancel flag stopped the engine mid-step: the job ends as cancelled, not failed.
        offgrid_engine::Error::Cancelled => return cancelled(),
        _ => ErrorKind::Internal,
    };
    WorkerError::new(kind, e.to_string())
}

/// A running job's handle on the worker.
pub struct JobCtx {
    pub job: JobId,
    pub catalog: Rc<Catalog>,
    pub registry: Rc<Registry>,
    pub tasks: Rc<TaskStates>,
    emit: Emit,
    cancel: CancelFlag,
    /// An async lock: a reader waits for input while holding it.
    inbox: futures::lock::Mutex<mpsc::UnboundedReceiver<JobInput>>,
}

impl JobCtx {
    /// A context whose inbox is fed through `inbox`'s sender (kept by the worker until the job ends or is
    /// cancelled; dropping it ends the inbox).
    pub fn new(
        job: JobId,
        catalog: Rc<Catalog>,
        registry: Rc<Registry>,
        tasks: Rc<TaskStates>,
        emit: Emit,
        cancel: CancelFlag,
        inbox: mpsc::UnboundedReceiver<JobInput>,
    ) -> JobCtx {
        JobCtx {
            job,
            catalog,
            registry,
            tasks,
            emit,
            cancel,
            inbox: futures::lock::Mutex::new(inbox),
        }
    }

    /// Sends any event of this job to the page.
    pub fn emit(&self, event: WorkerEvent) {
        (self.emit)(event);
    }

    /// Reports progress.
    pub fn progress(&self, progress: Progress) {
        self.emit(WorkerEvent::Progress {
            job: self.job,
            progress,
        });
    }

    /// Streams a piece of text (a chat token).
    pub fn partial(&self, text: String) {
        self.emit(WorkerEvent::Partial {
            job: self.job,
            text,
        });
    }

    /// Whether Cancel was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.get()
    }

    /// `Err(cancelled())` once Cancel was asked for: `ctx.check_cancel()?` between steps.
    pub fn check_cancel(&self) -> Result<(), WorkerError> {
        if self.is_cancelled() {
            Err(cancelled())
        } else {
            Ok(())
        }
    }

    /// The cancel flag, for lower layers (the store) that only need to read it.
    pub fn cancel_flag(&self) -> &CancelFlag {
        &self.cancel
    }

    /// The next input sent to this job, in order; `None` once the job was cancelled (the worker drops the
    /// inbox's sender). Two parts of a job reading it take turns.
    pub async fn next_input(&self) -> Option<JobInput> {
        self.inbox.lock().await.next().await
    }
}

/// Runs one request to its result: the one routing place. A task's requests go to its own module.
pub async fn run(ctx: &JobCtx, request: Request) -> Result<JobResult, WorkerError> {
    match request {
        Request::System(r) => crate::system::run(ctx, r).await,
        Request::Models(r) => crate::models::run(ctx, r).await,
        Request::Search(r) => crate::search::run(ctx, r).await,
        Request::Voice(r) => crate::voice::run(ctx, r).await,
        Request::Transcribe(r) => crate::transcribe::run(ctx, r).await,
        Request::Chat(r) => crate::chat::run(ctx, r).await,
        Request::RemoveBackground(r) => crate::remove_background::run(ctx, r).await,
        Request::Speak(r) => crate::speak::run(ctx, r).await,
    }
}

/// The event that ends a job (see [`WorkerEvent::ending`]).
pub fn final_event(ctx: &JobCtx, outcome: Result<JobResult, WorkerError>) -> WorkerEvent {
    WorkerEvent::ending(ctx.job, outcome, ctx.is_cancelled())
}
