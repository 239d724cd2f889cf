//! The worker's model registry: every task loads its model through [`Registry::load`], which downloads
//! and verifies the files through the store, builds the model on the backend and weight type the plan
//! chose, and keeps it for the next job. Loaded models stay under a memory budget (the plan's; the least
//! recently used are dropped first). All GPU models share **one** wgpu device; when it is lost, the GPU
//! models are dropped and the next use loads them again on a new device.

use crate::job::engine_error;
use crate::job::JobCtx;
use crate::protocol::{
    Backend, ErrorKind, LoadedModel, LoadedReport, ModelChoice, Progress, Stage, WeightDType,
    WorkerError,
};
use crate::store;
use offgrid_catalog::{ModelVariant, Task};
use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::io::{DTypePolicy, VarBuilder};
use offgrid_engine::{DType, Device};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Budget until the plan sets one: the plan's own assumption for a computer with unknown memory (half of
/// 8 GB).
const DEFAULT_BUDGET: u64 = 4 << 30;

/// Which model, on which backend, as which weight type: two jobs asking for the same key share the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelKey {
    pub variant_id: String,
    pub backend: Backend,
    pub dtype: WeightDType,
}

struct Entry {
    key: ModelKey,
    model: Rc<dyn Any>,
    bytes: u64,
    last_used: u64,
    /// The number of the GPU device that holds it.
    gpu_device: Option<u32>,
}

/// A variant's cached files, read for a model's builder (only files the catalog lists, so every byte was
/// verified when it was downloaded).
pub struct ModelFiles<'a> {
    pub variant: &'a ModelVariant,
}

impl ModelFiles<'_> {
    /// A file the model needs.
    pub async fn read(&self, path: &str) -> Result<Vec<u8>, WorkerError> {
        if self.variant.file(path).is_none() {
            return Err(WorkerError::new(
                ErrorKind::BadInput,
                format!("{} has no file {path}.", self.variant.title),
            ));
        }
        store::read_cached(self.variant, path).await
    }

    /// A file the model can do without.
    pub async fn optional(&self, path: &str) -> Option<Vec<u8>> {
        self.variant.file(path)?;
        store::read_cached(self.variant, path).await.ok()
    }

    /// The one file whose name ends with `suffix` (`.gguf`).
    pub fn path_ending(&self, suffix: &str) -> Result<&str, WorkerError> {
        self.variant
            .files
            .iter()
            .map(|f| f.path.as_str())
            .find(|p| p.ends_with(suffix))
            .ok_or_else(|| {
                WorkerError::new(
                    ErrorKind::BadInput,
                    format!("{} has no {suffix} file to run.", self.variant.title),
                )
            })
    }
}

/// What a model's builder gets: its files, the device, and the weight type to load.
pub struct LoadTarget<'a> {
    pub files: ModelFiles<'a>,
    pub device: Device,
    pub dtype: WeightDType,
}

impl LoadTarget<'_> {
    /// Safetensors weights with the plan's type applied: floats converted, or quantized on load.
    pub fn safetensors(&self, bytes: Vec<u8>) -> Result<VarBuilder, WorkerError> {
        let vb = VarBuilder::from_safetensors(bytes, &self.device).map_err(engine_error)?;
        weights_as(vb, self.dtype)
    }
}

/// `vb` loading its weights as `dtype`.
pub fn weights_as(vb: VarBuilder, dtype: WeightDType) -> Result<VarBuilder, WorkerError> {
    engine_weights_as(vb, dtype).map_err(engine_error)
}

/// [`weights_as`] with the engine's error, for loaders that take an engine closure.
pub fn engine_weights_as(vb: VarBuilder, dtype: WeightDType) -> offgrid_engine::Result<VarBuilder> {
    Ok(match dtype {
        WeightDType::F32 => vb.with_dtype(DTypePolicy::F32),
        WeightDType::F16 => vb.with_dtype(DTypePolicy::F16),
        WeightDType::Q8_0 => vb.with_quantization(Some(DType::Q8_0))?,
        WeightDType::Q4_0 => vb.with_quantization(Some(DType::Q4_0))?,
        // Stored block types (GGUF) load as they are.
        _ => vb,
    })
}

