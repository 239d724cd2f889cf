//! Requests of the Models page: the model store (download, cache report, delete) and the registry (what is
//! loaded, the memory budget).

use crate::job::JobCtx;
use crate::protocol::{ErrorKind, JobResult, ModelsRequest, WorkerError};
use crate::store;
use offgrid_catalog::ModelVariant;

fn variant<'a>(ctx: &'a JobCtx, id: &str) -> Result<&'a ModelVariant, WorkerError> {
    ctx.catalog.get(id).ok_or_else(|| {
        WorkerError::new(
            ErrorKind::BadInput,
            format!("There is no model called \"{id}\" in the catalog."),
        )
    })
}

pub async fn run(ctx: &JobCtx, request: ModelsRequest) -> Result<JobResult, WorkerError> {
    match request {
        ModelsRequest::Download { variant_id, mirror } => {
            let v = variant(ctx, &variant_id)?;
            let (bytes, from_cache) =
                store::download_variant(v, mirror.as_deref(), ctx.cancel_flag(), &|p| {
                    ctx.progress(p)
                })
                .await?;
            Ok(JobResult::Downloaded {
                variant_id,
                bytes,
                from_cache,
            })
        }
        ModelsRequest::ListCached => {
            Ok(JobResult::Cached(store::cache_report(&ctx.catalog).await?))
        }
        ModelsRequest::Delete { variant_id } => {
            let v = variant(ctx, &variant_id)?;
            let files = store::delete_variant(v).await?;
            ctx.registry.forget_variant(&variant_id);
            Ok(JobResult::Deleted { variant_id, files })
        }
        ModelsRequest::ListLoaded => Ok(JobResult::Loaded(ctx.registry.report())),
        ModelsRequest::SetBudget { bytes } => {
            let evicted = ctx.registry.set_budget(bytes);
            Ok(JobResult::BudgetSet { bytes, evicted })
        }
    }
}
