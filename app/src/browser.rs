//! Main-thread browser reads: the page's half of the hardware probe, sharing, and saved settings.

use js_sys::Reflect;
use offgrid_catalog::DeviceProfile;
use offgrid_workers::protocol::GpuProbe;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A tiny wasm module whose one function returns `i32x4.splat(0)`; `WebAssembly.validate` accepts it only
/// where SIMD works. Sections: type `() -> v128`, one function, its body.
const SIMD_PROBE: [u8; 29] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // function 0 has type 0
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11,
    0x0b, // i32.const 0; i32x4.splat; end
];

fn wasm_simd() -> bool {
    let bytes = js_sys::Uint8Array::from(&SIMD_PROBE[..]);
    js_sys::WebAssembly::validate(&bytes.into()).unwrap_or(false)
}

/// What the page can read without the worker: memory, cores, storage, isolation, SIMD, mobile, Save-Data.
pub async fn page_profile() -> DeviceProfile {
    let mut profile = DeviceProfile::default();
    let Some(window) = web_sys::window() else {
        return profile;
    };
    let navigator = window.navigator();
    let nav: &JsValue = navigator.as_ref();
    profile.device_memory_gb = get(nav, "deviceMemory").as_f64();
    profile.hardware_concurrency = navigator.hardware_concurrency() as u32;
    profile.cross_origin_isolated = get(window.as_ref(), "crossOriginIsolated")
        .as_bool()
        .unwrap_or(false);
    profile.wasm_simd = wasm_simd();
    let ua_data = get(nav, "userAgentData");
    profile.is_mobile = match get(&ua_data, "mobile").as_bool() {
        Some(mobile) => mobile,
        None => {
            let ua = navigator.user_agent().unwrap_or_default().to_lowercase();
            ["android", "iphone", "ipad", "mobile"]
                .iter()
                .any(|s| ua.contains(s))
        }
    };
    profile.save_data = get(&get(nav, "connection"), "saveData")
        .as_bool()
        .unwrap_or(false);
    if let Ok(promise) = navigator.storage().estimate() {
        if let Ok(estimate) = JsFuture::from(promise).await {
            profile.storage_usage_bytes = get(&estimate, "usage").as_f64().map(|v| v as u64);
            profile.storage_quota_bytes = get(&estimate, "quota").as_f64().map(|v| v as u64);
        }
    }
    profile
}

/// Merges the worker's GPU reading into the page's profile.
pub fn merge_gpu(profile: &mut DeviceProfile, gpu: &GpuProbe) {
    profile.webgpu = gpu.webgpu;
    profile.adapter.vendor = gpu.vendor.clone();
    profile.adapter.architecture = gpu.architecture.clone();
    profile.adapter.description = gpu.description.clone();
    profile.is_software_adapter = gpu.is_software;
    profile.features = gpu.features.clone();
    profile.limits.max_buffer_size = gpu.max_buffer_size;
    profile.limits.max_storage_buffer_binding_size = gpu.max_storage_buffer_binding_size;
    profile.limits.max_compute_workgroup_size_x = gpu.max_compute_workgroup_size_x;
    profile.limits.max_compute_invocations_per_workgroup =
        gpu.max_compute_invocations_per_workgroup;
    profile.limits.max_compute_workgroup_storage_size = gpu.max_compute_workgroup_storage_size;
    profile.bench = Some(offgrid_catalog::MicroBench {
        gpu_gflops: gpu.gpu_gflops,
        gpu_gbps: gpu.gpu_gbps,
        cpu_gflops: gpu.cpu_gflops,
        cpu_gbps: gpu.cpu_gbps,
    });
}

/// Asks the browser to keep our storage (models) from eviction; true if granted.
pub async fn request_persistent_storage() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    match window.navigator().storage().persist() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// How a share ended, for the button's feedback.
pub enum Shared {
    Sheet,
    Copied,
    Failed(String),
}

/// Shares the current page: the Web Share API where present, else copies the link.
pub async fn share_current_page(title: &str) -> Shared {
    let Some(window) = web_sys::window() else {
        return Shared::Failed("no window".into());
    };
    let url = window.location().href().unwrap_or_default();
    let navigator = window.navigator();
    if get(navigator.as_ref(), "share").is_function() {
        let data = web_sys::ShareData::new();
        data.set_title(title);
        data.set_url(&url);
        // If the person closes the share sheet, fall through to copying.
        if JsFuture::from(navigator.share_with_data(&data))
            .await
            .is_ok()
        {
            return Shared::Sheet;
        }
    }
    let clipboard = navigator.clipboard();
    match JsFuture::from(clipboard.write_text(&url)).await {
        Ok(_) => Shared::Copied,
        Err(_) => Shared::Failed(format!("Copy this link: {url}")),
    }
}

/// A value saved in localStorage.
pub fn load_setting(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

/// Whether developer mode is on (localStorage `offgrid.developer` = `1`): test checkpoints (random weights,
/// served only by test mirrors) are then listed on the Models and Device pages. People never see them
/// otherwise; a link with `?model=` can still name one.
pub fn developer_mode() -> bool {
    load_setting("offgrid.developer").as_deref() == Some("1")
}

/// Saves (or with `None` removes) a value in localStorage; failures (private mode) are ignored.
pub fn save_setting(key: &str, value: Option<&str>) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = match value {
            Some(v) => storage.set_item(key, v),
            None => storage.remove_item(key),
        };
    }
}

/// The current `location.hash`.
pub fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Replaces the URL's hash without adding a history entry (for state typed into a page).
pub fn replace_hash(hash: &str) {
    if let Some(window) = web_sys::window() {
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(hash));
        }
    }
}

/// Goes to another page (adds a history entry).
pub fn push_hash(hash: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(hash);
    }
}

/// Calls `then` once the Web Lock `name` can be taken, i.e. once whoever holds it is gone (the engine
/// worker holds its life lock until it ends). Does nothing where the browser has no Web Locks.
pub fn when_lock_free(name: &str, then: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let locks = get(window.navigator().as_ref(), "locks");
    let Ok(request) = get(&locks, "request").dyn_into::<js_sys::Function>() else {
        return;
    };
    let granted = wasm_bindgen::closure::Closure::once_into_js(move |_lock: JsValue| {
        then();
        // Returning at once releases the lock again.
        JsValue::UNDEFINED
    });
    let _ = request.call2(&locks, &JsValue::from_str(name), &granted);
}
