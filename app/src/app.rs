//! The app shell: hash router, navigation, the engine worker context, update and crash banners.

use crate::browser;
use crate::components::{share_button::ShareButton, update_banner::UpdateBanner};
use crate::engine::Engine;
use crate::hooks::use_device_plan::DevicePlanProvider;
use crate::pages;
use crate::route::{Location, Route};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The current location and how to change it; a context value for every page.
#[derive(Clone, PartialEq)]
pub struct Nav {
    pub location: Location,
    set: Callback<(Location, bool)>,
}

impl Nav {
    /// Updates the page's state in the URL without a history entry (typing, sliders).
    pub fn replace(&self, location: Location) {
        self.set.emit((location, false));
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let location = use_state(|| Location::parse(&browser::current_hash()));
    let restart_notice = use_state(|| None::<String>);
    let menu_open = use_state(|| false);

    // Follow back/forward and links.
    {
        let location = location.clone();
        let menu_open = menu_open.clone();
        use_effect_with((), move |_| {
            let on_hash = Closure::<dyn Fn()>::new(move || {
                location.set(Location::parse(&browser::current_hash()));
                menu_open.set(false);
            });
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w.add_event_listener_with_callback(
                    "hashchange",
                    on_hash.as_ref().unchecked_ref(),
                );
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "hashchange",
                        on_hash.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    let engine = {
        let restart_notice = restart_notice.clone();
        use_memo((), move |_| {
            Engine::start(Callback::from(move |reason: String| {
                restart_notice.set(Some(reason))
            }))
        })
    };

    let nav = {
        let location = location.clone();
        Nav {
            location: (*location).clone(),
            set: Callback::from(move |(next, push): (Location, bool)| {
                let hash = next.to_hash();
                if push {
                    browser::push_hash(&hash);
                } else {
                    browser::replace_hash(&hash);
                }
                location.set(next);
            }),
        }
    };

    // Title and focus follow the page, so screen readers hear the change.
    {
        let route = location.route;
        use_effect_with(route, move |route| {
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                doc.set_title(&format!("{} · Offgrid", route.title()));
                if let Some(main) = doc.get_element_by_id("main") {
                    if let Ok(el) = main.dyn_into::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            }
        });
    }

    let route = location.route;
    // Pages whose model comes from `?model=` are remounted when it changes, so nothing of the old model's
    // state (an error, a refused file) stays on screen.
    let model_key = location.get("model").unwrap_or_default().to_string();
    let page = match route {
        Route::Home => html! { <pages::home::Home /> },
        Route::Device => html! { <pages::device::DevicePage /> },
        Route::Models => html! { <pages::models::ModelsPage /> },
        Route::NotFound => html! { <pages::not_found::NotFound /> },
        Route::Search => html! { <pages::search::SearchPage /> },
        Route::Chat => html! { <pages::chat::ChatPage /> },
        Route::Vad => html! { <pages::vad::VadPage /> },
        Route::Transcribe => {
            html! { <pages::transcribe::TranscribePage key={model_key.clone()} /> }
        }
        Route::RemoveBackground => {
            html! { <pages::remove_background::RemoveBackgroundPage key={model_key.clone()} /> }
        }
        Route::Speak => html! { <pages::speak::SpeakPage key={model_key.clone()} /> },
    };
    let toggle_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_| menu_open.set(!*menu_open))
    };
    let dismiss_notice = {
        let restart_notice = restart_notice.clone();
        Callback::from(move |_| restart_notice.set(None))
    };

    html! {
        <ContextProvider<Nav> context={nav}>
        <ContextProvider<Rc<Engine>> context={engine.clone()}>
        <DevicePlanProvider>
            <a class="skip-link" href="#main" onclick={Callback::from(|e: MouseEvent| {
                e.prevent_default();
                if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("main")) {
                    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() { let _ = el.focus(); }
                }
            })}>{ "Skip to content" }</a>
            <header class="topbar">
                <a class="brand" href="#/">{ "Offgrid" }</a>
                <button class="menu-button" aria-expanded={(*menu_open).to_string()} aria-controls="site-nav"
                    onclick={toggle_menu}>{ "Menu" }</button>
                <nav id="site-nav" class={classes!("site-nav", (*menu_open).then_some("open"))} aria-label="Main">
                    <ul>
                    { for Route::NAV.iter().map(|r| {
                        let current = (*r == route).then_some("page");
                        html! { <li><a href={Location::of(*r).to_hash()} aria-current={current}>{ r.title() }</a></li> }
                    }) }
                    </ul>
                </nav>
            </header>
            <UpdateBanner />
            if let Some(reason) = (*restart_notice).clone() {
                <div class="banner banner-error" role="alert">
                    <span>{ reason }</span>
                    <button onclick={dismiss_notice}>{ "Dismiss" }</button>
                </div>
            }
            <main id="main" tabindex="-1">
                <div class="page-head">
                    <h1>{ route.title() }</h1>
                    <ShareButton title={route.title()} />
                </div>
                { page }
            </main>
            <footer class="footer">
                <p>{ "Everything runs on this device. Nothing you say, type or show leaves it." }</p>
            </footer>
        </DevicePlanProvider>
        </ContextProvider<Rc<Engine>>>
        </ContextProvider<Nav>>
    }
}
