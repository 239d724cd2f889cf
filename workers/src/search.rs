//! Semantic search in the worker: loads a sentence encoder from the model cache, embeds a corpus with
//! progress (cancellable between batches), saves collections in OPFS, and answers top-k queries.

use crate::collection::file_stem;
use crate::opfs::Folder;
use crate::protocol::{
    Backend, CollectionInfo, ErrorKind, JobResult, Progress, SearchHit, Stage, WorkerError,
};
use crate::selftest::engine_error;
use crate::store::{self, CancelFlag};
use offgrid_catalog::{Catalog, ModelVariant};
use offgrid_engine::io::VarBuilder;
use offgrid_engine::models::bert::{EncoderFiles, SentenceEncoder};
use offgrid_search::{Collection, FlatIndex, Passage};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

const FOLDER: &str = "offgrid-collections";
/// Passages embedded per step: small enough that Cancel and queries get a turn often.
const BATCH: usize = 8;

/// The worker's search state: one loaded encoder and the collections opened so far.
#[derive(Default)]
pub struct SearchState {
    encoder: Option<(String, Backend, Rc<SentenceEncoder>)>,
    collections: HashMap<String, Rc<Collection>>,
}

/// Shared handle: jobs run concurrently (a query while an index builds).
pub type SharedSearch = Rc<RefCell<SearchState>>;

fn search_error(e: offgrid_search::Error) -> WorkerError {
    WorkerError::new(ErrorKind::Internal, e.to_string())
}

fn storage_error(e: String) -> WorkerError {
    WorkerError::new(
        ErrorKind::Internal,
        format!("Saved collections are unavailable: {e}"),
    )
}

async fn optional(variant: &ModelVariant, path: &str) -> Option<Vec<u8>> {
    // Only files the catalog lists (and so were downloaded and verified).
    variant.file(path)?;
    store::read_cached(variant, path).await.ok()
}

/// The encoder for `variant` on `backend`, loading (and downloading) it when needed.
async fn encoder(
    state: &SharedSearch,
    variant: &ModelVariant,
    backend: Backend,
    mirror: Option<&str>,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<Rc<SentenceEncoder>, WorkerError> {
    if let Some((id, b, enc)) = &state.borrow().encoder {
        if *id == variant.id && *b == backend {
            return Ok(enc.clone());
        }
    }
    store::download_variant(variant, mirror, cancel, report).await?;
    report(Progress::steps(Stage::Loading, 0, 1));
    let weights = store::read_cached(variant, "model.safetensors").await?;
    let config = store::read_cached(variant, "config.json").await?;
    let tokenizer = store::read_cached(variant, "tokenizer.json").await?;
    let pooling = optional(variant, "1_Pooling/config.json").await;
    let sbert = optional(variant, "sentence_bert_config.json").await;
    let st = optional(variant, "config_sentence_transformers.json").await;
    let device = crate::selftest::device_for(backend).await?;
    let vb = VarBuilder::from_safetensors(weights, &device).map_err(engine_error)?;
    let files = EncoderFiles {
        config: &config,
        tokenizer: &tokenizer,
        pooling: pooling.as_deref(),
        sentence_bert_config: sbert.as_deref(),
        sentence_transformers_config: st.as_deref(),
    };
    let mut encoder = SentenceEncoder::from_files(&files, &vb)
        .map_err(engine_error)?
        .with_batch_size(BATCH);
    if let Some(p) = &variant.prefixes {
        encoder = encoder.with_prefixes(p.query.clone(), p.passage.clone());
    }
    let encoder = Rc::new(encoder);
    state.borrow_mut().encoder = Some((variant.id.clone(), backend, encoder.clone()));
    Ok(encoder)
}

/// Embeds `passages` and saves them as `name`.
#[allow(clippy::too_many_arguments)] // the request's fields, passed through
pub async fn build_index(
    state: &SharedSearch,
    catalog: &Catalog,
    name: String,
    variant_id: &str,
    mirror: Option<&str>,
    backend: Backend,
    passages: Vec<String>,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            "Give the collection a name.",
        ));
    }
    let passages: Vec<String> = passages
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if passages.is_empty() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            "There is nothing to index: the corpus has no text.",
        ));
    }
    let variant = catalog.get(variant_id).ok_or_else(|| {
        WorkerError::new(
            ErrorKind::BadInput,
            format!("Unknown model \"{variant_id}\"."),
        )
    })?;
    let encoder = encoder(state, variant, backend, mirror, cancel, report).await?;
    let start = crate::js::now_millis();
    let total = passages.len();
    let mut index = FlatIndex::new(encoder.dim());
    let mut truncated = Vec::new();
    for (batch_no, batch) in passages.chunks(BATCH).enumerate() {
        if cancel.get() {
            return Err(WorkerError::new(ErrorKind::Internal, "cancelled"));
        }
        let texts: Vec<&str> = batch.iter().map(String::as_str).collect();
        let embedded = encoder
            .encode_passages(&texts)
            .await
            .map_err(engine_error)?;
        for (i, (vector, cut)) in embedded.vectors.iter().zip(&embedded.truncated).enumerate() {
            index.push(vector).map_err(search_error)?;
            if *cut {
                truncated.push((batch_no * BATCH + i) as u32);
            }
        }
        let done = (batch_no * BATCH + batch.len()) as u64;
        report(Progress::steps(Stage::Running, done, total as u64));
        // Let Cancel and queries in.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    let passages: Vec<Passage> = passages
        .into_iter()
        .map(|text| Passage {
            start: 0,
            end: text.len(),
            text,
        })
        .collect();
    let collection =
        Collection::new(name.clone(), variant.id.clone(), passages, index).map_err(search_error)?;
    let bytes = collection.to_bytes().map_err(search_error)?;
    let folder = Folder::open(FOLDER).await.map_err(storage_error)?;
    if let Err(e) = folder
        .write(&format!("{}.ogsc", file_stem(&name)), &bytes)
        .await
    {
        let quota = crate::js::js_error_name(&e).as_deref() == Some("QuotaExceededError");
        return Err(WorkerError::new(
            if quota { ErrorKind::Quota } else { ErrorKind::Internal },
            format!(
                "The index was built but could not be saved ({}). Free some storage (Models page) and build again.",
                crate::js::js_error_message(&e)
            ),
        ));
    }
    state
        .borrow_mut()
        .collections
        .insert(name.clone(), Rc::new(collection));
    Ok(JobResult::IndexBuilt {
        collection: name,
        passages: total as u32,
        truncated,
        millis: crate::js::now_millis() - start,
        backend,
    })
}

