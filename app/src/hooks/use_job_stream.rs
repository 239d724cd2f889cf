//! `use_job_stream`: runs a page's [`JobStream`] (see `crate::job_stream`) as a Yew reducer, and starts
//! jobs into it.

use crate::engine::Engine;
use crate::job_stream::{JobStream, StreamAction, StreamView};
use offgrid_workers::protocol::{JobId, Request, WorkerEvent};
use std::rc::Rc;
use yew::prelude::*;

/// The Yew side of a [`JobStream`].
#[derive(Clone, PartialEq)]
pub struct Stream<V>(pub JobStream<V>);

impl<V: StreamView> Default for Stream<V> {
    fn default() -> Self {
        Stream(JobStream::default())
    }
}

impl<V: StreamView> Reducible for Stream<V> {
    type Action = StreamAction<V>;
    fn reduce(self: Rc<Self>, action: StreamAction<V>) -> Rc<Self> {
        Rc::new(Stream(Rc::unwrap_or_clone(self).0.after(action)))
    }
}

/// The hook's handle: the stream's state and a way to start a job into it.
#[derive(Clone)]
pub struct JobStreamHandle<V: StreamView> {
    state: UseReducerHandle<Stream<V>>,
    engine: Option<Rc<Engine>>,
}

impl<V: StreamView> JobStreamHandle<V> {
    /// The job and the view built from its events so far.
    pub fn state(&self) -> &JobStream<V> {
        &self.state.0
    }

    /// Where a job's events go to reach this stream.
    pub fn events(&self) -> Callback<WorkerEvent> {
        let state = self.state.clone();
        Callback::from(move |e| state.dispatch(StreamAction::Event(Box::new(e))))
    }

    /// Starts `request` with `view` on screen until its events arrive. `route` may put something between
    /// the worker and the stream (a file job answers the worker's requests for audio); give it
    /// `std::convert::identity` otherwise. `None` when there is no worker.
    pub fn start(
        &self,
        request: Request,
        view: V,
        route: impl FnOnce(Callback<WorkerEvent>) -> Callback<WorkerEvent>,
    ) -> Option<JobId> {
        let engine = self.engine.as_ref()?;
        // The job id is known only once it is sent, so its events are held back until Started is applied:
        // dispatches run in order, and Started is dispatched before any event can come back.
        let job = engine.run(request, route(self.events()));
        self.state.dispatch(StreamAction::Started { job, view });
        Some(job)
    }

    /// Reports an error the page hit.
    pub fn fail(&self, message: String) {
        self.state.dispatch(StreamAction::Error(message));
    }
}

#[hook]
pub fn use_job_stream<V: StreamView>() -> JobStreamHandle<V> {
    let engine = use_context::<Rc<Engine>>();
    let state = use_reducer(Stream::<V>::default);
    JobStreamHandle { state, engine }
}
