//! The worker's half of the hardware probe: asks WebGPU for an adapter *inside the worker* (where models
//! run) and reads its info, features and limits as the browser reports them.

use crate::js::{await_promise, js_error_message, worker_scope};
use crate::protocol::GpuProbe;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(target: &JsValue, key: &str) -> String {
    get(target, key).as_string().unwrap_or_default()
}

fn get_u64(target: &JsValue, key: &str) -> u64 {
    get(target, key).as_f64().map(|v| v as u64).unwrap_or(0)
}

/// Reads the adapter; never fails — a missing WebGPU is a result, with the reason.
pub async fn probe_gpu() -> GpuProbe {
    match read_adapter().await {
        Ok(probe) => probe,
        Err(reason) => GpuProbe {
            webgpu: false,
            unavailable_reason: Some(reason),
            ..GpuProbe::default()
        },
    }
}

async fn read_adapter() -> Result<GpuProbe, String> {
    let scope = worker_scope()?;
    let navigator = scope.navigator();
    let gpu = get(&navigator, "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err("This browser does not offer WebGPU here (navigator.gpu is missing).".into());
    }
    let request = Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: Promise = request
        .call0(&gpu)
        .map_err(|e| js_error_message(&e))?
        .dyn_into()
        .map_err(|_| "requestAdapter did not return a promise")?;
    let adapter = await_promise(promise)
        .await
        .map_err(|e| js_error_message(&e))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(
            "WebGPU is present but no GPU adapter is available (blocked, or no supported GPU)."
                .into(),
        );
    }
    let info = get(&adapter, "info");
    let mut features = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&get(&adapter, "features")) {
        for item in iter.flatten() {
            if let Some(name) = item.as_string() {
                features.push(name);
            }
        }
    }
    features.sort();
    let limits = get(&adapter, "limits");
    let vendor = get_string(&info, "vendor");
    let architecture = get_string(&info, "architecture");
    let description = get_string(&info, "description");
    let fallback = get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
        || get(&adapter, "isFallbackAdapter")
            .as_bool()
            .unwrap_or(false);
    let text = format!("{vendor} {architecture} {description}").to_lowercase();
    let is_software = fallback
        || [
            "swiftshader",
            "llvmpipe",
            "lavapipe",
            "software",
            "microsoft basic render",
        ]
        .iter()
        .any(|s| text.contains(s));
    Ok(GpuProbe {
        webgpu: true,
        unavailable_reason: None,
        vendor,
        architecture,
        device: get_string(&info, "device"),
        description,
        is_software,
        features,
        max_buffer_size: get_u64(&limits, "maxBufferSize"),
        max_storage_buffer_binding_size: get_u64(&limits, "maxStorageBufferBindingSize"),
        max_compute_workgroup_size_x: get_u64(&limits, "maxComputeWorkgroupSizeX") as u32,
        max_compute_invocations_per_workgroup: get_u64(&limits, "maxComputeInvocationsPerWorkgroup")
            as u32,
        max_compute_workgroup_storage_size: get_u64(&limits, "maxComputeWorkgroupStorageSize")
            as u32,
        max_compute_workgroups_per_dimension: get_u64(&limits, "maxComputeWorkgroupsPerDimension")
            as u32,
        gpu_gflops: None,
        cpu_gflops: None,
        gpu_gbps: None,
        cpu_gbps: None,
    })
}
