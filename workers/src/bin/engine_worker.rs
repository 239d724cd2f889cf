//! Entry point of the engine worker bundle (built by trunk as a `no-modules` worker).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    offgrid_workers::EngineWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("engine-worker runs in the browser: build the app with trunk (see README).");
}
