//! The model store inside the worker: fetches a catalog variant's files from the Hugging Face Hub or a
//! mirror, streams them with progress, resumes with Range requests, verifies SHA-256, and keeps them in
//! Cache Storage (its own cache, which app updates never wipe). A file that fails verification is never
//! cached.

use crate::download::{
    backoff_millis, cache_key, continuation, format_bytes, partial_key, Continuation, PartialFile,
    MAX_ATTEMPTS,
};
use crate::js;
use crate::partial_store::{self, SavedPartial};
use crate::protocol::{CacheReport, CachedModel, ErrorKind, Progress, Stage, WorkerError};
use offgrid_catalog::{Catalog, ModelFile, ModelSource, ModelVariant};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Cache, Headers, ReadableStreamDefaultReader, Request, RequestInit, Response};

/// The model source for a request: the Hugging Face Hub, or a mirror with the same layout.
pub fn source_for(mirror: Option<&str>) -> Result<ModelSource, WorkerError> {
    match mirror {
        Some(m) if !m.trim().is_empty() => {
            ModelSource::mirror(m).map_err(|e| WorkerError::new(ErrorKind::BadInput, e.to_string()))
        }
        _ => Ok(ModelSource::HuggingFace),
    }
}

/// A cancel flag shared between the job, the `Cancel` request and the engine's decode loops.
pub use offgrid_engine::generation::CancelFlag;

fn cancelled() -> WorkerError {
    crate::job::cancelled()
}

