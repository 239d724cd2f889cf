//! The file job a voice page is running (reading a recording piece by piece), cancelled when the page is left:
//! otherwise the worker would go on reading the file in the background.

use crate::engine::Engine;
use offgrid_workers::protocol::JobId;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// A slot for the page's file job (set when one starts, taken by Cancel); the job still in it when the page
/// unmounts is cancelled.
#[hook]
pub fn use_file_job(engine: Option<Rc<Engine>>) -> Rc<RefCell<Option<JobId>>> {
    let file_job = use_mut_ref(|| None::<JobId>);
    {
        let file_job = file_job.clone();
        use_effect_with((), move |_| {
            move || {
                if let (Some(engine), Some(job)) = (engine.as_ref(), file_job.borrow_mut().take()) {
                    engine.cancel(job);
                }
            }
        });
    }
    file_job
}
