//! The audio input bar the voice pages share: a microphone Start/Stop button, a file picker, and a drop
//! zone around both.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AudioPickerProps {
    /// The microphone is on.
    pub live: bool,
    /// A job runs: inputs are disabled (Stop stays available while live).
    pub busy: bool,
    pub on_start: Callback<()>,
    pub on_stop: Callback<()>,
    pub on_file: Callback<web_sys::File>,
}

#[function_component(AudioPicker)]
pub fn audio_picker(props: &AudioPickerProps) -> Html {
    let dragging = use_state(|| false);
    let on_pick = {
        let on_file = props.on_file.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_file.emit(file);
            }
            // The same file can be picked again.
            input.set_value("");
        })
    };
    let on_drop = {
        let on_file = props.on_file.clone();
        let dragging = dragging.clone();
        let busy = props.busy;
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            let file = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|f| f.get(0));
            if let (Some(file), false) = (file, busy) {
                on_file.emit(file);
            }
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            // Without this the browser opens the dropped file instead.
            e.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let on_start = props.on_start.clone();
    let on_stop = props.on_stop.clone();
    html! {
        <div class={classes!("drop-zone", (*dragging).then_some("dragging"))}
            ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
            if props.live {
                <button class="primary" id="mic-stop" onclick={Callback::from(move |_| on_stop.emit(()))}>{ "Stop" }</button>
            } else {
                <button class="primary" id="mic-start" onclick={Callback::from(move |_| on_start.emit(()))}
                    disabled={props.busy}>{ "Start microphone" }</button>
            }
            <label class="file-pick">{ "…or choose a recording (WAV, MP3, OGG…) or drop it here " }
                <input type="file" accept="audio/*,.wav" onchange={on_pick} disabled={props.busy} />
            </label>
        </div>
    }
}

/// A voice page's two ways to start a job, wrapped so that Retry can run the last one again.
pub struct RetryableInput {
    pub on_file: Callback<web_sys::File>,
    pub on_start: Callback<()>,
    /// Runs the last file again, or starts the microphone again; nothing before the first start.
    pub retry: Callback<()>,
}

#[hook]
pub fn use_retryable_input(
    on_file: Callback<web_sys::File>,
    on_start: Callback<()>,
) -> RetryableInput {
    // `Some(Some(file))`: a file was last; `Some(None)`: the microphone.
    let last = use_mut_ref(|| None::<Option<web_sys::File>>);
    let wrapped_file = {
        let last = last.clone();
        let on_file = on_file.clone();
        Callback::from(move |file: web_sys::File| {
            *last.borrow_mut() = Some(Some(file.clone()));
            on_file.emit(file);
        })
    };
    let wrapped_start = {
        let last = last.clone();
        let on_start = on_start.clone();
        Callback::from(move |_: ()| {
            *last.borrow_mut() = Some(None);
            on_start.emit(());
        })
    };
    let retry = Callback::from(move |_: ()| {
        let again = last.borrow().clone();
        match again {
            Some(Some(file)) => on_file.emit(file),
            Some(None) => on_start.emit(()),
            None => {}
        }
    });
    RetryableInput {
        on_file: wrapped_file,
        on_start: wrapped_start,
        retry,
    }
}