/// Downloads (or finds cached) every file of `variant`. Reports progress through `report`.
/// Returns (bytes, whether everything was already cached).
pub async fn download_variant(
    variant: &ModelVariant,
    mirror: Option<&str>,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<(u64, bool), WorkerError> {
    if !variant.available {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "{} is not available yet in this version of Offgrid.",
                variant.title
            ),
        ));
    }
    let source = source_for(mirror)?;
    let cache = js::open_cache(crate::protocol::MODEL_CACHE)
        .await
        .map_err(|e| WorkerError::new(ErrorKind::Internal, e))?;
    let total: u64 = variant.files.iter().filter_map(|f| f.size).sum();

    // Files already cached count as done; what remains must fit in the quota.
    let mut missing = Vec::new();
    let mut done = 0u64;
    for file in &variant.files {
        let key = cache_key(&variant.repo, &variant.revision, &file.path);
        match js::cache_entry_size(&cache, &key).await {
            Ok(Some(size)) => done += size,
            _ => missing.push(file),
        }
    }
    if missing.is_empty() {
        return Ok((done, true));
    }
    report(Progress::steps(Stage::CheckingStorage, done, total));
    let needed: u64 = missing.iter().filter_map(|f| f.size).sum();
    if let Some((usage, quota)) = js::storage_estimate().await {
        let free = quota.saturating_sub(usage);
        // Room for the file and for the partial copy kept while it downloads.
        if needed > free {
            return Err(WorkerError::new(
                ErrorKind::Quota,
                format!(
                    "{} needs {} but only {} of browser storage is free. Delete other models on the Models page, or free disk space, then retry.",
                    variant.title,
                    format_bytes(needed),
                    format_bytes(free)
                ),
            ));
        }
    }
    for file in missing {
        let url = source.file_url(variant, file);
        let bytes = download_file(
            &cache, variant, file, &source, &url, cancel, done, total, report,
        )
        .await?;
        done += bytes;
    }
    Ok((done, false))
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
async fn download_file(
    cache: &Cache,
    variant: &ModelVariant,
    file: &ModelFile,
    source: &ModelSource,
    url: &str,
    cancel: &CancelFlag,
    done_before: u64,
    total: u64,
    report: &dyn Fn(Progress),
) -> Result<u64, WorkerError> {
    let key = cache_key(&variant.repo, &variant.revision, &file.path);
    let pkey = partial_key(&variant.repo, &variant.revision, &file.path);
    let (mut saved, mut partial) = SavedPartial::load(cache, pkey).await;
    let file_total = file.size.unwrap_or(0);
    let mut attempt = 0;
    loop {
        if cancel.get() {
            saved.save_rest(&partial).await;
            return Err(cancelled());
        }
        let fetched = fetch_into(
            url,
            file,
            (&mut partial, &mut saved),
            cancel,
            done_before,
            total,
            report,
        )
        .await;
        match fetched {
            Ok(()) if cancel.get() => {
                // Stopped mid-stream: keep what arrived so a retry resumes.
                saved.save_rest(&partial).await;
                return Err(cancelled());
            }
            Ok(()) => break,
            Err(FetchFailure::Fatal(e)) => {
                saved.save_rest(&partial).await;
                if e.kind == ErrorKind::NotFound && *source == ModelSource::HuggingFace {
                    return Err(WorkerError::new(
                        ErrorKind::NotFound,
                        format!(
                            "{} is not on huggingface.co any more (HTTP 404). This version of Offgrid cannot download it; choose another model on the Device page.",
                            file.name()
                        ),
                    ));
                }
                return Err(e);
            }
            Err(failure @ (FetchFailure::Retry(_) | FetchFailure::Unreachable)) => {
                attempt += 1;
                if attempt >= MAX_ATTEMPTS || !js::is_online() {
                    saved.save_rest(&partial).await;
                    let got = format_bytes(partial.len());
                    let of = file.size.map(format_bytes).unwrap_or_else(|| "?".into());
                    let kept = if partial.is_empty() {
                        String::new()
                    } else {
                        format!(" The {got} of {of} already downloaded is kept.")
                    };
                    let name = file.name();
                    let message = match (js::is_online(), failure, source) {
                        (false, _, _) => format!("You are offline. {name} will download when you retry online.{kept}"),
                        (true, FetchFailure::Unreachable, ModelSource::Mirror(_)) => format!(
                            "Offgrid could not reach your model mirror ({}) to download {name}. It may be down, or it may not accept requests from this site. Check the mirror on the Models page, then retry.{kept}",
                            source.base()
                        ),
                        (true, FetchFailure::Unreachable, ModelSource::HuggingFace) => format!(
                            "Offgrid could not reach huggingface.co to download {name}. Check your internet connection, then retry.{kept}"
                        ),
                        (true, FetchFailure::Retry(why), _) => {
                            format!("Downloading {name} failed: {why}. Retry to resume.{kept}")
                        }
                        (true, FetchFailure::Fatal(e), _) => return Err(e),
                    };
                    return Err(WorkerError::new(ErrorKind::Network, message));
                }
                gloo_timers::future::TimeoutFuture::new(backoff_millis(attempt - 1)).await;
            }
        }
    }
    report(Progress {
        stage: Stage::Verifying,
        file: Some(file.path.clone()),
        file_done: partial.len(),
        file_total,
        done: done_before + partial.len(),
        total,
    });
    let (bytes, digest) = partial.finish();
    match &file.sha256 {
        Some(expected) if expected.eq_ignore_ascii_case(&digest) => {}
        Some(_) => {
            saved.clear().await;
            return Err(WorkerError::new(
                ErrorKind::Integrity,
                format!(
                    "The download of {} was corrupted (its SHA-256 does not match the catalog). It was not saved. Retry, or check your model mirror.",
                    file.path
                ),
            ));
        }
        None => {
            saved.clear().await;
            return Err(WorkerError::new(
                ErrorKind::Integrity,
                format!(
                    "{} has no known checksum, so it cannot be verified and was not saved.",
                    file.path
                ),
            ));
        }
    }
    report(Progress {
        stage: Stage::Caching,
        file: Some(file.path.clone()),
        file_done: bytes.len() as u64,
        file_total,
        done: done_before + bytes.len() as u64,
        total,
    });
    if let Err(e) = js::cache_write(cache, &key, &bytes, &digest).await {
        let kind = if js::js_error_name(&e).as_deref() == Some("QuotaExceededError") {
            ErrorKind::Quota
        } else {
            ErrorKind::Internal
        };
        return Err(WorkerError::new(
            kind,
            format!(
                "{} was downloaded but could not be saved ({}). Free some storage and retry.",
                file.path,
                js::js_error_message(&e)
            ),
        ));
    }
    saved.clear().await;
    Ok(bytes.len() as u64)
}

enum FetchFailure {
    /// The request never got an answer (offline, the host is down, or the browser refused it).
    Unreachable,
    /// An answer that a later attempt may improve on (HTTP 5xx, a cut stream), in words.
    Retry(String),
    Fatal(WorkerError),
}