/// The models of one worker and the GPU device they share.
pub struct Registry {
    entries: RefCell<Vec<Entry>>,
    gpu: RefCell<Option<(GpuDevice, u32)>>,
    devices_created: Cell<u32>,
    budget: Cell<u64>,
    clock: Cell<u64>,
    evictions: Cell<u32>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            entries: RefCell::new(Vec::new()),
            gpu: RefCell::new(None),
            devices_created: Cell::new(0),
            budget: Cell::new(DEFAULT_BUDGET),
            clock: Cell::new(0),
            evictions: Cell::new(0),
        }
    }
}

impl Registry {
    fn tick(&self) -> u64 {
        let t = self.clock.get() + 1;
        self.clock.set(t);
        t
    }

    /// The engine device for `backend`: the CPU, or the worker's one GPU device (created on first use, and
    /// again after a loss).
    pub async fn device(&self, backend: Backend) -> Result<(Device, Option<u32>), WorkerError> {
        if backend == Backend::Cpu {
            return Ok((Device::Cpu, None));
        }
        self.drop_lost_gpu();
        if let Some((gpu, number)) = self.gpu.borrow().as_ref() {
            return Ok((Device::Gpu(gpu.clone()), Some(*number)));
        }
        let gpu = GpuDevice::new().await.map_err(engine_error)?;
        // Another job may have created one while this one awaited: keep the first.
        if let Some((first, number)) = self.gpu.borrow().as_ref() {
            return Ok((Device::Gpu(first.clone()), Some(*number)));
        }
        let number = self.devices_created.get() + 1;
        self.devices_created.set(number);
        *self.gpu.borrow_mut() = Some((gpu.clone(), number));
        Ok((Device::Gpu(gpu), Some(number)))
    }

    /// Forgets the GPU device and every model on it when the device was lost.
    fn drop_lost_gpu(&self) {
        let lost = self.gpu.borrow().as_ref().is_some_and(|(g, _)| g.is_lost());
        if lost {
            self.forget_gpu();
        }
    }

    /// Drops the GPU device and its models (after a loss; the next use creates a new one).
    pub fn forget_gpu(&self) {
        self.gpu.borrow_mut().take();
        self.entries
            .borrow_mut()
            .retain(|e| e.key.backend != Backend::Gpu);
    }

    /// Destroys the GPU device as a driver reset would and waits until the loss is seen (fault injection).
    /// Returns false when there was no device.
    pub async fn lose_gpu(&self) -> bool {
        let Some(gpu) = self.gpu.borrow().as_ref().map(|(g, _)| g.clone()) else {
            return false;
        };
        gpu.destroy();
        // The browser reports the loss through a promise: wait for it (a few event-loop turns).
        for _ in 0..200 {
            if gpu.is_lost() {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(10).await;
        }
        true
    }

    /// The model for `choice` as `M`, loaded (downloaded first when needed) by `build` unless the registry
    /// already holds it. `task` guards against a variant of another task.
    pub async fn load<M: 'static>(
        &self,
        ctx: &JobCtx,
        task: Task,
        choice: &ModelChoice,
        build: impl AsyncFnOnce(LoadTarget<'_>) -> Result<M, WorkerError>,
    ) -> Result<Rc<M>, WorkerError> {
        let variant = runnable_variant(ctx, task, &choice.variant_id)?;
        let dtype = dtype_for(variant, choice.dtype)?;
        let key = ModelKey {
            variant_id: variant.id.clone(),
            backend: choice.backend,
            dtype,
        };
        if choice.backend == Backend::Gpu {
            self.drop_lost_gpu();
        }
        if let Some(model) = self.get::<M>(&key) {
            return Ok(model);
        }
        if !variant.bundled {
            store::download_variant(variant, choice.mirror.as_deref(), ctx.cancel_flag(), &|p| {
                ctx.progress(p)
            })
            .await?;
        }
        ctx.check_cancel()?;
        ctx.progress(Progress::steps(Stage::Loading, 0, 1));
        let bytes = variant.memory_bytes(dtype);
        // Make room before loading, so two big models are never held while the new one is built.
        self.evict_for(bytes);
        let (device, gpu_device) = self.device(choice.backend).await?;
        let target = LoadTarget {
            files: ModelFiles { variant },
            device,
            dtype,
        };
        let model = Rc::new(build(target).await?);
        // Another job may have loaded the same model meanwhile; both copies work, keep one.
        if let Some(existing) = self.get::<M>(&key) {
            return Ok(existing);
        }
        let last_used = self.tick();
        self.entries.borrow_mut().push(Entry {
            key,
            model: model.clone() as Rc<dyn Any>,
            bytes,
            last_used,
            gpu_device,
        });
        Ok(model)
    }

    fn get<M: 'static>(&self, key: &ModelKey) -> Option<Rc<M>> {
        let now = self.tick();
        let mut entries = self.entries.borrow_mut();
        let entry = entries.iter_mut().find(|e| e.key == *key)?;
        entry.last_used = now;
        entry.model.clone().downcast::<M>().ok()
    }

