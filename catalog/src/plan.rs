//! `plan`: from a device profile and the catalog, pick per task a backend, a model variant and a weight type,
//! and say why in words a person can follow. Pure: the app, the workers and the CLI all call it.

use serde::{Deserialize, Serialize};

use crate::{Catalog, DeviceClass, DeviceProfile, ModelVariant, Task, WeightDType};

/// Where a task's model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// WebGPU (wgpu natively).
    Gpu,
    /// The pure-Rust path (WebAssembly in the browser).
    Cpu,
}

/// The decision for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// The task.
    pub task: Task,
    /// Where it runs.
    pub backend: Backend,
    /// The chosen variant id, or `None` when nothing fits this device (see `reasons`).
    pub variant: Option<String>,
    /// Weight type to run the variant as.
    pub dtype: Option<WeightDType>,
    /// Whether the app can run the chosen variant today (`false`: shown as "coming").
    pub ready: bool,
    /// Why, in plain words, most important first.
    pub reasons: Vec<String>,
}

/// The decisions for every task plus what was concluded about the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// How capable the device looks.
    pub class: DeviceClass,
    /// WebGPU gave an adapter (overrides may pick the GPU only then).
    pub webgpu: bool,
    /// The GPU is worth using (not software, not measured slower than the CPU).
    pub gpu_usable: bool,
    /// Memory one model may use, in bytes.
    pub memory_budget_bytes: u64,
    /// Device-level conclusions, in words.
    pub notes: Vec<String>,
    /// One entry per task, in `Task::ALL` order.
    pub tasks: Vec<TaskPlan>,
}

impl Plan {
    /// The decision for `task`.
    pub fn task(&self, task: Task) -> Option<&TaskPlan> {
        self.tasks.iter().find(|t| t.task == task)
    }
}

/// Bytes as people read them: "91 MB", "1.1 GB" (decimal units, like download sizes).
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

fn adapter_name(p: &DeviceProfile) -> String {
    let a = &p.adapter;
    if !a.description.trim().is_empty() {
        return a.description.trim().to_string();
    }
    let name = format!("{} {}", a.vendor.trim(), a.architecture.trim());
    if name.trim().is_empty() {
        "this GPU".to_string()
    } else {
        name.trim().to_string()
    }
}

/// Copy bandwidth (read + write) a GPU must measure, besides 1 TFLOP/s, for the high class: about what an
/// entry discrete GPU or a recent laptop's integrated one reaches.
const HIGH_CLASS_GBPS: f64 = 100.0;

/// Whether the GPU is worth using, and why.
fn gpu_verdict(p: &DeviceProfile) -> (bool, String) {
    if !p.webgpu {
        return (
            false,
            "This browser has no WebGPU, so models run on the CPU (WebAssembly).".into(),
        );
    }
    if p.software_adapter() {
        return (
            false,
            format!(
                "The GPU adapter ({}) is a software renderer that runs on the CPU; running on the CPU directly is faster.",
                adapter_name(p)
            ),
        );
    }
    if let Some((gpu, cpu)) = p.bench.and_then(|b| b.gpu_gflops.zip(b.cpu_gflops)) {
        if gpu < cpu {
            return (
                false,
                format!(
                    "Measured here: the GPU reached {gpu:.0} GFLOP/s and the CPU {cpu:.0} GFLOP/s, so the CPU is faster."
                ),
            );
        }
    }
    (
        true,
        format!("Runs on the GPU ({}) through WebGPU.", adapter_name(p)),
    )
}

fn device_class(p: &DeviceProfile, gpu_usable: bool) -> (DeviceClass, String) {
    if let Some(ram) = p.device_memory_gb.filter(|&r| r <= 2.0) {
        return (
            DeviceClass::Low,
            format!("This device reports {ram} GB of memory, so it gets entry-level models."),
        );
    }
    if !gpu_usable {
        let cores = p.hardware_concurrency;
        if !p.is_mobile && cores >= 8 && p.device_memory_gb.unwrap_or(8.0) >= 8.0 {
            return (
                DeviceClass::Mid,
                format!("No usable GPU, but {cores} CPU cores: mid-range models on the CPU."),
            );
        }
        return (
            DeviceClass::Low,
            "No usable GPU and a modest CPU: entry-level models.".into(),
        );
    }
    if let Some(gflops) = p.bench.and_then(|b| b.gpu_gflops) {
        // Decoding a token reads every weight once, so memory bandwidth bounds the larger models as much as
        // GEMM throughput does: a GPU needs both to get them.
        let gbps = p.bench.and_then(|b| b.gpu_gbps);
        let class = if !p.is_mobile && gflops >= 1000.0 && gbps.is_none_or(|g| g >= HIGH_CLASS_GBPS)
        {
            DeviceClass::High
        } else {
            DeviceClass::Mid
        };
        let measured = match gbps {
            Some(g) => format!("{gflops:.0} GFLOP/s and {g:.0} GB/s"),
            None => format!("{gflops:.0} GFLOP/s"),
        };
        return (
            class,
            format!(
                "The GPU measured {measured} here: {} models.",
                class.label()
            ),
        );
    }
    if p.is_mobile {
        return (
            DeviceClass::Mid,
            "A phone or tablet GPU: mid-range models.".into(),
        );
    }
    let vendor = p.adapter.vendor.to_ascii_lowercase();
    if ["nvidia", "amd", "ati"].iter().any(|v| vendor.contains(v)) {
        (
            DeviceClass::High,
            format!("A discrete GPU ({vendor}): the strongest models."),
        )
    } else if vendor.contains("apple") {
        (
            DeviceClass::High,
            "An Apple silicon GPU: the strongest models.".into(),
        )
    } else {
        (
            DeviceClass::Mid,
            "Integrated graphics: mid-range models.".into(),
        )
    }
}

