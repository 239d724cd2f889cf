//! `plan()` on a table of device profiles: what a person with that device should get, task by task.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_catalog::{
    apply_overrides, plan, AdapterInfo, Backend, Catalog, DeviceClass, DeviceProfile, GpuLimits,
    MicroBench, Overrides, Plan, Task, TaskOverride, WeightDType,
};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn gpu(vendor: &str, architecture: &str, binding: u64, f16: bool) -> DeviceProfile {
    let mut features = vec!["timestamp-query".to_string()];
    if f16 {
        features.push("shader-f16".into());
    }
    DeviceProfile {
        webgpu: true,
        adapter: AdapterInfo {
            vendor: vendor.into(),
            architecture: architecture.into(),
            description: String::new(),
        },
        features,
        limits: GpuLimits {
            max_buffer_size: binding.max(256 * MIB),
            max_storage_buffer_binding_size: binding,
            max_compute_workgroup_size_x: 256,
            max_compute_invocations_per_workgroup: 256,
            max_compute_workgroup_storage_size: 16384,
        },
        hardware_concurrency: 8,
        storage_quota_bytes: Some(20 * GIB),
        storage_usage_bytes: Some(0),
        wasm_simd: true,
        ..DeviceProfile::default()
    }
}

fn low_end_phone() -> DeviceProfile {
    DeviceProfile {
        device_memory_gb: Some(1.0),
        hardware_concurrency: 4,
        is_mobile: true,
        storage_quota_bytes: Some(2 * GIB),
        wasm_simd: true,
        ..DeviceProfile::default()
    }
}

fn android_webgpu() -> DeviceProfile {
    DeviceProfile {
        is_mobile: true,
        device_memory_gb: Some(4.0),
        ..gpu("qualcomm", "adreno-7xx", 128 * MIB, true)
    }
}

/// Safari reports no deviceMemory; this one has only 200 MB of storage left.
fn iphone_nearly_full() -> DeviceProfile {
    DeviceProfile {
        is_mobile: true,
        device_memory_gb: None,
        hardware_concurrency: 6,
        storage_quota_bytes: Some(1_000_000_000),
        storage_usage_bytes: Some(800_000_000),
        ..gpu("apple", "common-3", 256 * MIB, true)
    }
}

/// An older Intel iGPU without shader-f16.
fn intel_laptop() -> DeviceProfile {
    DeviceProfile {
        device_memory_gb: Some(8.0),
        ..gpu("intel", "gen-9", GIB, false)
    }
}

fn apple_m_series() -> DeviceProfile {
    DeviceProfile {
        device_memory_gb: None,
        ..gpu("apple", "metal-3", 2 * GIB, true)
    }
}

fn desktop_discrete() -> DeviceProfile {
    DeviceProfile {
        device_memory_gb: Some(8.0),
        bench: Some(MicroBench {
            gpu_gflops: Some(5200.0),
            gpu_gbps: Some(400.0),
            cpu_gflops: Some(90.0),
            cpu_gbps: Some(20.0),
        }),
        ..gpu("nvidia", "ampere", 2 * GIB, true)
    }
}

/// Headless Chromium on a 2-core CI machine.
fn swiftshader() -> DeviceProfile {
    DeviceProfile {
        is_software_adapter: true,
        hardware_concurrency: 2,
        device_memory_gb: Some(8.0),
        ..gpu("google", "swiftshader", GIB, false)
    }
}

fn save_data_desktop() -> DeviceProfile {
    DeviceProfile {
        save_data: true,
        ..desktop_discrete()
    }
}

/// A GPU the micro-benchmark found slower than the CPU.
fn slow_gpu_desktop() -> DeviceProfile {
    DeviceProfile {
        device_memory_gb: Some(8.0),
        bench: Some(MicroBench {
            gpu_gflops: Some(40.0),
            cpu_gflops: Some(80.0),
            ..MicroBench::default()
        }),
        ..gpu("intel", "gen-7", GIB, false)
    }
}

/// Fast GEMM, slow memory (the micro-benchmark's copy): not the high class.
fn starved_gpu_desktop() -> DeviceProfile {
    DeviceProfile {
        device_memory_gb: Some(8.0),
        bench: Some(MicroBench {
            gpu_gflops: Some(2000.0),
            gpu_gbps: Some(30.0),
            cpu_gflops: Some(80.0),
            cpu_gbps: Some(10.0),
        }),
        ..gpu("intel", "xe", 2 * GIB, true)
    }
}