async fn fetch_into(
    url: &str,
    file: &ModelFile,
    (partial, saved): (&mut PartialFile, &mut SavedPartial<'_>),
    cancel: &CancelFlag,
    done_before: u64,
    total: u64,
    report: &dyn Fn(Progress),
) -> Result<(), FetchFailure> {
    let internal = |e: JsValue| {
        FetchFailure::Fatal(WorkerError::new(
            ErrorKind::Internal,
            js::js_error_message(&e),
        ))
    };
    let headers = Headers::new().map_err(internal)?;
    if let Some(range) = partial.range_header() {
        headers.set("range", &range).map_err(internal)?;
    }
    let controller = web_sys::AbortController::new().map_err(internal)?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    let request = Request::new_with_str_and_init(url, &init).map_err(|e| {
        FetchFailure::Fatal(WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "The model URL {url} is not valid ({}).",
                js::js_error_message(&e)
            ),
        ))
    })?;
    let scope = js::worker_scope()
        .map_err(|e| FetchFailure::Fatal(WorkerError::new(ErrorKind::Internal, e)))?;
    let response = js::await_promise(scope.fetch_with_request(&request))
        .await
        .map_err(|_| FetchFailure::Unreachable)?;
    let response: Response = response.dyn_into().map_err(internal)?;
    let status = response.status();
    if status == 404 {
        return Err(FetchFailure::Fatal(WorkerError::new(
            ErrorKind::NotFound,
            format!("{} is not on the model source (HTTP 404 at {url}). Check the mirror on the Models page.", file.path),
        )));
    }
    if status >= 500 || status == 429 {
        return Err(FetchFailure::Retry(format!(
            "the server answered HTTP {status}"
        )));
    }
    let content_range = response.headers().get("content-range").ok().flatten();
    match continuation(status, content_range.as_deref(), partial.len()) {
        Ok(Continuation::Append) => {}
        Ok(Continuation::Restart) => {
            partial.restart();
            saved.clear().await;
        }
        Err(msg) if status == 416 || status == 206 => {
            partial.restart();
            saved.clear().await;
            return Err(FetchFailure::Retry(msg));
        }
        Err(msg) => {
            return Err(FetchFailure::Fatal(WorkerError::new(
                ErrorKind::Network,
                format!("The model source answered oddly for {}: {msg}.", file.path),
            )))
        }
    }
    let body = response
        .body()
        .ok_or_else(|| FetchFailure::Retry("empty response body".into()))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().dyn_into().map_err(|_| {
        FetchFailure::Fatal(WorkerError::new(
            ErrorKind::Internal,
            "the response body is not readable",
        ))
    })?;
    let file_total = file.size.unwrap_or(0);
    let mut last_report = 0.0;
    loop {
        if cancel.get() {
            controller.abort();
            return Ok(());
        }
        let chunk = js::await_promise(reader.read()).await.map_err(|e| {
            FetchFailure::Retry(format!(
                "the connection broke: {}",
                js::js_error_message(&e)
            ))
        })?;
        let is_done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if is_done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(internal)?;
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        partial.push(&bytes);
        if let Some(size) = file.size {
            if partial.len() > size {
                partial.restart();
                saved.clear().await;
                controller.abort();
                return Err(FetchFailure::Fatal(WorkerError::new(
                    ErrorKind::Integrity,
                    format!("{} is larger than the catalog says ({}); the source serves a different file. Nothing was saved.", file.path, format_bytes(size)),
                )));
            }
        }
        if let Err(e) = saved.checkpoint(partial).await {
            controller.abort();
            let kept = format_bytes(saved.bytes());
            let name = file.name();
            let why = js::js_error_message(&e);
            let error = if js::js_error_name(&e).as_deref() == Some("QuotaExceededError") {
                WorkerError::new(
                    ErrorKind::Quota,
                    format!("Browser storage ran out while downloading {name}. The {kept} saved so far are kept: delete other models on the Models page or free disk space, then retry to resume."),
                )
            } else {
                WorkerError::new(
                    ErrorKind::Internal,
                    format!("Saving the download of {name} failed ({why}). The {kept} saved so far are kept; retry to resume."),
                )
            };
            return Err(FetchFailure::Fatal(error));
        }
        let now = js::now_millis();
        if now - last_report > 100.0 {
            last_report = now;
            report(Progress {
                stage: Stage::Downloading,
                file: Some(file.path.clone()),
                file_done: partial.len(),
                file_total,
                done: done_before + partial.len(),
                total,
            });
        }
    }
    if let Some(size) = file.size {
        if partial.len() < size {
            return Err(FetchFailure::Retry(format!(
                "the download stopped early ({} of {})",
                format_bytes(partial.len()),
                format_bytes(size)
            )));
        }
    }
    Ok(())
}

