//! Semantic search in the worker: loads a sentence encoder from the model cache, embeds a corpus with
//! progress (cancellable between batches), saves collections in OPFS, and answers top-k queries.

use crate::collection::file_stem;
use crate::job::{engine_error, JobCtx};
use crate::opfs::Folder;
use crate::protocol::{
    CollectionInfo, ErrorKind, JobResult, ModelChoice, Progress, SearchHit, SearchRequest, Stage,
    WorkerError,
};
use crate::registry::LoadTarget;
use offgrid_catalog::Task;
use offgrid_engine::models::bert::{EncoderFiles, SentenceEncoder};
use offgrid_search::{Collection, FlatIndex, Passage};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

const FOLDER: &str = "offgrid-collections";
/// Passages embedded per step: small enough that Cancel and queries get a turn often.
const BATCH: usize = 8;

/// The collections opened so far (the encoder lives in the model registry).
#[derive(Default)]
pub struct SearchState {
    collections: HashMap<String, Rc<Collection>>,
}

type SharedSearch = Rc<RefCell<SearchState>>;

fn search_error(e: offgrid_search::Error) -> WorkerError {
    WorkerError::new(ErrorKind::Internal, e.to_string())
}

fn storage_error(e: String) -> WorkerError {
    WorkerError::new(
        ErrorKind::Internal,
        format!("Saved collections are unavailable: {e}"),
    )
}

/// The search page's requests.
pub async fn run(ctx: &JobCtx, request: SearchRequest) -> Result<JobResult, WorkerError> {
    let state = ctx.tasks.get::<SearchState>();
    match request {
        SearchRequest::BuildIndex {
            collection,
            model,
            passages,
        } => build_index(ctx, &state, collection, &model, passages).await,
        SearchRequest::Query {
            collection,
            query,
            top_k,
            model,
        } => search(ctx, &state, &collection, &query, top_k as usize, model).await,
        SearchRequest::List => list(&state).await,
        SearchRequest::Delete { collection } => delete(&state, &collection).await,
    }
}

/// The sentence encoder for `choice`, from the registry (loaded, and downloaded, when needed).
async fn encoder(ctx: &JobCtx, choice: &ModelChoice) -> Result<Rc<SentenceEncoder>, WorkerError> {
    ctx.registry
        .load(ctx, Task::Search, choice, async |target: LoadTarget<'_>| {
            let files = &target.files;
            let vb = target.safetensors(files.read("model.safetensors").await?)?;
            let config = files.read("config.json").await?;
            let tokenizer = files.read("tokenizer.json").await?;
            let pooling = files.optional("1_Pooling/config.json").await;
            let sbert = files.optional("sentence_bert_config.json").await;
            let st = files.optional("config_sentence_transformers.json").await;
            let parts = EncoderFiles {
                config: &config,
                tokenizer: &tokenizer,
                pooling: pooling.as_deref(),
                sentence_bert_config: sbert.as_deref(),
                sentence_transformers_config: st.as_deref(),
            };
            let mut encoder = SentenceEncoder::from_files(&parts, &vb)
                .map_err(engine_error)?
                .with_batch_size(BATCH);
            if let Some(p) = &files.variant.prefixes {
                encoder = encoder.with_prefixes(p.query.clone(), p.passage.clone());
            }
            Ok(encoder)
        })
        .await
}

/// Embeds `passages` and saves them as `name`.
async fn build_index(
    ctx: &JobCtx,
    state: &SharedSearch,
    name: String,
    choice: &ModelChoice,
    passages: Vec<String>,
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
    let encoder = encoder(ctx, choice).await?;
    let start = crate::js::now_millis();
    let total = passages.len();
    let mut index = FlatIndex::new(encoder.dim());
    let mut truncated = Vec::new();
    for (batch_no, batch) in passages.chunks(BATCH).enumerate() {
        ctx.check_cancel()?;
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
        ctx.progress(Progress::steps(Stage::Running, done, total as u64));
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
    let collection = Collection::new(name.clone(), choice.variant_id.clone(), passages, index)
        .map_err(search_error)?;
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
        backend: choice.backend,
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
async fn search(
    ctx: &JobCtx,
    state: &SharedSearch,
    name: &str,
    query: &str,
    top_k: usize,
    choice: ModelChoice,
) -> Result<JobResult, WorkerError> {
    let collection = open_collection(state, name).await?;
    if ctx.catalog.get(&collection.model).is_none() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "The model \"{}\" of this collection is no longer offered.",
                collection.model
            ),
        ));
    }
    // The page's choice is the plan's model for search; a collection built with another keeps its own
    // model, as the type it stores.
    let choice = if choice.variant_id == collection.model {
        choice
    } else {
        ModelChoice {
            variant_id: collection.model.clone(),
            dtype: None,
            ..choice
        }
    };
    let encoder = encoder(ctx, &choice).await?;
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
async fn list(state: &SharedSearch) -> Result<JobResult, WorkerError> {
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
async fn delete(state: &SharedSearch, name: &str) -> Result<JobResult, WorkerError> {
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
