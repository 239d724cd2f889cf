//! `use_job`: run one worker job at a time from a component and follow its events.

use crate::engine::Engine;
use offgrid_workers::protocol::{JobId, Request, WorkerEvent};
use std::rc::Rc;
use yew::prelude::*;

/// A component's view of its current job.
#[derive(Clone, PartialEq)]
pub struct JobHandle {
    /// The running job, if any.
    pub running: Option<JobId>,
    /// The last event received (progress, result or error).
    pub last: Option<WorkerEvent>,
    start: Callback<Request>,
    cancel: Callback<()>,
}

impl JobHandle {
    /// Starts a job (a running one keeps going; the new one replaces it on screen).
    pub fn start(&self, request: Request) {
        self.start.emit(request);
    }
    /// Cancels the running job.
    pub fn cancel(&self) {
        self.cancel.emit(());
    }
}

#[hook]
pub fn use_job() -> JobHandle {
    let engine = use_context::<Rc<Engine>>();
    let running = use_state(|| None::<JobId>);
    let last = use_state(|| None::<WorkerEvent>);
    let start = {
        let engine = engine.clone();
        let running = running.clone();
        let last = last.clone();
        Callback::from(move |request: Request| {
            let Some(engine) = engine.as_ref() else {
                return;
            };
            let running_for_events = running.clone();
            let last = last.clone();
            last.set(None);
            let job = engine.run(
                request,
                Callback::from(move |event: WorkerEvent| {
                    if event.is_final() {
                        running_for_events.set(None);
                    }
                    last.set(Some(event));
                }),
            );
            running.set(Some(job));
        })
    };
    let cancel = {
        let running = running.clone();
        Callback::from(move |_| {
            if let (Some(engine), Some(job)) = (engine.as_ref(), *running) {
                engine.cancel(job);
            }
        })
    };
    JobHandle {
        running: *running,
        last: (*last).clone(),
        start,
        cancel,
    }
}
