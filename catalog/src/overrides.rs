//! Per-task choices a person made on the Device page; they win over `plan` where they can run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::human_bytes;
use crate::{Backend, Catalog, Plan, Task, WeightDType};

/// What the user picked for one task; `None` fields keep the recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskOverride {
    /// Backend to run on.
    pub backend: Option<Backend>,
    /// Variant id.
    pub variant: Option<String>,
    /// Weight type.
    pub dtype: Option<WeightDType>,
}

/// All of the user's choices, keyed by task; serde so the app can persist them (localStorage).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Overrides {
    /// Choices per task.
    pub tasks: BTreeMap<Task, TaskOverride>,
    /// Memory the loaded models may take together, in MB (decimal), instead of the plan's budget.
    pub memory_budget_mb: Option<u64>,
}

/// `plan` with the user's choices applied; each applied choice adds a reason saying "chosen by you", each
/// choice that cannot apply says why and keeps the recommendation.
pub fn apply_overrides(plan: &Plan, overrides: &Overrides, catalog: &Catalog) -> Plan {
    let mut out = plan.clone();
    if let Some(mb) = overrides.memory_budget_mb.filter(|&mb| mb > 0) {
        out.memory_budget_bytes = mb * 1_000_000;
        out.notes.push(format!(
            "Models may use up to {} of memory, as you chose.",
            crate::human_bytes(out.memory_budget_bytes)
        ));
    }
    for tp in &mut out.tasks {
        let Some(choice) = overrides.tasks.get(&tp.task) else {
            continue;
        };
        let mut notes = Vec::new();
        if let Some(backend) = choice.backend {
            if backend == Backend::Gpu && !plan.webgpu {
                notes.push(
                    "You chose the GPU, but this browser has no WebGPU; staying on the CPU.".into(),
                );
            } else if backend != tp.backend {
                tp.backend = backend;
                notes.push(format!("{} chosen by you.", backend_words(backend)));
            }
        }
        if let Some(id) = &choice.variant {
            match catalog.get(id).filter(|v| v.task == tp.task) {
                Some(v) if tp.variant.as_deref() != Some(id.as_str()) => {
                    // The recommendation's reasons describe the model it picked; they would contradict this one.
                    let old_title = tp
                        .variant
                        .as_deref()
                        .and_then(|old| catalog.get(old))
                        .map(|old| old.title.clone());
                    tp.reasons.retain(|r| {
                        !old_title.as_deref().is_some_and(|t| r.contains(t))
                            && !r.starts_with("This model is coming")
                    });
                    tp.variant = Some(v.id.clone());
                    tp.ready = v.available;
                    // Keep the planned type when the new variant offers it, else its own stored type.
                    if !tp.dtype.is_some_and(|d| v.runtime_dtypes.contains(&d)) {
                        tp.dtype = Some(v.dtype);
                    }
                    let size = if v.bundled {
                        "it comes with the app".to_string()
                    } else {
                        format!("it downloads {}", human_bytes(v.download_bytes))
                    };
                    notes.push(format!("{} chosen by you; {size}.", v.title));
                    if !v.available {
                        notes.push("This model is coming: the app cannot run it yet.".into());
                    }
                    if v.needs_gpu && tp.backend == Backend::Cpu {
                        notes.push(format!("{} is slow on the CPU.", v.title));
                    }
                }
                Some(_) => {}
                None => notes.push(format!(
                    "Your choice \"{id}\" is not a model for this task any more; using the recommended one."
                )),
            }
        }
        if let Some(dtype) = choice.dtype {
            let variant = tp.variant.as_deref().and_then(|id| catalog.get(id));
            match variant {
                Some(v) if v.runtime_dtypes.contains(&dtype) && tp.dtype != Some(dtype) => {
                    tp.dtype = Some(dtype);
                    notes.push(format!("Weights as {dtype} chosen by you."));
                }
                Some(v) if v.runtime_dtypes.contains(&dtype) => {}
                Some(v) => notes.push(format!(
                    "{} cannot run as {dtype}; keeping {}.",
                    v.title,
                    tp.dtype.unwrap_or(v.dtype)
                )),
                None => {}
            }
        }
        // The user's decisions come first: they explain what differs from the recommendation below.
        notes.append(&mut tp.reasons);
        tp.reasons = notes;
    }
    out
}

fn backend_words(backend: Backend) -> &'static str {
    match backend {
        Backend::Gpu => "The GPU",
        Backend::Cpu => "The CPU",
    }
}
