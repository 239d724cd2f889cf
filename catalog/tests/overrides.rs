//! A person's choices on the Device page, applied on top of the plan: the reasons shown must describe the
//! model that will run, never the one the plan had picked before.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on bad fixtures

use offgrid_catalog::{
    apply_overrides, plan, Catalog, DeviceProfile, Overrides, Task, TaskOverride,
};

/// A laptop without WebGPU: the plan picks small CPU models.
fn laptop() -> DeviceProfile {
    DeviceProfile {
        hardware_concurrency: 8,
        device_memory_gb: Some(8.0),
        storage_quota_bytes: Some(20 << 30),
        storage_usage_bytes: Some(0),
        wasm_simd: true,
        ..DeviceProfile::default()
    }
}

#[test]
fn choosing_another_model_replaces_the_reasons_about_the_planned_one() {
    let catalog = Catalog::builtin();
    let base = plan(&laptop(), &catalog);
    let planned = base.task(Task::Transcribe).unwrap().clone();
    let planned_id = planned.variant.clone().unwrap();
    let planned_title = catalog.get(&planned_id).unwrap().title.clone();
    assert!(
        planned.reasons.iter().any(|r| r.contains(&planned_title)),
        "the plan explains its own pick: {:?}",
        planned.reasons
    );
    // Another Whisper the app can run.
    let other = catalog
        .variants
        .iter()
        .find(|v| {
            v.task == Task::Transcribe
                && v.available
                && v.id != planned_id
                && !v.title.contains("random")
        })
        .expect("a second Whisper in the catalog");
    let mut overrides = Overrides::default();
    overrides.tasks.insert(
        Task::Transcribe,
        TaskOverride {
            variant: Some(other.id.clone()),
            ..TaskOverride::default()
        },
    );
    let chosen = apply_overrides(&base, &overrides, &catalog);
    let task = chosen.task(Task::Transcribe).unwrap();
    assert_eq!(task.variant.as_deref(), Some(other.id.as_str()));
    assert!(
        !task.reasons.iter().any(|r| r.contains(&planned_title)),
        "nothing about {planned_title} is left: {:?}",
        task.reasons
    );
    let size = offgrid_catalog::human_bytes(other.download_bytes);
    assert!(
        task.reasons[0].contains(&other.title) && task.reasons[0].contains(&size),
        "the first reason names the chosen model and its download: {:?}",
        task.reasons
    );
}