#[test]
fn measured_bandwidth_caps_the_class_and_is_explained() {
    let catalog = Catalog::builtin();
    let starved = plan(&starved_gpu_desktop(), &catalog);
    assert_eq!(starved.class, DeviceClass::Mid, "{:?}", starved.notes);
    let fast = plan(&desktop_discrete(), &catalog);
    assert_eq!(fast.class, DeviceClass::High, "{:?}", fast.notes);
    for (p, figure) in [(&starved, "30 GB/s"), (&fast, "400 GB/s")] {
        assert!(
            p.notes.iter().any(|n| n.contains(figure)),
            "the plan's explanation names the measured bandwidth {figure}: {:?}",
            p.notes
        );
    }
}

type Expect = (Task, Backend, Option<&'static str>, Option<WeightDType>);

/// The catalog with every model marked available: the tiers the plan aims for once every model lands (with
/// the real catalog, a model the app can run always comes first; see `the_plan_picks_models_the_app_can_run`).
fn all_available() -> Catalog {
    let mut catalog = Catalog::builtin();
    for v in &mut catalog.variants {
        v.available = true;
    }
    catalog
}

fn check(name: &str, profile: DeviceProfile, class: DeviceClass, expected: &[Expect]) -> Plan {
    let catalog = all_available();
    let p = plan(&profile, &catalog);
    assert_eq!(p.class, class, "{name}: device class; notes {:?}", p.notes);
    assert_eq!(p.tasks.len(), Task::ALL.len(), "{name}");
    for &(task, backend, variant, dtype) in expected {
        let Some(tp) = p.task(task) else {
            panic!("{name}: no plan for {task}");
        };
        let got = (tp.backend, tp.variant.as_deref(), tp.dtype);
        assert_eq!(
            got,
            (backend, variant, dtype),
            "{name}: {task}; reasons {:?}",
            tp.reasons
        );
        assert!(!tp.reasons.is_empty(), "{name}: {task} has no reasons");
        if let Some(id) = variant {
            let ready = catalog.get(id).map(|v| v.available);
            assert_eq!(Some(tp.ready), ready, "{name}: {task} ready flag");
        }
    }
    p
}

use Backend::{Cpu, Gpu};
use WeightDType::{F16, F32, Q4_K, Q8_0};

#[test]
fn low_end_phone_without_webgpu_runs_small_quantized_models_on_the_cpu() {
    let p = check(
        "low-end phone",
        low_end_phone(),
        DeviceClass::Low,
        &[
            (Task::Vad, Cpu, Some("silero-vad-16k"), Some(F32)),
            (Task::Transcribe, Cpu, Some("whisper-tiny-en"), Some(Q8_0)),
            (Task::Speak, Cpu, Some("piper-joe-medium"), Some(F32)),
            (Task::RemoveBackground, Cpu, None, None),
            (Task::Search, Cpu, Some("minilm-l6-v2"), Some(Q8_0)),
            (
                Task::Chat,
                Cpu,
                Some("smollm2-135m-q4_1"),
                Some(WeightDType::Q4_1),
            ),
        ],
    );
    // 1 GB phone: a quarter of it is the budget; the 135M chat model (98 MB + its cache) fits in it.
    assert_eq!(p.memory_budget_bytes, GIB / 4);
    assert!(!p.webgpu && !p.gpu_usable);
    let chat = &p.tasks[5];
    assert!(
        chat.reasons.iter().any(|r| r
            .contains("SmolLM2 135M Instruct: suits an entry-level device; it downloads 98 MB")),
        "{:?}",
        chat.reasons
    );
    assert!(p.tasks[0].reasons[0].contains("no WebGPU"));
}

#[test]
fn the_plan_picks_models_the_app_can_run() {
    let catalog = Catalog::builtin();
    for (name, profile) in [
        ("desktop", desktop_discrete()),
        ("low-end phone", low_end_phone()),
    ] {
        let p = plan(&profile, &catalog);
        for tp in &p.tasks {
            let runnable = catalog.for_task(tp.task).any(|v| {
                v.available
                    && !v.is_test_checkpoint()
                    && v.memory_bytes(v.dtype) <= p.memory_budget_bytes
            });
            // Where the app can run a model for the task on this device, the plan picks one (never a
            // "coming" one).
            assert_eq!(
                tp.ready, runnable,
                "{name}: {:?} -> {:?}",
                tp.task, tp.variant
            );
        }
        let transcribe = p.task(Task::Transcribe).unwrap();
        // A discrete GPU runs Whisper small (a GPU model: slower than the audio on a CPU).
        let want = if name == "desktop" {
            "whisper-small"
        } else {
            "whisper-tiny-en"
        };
        assert_eq!(transcribe.variant.as_deref(), Some(want), "{name}");
    }
}

#[test]
fn a_memory_budget_override_replaces_the_plans_and_says_so() {
    let catalog = Catalog::builtin();
    let base = plan(&desktop_discrete(), &catalog);
    let json = r#"{"memory_budget_mb": 90}"#;
    let overrides: Overrides = serde_json::from_str(json).unwrap();
    let p = apply_overrides(&base, &overrides, &catalog);
    assert_eq!(p.memory_budget_bytes, 90_000_000);
    assert_ne!(base.memory_budget_bytes, p.memory_budget_bytes);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("90 MB") && n.contains("you chose")),
        "{:?}",
        p.notes
    );
    // Zero means "no choice": the plan's budget stays.
    let zero: Overrides = serde_json::from_str(r#"{"memory_budget_mb": 0}"#).unwrap();
    assert_eq!(
        apply_overrides(&base, &zero, &catalog).memory_budget_bytes,
        base.memory_budget_bytes
    );
}