/// Memory one model may take: a quarter of RAM on phones (the OS kills big tabs), half on computers.
fn memory_budget(p: &DeviceProfile) -> (u64, String) {
    let (ram_gb, assumed) = match p.device_memory_gb.filter(|&r| r > 0.0) {
        Some(r) => (r, false),
        None if p.is_mobile => (4.0, true),
        None => (8.0, true),
    };
    let (share, share_words) = if p.is_mobile {
        (0.25, "a quarter")
    } else {
        (0.5, "half")
    };
    let budget = (ram_gb * share * (1u64 << 30) as f64) as u64;
    let source = if assumed {
        " (assumed: the browser does not say)"
    } else {
        ""
    };
    (
        budget,
        format!(
            "A model may use up to {}, {share_words} of {ram_gb} GB of memory{source}.",
            human_bytes(budget)
        ),
    )
}

struct Context<'a> {
    profile: &'a DeviceProfile,
    class: DeviceClass,
    budget: u64,
    f16: bool,
    gpu_reason: String,
}

fn dtype_order(v: &ModelVariant, backend: Backend, cx: &Context) -> Vec<WeightDType> {
    let offers = |d| v.runtime_dtypes.contains(&d);
    let preferred = match backend {
        Backend::Gpu if cx.f16 && offers(WeightDType::F16) => WeightDType::F16,
        Backend::Cpu if offers(WeightDType::Q8_0) => WeightDType::Q8_0,
        _ => v.dtype,
    };
    // Fall back only to smaller types: a bigger one cannot fit where the preferred did not.
    let mut smaller: Vec<WeightDType> = v
        .runtime_dtypes
        .iter()
        .copied()
        .filter(|d| d.bits_per_weight() < preferred.bits_per_weight())
        .collect();
    smaller.sort_by(|a, b| b.bits_per_weight().total_cmp(&a.bits_per_weight()));
    std::iter::once(preferred).chain(smaller).collect()
}

fn dtype_reason(v: &ModelVariant, dtype: WeightDType, backend: Backend, cx: &Context) -> String {
    match (backend, dtype) {
        _ if v.runtime_dtypes.len() == 1 => format!("The model is published as {dtype}."),
        (Backend::Gpu, WeightDType::F16) if cx.f16 => {
            "The GPU supports shader-f16: half-precision weights halve memory and bandwidth.".into()
        }
        (Backend::Gpu, WeightDType::F16) => {
            "The weights are published as f16; the engine reads them on any WebGPU device (without shader-f16 it computes in f32).".into()
        }
        (Backend::Gpu, WeightDType::F32) if !cx.f16 => {
            "The GPU lacks shader-f16, so weights stay in f32.".into()
        }
        (Backend::Cpu, WeightDType::Q8_0) => {
            "On the CPU, 8-bit weights are 4× smaller than f32 and faster to stream, at a small accuracy cost.".into()
        }
        _ => format!("Weights run as {dtype}."),
    }
}

/// Why `v` cannot run as `dtype` on `backend`, or `None` if it fits.
fn misfit(v: &ModelVariant, dtype: WeightDType, backend: Backend, cx: &Context) -> Option<String> {
    let memory = v.memory_bytes(dtype);
    if memory > cx.budget {
        return Some(format!(
            "{} as {dtype} needs about {}, more than the {} this device can spare.",
            v.title,
            human_bytes(memory),
            human_bytes(cx.budget)
        ));
    }
    let binding = cx.profile.limits.max_storage_buffer_binding_size;
    let largest = v.largest_tensor_bytes(dtype);
    if backend == Backend::Gpu && !v.splittable && largest > binding {
        return Some(format!(
            "{} as {dtype} has a {} tensor, larger than the GPU's {} binding limit.",
            v.title,
            human_bytes(largest),
            human_bytes(binding)
        ));
    }
    None
}

struct Choice<'a> {
    variant: &'a ModelVariant,
    dtype: WeightDType,
    reasons: Vec<String>,
}

