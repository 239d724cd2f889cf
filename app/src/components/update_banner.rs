//! "New version available — reload": shown when a new service worker is waiting.
//! `sw-register.js` (loaded before the wasm) registers the service worker and fires
//! `offgrid-update-available` on window; `offgridApplyUpdate()` activates the waiting worker and reloads.

use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

fn update_waiting() -> bool {
    web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("offgridUpdateWaiting")).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

#[function_component(UpdateBanner)]
pub fn update_banner() -> Html {
    let visible = use_state(update_waiting);
    {
        let visible = visible.clone();
        use_effect_with((), move |_| {
            let on_update = Closure::<dyn Fn()>::new(move || visible.set(true));
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w.add_event_listener_with_callback(
                    "offgrid-update-available",
                    on_update.as_ref().unchecked_ref(),
                );
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "offgrid-update-available",
                        on_update.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    if !*visible {
        return html! {};
    }
    let reload = Callback::from(|_| {
        if let Some(w) = web_sys::window() {
            let apply = Reflect::get(&w, &JsValue::from_str("offgridApplyUpdate")).ok();
            match apply.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
                Some(f) => {
                    let _ = f.call0(&JsValue::NULL);
                }
                None => {
                    let _ = w.location().reload();
                }
            }
        }
    });
    html! {
        <div class="banner" role="status" id="update-banner">
            <span>{ "New version available." }</span>
            <button onclick={reload}>{ "Reload" }</button>
        </div>
    }
}
