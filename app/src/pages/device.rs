//! Device: what the probe read, the plan it made (with reasons), per-task overrides that persist, and an
//! engine self-test on either backend.

use crate::components::job_status::JobStatus;
use crate::hooks::use_cache_report::{storage_line, use_cache_report};
use crate::hooks::use_device_plan::{DevicePlan, ProbeState};
use crate::hooks::use_job::use_job;
use offgrid_catalog::{human_bytes, Backend, Catalog, Overrides, Plan, TaskOverride};
use offgrid_workers::protocol::{self, JobResult, Request, SystemRequest, WorkerEvent};
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

fn row(label: &str, value: String) -> Html {
    html! { <tr><th scope="row">{ label }</th><td>{ value }</td></tr> }
}

fn yes_no(v: bool) -> String {
    if v {
        "yes".into()
    } else {
        "no".into()
    }
}

fn backend_label(b: Backend) -> &'static str {
    match b {
        Backend::Gpu => "GPU (WebGPU)",
        Backend::Cpu => "CPU (WebAssembly)",
    }
}

#[function_component(DevicePage)]
pub fn device_page() -> Html {
    // The worker's figure, read when the page opens (the probe's was read before any download).
    let storage = storage_line(use_cache_report(0).as_ref());
    let Some(plan_ctx) = use_context::<DevicePlan>() else {
        return html! {};
    };
    let body = match &plan_ctx.state {
        ProbeState::Running => {
            html! { <p role="status" aria-live="polite">{ "Reading this device and running a short benchmark…" }</p> }
        }
        ProbeState::Failed(msg) => html! {
            <div role="alert" class="job-status error">{ format!("The probe failed: {msg}") }</div>
        },
        ProbeState::Ready {
            profile,
            gpu,
            auto,
            plan,
        } => {
            let gpu_section = if gpu.webgpu {
                html! {
                    <table class="facts" id="adapter">
                        <caption>{ "WebGPU adapter (as seen by the engine worker)" }</caption>
                        { row("Vendor", gpu.vendor.clone()) }
                        { row("Architecture", gpu.architecture.clone()) }
                        { row("Description", gpu.description.clone()) }
                        { row("Software (emulated) GPU", yes_no(gpu.is_software)) }
                        { row("shader-f16", yes_no(gpu.features.iter().any(|f| f == "shader-f16"))) }
                        { row("timestamp-query", yes_no(gpu.features.iter().any(|f| f == "timestamp-query"))) }
                        { row("maxBufferSize", human_bytes(gpu.max_buffer_size)) }
                        { row("maxStorageBufferBindingSize", human_bytes(gpu.max_storage_buffer_binding_size)) }
                        { row("maxComputeWorkgroupSizeX", gpu.max_compute_workgroup_size_x.to_string()) }
                        { row("maxComputeInvocationsPerWorkgroup", gpu.max_compute_invocations_per_workgroup.to_string()) }
                        { row("maxComputeWorkgroupStorageSize", human_bytes(gpu.max_compute_workgroup_storage_size as u64)) }
                        { row("GEMM on GPU (measured)", gpu.gpu_gflops.map(|g| format!("{g:.1} GFLOP/s")).unwrap_or_else(|| "not measured".into())) }
                        { row("Memory bandwidth on GPU (measured)", gpu.gpu_gbps.map(|g| format!("{g:.1} GB/s")).unwrap_or_else(|| "not measured".into())) }
                    </table>
                }
            } else {
                html! {
                    <p id="no-webgpu" class="status warn">{ format!("No WebGPU: {}", gpu.unavailable_reason.clone().unwrap_or_default()) }</p>
                }
            };
            html! {
                <>
                <table class="facts">
                    <caption>{ "This device" }</caption>
                    { row("WebGPU", yes_no(profile.webgpu)) }
                    { row("Memory (navigator.deviceMemory)", profile.device_memory_gb.map(|g| format!("{g} GB")).unwrap_or_else(|| "not reported".into())) }
                    { row("CPU cores", profile.hardware_concurrency.to_string()) }
                    <tr><th scope="row">{ "Storage" }</th><td id="storage">{ storage.clone() }</td></tr>
                    { row("Cross-origin isolated", yes_no(profile.cross_origin_isolated)) }
                    { row("WebAssembly SIMD", yes_no(profile.wasm_simd)) }
                    { row("Mobile", yes_no(profile.is_mobile)) }
                    { row("Save-Data", yes_no(profile.save_data)) }
                    { row("GEMM on CPU (measured)", gpu.cpu_gflops.map(|g| format!("{g:.2} GFLOP/s")).unwrap_or_else(|| "not measured".into())) }
                    { row("Memory bandwidth on CPU (measured)", gpu.cpu_gbps.map(|g| format!("{g:.2} GB/s")).unwrap_or_else(|| "not measured".into())) }
                </table>
                { gpu_section }
                <PlanTable plan={plan.clone()} auto={auto.clone()} overrides={plan_ctx.overrides.clone()} set_overrides={plan_ctx.set_overrides.clone()} />
                </>
            }
        }
    };
    let rerun = plan_ctx.rerun.clone();
    html! {
        <section>
            { body }
            <p><button class="secondary" onclick={Callback::from(move |_| rerun.emit(()))}>{ "Run the probe again" }</button></p>
            <SelfTest />
            <GpuReset />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PlanTableProps {
    plan: Rc<Plan>,
    auto: Rc<Plan>,
    overrides: Rc<Overrides>,
    set_overrides: Callback<Overrides>,
}

#[function_component(PlanTable)]
fn plan_table(props: &PlanTableProps) -> Html {
    let catalog = use_memo((), |_| Catalog::builtin());
    let developer = crate::browser::developer_mode();
    let plan = &props.plan;
    html! {
        <div class="plan" id="plan">
            <h2>{ "The plan for this device" }</h2>
            <p>{ format!("Device class: {}. Memory budget for models: {}.", plan.class.label(), human_bytes(plan.memory_budget_bytes)) }</p>
            { for plan.notes.iter().map(|n| html! { <p class="note">{ n.clone() }</p> }) }
            <ul class="plan-tasks">
            { for plan.tasks.iter().map(|tp| {
                let task = tp.task;
                let current = props.overrides.tasks.get(&task).cloned().unwrap_or_default();
                let on_backend = {
                    let overrides = props.overrides.clone();
                    let set = props.set_overrides.clone();
                    Callback::from(move |e: Event| {
                        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                        let mut next = (*overrides).clone();
                        let entry = next.tasks.entry(task).or_default();
                        entry.backend = match value.as_str() { "gpu" => Some(Backend::Gpu), "cpu" => Some(Backend::Cpu), _ => None };
                        if *entry == TaskOverride::default() { next.tasks.remove(&task); }
                        set.emit(next);
                    })
                };
                let on_variant = {
                    let overrides = props.overrides.clone();
                    let set = props.set_overrides.clone();
                    Callback::from(move |e: Event| {
                        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                        let mut next = (*overrides).clone();
                        let entry = next.tasks.entry(task).or_default();
                        entry.variant = (!value.is_empty()).then_some(value);
                        if *entry == TaskOverride::default() { next.tasks.remove(&task); }
                        set.emit(next);
                    })
                };
                let auto_variant = props.auto.task(task).and_then(|t| t.variant.clone()).unwrap_or_else(|| "none".into());
                let backend_id = format!("backend-{}", task.slug());
                let variant_id = format!("variant-{}", task.slug());
                html! {
                    <li class="plan-task" data-task={task.slug()} data-backend={if tp.backend == Backend::Gpu { "gpu" } else { "cpu" }}
                        data-variant={tp.variant.clone().unwrap_or_default()} data-dtype={tp.dtype.map(|d| d.name()).unwrap_or_default()}>
                        <h3>{ task.title() }</h3>
                        <p class="plan-choice">
                            <strong class="plan-backend">{ backend_label(tp.backend) }</strong>
                            { " · " }
                            <span class="plan-variant">{ tp.variant.clone().unwrap_or_else(|| "no model fits".into()) }</span>
                            { " · " }
                            <span>{ tp.dtype.map(|d| d.name().to_string()).unwrap_or_default() }</span>
                            if !tp.ready { <span class="status coming">{ " (coming)" }</span> }
                        </p>
                        <ul class="reasons">{ for tp.reasons.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
                        <div class="overrides">
                            <label for={backend_id.clone()}>{ "Run on" }</label>
                            <select id={backend_id} onchange={on_backend}>
                                <option value="" selected={current.backend.is_none()}>{ "Automatic" }</option>
                                <option value="gpu" selected={current.backend == Some(Backend::Gpu)}>{ "GPU" }</option>
                                <option value="cpu" selected={current.backend == Some(Backend::Cpu)}>{ "CPU" }</option>
                            </select>
                            <label for={variant_id.clone()}>{ "Model" }</label>
                            <select id={variant_id} onchange={on_variant}>
                                <option value="" selected={current.variant.is_none()}>{ format!("Automatic ({auto_variant})") }</option>
                                { for catalog.for_task(task).filter(|v| developer || !v.is_test_checkpoint()).map(|v| html! {
                                    <option value={v.id.clone()} selected={current.variant.as_deref() == Some(v.id.as_str())}>{ v.title.clone() }</option>
                                }) }
                            </select>
                        </div>
                    </li>
                }
            }) }
            </ul>
        </div>
    }
}

#[function_component(SelfTest)]
fn self_test() -> Html {
    let job = use_job();
    let run = |backend: protocol::Backend| {
        let job = job.clone();
        Callback::from(move |_| {
            job.start(Request::System(SystemRequest::SelfTest {
                backend,
                iterations: 200,
            }))
        })
    };
    let result = match &job.last {
        Some(WorkerEvent::Done {
            result:
                JobResult::SelfTest {
                    backend,
                    millis,
                    checksum,
                },
            ..
        }) => html! {
            <p role="status" id="selftest-result">{ format!("The engine ran 200 steps on the {} in {:.0} ms (checksum {checksum:.4}).",
                offgrid_workers_backend(*backend), millis) }</p>
        },
        _ => html! {},
    };
    let cancel = {
        let job = job.clone();
        Callback::from(move |_| job.cancel())
    };
    html! {
        <div class="selftest">
            <h2>{ "Test the engine" }</h2>
            <p>{ "Runs a short matrix workload in the engine worker (cancellable)." }</p>
            <button onclick={run(protocol::Backend::Gpu)} disabled={job.running.is_some()}>{ "Test on GPU" }</button>
            { " " }
            <button onclick={run(protocol::Backend::Cpu)} disabled={job.running.is_some()}>{ "Test on CPU" }</button>
            <JobStatus event={job.last.clone()} running={job.running.is_some()} on_cancel={cancel} />
            { result }
        </div>
    }
}

/// Destroys the worker's GPU device as a driver reset would, to see the app recover: the GPU models are
/// dropped and load again on their next use (the Models page shows the new device).
#[function_component(GpuReset)]
fn gpu_reset() -> Html {
    let job = use_job();
    let start = {
        let job = job.clone();
        Callback::from(move |_| job.start(Request::System(SystemRequest::LoseGpu)))
    };
    let result = match &job.last {
        Some(WorkerEvent::Done {
            result: JobResult::GpuLost,
            ..
        }) => html! {
            <p role="status" id="gpu-reset-result">{ "The GPU device was destroyed. Its models were unloaded; the next task that uses the GPU loads them again on a new device." }</p>
        },
        _ => html! {},
    };
    html! {
        <div class="selftest">
            <h2>{ "Simulate a GPU reset" }</h2>
            <p>{ "Checks that the app recovers when the browser takes the GPU away (a driver reset, a long time in the background)." }</p>
            <button id="gpu-reset" onclick={start} disabled={job.running.is_some()}>{ "Reset the GPU device" }</button>
            <JobStatus event={job.last.clone()} running={job.running.is_some()} on_cancel={Callback::noop()} />
            { result }
        </div>
    }
}

fn offgrid_workers_backend(b: protocol::Backend) -> &'static str {
    match b {
        protocol::Backend::Gpu => "GPU",
        protocol::Backend::Cpu => "CPU",
    }
}
