//! A page's view built from **every** event of its current job, in the order the worker sent them (voice
//! updates, transcript lines, tokens, progress, the end), plus the bookkeeping every such page needs: which
//! job is current (late events of a replaced job are ignored), whether it runs, the last status event for
//! the job status line, and errors the page itself hits. A page describes only what it shows, as a
//! [`StreamView`]; `hooks::use_job_stream` runs it. Plain Rust (no Yew), so it is unit-tested natively.

use offgrid_workers::protocol::{JobId, WorkerEvent};

/// What a page builds from its job's events.
pub trait StreamView: Clone + PartialEq + Default + 'static {
    /// Applies one event of the current job. Every event comes here, in order, the final one included.
    fn apply(&mut self, event: &WorkerEvent);
    /// The job ended (its final event, or an error the page reported): stop showing it as live.
    fn ended(&mut self) {}
    /// This view is being replaced by a new job's: release what it holds (object URLs).
    fn dropped(&mut self) {}
}

/// A page's current job and the view built from its events.
#[derive(Clone, PartialEq)]
pub struct JobStream<V> {
    pub view: V,
    /// The job whose events are applied.
    pub job: Option<JobId>,
    /// Whether that job is still running.
    pub busy: bool,
    /// Its latest progress, failure or cancellation (a `Done` clears it: the view shows the result).
    pub last: Option<WorkerEvent>,
    /// An error the page reported (a refused microphone, an unreadable file).
    pub error: Option<String>,
    /// Events of the current job applied so far.
    pub applied: u64,
}

impl<V: Default> Default for JobStream<V> {
    fn default() -> Self {
        JobStream {
            view: V::default(),
            job: None,
            busy: false,
            last: None,
            error: None,
            applied: 0,
        }
    }
}

/// Changes to a [`JobStream`].
pub enum StreamAction<V> {
    /// A job started; `view` is what the page shows until its events arrive.
    Started { job: JobId, view: V },
    /// An event of some job (ignored unless it is the current one's).
    Event(Box<WorkerEvent>),
    /// The page hit an error: the job is over as far as the page is concerned.
    Error(String),
}

impl<V: StreamView> JobStream<V> {
    /// The stream after `action`.
    pub fn after(self, action: StreamAction<V>) -> JobStream<V> {
        let mut s = self;
        match action {
            StreamAction::Started { job, view } => {
                s.view.dropped();
                s = JobStream {
                    view,
                    job: Some(job),
                    busy: true,
                    ..JobStream::default()
                };
            }
            StreamAction::Error(message) => {
                s.error = Some(message);
                s.busy = false;
                s.view.ended();
            }
            StreamAction::Event(event) => {
                let event = *event;
                if s.job != Some(event.job()) {
                    return s;
                }
                s.view.apply(&event);
                s.applied += 1;
                match &event {
                    WorkerEvent::Done { .. } => s.last = None,
                    WorkerEvent::Progress { .. }
                    | WorkerEvent::Failed { .. }
                    | WorkerEvent::Cancelled { .. } => s.last = Some(event.clone()),
                    _ => {}
                }
                if event.is_final() {
                    s.busy = false;
                    s.view.ended();
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offgrid_workers::protocol::{JobResult, Progress, Stage};

    /// A view that records what it was given.
    #[derive(Clone, PartialEq, Default)]
    struct Log {
        texts: Vec<String>,
        ended: bool,
    }

    impl StreamView for Log {
        fn apply(&mut self, event: &WorkerEvent) {
            if let WorkerEvent::Partial { text, .. } = event {
                self.texts.push(text.clone());
            }
        }
        fn ended(&mut self) {
            self.ended = true;
        }
    }

    fn reduce(s: JobStream<Log>, a: StreamAction<Log>) -> JobStream<Log> {
        s.after(a)
    }

    fn partial(job: JobId, text: &str) -> StreamAction<Log> {
        StreamAction::Event(Box::new(WorkerEvent::Partial {
            job,
            text: text.into(),
        }))
    }

    #[test]
    fn every_partial_event_is_kept_in_order_and_other_jobs_are_ignored() {
        let mut s = JobStream::<Log>::default();
        s = reduce(
            s,
            StreamAction::Started {
                job: 2,
                view: Log::default(),
            },
        );
        assert!(s.busy);
        for (job, text) in [(2, "Hel"), (1, "old job"), (2, "lo"), (2, " world")] {
            s = reduce(s, partial(job, text));
        }
        let progress = WorkerEvent::Progress {
            job: 2,
            progress: Progress::steps(Stage::Running, 1, 3),
        };
        s = reduce(s, StreamAction::Event(Box::new(progress.clone())));
        assert_eq!(s.view.texts, ["Hel", "lo", " world"]);
        assert_eq!(s.applied, 4);
        assert_eq!(s.last, Some(progress));
        assert!(s.busy && !s.view.ended);
        s = reduce(
            s,
            StreamAction::Event(Box::new(WorkerEvent::Done {
                job: 2,
                result: JobResult::GpuLost,
            })),
        );
        assert!(!s.busy && s.view.ended);
        assert_eq!(s.last, None, "a result clears the status line");
        // A new job starts from its own view.
        s = reduce(
            s,
            StreamAction::Started {
                job: 3,
                view: Log::default(),
            },
        );
        assert!(s.view.texts.is_empty() && s.busy);
        s = reduce(s, StreamAction::Error("The microphone was refused.".into()));
        assert!(!s.busy && s.view.ended);
        assert_eq!(s.error.as_deref(), Some("The microphone was refused."));
    }
}