    /// Drops least recently used models until `incoming` more bytes fit the budget (or nothing is left).
    fn evict_for(&self, incoming: u64) {
        let mut entries = self.entries.borrow_mut();
        loop {
            let held: u64 = entries.iter().map(|e| e.bytes).sum();
            if held + incoming <= self.budget.get() || entries.is_empty() {
                return;
            }
            let oldest = entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                // A job still running on it keeps its own reference; the memory goes when it ends.
                entries.remove(i);
                self.evictions.set(self.evictions.get() + 1);
            }
        }
    }

    /// Sets the budget and drops what no longer fits; returns how many models were dropped.
    pub fn set_budget(&self, bytes: u64) -> u32 {
        let before = self.evictions.get();
        self.budget.set(bytes);
        self.evict_for(0);
        self.evictions.get() - before
    }

    /// Drops every loaded copy of a variant (its files were deleted).
    pub fn forget_variant(&self, variant_id: &str) {
        self.entries
            .borrow_mut()
            .retain(|e| e.key.variant_id != variant_id);
    }

    /// What is loaded, most recently used first.
    pub fn report(&self) -> LoadedReport {
        let mut entries: Vec<_> = self
            .entries
            .borrow()
            .iter()
            .map(|e| {
                (
                    e.last_used,
                    LoadedModel {
                        variant_id: e.key.variant_id.clone(),
                        backend: e.key.backend,
                        dtype: e.key.dtype,
                        bytes: e.bytes,
                        gpu_device: e.gpu_device,
                    },
                )
            })
            .collect();
        entries.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
        LoadedReport {
            models: entries.into_iter().map(|(_, m)| m).collect(),
            budget_bytes: self.budget.get(),
            gpu_devices_created: self.devices_created.get(),
            evictions: self.evictions.get(),
        }
    }
}

/// The catalog variant `id` of `task`, refused when its downloads could not be verified.
fn runnable_variant<'a>(
    ctx: &'a JobCtx,
    task: Task,
    id: &str,
) -> Result<&'a ModelVariant, WorkerError> {
    let variant = ctx
        .catalog
        .get(id)
        .filter(|v| v.task == task)
        .ok_or_else(|| {
            WorkerError::new(
                ErrorKind::BadInput,
                format!(
                    "There is no model called \"{id}\" for {}.",
                    task.title().to_lowercase()
                ),
            )
        })?;
    if !variant.bundled && !variant.is_verifiable() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "{} cannot be downloaded in this version of Offgrid: the catalog does not know its files' checksums yet, so the download could not be verified. Choose another model on the Device page.",
                variant.title
            ),
        ));
    }
    Ok(variant)
}

/// The weight type to load: the plan's, when the variant can run as it; the stored type when none is given.
fn dtype_for(
    variant: &ModelVariant,
    asked: Option<WeightDType>,
) -> Result<WeightDType, WorkerError> {
    match asked {
        None => Ok(variant.dtype),
        Some(d) if variant.runtime_dtypes.contains(&d) => Ok(d),
        Some(d) => Err(WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "{} cannot run as {d}; it runs as {}.",
                variant.title,
                variant
                    .runtime_dtypes
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
