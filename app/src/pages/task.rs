//! Task pages whose models are not built yet: they say so, and what this device would run.

use crate::hooks::use_device_plan::DevicePlan;
use crate::pages::home::readiness;
use crate::route::Route;
use offgrid_catalog::Task;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TaskPageProps {
    pub route: Route,
}

fn task_of(route: Route) -> Option<Task> {
    Task::ALL
        .into_iter()
        .find(|t| crate::pages::home::task_route(*t) == route)
}

#[function_component(TaskPage)]
pub fn task_page(props: &TaskPageProps) -> Html {
    let plan = use_context::<DevicePlan>();
    let Some(task) = task_of(props.route) else {
        return html! {};
    };
    let (status, class) = plan
        .as_ref()
        .map(|p| readiness(p, task))
        .unwrap_or(("".into(), "pending"));
    html! {
        <section>
            <p class="lead">{ task.description() }</p>
            <p class={classes!("status", class)}>{ status }</p>
            <p>{ "This task is coming in a later version of Offgrid." }</p>
            <p><a href="#/device">{ "See what this device would run" }</a></p>
        </section>
    }
}
