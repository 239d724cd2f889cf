//! The query box and the results: searches as you type (debounced), keeps the query in the URL, and
//! highlights the query's words in each passage.

use super::corpus::{highlight, query_words};
use crate::app::Nav;
use crate::hooks::use_job::use_job;
use offgrid_workers::protocol::{JobResult, ModelChoice, Request, SearchRequest, WorkerEvent};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Results shown at once.
const TOP_K: u32 = 5;
/// Typing pause before a query runs.
const DEBOUNCE_MS: u32 = 250;

#[derive(Properties, PartialEq)]
pub struct ResultsProps {
    pub collection: Option<String>,
    pub query: String,
    /// The plan's model for search (a collection built with another uses its own).
    pub model: ModelChoice,
    pub building: bool,
    pub saved: bool,
}

#[function_component(Results)]
pub fn results(props: &ResultsProps) -> Html {
    let nav = use_context::<Nav>();
    let job = use_job();
    let timer = use_mut_ref(|| None::<gloo_timers::callback::Timeout>);

    // Run the query (debounced) whenever it, the collection, or the saved state changes.
    {
        let job = job.clone();
        let timer = timer.clone();
        let model = props.model.clone();
        use_effect_with(
            (props.collection.clone(), props.query.clone(), props.saved),
            move |(collection, query, saved)| {
                timer.borrow_mut().take();
                if let (Some(collection), true, true) =
                    (collection.clone(), !query.trim().is_empty(), *saved)
                {
                    let (query, model) = (query.clone(), model.clone());
                    *timer.borrow_mut() = Some(gloo_timers::callback::Timeout::new(
                        DEBOUNCE_MS,
                        move || {
                            job.start(Request::Search(SearchRequest::Query {
                                collection,
                                query,
                                top_k: TOP_K,
                                model,
                            }));
                        },
                    ));
                }
            },
        );
    }

    let on_input = {
        let nav = nav.clone();
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            if let Some(nav) = &nav {
                nav.replace(nav.location.with("q", &value));
            }
        })
    };

    let body = match (&props.collection, &job.last) {
        (None, _) => html! { <p>{ "Choose a collection, or build one below." }</p> },
        (Some(name), _) if !props.saved && props.building => html! {
            <p role="status">{ format!("\"{name}\" is still being indexed; search starts when it is done.") }</p>
        },
        (Some(name), _) if !props.saved => {
            html! { <p>{ format!("There is no collection called \"{name}\" on this device yet.") }</p> }
        }
        (
            _,
            Some(WorkerEvent::Done {
                result:
                    JobResult::SearchResults {
                        hits,
                        query,
                        millis,
                        ..
                    },
                ..
            }),
        ) => {
            let words = query_words(query);
            html! {
                <>
                <p class="meta" role="status">{ format!("{} results in {:.0} ms", hits.len(), millis) }</p>
                <ol class="hits" id="hits">
                { for hits.iter().map(|h| html! {
                    <li class="hit">
                        <span class="score" title="cosine similarity">{ format!("{:.3}", h.score) }</span>
                        <p>{ for highlight(&h.text, &words).into_iter().map(|(piece, hit)| if hit {
                            html! { <mark>{ piece }</mark> }
                        } else {
                            html! { { piece } }
                        }) }</p>
                    </li>
                }) }
                </ol>
                </>
            }
        }
        (Some(collection), Some(failed @ WorkerEvent::Failed { .. })) => {
            let retry = {
                let job = job.clone();
                let (collection, query, model) =
                    (collection.clone(), props.query.clone(), props.model.clone());
                Callback::from(move |_: ()| {
                    job.start(Request::Search(SearchRequest::Query {
                        collection: collection.clone(),
                        query: query.clone(),
                        top_k: TOP_K,
                        model: model.clone(),
                    }))
                })
            };
            html! { <crate::components::job_status::JobStatus event={Some(failed.clone())} on_retry={retry} /> }
        }
        (_, Some(WorkerEvent::Progress { .. })) => html! {
            <crate::components::job_status::JobStatus event={job.last.clone()} running={true} />
        },
        _ => html! {},
    };

    html! {
        <div class="query">
            <label for="query">{ match &props.collection { Some(c) => format!("Search \"{c}\""), None => "Search".to_string() } }</label>
            <input id="query" type="search" value={props.query.clone()} oninput={on_input}
                placeholder="Ask in your own words" disabled={props.collection.is_none()} />
            { body }
        </div>
    }
}