async fn open_collection(state: &SharedSearch, name: &str) -> Result<Rc<Collection>, WorkerError> {
    if let Some(c) = state.borrow().collections.get(name) {
        return Ok(c.clone());
    }
    let folder = Folder::open(FOLDER).await.map_err(storage_error)?;
    let bytes = folder
        .read(&format!("{}.ogsc", file_stem(name)))
        .await
        .map_err(storage_error)?
        .ok_or_else(|| {
            WorkerError::new(
                ErrorKind::BadInput,
                format!("There is no collection called \"{name}\" yet. Build it first."),
            )
        })?;
    let collection = Collection::from_bytes(&bytes).map_err(|e| {
        WorkerError::new(
            ErrorKind::Integrity,
            format!(
                "The saved collection \"{name}\" is damaged ({e}). Delete it and build it again."
            ),
        )
    })?;
    let collection = Rc::new(collection);
    state
        .borrow_mut()
        .collections
        .insert(name.to_string(), collection.clone());
    Ok(collection)
}

/// Top-k of a query over a saved collection, with the model the collection was built with.
#[allow(clippy::too_many_arguments)] // the request's fields, passed through
pub async fn search(
    state: &SharedSearch,
    catalog: &Catalog,
    name: &str,
    query: &str,
    top_k: usize,
    backend: Backend,
    mirror: Option<&str>,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let collection = open_collection(state, name).await?;
    let variant = catalog.get(&collection.model).ok_or_else(|| {
        WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "The model \"{}\" of this collection is no longer offered.",
                collection.model
            ),
        )
    })?;
    // Keep using whichever backend already holds this model; load on `backend` otherwise.
    let loaded = state
        .borrow()
        .encoder
        .as_ref()
        .filter(|(id, _, _)| *id == variant.id)
        .map(|(_, b, _)| *b);
    let encoder = encoder(
        state,
        variant,
        loaded.unwrap_or(backend),
        mirror,
        cancel,
        report,
    )
    .await?;
    let start = crate::js::now_millis();
    let query_vec = encoder
        .encode_queries(&[query])
        .await
        .map_err(engine_error)?;
    let vector = query_vec
        .vectors
        .first()
        .ok_or_else(|| WorkerError::new(ErrorKind::Internal, "the encoder returned no vector"))?;
    let hits = collection
        .search(vector, top_k.max(1))
        .map_err(search_error)?;
    let hits = hits
        .into_iter()
        .filter_map(|h| {
            collection.passages.get(h.index).map(|p| SearchHit {
                index: h.index as u32,
                score: h.score,
                text: p.text.clone(),
            })
        })
        .collect();
    Ok(JobResult::SearchResults {
        collection: name.to_string(),
        query: query.to_string(),
        hits,
        millis: crate::js::now_millis() - start,
    })
}

/// The saved collections.
pub async fn list(state: &SharedSearch) -> Result<JobResult, WorkerError> {
    let folder = Folder::open(FOLDER).await.map_err(storage_error)?;
    let mut out = Vec::new();
    for file in folder.list().await.map_err(storage_error)? {
        let Some(bytes) = folder.read(&file).await.map_err(storage_error)? else {
            continue;
        };
        // A damaged file still shows up, so it can be deleted.
        match Collection::from_bytes(&bytes) {
            Ok(c) => {
                out.push(CollectionInfo {
                    name: c.name.clone(),
                    variant_id: c.model.clone(),
                    passages: c.passages.len() as u32,
                    bytes: bytes.len() as u64,
                });
                state
                    .borrow_mut()
                    .collections
                    .insert(c.name.clone(), Rc::new(c));
            }
            Err(_) => out.push(CollectionInfo {
                name: file.clone(),
                variant_id: String::new(),
                passages: 0,
                bytes: bytes.len() as u64,
            }),
        }
    }
    Ok(JobResult::Collections(out))
}

/// Deletes a saved collection.
pub async fn delete(state: &SharedSearch, name: &str) -> Result<JobResult, WorkerError> {
    let folder = Folder::open(FOLDER).await.map_err(storage_error)?;
    let by_stem = folder.remove(&format!("{}.ogsc", file_stem(name))).await;
    // A damaged entry is listed under its file name.
    let by_file = !by_stem && folder.remove(name).await;
    state.borrow_mut().collections.remove(name);
    if by_stem || by_file {
        Ok(JobResult::DeletedCollection {
            collection: name.to_string(),
        })
    } else {
        Err(WorkerError::new(
            ErrorKind::BadInput,
            format!("There is no collection called \"{name}\"."),
        ))
    }
}
