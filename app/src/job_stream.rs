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
    /// The previous job's view and the view the current job started with, kept until the current job shows
    /// something of its own: if the page reports an error before that (a refused microphone), the previous
    /// results come back instead of an empty view.
    kept: Option<(V, V)>,
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
            kept: None,
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
                if let Some((mut older, _)) = s.kept.take() {
                    older.dropped();
                }
                let previous = std::mem::replace(&mut s.view, view.clone());
                s = JobStream {
                    view: s.view,
                    job: Some(job),
                    busy: true,
                    kept: Some((previous, view)),
                    ..JobStream::default()
                };
            }
            StreamAction::Error(message) => {
                let unchanged = |(_, initial): &(V, V)| s.view == *initial;
                if let Some((previous, _)) = s.kept.take().filter(unchanged) {
                    // The new job never showed anything: bring the previous results back, and ignore
                    // whatever that job still sends.
                    let mut failed = std::mem::replace(&mut s.view, previous);
                    failed.dropped();
                    s.job = None;
                }
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
                if s.kept
                    .as_ref()
                    .is_some_and(|(_, initial)| s.view != *initial)
                {
                    // The job shows something of its own now: the previous view is gone for good.
                    if let Some((mut previous, _)) = s.kept.take() {
                        previous.dropped();
                    }
                }
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
        // A status event that changes nothing on screen (the worker is listening) comes first.
        s = reduce(
            s,
            StreamAction::Event(Box::new(WorkerEvent::Progress {
                job: 3,
                progress: Progress::steps(Stage::Listening, 0, 0),
            })),
        );
        s = reduce(s, StreamAction::Error("The microphone was refused.".into()));
        assert!(!s.busy && s.view.ended);
        assert_eq!(s.error.as_deref(), Some("The microphone was refused."));
        // It failed before showing anything of its own, so the previous job's results are back, and what job 3 still
        // sends is ignored.
        assert_eq!(s.view.texts, ["Hel", "lo", " world"]);
        s = reduce(s, partial(3, "late"));
        assert_eq!(s.view.texts, ["Hel", "lo", " world"]);
        // A job that has shown something keeps its own view when it fails.
        s = reduce(
            s,
            StreamAction::Started {
                job: 4,
                view: Log::default(),
            },
        );
        s = reduce(s, partial(4, "new"));
        s = reduce(s, StreamAction::Error("The file ended early.".into()));
        assert_eq!(s.view.texts, ["new"]);
    }
}