/// What is cached for each catalog variant, and the storage estimate.
pub async fn cache_report(catalog: &Catalog) -> Result<CacheReport, WorkerError> {
    let cache = js::open_cache(crate::protocol::MODEL_CACHE)
        .await
        .map_err(|e| WorkerError::new(ErrorKind::Internal, e))?;
    let mut models = Vec::new();
    for variant in &catalog.variants {
        let mut files_cached = 0;
        let mut bytes = 0;
        let mut partial_bytes = 0;
        for file in &variant.files {
            let key = cache_key(&variant.repo, &variant.revision, &file.path);
            if let Ok(Some(size)) = js::cache_entry_size(&cache, &key).await {
                files_cached += 1;
                bytes += size;
            } else {
                let pkey = partial_key(&variant.repo, &variant.revision, &file.path);
                partial_bytes += partial_store::saved_bytes(&cache, &pkey).await;
            }
        }
        if files_cached > 0 || partial_bytes > 0 {
            models.push(CachedModel {
                variant_id: variant.id.clone(),
                files_cached,
                files_total: variant.files.len() as u32,
                bytes,
                partial_bytes,
            });
        }
    }
    let estimate = js::storage_estimate().await;
    Ok(CacheReport {
        models,
        usage_bytes: estimate.map(|e| e.0),
        quota_bytes: estimate.map(|e| e.1),
    })
}

/// Deletes a variant's cached files (and partial downloads); returns how many entries went.
pub async fn delete_variant(variant: &ModelVariant) -> Result<u32, WorkerError> {
    let cache = js::open_cache(crate::protocol::MODEL_CACHE)
        .await
        .map_err(|e| WorkerError::new(ErrorKind::Internal, e))?;
    let mut removed = 0;
    for file in &variant.files {
        if js::cache_delete(
            &cache,
            &cache_key(&variant.repo, &variant.revision, &file.path),
        )
        .await
        {
            removed += 1;
        }
        partial_store::delete_all(
            &cache,
            &partial_key(&variant.repo, &variant.revision, &file.path),
        )
        .await;
    }
    Ok(removed)
}

/// Reads a cached file of a variant for model loading, checking it again against the catalog's size
/// and SHA-256: storage can be damaged after the download was verified (a disk error, a browser bug,
/// another program). A damaged copy is removed, so a retry downloads it again.
pub async fn read_cached(variant: &ModelVariant, path: &str) -> Result<Vec<u8>, WorkerError> {
    let cache = js::open_cache(crate::protocol::MODEL_CACHE)
        .await
        .map_err(|e| WorkerError::new(ErrorKind::Internal, e))?;
    let key = cache_key(&variant.repo, &variant.revision, path);
    let damaged = |why: String| {
        WorkerError::new(
            ErrorKind::Integrity,
            format!("The saved copy of {path} ({}) was damaged ({why}), so it was removed. Retry to download it again.", variant.title),
        )
    };
    let buffer = match js::cache_read_buffer(&cache, &key).await {
        Ok(Some(buffer)) => buffer,
        Ok(None) => {
            return Err(WorkerError::new(
                ErrorKind::BadInput,
                format!("{path} of {} is not downloaded yet.", variant.title),
            ))
        }
        Err(e) => {
            js::cache_delete(&cache, &key).await;
            return Err(damaged(e));
        }
    };
    let file = variant.file(path);
    let size = buffer.byte_length() as u64;
    if let Some(expected) = file.and_then(|f| f.size).filter(|&s| s != size) {
        js::cache_delete(&cache, &key).await;
        return Err(damaged(format!(
            "{} instead of {}",
            format_bytes(size),
            format_bytes(expected)
        )));
    }
    if let Some(expected) = file.and_then(|f| f.sha256.as_deref()) {
        let digest = js::sha256_hex(&buffer)
            .await
            .map_err(|e| WorkerError::new(ErrorKind::Internal, e))?;
        if !digest.eq_ignore_ascii_case(expected) {
            js::cache_delete(&cache, &key).await;
            return Err(damaged("its SHA-256 no longer matches the catalog".into()));
        }
    }
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
