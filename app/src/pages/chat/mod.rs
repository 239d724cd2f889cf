//! Chat (`#/chat?system=…&q=…&temperature=…`): a conversation with a small language model that runs in the
//! engine worker. The reply streams in token by token; Stop, Regenerate and Edit work between tokens. The URL
//! carries the system prompt, the sampling settings and a draft message (a shared `q` fills the box but is
//! only sent when the person presses Send). The conversation is kept on this device (localStorage).

mod conversation;
mod markdown;

use crate::app::Nav;
use crate::engine::Engine;
use crate::hooks::use_device_plan::{planned_dtype, DevicePlan, ProbeState};
use crate::pages::models::effective_mirror;
use conversation::{Conversation, ConversationAction, Stats};
use offgrid_catalog::Task;
use offgrid_workers::protocol::{
    Backend, ChatRequest, ChatRole, ChatSettings, ChatTurn, JobId, JobResult, ModelChoice, Request,
    WorkerEvent,
};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The model and backend the plan picked for chat (with the Device page's overrides applied), else SmolLM2
/// 135M on the CPU; and whether the plan is known yet.
fn chat_choice(plan: Option<&DevicePlan>) -> (String, Backend, bool) {
    let fallback = ("smollm2-135m-q4_1".to_string(), Backend::Cpu);
    match plan.map(|p| &p.state) {
        Some(ProbeState::Ready { plan, .. }) => match plan.task(Task::Chat).filter(|tp| tp.ready) {
            Some(tp) => (tp.variant.clone().unwrap_or(fallback.0), tp.backend, true),
            None => (fallback.0, fallback.1, true),
        },
        _ => (fallback.0, fallback.1, false),
    }
}

/// The sampling settings in the URL (`temperature`, `top_k`, `top_p`, `min_p`, `repeat_penalty`,
/// `max_tokens`, `seed`), the defaults for what is missing or unreadable.
fn settings_from(nav: Option<&Nav>) -> ChatSettings {
    let mut s = ChatSettings::default();
    let Some(nav) = nav else { return s };
    let get = |k: &str| nav.location.get(k);
    let float = |k: &str, lo: f32, hi: f32| {
        get(k)
            .and_then(|v| v.parse::<f32>().ok())
            .filter(|v| v.is_finite())
            .map(|v| v.clamp(lo, hi))
    };
    s.temperature = float("temperature", 0.0, 2.0).unwrap_or(s.temperature);
    s.top_p = float("top_p", 0.0, 1.0).unwrap_or(s.top_p);
    s.min_p = float("min_p", 0.0, 1.0).unwrap_or(s.min_p);
    s.repeat_penalty = float("repeat_penalty", 0.5, 2.0).unwrap_or(s.repeat_penalty);
    let int = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
    s.top_k = int("top_k").map_or(s.top_k, |v| v.min(1000) as u32);
    s.max_tokens = int("max_tokens").map_or(s.max_tokens, |v| v.clamp(1, 1024) as u32);
    s.seed = int("seed").unwrap_or(s.seed);
    s
}

#[function_component(ChatPage)]
pub fn chat_page() -> Html {
    let nav = use_context::<Nav>();
    let engine = use_context::<Rc<Engine>>();
    let plan = use_context::<DevicePlan>();
    let (variant_id, backend, plan_ready) = chat_choice(plan.as_ref());
    let mirror = nav.as_ref().and_then(effective_mirror);
    let system = nav
        .as_ref()
        .and_then(|n| n.location.get("system").map(str::to_string))
        .unwrap_or_default();
    let settings = settings_from(nav.as_ref());

    let conversation = use_reducer(Conversation::restored);
    let draft = {
        let shared = nav
            .as_ref()
            .and_then(|n| n.location.get("q").map(str::to_string));
        use_state(move || shared.unwrap_or_default())
    };
    let running = use_state(|| None::<JobId>);
    let input_ref = use_node_ref();

    // Keep the conversation on the device after every change.
    {
        let saved = conversation.clone();
        use_effect_with(conversation.version(), move |_| saved.save());
    }

    let send_turns = {
        let engine = engine.clone();
        let conversation = conversation.clone();
        let running = running.clone();
        let variant_id = variant_id.clone();
        let mirror = mirror.clone();
        let system = system.clone();
        Callback::from(move |turns: Vec<ChatTurn>| {
            let Some(engine) = engine.as_ref() else {
                return;
            };
            let mut messages = Vec::new();
            if !system.trim().is_empty() {
                messages.push(ChatTurn {
                    role: ChatRole::System,
                    content: system.clone(),
                });
            }
            messages.extend(turns);
            let model = ModelChoice {
                variant_id: variant_id.clone(),
                mirror: mirror.clone(),
                backend,
                dtype: planned_dtype(plan.as_ref(), Task::Chat, &variant_id),
            };
            let events = {
                let conversation = conversation.clone();
                let running = running.clone();
                Callback::from(move |event: WorkerEvent| {
                    if event.is_final() {
                        running.set(None);
                    }
                    let now = js_sys::Date::now();
                    conversation.dispatch(ConversationAction::Event(Box::new(event), now));
                })
            };
            conversation.dispatch(ConversationAction::ReplyStarted);
            let job = engine.run(
                Request::Chat(ChatRequest {
                    model,
                    messages,
                    settings,
                }),
                events,
            );
            running.set(Some(job));
        })
    };

    let send = {
        let draft = draft.clone();
        let conversation = conversation.clone();
        let send_turns = send_turns.clone();
        let running = running.clone();
        let nav = nav.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = draft.trim().to_string();
            if text.is_empty() || running.is_some() {
                return;
            }
            let mut turns = conversation.turns();
            turns.push(ChatTurn {
                role: ChatRole::User,
                content: text.clone(),
            });
            conversation.dispatch(ConversationAction::UserSaid(text));
            draft.set(String::new());
            if let Some(nav) = nav.as_ref().filter(|n| n.location.get("q").is_some()) {
                nav.replace(nav.location.with("q", ""));
            }
            send_turns.emit(turns);
        })
    };
    let stop = {
        let engine = engine.clone();
        let running = running.clone();
        Callback::from(move |_| {
            if let (Some(engine), Some(job)) = (engine.as_ref(), *running) {
                engine.cancel(job);
            }
        })
    };
    let regenerate = {
        let conversation = conversation.clone();
        let send_turns = send_turns.clone();
        Callback::from(move |_| {
            let turns = conversation.turns_before_last_reply();
            if turns.last().is_some_and(|t| t.role == ChatRole::User) {
                conversation.dispatch(ConversationAction::DropLastReply);
                send_turns.emit(turns);
            }
        })
    };
    let edit_last = {
        let conversation = conversation.clone();
        let draft = draft.clone();
        let input_ref = input_ref.clone();
        Callback::from(move |_| {
            if let Some(text) = conversation.last_user_message() {
                conversation.dispatch(ConversationAction::EditLastUser);
                draft.set(text);
                if let Some(input) = input_ref.cast::<HtmlTextAreaElement>() {
                    let _ = input.focus();
                }
            }
        })
    };
    let new_chat = {
        let conversation = conversation.clone();
        Callback::from(move |_| conversation.dispatch(ConversationAction::Clear))
    };
    let on_draft = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let set_param = {
        let nav = nav.clone();
        Callback::from(move |(key, value): (&'static str, String)| {
            if let Some(nav) = &nav {
                nav.replace(nav.location.with(key, &value));
            }
        })
    };
    let on_system = {
        let set_param = set_param.clone();
        Callback::from(move |e: InputEvent| {
            set_param.emit((
                "system",
                e.target_unchecked_into::<HtmlTextAreaElement>().value(),
            ))
        })
    };
    let number_input =
        |key: &'static str, label: &str, value: String, step: &'static str, max: &'static str| {
            let set_param = set_param.clone();
            let id = format!("chat-{}", key.replace('_', "-"));
            let oninput = Callback::from(move |e: InputEvent| {
                set_param.emit((key, e.target_unchecked_into::<HtmlInputElement>().value()))
            });
            html! {
                <label for={id.clone()} class="setting">{ label }
                    <input id={id} type="number" min="0" {max} {step} {value} {oninput} />
                </label>
            }
        };

    let busy = running.is_some();
    let has_reply = conversation.has_assistant_reply();
    let saved = &conversation.saved;
    let open_saved = {
        let conversation = conversation.clone();
        Callback::from(move |id: u64| conversation.dispatch(ConversationAction::Open(id)))
    };
    let delete_saved = {
        let conversation = conversation.clone();
        Callback::from(move |id: u64| conversation.dispatch(ConversationAction::Delete(id)))
    };
    html! {
        <section class="chat-page">
            <ol class="messages" id="messages" aria-live="polite">
                { for conversation.messages.iter().enumerate().map(|(i, m)| {
                    let (class, who) = match m.role {
                        ChatRole::User => ("user", "You"),
                        ChatRole::Assistant => ("assistant", "Model"),
                        ChatRole::System => ("system", "System"),
                    };
                    html! {
                        <li class={classes!("message", class)} data-index={i.to_string()}>
                            <span class="who">{ who }</span>
                            <div class="body">{ markdown::render(&m.content) }</div>
                        </li>
                    }
                }) }
                if let Some(text) = conversation.streaming.as_ref() {
                    <li class="message assistant streaming" id="streaming">
                        <span class="who">{ "Model" }</span>
                        <div class="body">{ markdown::render(text) }</div>
                    </li>
                }
            </ol>
            <div class="chat-status" id="chat-status">
                { status_line(&conversation, busy, regenerate.clone()) }
            </div>
            <form class="composer" onsubmit={send}>
                <label for="chat-input" class="visually-hidden">{ "Message" }</label>
                <textarea id="chat-input" ref={input_ref} rows="3" placeholder="Type a message"
                    value={(*draft).clone()} oninput={on_draft} />
                <div class="row">
                    if busy {
                        <button type="button" id="chat-stop" class="secondary" onclick={stop}>{ "Stop" }</button>
                    } else {
                        <button type="submit" id="chat-send" disabled={draft.trim().is_empty()}>{ "Send" }</button>
                    }
                    <button type="button" id="chat-regenerate" class="secondary" disabled={busy || !has_reply} onclick={regenerate}>{ "Regenerate" }</button>
                    <button type="button" id="chat-edit" class="secondary" disabled={busy || conversation.last_user_message().is_none()} onclick={edit_last}>{ "Edit last message" }</button>
                    <button type="button" id="chat-new" class="secondary" disabled={busy} onclick={new_chat}>{ "New chat" }</button>
                </div>
            </form>
            <details class="saved-chats" id="saved-chats">
                <summary>{ format!("Saved conversations ({})", saved.chats.len()) }</summary>
                <ul>
                    { for saved.chats.iter().map(|c| {
                        let id = c.id;
                        let (open, delete) = (open_saved.clone(), delete_saved.clone());
                        let is_open = id == saved.current;
                        html! {
                            <li class={classes!("saved-chat", is_open.then_some("open"))} data-id={id.to_string()}>
                                <button type="button" class="link open-chat" disabled={busy || is_open}
                                    aria-current={if is_open { "true" } else { "false" }}
                                    onclick={Callback::from(move |_| open.emit(id))}>{ c.title() }</button>
                                <button type="button" class="secondary delete-chat" disabled={busy}
                                    aria-label={format!("Delete \"{}\"", c.title())}
                                    onclick={Callback::from(move |_| delete.emit(id))}>{ "Delete" }</button>
                            </li>
                        }
                    }) }
                </ul>
                if saved.chats.is_empty() { <p class="meta">{ "Conversations you have are kept here, on this device only." }</p> }
            </details>
            <details class="chat-settings">
                <summary>{ "System prompt and settings" }</summary>
                <label for="chat-system">{ "System prompt" }</label>
                <textarea id="chat-system" rows="2" value={system.clone()} oninput={on_system} />
                <div class="settings-grid">
                    { number_input("temperature", "Temperature (0 = always the likeliest word)", format!("{}", settings.temperature), "0.1", "2") }
                    { number_input("top_k", "Top-k", settings.top_k.to_string(), "1", "1000") }
                    { number_input("top_p", "Top-p", format!("{}", settings.top_p), "0.05", "1") }
                    { number_input("min_p", "Min-p", format!("{}", settings.min_p), "0.01", "1") }
                    { number_input("repeat_penalty", "Repetition penalty", format!("{}", settings.repeat_penalty), "0.05", "2") }
                    { number_input("max_tokens", "Longest reply (tokens)", settings.max_tokens.to_string(), "1", "1024") }
                    { number_input("seed", "Seed", settings.seed.to_string(), "1", "4294967295") }
                </div>
                <p class="meta">{ "These settings are in the page's address: share it to share them." }</p>
            </details>
            <p class="meta" id="chat-model" data-variant={variant_id.clone()}
                data-backend={if backend == Backend::Gpu { "gpu" } else { "cpu" }}
                data-plan={if plan_ready { "ready" } else { "pending" }}>{ format!("Model: {variant_id} on the {}. Your messages stay on this device.", if backend == Backend::Gpu { "GPU" } else { "CPU" }) }</p>
        </section>
    }
}

