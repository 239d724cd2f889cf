//! Photos the system hands to the page: a share from another app (the service worker keeps the shared file in
//! the `offgrid-shared` cache and opens `#/remove-background?shared=<key>`), or "Open with Offgrid" (the
//! manifest's file handler, delivered through `window.launchQueue`).

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The cache the service worker puts shared files in (service-worker/sw.js).
const SHARED_CACHE: &str = "offgrid-shared";

async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    let value = f.apply(target, &args.iter().collect::<Array>())?;
    match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

/// The file name inside a shared key (`…/shared/<time>-<name, URI-encoded>`).
fn name_of(key: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or(key);
    let name = last.split_once('-').map_or(last, |(_, n)| n);
    js_sys::decode_uri_component(name)
        .ok()
        .and_then(|s| s.as_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "shared image".into())
}

/// Takes the shared file `key` out of the service worker's cache.
pub async fn take_shared(key: &str) -> Result<web_sys::File, String> {
    let lost =
        || "The shared image is no longer available. Share it again, or open it here.".to_string();
    let window: JsValue = web_sys::window().ok_or_else(lost)?.into();
    let caches = Reflect::get(&window, &"caches".into()).map_err(|_| lost())?;
    let cache = call(&caches, "open", &[SHARED_CACHE.into()])
        .await
        .map_err(|_| lost())?;
    let response = call(&cache, "match", &[key.into()])
        .await
        .map_err(|_| lost())?;
    if response.is_undefined() {
        return Err(lost());
    }
    let blob = call(&response, "blob", &[]).await.map_err(|_| lost())?;
    // The page owns it now: a reload must not add it twice.
    let _ = call(&cache, "delete", &[key.into()]).await;
    let options = web_sys::FilePropertyBag::new();
    if let Some(kind) = Reflect::get(&blob, &"type".into())
        .ok()
        .and_then(|t| t.as_string())
    {
        options.set_type(&kind);
    }
    web_sys::File::new_with_blob_sequence_and_options(
        &Array::of1(&blob).into(),
        &name_of(key),
        &options,
    )
    .map_err(|_| lost())
}

/// Calls `on_files` with the files the page was opened with through the file handler ("Open with").
pub fn on_launch(on_files: impl Fn(Vec<web_sys::File>) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(queue) = Reflect::get(&window, &"launchQueue".into()) else {
        return;
    };
    if queue.is_undefined() {
        return;
    }
    let on_files = std::rc::Rc::new(on_files);
    let consumer = Closure::<dyn Fn(JsValue)>::new(move |params: JsValue| {
        let on_files = on_files.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let handles = Reflect::get(&params, &"files".into()).unwrap_or(JsValue::UNDEFINED);
            let mut files = Vec::new();
            for handle in Array::from(&handles).iter() {
                if let Ok(file) = call(&handle, "getFile", &[]).await {
                    if let Ok(file) = file.dyn_into::<web_sys::File>() {
                        files.push(file);
                    }
                }
            }
            if !files.is_empty() {
                on_files(files);
            }
        });
    });
    if let Ok(set) =
        Reflect::get(&queue, &"setConsumer".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = set.call1(&queue, consumer.as_ref());
    }
    // The queue keeps calling it for later launches while the page lives.
    consumer.forget();
}