#[test]
fn android_with_webgpu_gets_mid_range_models_on_the_gpu_in_f16() {
    let p = check(
        "android webgpu",
        android_webgpu(),
        DeviceClass::Mid,
        &[
            (Task::Vad, Cpu, Some("silero-vad-16k"), Some(F32)),
            (Task::Transcribe, Gpu, Some("whisper-base"), Some(F16)),
            (Task::Speak, Gpu, Some("piper-joe-medium"), Some(F32)),
            (
                Task::RemoveBackground,
                Gpu,
                Some("isnet-general"),
                Some(F16),
            ),
            (Task::Search, Gpu, Some("bge-small-en-v1.5"), Some(F16)),
            (Task::Chat, Gpu, Some("qwen2.5-0.5b-q4_k_m"), Some(Q4_K)),
        ],
    );
    assert!(p.tasks[0].reasons[0].contains("32 ms chunks"));
}

#[test]
fn iphone_with_little_free_storage_gets_models_that_fit_it() {
    let p = check(
        "iphone nearly full",
        iphone_nearly_full(),
        DeviceClass::Mid,
        &[
            (Task::Vad, Cpu, Some("silero-vad-16k"), Some(F32)),
            (Task::Transcribe, Gpu, Some("whisper-base"), Some(F16)),
            (Task::Speak, Gpu, Some("piper-joe-medium"), Some(F32)),
            (
                Task::RemoveBackground,
                Gpu,
                Some("isnet-general"),
                Some(F16),
            ),
            (Task::Search, Gpu, Some("bge-small-en-v1.5"), Some(F16)),
            // Qwen2.5 0.5B does not fit the free storage; the 98 MB SmolLM2 does.
            (
                Task::Chat,
                Gpu,
                Some("smollm2-135m-q4_1"),
                Some(WeightDType::Q4_1),
            ),
        ],
    );
    // No deviceMemory in Safari: a 4 GB phone is assumed.
    assert_eq!(p.memory_budget_bytes, GIB);
    let chat = p.task(Task::Chat).unwrap();
    assert!(
        chat.reasons
            .iter()
            .any(|r| r.contains("download, but only 200 MB of storage is free.")),
        "{:?}",
        chat.reasons
    );
}

#[test]
fn intel_laptop_without_shader_f16_keeps_f32_on_the_gpu() {
    check(
        "intel laptop",
        intel_laptop(),
        DeviceClass::Mid,
        &[
            (Task::Vad, Cpu, Some("silero-vad-16k"), Some(F32)),
            // Published as f16: kept as f16 (read without shader-f16), not widened.
            (Task::Transcribe, Gpu, Some("whisper-base"), Some(F16)),
            (Task::Speak, Gpu, Some("piper-joe-medium"), Some(F32)),
            (
                Task::RemoveBackground,
                Gpu,
                Some("isnet-general"),
                Some(F16),
            ),
            (Task::Search, Gpu, Some("bge-small-en-v1.5"), Some(F32)),
            (Task::Chat, Gpu, Some("qwen2.5-0.5b-q4_k_m"), Some(Q4_K)),
        ],
    );
}

