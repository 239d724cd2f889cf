//! The line on a task page that says which model runs, and where; or, when `?model=` names one that cannot run
//! here, why not and what to do. One component for every task page, so a model of another task (a search
//! model on the Transcribe page) is refused the same way everywhere.

use crate::app::Nav;
use offgrid_catalog::{Catalog, ModelVariant, Task};
use offgrid_workers::protocol::Backend;
use yew::prelude::*;

/// Why a page cannot run the model it was asked for.
#[derive(Clone, PartialEq, Debug)]
pub enum ModelProblem {
    /// No catalog entry has this id.
    Unknown(String),
    /// The entry belongs to another task.
    OtherTask { title: String, task: Task },
    /// The entry has no verified files in this version.
    NotAvailable { title: String },
}

/// The variant `id` if this page's task can run it, else why not.
pub fn check_model<'c>(
    catalog: &'c Catalog,
    task: Task,
    id: &str,
) -> Result<&'c ModelVariant, ModelProblem> {
    let v = catalog
        .get(id)
        .ok_or_else(|| ModelProblem::Unknown(id.to_string()))?;
    if v.task != task {
        return Err(ModelProblem::OtherTask {
            title: v.title.clone(),
            task: v.task,
        });
    }
    if !v.available {
        return Err(ModelProblem::NotAvailable {
            title: v.title.clone(),
        });
    }
    Ok(v)
}

#[derive(Properties, PartialEq)]
pub struct ModelLineProps {
    pub task: Task,
    pub variant_id: String,
    pub backend: Backend,
    /// What the page calls its model ("Model", "Voice").
    #[prop_or("Model")]
    pub noun: &'static str,
    /// Whether the device plan is "pending", "ready" or "failed" (for tests that wait on it).
    #[prop_or_default]
    pub plan_state: Option<&'static str>,
    /// Show the model's licence after its name.
    #[prop_or_default]
    pub show_license: bool,
}

#[function_component(ModelLine)]
pub fn model_line(props: &ModelLineProps) -> Html {
    let catalog = use_memo((), |_| Catalog::builtin());
    let nav = use_context::<Nav>();
    let backend_name = match props.backend {
        Backend::Gpu => "GPU",
        Backend::Cpu => "CPU",
    };
    // The link that drops `?model=`, so the plan's own choice for this task runs.
    let recommended = nav.map(|n| n.location.with("model", "").to_hash());
    let use_recommended = html! {
        <>
            if let Some(href) = recommended {
                <a href={href} id="use-recommended">{ "Use the recommended model" }</a>
                { " or " }
            }
            <a href="#/device">{ "choose another on the Device page" }</a>{ "." }
        </>
    };
    match check_model(&catalog, props.task, &props.variant_id) {
        Ok(v) => {
            let licence = if props.show_license {
                format!(" ({} licence)", v.license)
            } else {
                String::new()
            };
            html! {
                <p class="muted" id="model-choice" data-variant={v.id.clone()} data-plan={props.plan_state}
                    data-backend={backend_name.to_ascii_lowercase()}>
                    { format!("{}: {} on the {backend_name}{licence}. ", props.noun, v.title) }
                    <a href="#/device">{ "Change" }</a>
                </p>
            }
        }
        Err(problem) => {
            let text = match problem {
                ModelProblem::Unknown(id) => {
                    format!("There is no {} called \"{id}\". ", props.noun.to_lowercase())
                }
                ModelProblem::OtherTask { title, task } => format!(
                    "{title} is a model for {}, not for {}. ",
                    task.title().to_lowercase(),
                    props.task.title().to_lowercase()
                ),
                ModelProblem::NotAvailable { title } => format!(
                    "{title} cannot be downloaded in this version yet (its files' checksums are not in the catalog). "
                ),
            };
            html! {
                <p class="status warn" id="model-choice" data-variant={props.variant_id.clone()} data-problem="true">
                    { text }{ use_recommended }
                </p>
            }
        }
    }
}
