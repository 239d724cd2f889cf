//! Tells the page when the worker dies. gloo's bridge has no error hook, so a panic or an uncaught
//! error in the worker is announced on a BroadcastChannel the app listens to; the app then shows a
//! message and starts a fresh worker.

use crate::protocol::CRASH_CHANNEL;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

fn announce(message: &str) {
    if let Ok(channel) = web_sys::BroadcastChannel::new(CRASH_CHANNEL) {
        let _ = channel.post_message(&JsValue::from_str(message));
        channel.close();
    }
}

/// Installs the panic hook and the global error listeners. Call once at worker start.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("The engine worker crashed: {info}");
        web_sys::console::error_1(&JsValue::from_str(&message));
        announce(&message);
    }));
    let Ok(scope) = crate::js::worker_scope() else {
        return;
    };
    let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(|event: web_sys::ErrorEvent| {
        announce(&format!("The engine worker stopped: {}", event.message()));
    });
    let _ = scope.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
    // The listener lives as long as the worker.
    on_error.forget();
}
