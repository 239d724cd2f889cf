//! What the model store holds and how much of the browser's storage is used, asked of the worker each time
//! `refresh` changes. The Models and Device pages both read it, so they show the same figures.

use crate::engine::Engine;
use offgrid_catalog::human_bytes;
use offgrid_workers::protocol::{CacheReport, JobResult, ModelsRequest, Request, WorkerEvent};
use std::rc::Rc;
use yew::prelude::*;

/// The latest report (`None` until the worker answers).
#[hook]
pub fn use_cache_report(refresh: u32) -> Option<CacheReport> {
    let engine = use_context::<Rc<Engine>>();
    let report = use_state(|| None::<CacheReport>);
    {
        let report = report.clone();
        use_effect_with(refresh, move |_| {
            if let Some(engine) = engine {
                engine.run(
                    Request::Models(ModelsRequest::ListCached),
                    Callback::from(move |event: WorkerEvent| {
                        if let WorkerEvent::Done {
                            result: JobResult::Cached(r),
                            ..
                        } = event
                        {
                            report.set(Some(r));
                        }
                    }),
                );
            }
        });
    }
    (*report).clone()
}

/// "X used of Y available to this app.", the one wording of the storage figure.
pub fn storage_line(report: Option<&CacheReport>) -> String {
    match report.and_then(|r| r.usage_bytes.zip(r.quota_bytes)) {
        Some((used, quota)) => format!(
            "{} used of {} available to this app.",
            human_bytes(used),
            human_bytes(quota)
        ),
        None if report.is_none() => "Reading the storage figures…".into(),
        None => "This browser does not report its storage.".into(),
    }
}
