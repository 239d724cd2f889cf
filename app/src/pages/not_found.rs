//! Unknown routes.

use yew::prelude::*;

#[function_component(NotFound)]
pub fn not_found() -> Html {
    html! {
        <section>
            <p>{ "There is no page at this address." }</p>
            <p><a href="#/">{ "Go to the home page" }</a></p>
        </section>
    }
}
