//! The hardware probe and its plan, shared by the home page (readiness) and the Device page.
//! The page reads what it can, the worker reads WebGPU where models run, then `plan()` decides; the
//! person's overrides are saved in localStorage and applied on top.

use crate::browser;
use crate::engine::Engine;
use offgrid_catalog::{
    apply_overrides, plan, Catalog, DeviceProfile, Overrides, Plan, Task, WeightDType,
};
use offgrid_workers::protocol::{
    GpuProbe, JobResult, ModelsRequest, Request, SystemRequest, WorkerEvent,
};
use std::rc::Rc;
use yew::prelude::*;

const OVERRIDES_KEY: &str = "offgrid.overrides";

/// Where the probe is.
#[derive(Clone, PartialEq)]
pub enum ProbeState {
    Running,
    Ready {
        profile: Rc<DeviceProfile>,
        gpu: Rc<GpuProbe>,
        auto: Rc<Plan>,
        plan: Rc<Plan>,
    },
    Failed(String),
}

/// The probe's context value.
#[derive(Clone, PartialEq)]
pub struct DevicePlan {
    pub state: ProbeState,
    pub overrides: Rc<Overrides>,
    pub set_overrides: Callback<Overrides>,
    pub rerun: Callback<()>,
}

#[derive(Properties, PartialEq)]
pub struct DevicePlanProviderProps {
    pub children: Html,
}

fn load_overrides() -> Overrides {
    browser::load_setting(OVERRIDES_KEY)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// The weight type the plan chose for `task`, when the model that runs is the plan's (`variant_id`); a
/// model picked some other way (a `?model=` link) runs as its files store it.
pub fn planned_dtype(
    plan: Option<&DevicePlan>,
    task: Task,
    variant_id: &str,
) -> Option<WeightDType> {
    match plan.map(|p| &p.state) {
        Some(ProbeState::Ready { plan, .. }) => plan
            .task(task)
            .filter(|tp| tp.variant.as_deref() == Some(variant_id))
            .and_then(|tp| tp.dtype),
        _ => None,
    }
}

/// Runs the probe once per page load and provides [`DevicePlan`].
#[function_component(DevicePlanProvider)]
pub fn device_plan_provider(props: &DevicePlanProviderProps) -> Html {
    let engine = use_context::<Rc<Engine>>();
    let state = use_state(|| ProbeState::Running);
    let readings = use_state(|| None::<(Rc<DeviceProfile>, Rc<GpuProbe>)>);
    let overrides = use_state(|| Rc::new(load_overrides()));
    let generation = use_state(|| 0u32);

    {
        let readings = readings.clone();
        let state = state.clone();
        let engine = engine.clone();
        use_effect_with((*generation, engine.is_some()), move |_| {
            state.set(ProbeState::Running);
            if let Some(engine) = engine {
                wasm_bindgen_futures::spawn_local(async move {
                    let page = browser::page_profile().await;
                    let readings = readings.clone();
                    let state = state.clone();
                    engine.run(
                        Request::System(SystemRequest::Probe),
                        Callback::from(move |event: WorkerEvent| match event {
                            WorkerEvent::Done {
                                result: JobResult::Probe(gpu),
                                ..
                            } => {
                                let mut profile = page.clone();
                                browser::merge_gpu(&mut profile, &gpu);
                                readings.set(Some((Rc::new(profile), Rc::new(gpu))));
                            }
                            WorkerEvent::Failed { error, .. } => {
                                state.set(ProbeState::Failed(error.message))
                            }
                            _ => {}
                        }),
                    );
                });
            }
        });
    }

    // Recompute the plan whenever readings or overrides change; the worker keeps its loaded models under
    // the plan's memory budget.
    {
        let state = state.clone();
        let engine = engine.clone();
        use_effect_with(
            ((*readings).clone(), (*overrides).clone()),
            move |(readings, overrides)| {
                if let Some((profile, gpu)) = readings {
                    let catalog = Catalog::builtin();
                    let auto = plan(profile, &catalog);
                    let chosen = apply_overrides(&auto, overrides, &catalog);
                    if let Some(engine) = &engine {
                        let bytes = chosen.memory_budget_bytes;
                        engine.run(
                            Request::Models(ModelsRequest::SetBudget { bytes }),
                            Callback::noop(),
                        );
                    }
                    state.set(ProbeState::Ready {
                        profile: profile.clone(),
                        gpu: gpu.clone(),
                        auto: Rc::new(auto),
                        plan: Rc::new(chosen),
                    });
                }
            },
        );
    }

    let set_overrides = {
        let overrides = overrides.clone();
        Callback::from(move |next: Overrides| {
            let json = serde_json::to_string(&next).ok();
            browser::save_setting(OVERRIDES_KEY, json.as_deref());
            overrides.set(Rc::new(next));
        })
    };
    let rerun = {
        let generation = generation.clone();
        Callback::from(move |_| generation.set(*generation + 1))
    };
    let context = DevicePlan {
        state: (*state).clone(),
        overrides: (*overrides).clone(),
        set_overrides,
        rerun,
    };
    html! {
        <ContextProvider<DevicePlan> context={context}>
            { props.children.clone() }
        </ContextProvider<DevicePlan>>
    }
}