fn status_line(conversation: &Conversation, busy: bool, retry: Callback<MouseEvent>) -> Html {
    if let Some(error) = &conversation.error {
        // Retry sends the conversation again (the reply is written anew, as Regenerate does).
        return html! {
            <div class="job-status error" role="alert">{ error.clone() }
                <button class="secondary retry" onclick={retry}>{ "Retry" }</button>
            </div>
        };
    }
    if busy {
        if let Some(progress) = &conversation.progress {
            return html! { <crate::components::job_status::JobStatus event={Some(progress.clone())} running={true} /> };
        }
        if let Some((tokens, rate)) = conversation.live_rate() {
            return html! { <p class="meta" role="status" id="chat-live">{ format!("Writing: {tokens} tokens at {rate:.1} tok/s") }</p> };
        }
        return html! { <p role="status">{ "Thinking…" }</p> };
    }
    if conversation.stopped {
        return html! { <p class="meta" id="chat-stats" role="status">{ "Stopped. The reply so far is kept; Regenerate writes a new one." }</p> };
    }
    match &conversation.stats {
        Some(Stats {
            result:
                JobResult::ChatReply {
                    stop,
                    prompt_tokens,
                    reused_tokens,
                    dropped_messages,
                    context_used,
                    context_len,
                    prefill_tok_s,
                    decode_tok_s,
                    backend,
                    ..
                },
        }) => {
            let ended = match stop.as_str() {
                "max_tokens" => " The reply reached its length limit.",
                "context_full" => " The conversation is full: start a new chat.",
                "cancelled" => " Stopped.",
                _ => "",
            };
            let dropped = if *dropped_messages > 0 {
                format!(" The {dropped_messages} oldest messages no longer fit and were left out.")
            } else {
                String::new()
            };
            html! {
                <p class="meta" id="chat-stats" data-backend={if *backend == Backend::Gpu { "gpu" } else { "cpu" }}>
                    { format!(
                        "{prompt_tokens} prompt tokens ({reused_tokens} reused) at {prefill_tok_s:.0} tok/s, reply at {decode_tok_s:.1} tok/s; context {context_used} of {context_len}.{ended}{dropped}"
                    ) }
                </p>
            }
        }
        _ => html! {},
    }
}
