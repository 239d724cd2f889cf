//! Small typed wrappers over the browser APIs the worker uses (worker global scope, fetch, Cache Storage).

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, WorkerGlobalScope};

/// The worker's global scope.
pub fn worker_scope() -> Result<WorkerGlobalScope, String> {
    js_sys::global()
        .dyn_into::<WorkerGlobalScope>()
        .map_err(|_| "this code must run inside a web worker".to_string())
}

/// A readable message from a JS exception or value.
pub fn js_error_message(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(err.name()),
            String::from(err.message())
        );
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// The `name` of a DOMException-like value ("QuotaExceededError", "AbortError"…).
pub fn js_error_name(value: &JsValue) -> Option<String> {
    Reflect::get(value, &JsValue::from_str("name"))
        .ok()?
        .as_string()
}

/// Awaits a promise.
pub async fn await_promise(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// Opens a named cache.
pub async fn open_cache(name: &str) -> Result<Cache, String> {
    let scope = worker_scope()?;
    let caches = scope.caches().map_err(|e| {
        format!(
            "Cache Storage is unavailable here ({})",
            js_error_message(&e)
        )
    })?;
    let cache = await_promise(caches.open(name))
        .await
        .map_err(|e| format!("could not open the model cache ({})", js_error_message(&e)))?;
    cache
        .dyn_into::<Cache>()
        .map_err(|_| "Cache Storage returned something unexpected".into())
}

/// Reads a whole cached entry, if present.
pub async fn cache_read(cache: &Cache, key: &str) -> Result<Option<Vec<u8>>, String> {
    Ok(cache_read_buffer(cache, key)
        .await?
        .map(|buffer| Uint8Array::new(&buffer).to_vec()))
}

/// Reads a whole cached entry as the browser's buffer (hashed there before it is copied into wasm).
pub async fn cache_read_buffer(
    cache: &Cache,
    key: &str,
) -> Result<Option<js_sys::ArrayBuffer>, String> {
    let found = await_promise(cache.match_with_str(key))
        .await
        .map_err(|e| js_error_message(&e))?;
    if found.is_undefined() || found.is_null() {
        return Ok(None);
    }
    let response: web_sys::Response = found
        .dyn_into()
        .map_err(|_| "bad cache entry".to_string())?;
    let buffer = await_promise(response.array_buffer().map_err(|e| js_error_message(&e))?)
        .await
        .map_err(|e| {
            format!(
                "the cached copy of {key} is unreadable ({})",
                js_error_message(&e)
            )
        })?;
    buffer
        .dyn_into()
        .map(Some)
        .map_err(|_| "the cache returned something that is not bytes".to_string())
}

/// Lowercase hex SHA-256 of a buffer, computed by the browser's WebCrypto (native speed: checking a
/// 100 MB model file on every load costs a fraction of a second).
pub async fn sha256_hex(buffer: &js_sys::ArrayBuffer) -> Result<String, String> {
    let scope = worker_scope()?;
    let subtle = scope.crypto().map_err(|e| js_error_message(&e))?.subtle();
    let promise = subtle
        .digest_with_str_and_buffer_source("SHA-256", buffer)
        .map_err(|e| js_error_message(&e))?;
    let digest = await_promise(promise)
        .await
        .map_err(|e| js_error_message(&e))?;
    Ok(hex::encode(Uint8Array::new(&digest).to_vec()))
}

/// Whether a cache entry exists, and its size as stored in our `x-offgrid-size` header.
pub async fn cache_entry_size(cache: &Cache, key: &str) -> Result<Option<u64>, String> {
    let found = await_promise(cache.match_with_str(key))
        .await
        .map_err(|e| js_error_message(&e))?;
    if found.is_undefined() || found.is_null() {
        return Ok(None);
    }
    let response: web_sys::Response = found
        .dyn_into()
        .map_err(|_| "bad cache entry".to_string())?;
    let size = response
        .headers()
        .get("x-offgrid-size")
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Some(size))
}

/// Stores bytes under a key. A full disk comes back as `Err` with the browser's error name.
pub async fn cache_write(
    cache: &Cache,
    key: &str,
    bytes: &[u8],
    sha256: &str,
) -> Result<(), JsValue> {
    let array = Uint8Array::from(bytes);
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/octet-stream")?;
    headers.set("x-offgrid-size", &bytes.len().to_string())?;
    headers.set("x-offgrid-sha256", sha256)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(200);
    init.set_headers(&headers);
    let response = web_sys::Response::new_with_opt_buffer_source_and_init(Some(&array), &init)?;
    await_promise(cache.put_with_str(key, &response)).await?;
    Ok(())
}

/// Deletes a cache entry; true if it existed.
pub async fn cache_delete(cache: &Cache, key: &str) -> bool {
    await_promise(cache.delete_with_str(key))
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The storage estimate: (usage, quota) in bytes.
pub async fn storage_estimate() -> Option<(u64, u64)> {
    let scope = worker_scope().ok()?;
    let storage = scope.navigator().storage();
    let estimate = await_promise(storage.estimate().ok()?).await.ok()?;
    let usage = Reflect::get(&estimate, &"usage".into()).ok()?.as_f64()?;
    let quota = Reflect::get(&estimate, &"quota".into()).ok()?.as_f64()?;
    Some((usage as u64, quota as u64))
}

/// Whether the browser believes it is online.
pub fn is_online() -> bool {
    worker_scope()
        .map(|s| s.navigator().on_line())
        .unwrap_or(true)
}

/// Milliseconds since an arbitrary origin (for throttling progress events).
pub fn now_millis() -> f64 {
    js_sys::Date::now()
}

/// Takes the Web Lock `name` and never releases it: the browser frees it when this worker ends, however
/// it ends. Resolves once the lock is held.
pub async fn hold_lock_while_alive(name: &str) -> Result<(), String> {
    let scope = worker_scope()?;
    let locks = Reflect::get(&scope.navigator(), &"locks".into())
        .ok()
        .filter(|l| !l.is_undefined())
        .ok_or("this browser has no Web Locks")?;
    let request: js_sys::Function = Reflect::get(&locks, &"request".into())
        .map_err(|e| js_error_message(&e))?
        .dyn_into()
        .map_err(|_| "navigator.locks.request is not a function".to_string())?;
    let (granted, on_granted) = futures::channel::oneshot::channel::<()>();
    let hold = wasm_bindgen::closure::Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = granted.send(());
        // A promise that never settles keeps the lock for the worker's whole life.
        Promise::new(&mut |_, _| {}).into()
    });
    // The promise `request` returns settles only when the lock is released: nothing to wait for.
    let _ = request
        .call2(&locks, &name.into(), &hold)
        .map_err(|e| js_error_message(&e))?;
    on_granted
        .await
        .map_err(|_| "the life lock was never granted".to_string())
}
