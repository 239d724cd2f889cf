//! Offgrid's web app (Yew). It renders pages and talks to the engine worker; it never runs a model.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the app runs in the browser; natively only the route, job-stream and saved-chat tests

mod job_stream;
mod route;
mod saved_chats;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod hooks;
#[cfg(target_arch = "wasm32")]
mod pages;

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    // Keeps `cargo build --workspace` working natively; the route logic is unit-tested natively.
    let _ = route::Location::parse("#/");
    eprintln!(
        "offgrid-app runs in the browser: `scripts/run.sh` builds and serves it (see README)."
    );
}