/// The best variant and type for `task` on `backend`, or every reason nothing fits.
fn choose<'a>(
    task: Task,
    backend: Backend,
    cx: &Context,
    catalog: &'a Catalog,
) -> Result<Choice<'a>, Vec<String>> {
    let mut candidates: Vec<&ModelVariant> = catalog
        .for_task(task)
        .filter(|v| v.min_class <= cx.class && !v.is_test_checkpoint())
        .collect();
    // A model the app can run comes before any that is coming: what the Device page shows must run. Then
    // the smallest download (Data Saver) or the largest model this device suits.
    if cx.profile.save_data {
        candidates.sort_by_key(|v| (!v.available, v.download_bytes));
    } else {
        candidates.sort_by_key(|v| (!v.available, std::cmp::Reverse(v.min_class)));
    }
    let free = cx.profile.storage_free_bytes();
    let mut skipped = Vec::new();
    for v in candidates {
        if v.needs_gpu && backend == Backend::Cpu {
            skipped.push(format!("{} needs a GPU to run at a useful speed.", v.title));
            continue;
        }
        let cached = v.bundled || cx.profile.cached_variants.contains(&v.id);
        if let Some(free) = free.filter(|&f| !cached && v.download_bytes > f) {
            skipped.push(format!(
                "{} is a {} download, but only {} of storage is free.",
                v.title,
                human_bytes(v.download_bytes),
                human_bytes(free)
            ));
            continue;
        }
        let mut first_misfit = None;
        for dtype in dtype_order(v, backend, cx) {
            match misfit(v, dtype, backend, cx) {
                Some(why) => {
                    first_misfit.get_or_insert(why);
                }
                None => {
                    let mut reasons = skipped;
                    if let Some(why) = first_misfit {
                        reasons.push(format!("{why} As {dtype} it fits."));
                    }
                    reasons.push(dtype_reason(v, dtype, backend, cx));
                    return Ok(Choice {
                        variant: v,
                        dtype,
                        reasons,
                    });
                }
            }
        }
        skipped.extend(first_misfit);
    }
    Err(skipped)
}

fn chosen(
    task: Task,
    backend: Backend,
    choice: Choice,
    mut reasons: Vec<String>,
    cx: &Context,
) -> TaskPlan {
    let v = choice.variant;
    let size = if v.bundled {
        "comes with the app".to_string()
    } else {
        format!("downloads {}", human_bytes(v.download_bytes))
    };
    let pick = if cx.profile.save_data && !v.bundled {
        format!(
            "{}: Data Saver is on, so the smallest download was picked; it {size}.",
            v.title
        )
    } else {
        let class = cx.class.label();
        let article = if class.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{}: suits {article} {class} device; it {size}.", v.title)
    };
    reasons.push(pick);
    reasons.extend(choice.reasons);
    if !v.available {
        reasons.push("This model is coming: the app cannot run it yet.".into());
    }
    TaskPlan {
        task,
        backend,
        variant: Some(v.id.clone()),
        dtype: Some(choice.dtype),
        ready: v.available,
        reasons,
    }
}

fn plan_task(task: Task, gpu_usable: bool, cx: &Context, catalog: &Catalog) -> TaskPlan {
    let mut reasons = Vec::new();
    if gpu_usable && task != Task::Vad {
        match choose(task, Backend::Gpu, cx, catalog) {
            Ok(choice) => {
                reasons.push(cx.gpu_reason.clone());
                return chosen(task, Backend::Gpu, choice, reasons, cx);
            }
            Err(why) => {
                reasons.push("No model for this task fits the GPU, so it runs on the CPU.".into());
                reasons.extend(why);
            }
        }
    } else if task == Task::Vad && gpu_usable {
        reasons.push(
            "Voice detection runs on tiny 32 ms chunks, where the CPU answers sooner than a round trip to the GPU."
                .into(),
        );
    } else {
        reasons.push(cx.gpu_reason.clone());
    }
    match choose(task, Backend::Cpu, cx, catalog) {
        Ok(choice) => chosen(task, Backend::Cpu, choice, reasons, cx),
        Err(why) => {
            reasons.insert(0, "No model for this task fits this device.".into());
            reasons.extend(why);
            TaskPlan {
                task,
                backend: Backend::Cpu,
                variant: None,
                dtype: None,
                ready: false,
                reasons,
            }
        }
    }
}

/// Pick, for every task, where to run, which variant and which weight type, with reasons.
pub fn plan(profile: &DeviceProfile, catalog: &Catalog) -> Plan {
    let (gpu_usable, gpu_reason) = gpu_verdict(profile);
    let (class, class_reason) = device_class(profile, gpu_usable);
    let (budget, budget_reason) = memory_budget(profile);
    let mut notes = vec![gpu_reason.clone(), class_reason, budget_reason];
    if let Some(free) = profile.storage_free_bytes() {
        notes.push(format!(
            "{} of storage is free for models.",
            human_bytes(free)
        ));
    }
    let cx = Context {
        profile,
        class,
        budget,
        f16: gpu_usable && profile.has_feature("shader-f16"),
        gpu_reason,
    };
    let tasks = Task::ALL
        .into_iter()
        .map(|task| plan_task(task, gpu_usable, &cx, catalog))
        .collect();
    Plan {
        class,
        webgpu: profile.webgpu,
        gpu_usable,
        memory_budget_bytes: budget,
        notes,
        tasks,
    }
}
