//! The engine worker: one gloo-worker that runs every model job off the main thread. Each started job gets
//! a [`JobCtx`] (events out, cancel flag, inbox) and runs as an async task; input for a running job goes to
//! its inbox; routing by task is in [`crate::job::run`].

use crate::job::{JobCtx, TaskStates};
use crate::protocol::{ErrorKind, JobId, JobInput, WorkerEvent, WorkerRequest};
use crate::registry::Registry;
use crate::store::CancelFlag;
use futures::channel::mpsc;
use gloo_worker::{HandlerId, Worker, WorkerScope};
use offgrid_catalog::Catalog;
use std::collections::HashMap;
use std::rc::Rc;

/// A running job as the worker sees it.
struct RunningJob {
    cancel: CancelFlag,
    /// Where its input goes; dropped on Cancel, which ends the job's inbox.
    inbox: Option<mpsc::UnboundedSender<JobInput>>,
}

/// The worker's state: the running jobs, the catalog, the model registry and the tasks' own state.
pub struct EngineWorker {
    jobs: HashMap<JobId, RunningJob>,
    catalog: Rc<Catalog>,
    registry: Rc<Registry>,
    tasks: Rc<TaskStates>,
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
        let registry = Rc::new(Registry::default());
        crate::test_hooks::install(registry.clone());
        EngineWorker {
            jobs: HashMap::new(),
            catalog: Rc::new(Catalog::builtin()),
            registry,
            tasks: Rc::new(TaskStates::default()),
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
        match request {
            WorkerRequest::Input { job, input } => {
                // Input for a job that has ended is dropped.
                if let Some(sender) = self.jobs.get(&job).and_then(|j| j.inbox.as_ref()) {
                    let _ = sender.unbounded_send(input);
                }
            }
            WorkerRequest::Cancel { job } => match self.jobs.get_mut(&job) {
                Some(running) => {
                    running.cancel.set(true);
                    running.inbox.take();
                }
                // Already finished: nothing to stop, but the UI waits for an answer.
                None => scope.respond(id, WorkerEvent::Cancelled { job }),
            },
            WorkerRequest::Start { job, request } => {
                let cancel = CancelFlag::new();
                let (sender, inbox) = mpsc::unbounded();
                self.jobs.insert(
                    job,
                    RunningJob {
                        cancel: cancel.clone(),
                        inbox: Some(sender),
                    },
                );
                let to_page = scope.clone();
                let ctx = JobCtx::new(
                    job,
                    self.catalog.clone(),
                    self.registry.clone(),
                    self.tasks.clone(),
                    Rc::new(move |event: WorkerEvent| to_page.respond(id, event)),
                    cancel,
                    inbox,
                );
                scope.send_future(async move {
                    let outcome = crate::job::run(&ctx, request).await;
                    if matches!(&outcome, Err(e) if e.kind == ErrorKind::DeviceLost) {
                        // The registry's GPU models went with the device: the next use reloads them.
                        ctx.registry.forget_gpu();
                    }
                    ctx.emit(crate::job::final_event(&ctx, outcome));
                    EngineMessage::Finished(job)
                });
            }
        }
    }
}
