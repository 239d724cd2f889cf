//! `use_live_mic`: the microphone feeding a live worker job (`VoiceStart` or `TranscribeStart`). Chunks go
//! to the worker as `VoiceAudio`; Stop sends `VoiceStop` so the job ends with what it heard; leaving the
//! page cancels the job and releases the microphone.

use crate::components::audio_capture::MicCapture;
use crate::engine::Engine;
use offgrid_workers::protocol::{JobId, JobInput};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Start and stop the microphone for a job.
#[derive(Clone)]
pub struct LiveMic {
    engine: Option<Rc<Engine>>,
    mic: Rc<RefCell<Option<MicCapture>>>,
    /// The live job, readable from the microphone's async start (Stop may come before the mic opens).
    active: Rc<RefCell<Option<JobId>>>,
}

impl LiveMic {
    /// Opens the microphone for `job` (already started in the worker). `on_error` hears, in words, why
    /// the microphone could not open or stopped on its own; the job is then cancelled or stopped.
    pub fn start(&self, job: JobId, on_error: Callback<String>) {
        let Some(engine) = self.engine.clone() else {
            return;
        };
        *self.active.borrow_mut() = Some(job);
        let sender = engine.clone();
        let on_chunk = Callback::from(move |(samples, rate): (Vec<f32>, u32)| {
            sender.input(job, JobInput::Audio { samples, rate });
        });
        let lost = {
            let this = self.clone();
            let on_error = on_error.clone();
            Callback::from(move |msg: String| {
                let (this, on_error) = (this.clone(), on_error.clone());
                // Later, not inside the track's `ended` handler: stopping drops that handler's closure.
                wasm_bindgen_futures::spawn_local(async move {
                    // Stop (not Cancel): what was heard so far stays on the page.
                    this.stop();
                    on_error.emit(msg);
                });
            })
        };
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match MicCapture::start(on_chunk, lost).await {
                Ok(capture) if *this.active.borrow() == Some(job) => {
                    *this.mic.borrow_mut() = Some(capture)
                }
                // Stopped while the microphone was opening.
                Ok(capture) => capture.stop(),
                Err(e) => {
                    this.active.borrow_mut().take();
                    engine.cancel(job);
                    on_error.emit(e);
                }
            }
        });
    }

    /// Releases the microphone and asks the job to finish with what it has.
    pub fn stop(&self) {
        if let Some(capture) = self.mic.borrow_mut().take() {
            capture.stop();
        }
        if let (Some(engine), Some(job)) = (self.engine.as_ref(), self.active.borrow_mut().take()) {
            engine.input(job, JobInput::Stop);
        }
    }
}

#[hook]
pub fn use_live_mic() -> LiveMic {
    let engine = use_context::<Rc<Engine>>();
    let mic = use_mut_ref(|| None::<MicCapture>);
    let active = use_mut_ref(|| None::<JobId>);
    let live = LiveMic {
        engine,
        mic,
        active,
    };
    {
        let live = live.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(capture) = live.mic.borrow_mut().take() {
                    capture.stop();
                }
                if let (Some(engine), Some(job)) =
                    (live.engine.as_ref(), live.active.borrow_mut().take())
                {
                    engine.cancel(job);
                }
            }
        });
    }
    live
}
