//! Share this page's link (its state is in the URL): the share sheet where the browser has one,
//! otherwise the link is copied.

use crate::browser::{share_current_page, Shared};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ShareButtonProps {
    pub title: AttrValue,
}

#[function_component(ShareButton)]
pub fn share_button(props: &ShareButtonProps) -> Html {
    let feedback = use_state(|| None::<String>);
    let onclick = {
        let feedback = feedback.clone();
        let title = props.title.clone();
        Callback::from(move |_| {
            let feedback = feedback.clone();
            let title = title.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = match share_current_page(&format!("{title} · Offgrid")).await {
                    Shared::Sheet => "Shared".to_string(),
                    Shared::Copied => "Link copied".to_string(),
                    Shared::Failed(msg) => msg,
                };
                feedback.set(Some(text));
            });
        })
    };
    html! {
        <div class="share">
            <button class="secondary" {onclick}>{ "Share" }</button>
            <span class="share-feedback" role="status" aria-live="polite">{ (*feedback).clone().unwrap_or_default() }</span>
        </div>
    }
}
