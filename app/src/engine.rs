//! The page's handle on the engine worker: sends typed requests, routes each job's events to the
//! component that asked, and restarts the worker when it crashes or loses its GPU.

use gloo_worker::{Spawnable, WorkerBridge};
use offgrid_workers::protocol::{
    ErrorKind, JobId, JobInput, JobResult, Request, SystemRequest, WorkerError, WorkerEvent,
    WorkerRequest, CRASH_CHANNEL,
};
use offgrid_workers::EngineWorker;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::Callback;

/// trunk's loader shim for the worker bundle, relative to the page (works under any path prefix). A real
/// same-origin script (not gloo's blob shim) so the service worker serves it offline.
const WORKER_PATH: &str = "./engine-worker_loader.js";

struct EngineInner {
    bridge: RefCell<Option<WorkerBridge<EngineWorker>>>,
    listeners: RefCell<HashMap<JobId, Callback<WorkerEvent>>>,
    next_job: Cell<JobId>,
    on_restart: Callback<String>,
    restarts: Cell<u32>,
    /// Counts the workers started, so the death of a replaced one is not taken for the current one's.
    generation: Cell<u32>,
    /// Tells this page's life locks from another tab's.
    page_token: u32,
}

/// A cheap, shareable handle on the engine worker (a Yew context value).
#[derive(Clone)]
pub struct Engine {
    inner: Rc<EngineInner>,
}

impl PartialEq for Engine {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Engine {
    /// Starts the worker. `on_restart` hears why the worker had to be restarted.
    pub fn start(on_restart: Callback<String>) -> Engine {
        let engine = Engine {
            inner: Rc::new(EngineInner {
                bridge: RefCell::new(None),
                listeners: RefCell::new(HashMap::new()),
                next_job: Cell::new(1),
                on_restart,
                restarts: Cell::new(0),
                generation: Cell::new(0),
                page_token: (js_sys::Math::random() * f64::from(u32::MAX)) as u32,
            }),
        };
        engine.spawn();
        engine.listen_for_crashes();
        engine
    }

    fn spawn(&self) {
        let weak = Rc::downgrade(&self.inner);
        let bridge = EngineWorker::spawner()
            .as_module(false)
            .with_loader(true)
            .callback(move |event: WorkerEvent| {
                if let Some(inner) = weak.upgrade() {
                    Engine { inner }.deliver(event);
                }
            })
            .spawn(WORKER_PATH);
        *self.inner.bridge.borrow_mut() = Some(bridge);
        let generation = self.inner.generation.get() + 1;
        self.inner.generation.set(generation);
        self.watch_for_death(generation);
    }

    /// A worker can die without a word (the browser kills it when memory runs out, or a crash comes
    /// before its panic hook can speak). It holds a Web Lock while it lives; once this page can take that
    /// lock, the worker is gone, and its jobs fail with a message instead of waiting forever.
    fn watch_for_death(&self, generation: u32) {
        let name = format!(
            "offgrid-engine-worker-{}-{generation}",
            self.inner.page_token
        );
        let weak = Rc::downgrade(&self.inner);
        let lock = name.clone();
        let on_event = Callback::from(move |event: WorkerEvent| {
            let WorkerEvent::Done {
                result: JobResult::LifeLockHeld,
                ..
            } = event
            else {
                return;
            };
            let weak = weak.clone();
            crate::browser::when_lock_free(&lock, move || {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                if inner.generation.get() == generation {
                    Engine { inner }.restart(
                        "The engine worker stopped unexpectedly (the browser may have run out of memory). The engine was restarted; your input is still here — try again."
                            .into(),
                    );
                }
            });
        });
        self.run(
            Request::System(SystemRequest::HoldLifeLock { name }),
            on_event,
        );
    }

    fn deliver(&self, event: WorkerEvent) {
        let job = event.job();
        let listener = if event.is_final() {
            self.inner.listeners.borrow_mut().remove(&job)
        } else {
            self.inner.listeners.borrow().get(&job).cloned()
        };
        // A lost GPU needs no restart: the worker drops its GPU models and reloads them on the next use.
        if let Some(listener) = listener {
            listener.emit(event);
        }
    }

    fn listen_for_crashes(&self) {
        let Ok(channel) = web_sys::BroadcastChannel::new(CRASH_CHANNEL) else {
            return;
        };
        let weak = Rc::downgrade(&self.inner);
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                if let Some(inner) = weak.upgrade() {
                    let detail = event.data().as_string().unwrap_or_default();
                    Engine { inner }.restart(format!(
                        "{detail}. The engine was restarted; your input is still here — try again."
                    ));
                }
            });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // Both live as long as the page.
        on_message.forget();
        std::mem::forget(channel);
    }

    /// Drops the worker, fails every pending job with `reason`, and starts a fresh worker.
    pub fn restart(&self, reason: String) {
        self.inner.restarts.set(self.inner.restarts.get() + 1);
        self.inner.bridge.borrow_mut().take();
        let pending: Vec<_> = self.inner.listeners.borrow_mut().drain().collect();
        for (job, listener) in pending {
            listener.emit(WorkerEvent::Failed {
                job,
                error: WorkerError::new(ErrorKind::Internal, reason.clone()),
            });
        }
        self.spawn();
        self.inner.on_restart.emit(reason);
    }

    /// Starts a job with a fresh id; `on_event` receives every event of that job.
    pub fn run(&self, request: Request, on_event: Callback<WorkerEvent>) -> JobId {
        let job = self.inner.next_job.get();
        self.inner.next_job.set(job.wrapping_add(1));
        self.inner.listeners.borrow_mut().insert(job, on_event);
        if let Some(bridge) = self.inner.bridge.borrow().as_ref() {
            bridge.send(WorkerRequest::Start { job, request });
        }
        job
    }

    /// Sends input to a job started with [`Engine::run`] (live audio, a piece of a file, Stop).
    pub fn input(&self, job: JobId, input: JobInput) {
        if let Some(bridge) = self.inner.bridge.borrow().as_ref() {
            bridge.send(WorkerRequest::Input { job, input });
        }
    }

    /// Asks the worker to stop a job; the job then ends with `Cancelled`.
    pub fn cancel(&self, job: JobId) {
        if let Some(bridge) = self.inner.bridge.borrow().as_ref() {
            bridge.send(WorkerRequest::Cancel { job });
        }
    }
}
