//! Background removal in the worker: IS-Net from the model store on the backend the plan chose, then the
//! matte at the photo's own resolution, encoded as PNG and WebP. The photo arrives with the request and the
//! cut-out leaves with the result: neither touches the network.

use crate::job::{engine_error, JobCtx};
use crate::protocol::{
    ErrorKind, JobResult, ModelChoice, Progress, RemoveBackgroundRequest, Stage, WorkerError,
};
use crate::registry::LoadTarget;
use offgrid_catalog::{ModelVariant, Task};
use offgrid_engine::image::{cut_out, decode_photo, encode_rgba_png, encode_rgba_webp, Refinement};
use offgrid_engine::microbench::now_ms;
use offgrid_engine::models::isnet::IsNetInput;
use offgrid_engine::pipelines::remove_background::BackgroundRemover;
use std::rc::Rc;

/// The input normalisation each published model was trained with.
fn normalisation(variant: &ModelVariant) -> IsNetInput {
    if variant.repo.starts_with("briaai/") {
        IsNetInput::RMBG
    } else {
        IsNetInput::IMGLY
    }
}

async fn remover(ctx: &JobCtx, choice: &ModelChoice) -> Result<Rc<BackgroundRemover>, WorkerError> {
    ctx.registry
        .load(
            ctx,
            Task::RemoveBackground,
            choice,
            async |target: LoadTarget<'_>| {
                let variant = target.files.variant;
                let file = variant
                    .files
                    .first()
                    .map(|f| f.path.clone())
                    .unwrap_or_default();
                let bytes = target.files.read(&file).await?;
                BackgroundRemover::from_onnx(&bytes, normalisation(variant), &target.device)
                    .map_err(|e| {
                        WorkerError::new(
                            ErrorKind::Internal,
                            format!("{} could not be loaded: {e}", variant.title),
                        )
                    })
            },
        )
        .await
}

/// Cuts one photo out.
pub async fn run(ctx: &JobCtx, request: RemoveBackgroundRequest) -> Result<JobResult, WorkerError> {
    // A file that is not an image is refused before any model is downloaded.
    let photo = decode_photo(&request.photo)
        .map_err(|e| WorkerError::new(ErrorKind::BadInput, format!("{}: {e}", request.name)))?;
    drop(request.photo);
    let model = remover(ctx, &request.model).await?;
    ctx.check_cancel()?;
    let start = now_ms();
    // Steps: the model, the matte, the encodings.
    ctx.progress(Progress::steps(Stage::Running, 0, 3));
    let mask = model.mask(&photo).await.map_err(engine_error)?;
    let model_millis = now_ms() - start;
    ctx.check_cancel()?;
    ctx.progress(Progress::steps(Stage::Running, 1, 3));
    let refine = if request.refine {
        Refinement::Edges
    } else {
        Refinement::None
    };
    let cut = cut_out(photo, &mask, model.input_side(), refine);
    ctx.check_cancel()?;
    ctx.progress(Progress::steps(Stage::Running, 2, 3));
    let png = encode_rgba_png(&cut.rgba, cut.width, cut.height).map_err(engine_error)?;
    let webp = encode_rgba_webp(&cut.rgba, cut.width, cut.height).map_err(engine_error)?;
    Ok(JobResult::Cutout(Box::new(crate::protocol::Cutout {
        name: request.name,
        width: cut.width as u32,
        height: cut.height as u32,
        png,
        webp,
        model_millis,
        total_millis: now_ms() - start,
        backend: request.model.backend,
    })))
}
