//! Fault injection for the browser tests, heard on [`TEST_HOOKS_CHANNEL`] while a job runs: a test posts
//! `"lose-gpu"` (the GPU device is destroyed as a driver reset would) or `"exit"` (the worker ends as if
//! the browser killed it: no crash message, no goodbye; the page notices through the life lock).

use crate::protocol::TEST_HOOKS_CHANNEL;
use crate::registry::Registry;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Listens for the test hooks. Call once at worker start.
pub fn install(registry: Rc<Registry>) {
    let Ok(channel) = web_sys::BroadcastChannel::new(TEST_HOOKS_CHANNEL) else {
        return;
    };
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            match event.data().as_string().as_deref() {
                Some("lose-gpu") => {
                    let registry = registry.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        registry.lose_gpu().await;
                    });
                }
                Some("exit") => {
                    if let Ok(scope) =
                        js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
                    {
                        scope.close();
                    }
                }
                _ => {}
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Both live as long as the worker.
    on_message.forget();
    std::mem::forget(channel);
}