#[test]
fn apple_m_series_gets_the_strongest_tier() {
    check(
        "apple m-series",
        apple_m_series(),
        DeviceClass::High,
        &[
            (Task::Vad, Cpu, Some("silero-vad-16k"), Some(F32)),
            (Task::Transcribe, Gpu, Some("whisper-small"), Some(F16)),
            (Task::Search, Gpu, Some("multilingual-e5-small"), Some(F16)),
            (Task::Chat, Gpu, Some("qwen2.5-1.5b-q4_k_m"), Some(Q4_K)),
        ],
    );
}

#[test]
fn desktop_discrete_gpu_gets_the_strongest_tier() {
    let p = check(
        "desktop discrete",
        desktop_discrete(),
        DeviceClass::High,
        &[
            (Task::Vad, Cpu, Some("silero-vad-16k"), Some(F32)),
            (Task::Transcribe, Gpu, Some("whisper-small"), Some(F16)),
            (Task::Speak, Gpu, Some("piper-joe-medium"), Some(F32)),
            (
                Task::RemoveBackground,
                Gpu,
                Some("isnet-general"),
                Some(F16),
            ),
            (Task::Search, Gpu, Some("multilingual-e5-small"), Some(F16)),
            (Task::Chat, Gpu, Some("qwen2.5-1.5b-q4_k_m"), Some(Q4_K)),
        ],
    );
    assert!(
        p.notes.iter().any(|n| n.contains("5200 GFLOP/s")),
        "{:?}",
        p.notes
    );
}

#[test]
fn software_adapter_is_not_used_and_a_two_core_machine_gets_small_models() {
    let p = check(
        "swiftshader",
        swiftshader(),
        DeviceClass::Low,
        &[
            (Task::Transcribe, Cpu, Some("whisper-tiny-en"), Some(Q8_0)),
            (Task::Search, Cpu, Some("minilm-l6-v2"), Some(Q8_0)),
            // Among the models for this class, one the app can run comes first.
            (
                Task::Chat,
                Cpu,
                Some("smollm2-135m-q4_1"),
                Some(WeightDType::Q4_1),
            ),
        ],
    );
    assert!(p.webgpu && !p.gpu_usable);
    assert!(p.notes[0].contains("software renderer"), "{:?}", p.notes);
}

#[test]
fn save_data_picks_the_smallest_download_but_keeps_the_gpu() {
    let p = check(
        "save-data desktop",
        save_data_desktop(),
        DeviceClass::High,
        &[
            (Task::Transcribe, Gpu, Some("whisper-tiny-en"), Some(F16)),
            (Task::Search, Gpu, Some("minilm-l6-v2"), Some(F16)),
            // SmolLM2 135M (98 MB) is the smallest chat download.
            (
                Task::Chat,
                Gpu,
                Some("smollm2-135m-q4_1"),
                Some(WeightDType::Q4_1),
            ),
        ],
    );
    assert!(p.tasks[4].reasons.iter().any(|r| r.contains("Data Saver")));
}

#[test]
fn a_gpu_measured_slower_than_the_cpu_is_not_used() {
    let p = check(
        "slow gpu",
        slow_gpu_desktop(),
        DeviceClass::Mid,
        &[
            (Task::Transcribe, Cpu, Some("whisper-base"), Some(Q8_0)),
            (Task::Search, Cpu, Some("bge-small-en-v1.5"), Some(Q8_0)),
            (Task::Chat, Cpu, Some("qwen2.5-0.5b-q4_k_m"), Some(Q4_K)),
        ],
    );
    assert!(p.notes[0].contains("the GPU reached 40 GFLOP/s and the CPU 80 GFLOP/s"));
}

#[test]
fn a_tensor_over_the_binding_limit_forces_a_smaller_type() {
    // e5's 250k × 384 embedding is 192 MB in f16: over a 128 MiB binding, but 102 MB in q8_0 fits.
    let profile = DeviceProfile {
        limits: GpuLimits {
            max_storage_buffer_binding_size: 128 * MIB,
            ..desktop_discrete().limits
        },
        ..desktop_discrete()
    };
    let p = check(
        "desktop with 128 MiB bindings",
        profile,
        DeviceClass::High,
        &[(Task::Search, Gpu, Some("multilingual-e5-small"), Some(Q8_0))],
    );
    let search = &p.tasks[4];
    assert!(
        search
            .reasons
            .iter()
            .any(|r| r.contains("larger than the GPU's 134 MB binding limit")),
        "{:?}",
        search.reasons
    );
}

#[test]
fn storage_already_holding_a_cached_model_does_not_count_against_it() {
    let mut profile = iphone_nearly_full();
    profile.storage_usage_bytes = Some(1_000_000_000);
    let before = plan(&profile, &Catalog::builtin());
    assert_eq!(before.tasks[4].variant, None);
    profile.cached_variants = vec!["minilm-l6-v2".into()];
    let after = plan(&profile, &Catalog::builtin());
    assert_eq!(after.tasks[4].variant.as_deref(), Some("minilm-l6-v2"));
    // The VAD model ships with the app, so a full disk never blocks it.
    assert_eq!(before.tasks[0].variant.as_deref(), Some("silero-vad-16k"));
}

#[test]
fn overrides_apply_with_reasons_and_refuse_what_cannot_run() {
    let catalog = Catalog::builtin();
    let mut overrides = Overrides::default();
    overrides.tasks.insert(
        Task::Search,
        TaskOverride {
            backend: Some(Cpu),
            variant: Some("minilm-l6-v2".into()),
            dtype: Some(F32),
        },
    );
    overrides.tasks.insert(
        Task::Vad,
        TaskOverride {
            backend: Some(Gpu),
            variant: Some("whisper-tiny".into()),
            dtype: Some(Q4_K),
        },
    );
    // Persisted as JSON by the app; must come back equal.
    let json = serde_json::to_string(&overrides).unwrap_or_default();
    assert!(json.contains("\"search\""), "{json}");
    let restored: Overrides = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(restored, overrides);

    let base = plan(&desktop_discrete(), &catalog);
    let p = apply_overrides(&base, &restored, &catalog);
    let search = &p.tasks[4];
    assert_eq!(
        (search.backend, search.variant.as_deref(), search.dtype),
        (Cpu, Some("minilm-l6-v2"), Some(F32))
    );
    assert!(search.ready);
    assert!(
        search.reasons[0].contains("chosen by you"),
        "{:?}",
        search.reasons
    );
    let vad = &p.tasks[0];
    // The GPU applies; a transcription model is not a VAD model, and q4_k is not offered: both refused.
    assert_eq!(
        (vad.backend, vad.variant.as_deref(), vad.dtype),
        (Gpu, Some("silero-vad-16k"), Some(F32))
    );
    assert!(vad
        .reasons
        .iter()
        .any(|r| r.contains("\"whisper-tiny\" is not a model for this task")));
    assert!(vad.reasons.iter().any(|r| r.contains("cannot run as q4_k")));
    // Untouched tasks are unchanged.
    assert_eq!(p.tasks[5], base.tasks[5]);

    let no_gpu = plan(&low_end_phone(), &catalog);
    let p = apply_overrides(&no_gpu, &restored, &catalog);
    assert_eq!(p.tasks[0].backend, Cpu);
    assert!(p.tasks[0].reasons[0].contains("no WebGPU"));
}

#[test]
fn the_plan_never_recommends_a_test_checkpoint_but_an_override_can_pick_it() {
    let catalog = Catalog::builtin();
    let random = catalog.get("whisper-tiny-random").unwrap();
    assert!(random.is_test_checkpoint() && random.available);
    // Data Saver picks the smallest download: the 1 MB test checkpoint would win if it were a candidate.
    for profile in [
        save_data_desktop(),
        low_end_phone(),
        iphone_nearly_full(),
        swiftshader(),
    ] {
        let p = plan(&profile, &catalog);
        let transcribe = p.task(Task::Transcribe).unwrap();
        assert_ne!(transcribe.variant.as_deref(), Some("whisper-tiny-random"));
    }
    let mut overrides = Overrides::default();
    overrides.tasks.insert(
        Task::Transcribe,
        TaskOverride {
            variant: Some("whisper-tiny-random".into()),
            ..TaskOverride::default()
        },
    );
    let p = apply_overrides(&plan(&low_end_phone(), &catalog), &overrides, &catalog);
    let transcribe = p.task(Task::Transcribe).unwrap();
    assert_eq!(transcribe.variant.as_deref(), Some("whisper-tiny-random"));
    assert!(transcribe.ready);
}
