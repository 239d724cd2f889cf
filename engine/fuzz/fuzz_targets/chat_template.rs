//! Chat templates (Jinja, as models ship them): any text as the template, rendered for a fixed conversation
//! with and without the generation prompt. Rendering must end (a template can loop or recurse; the engine
//! gives it a fuel budget and a recursion limit) and must not build huge strings.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::text::{ChatMessage, ChatTemplate, Role};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = ChatTemplate::new(source, "<s>", "</s>") else {
        return;
    };
    let messages = [
        ChatMessage::new(Role::System, "You are brief."),
        ChatMessage::new(Role::User, "Hi! What's 2 + 2?"),
        ChatMessage::new(Role::Assistant, "4."),
        ChatMessage::new(Role::User, "Thanks 🙂"),
    ];
    let _ = template.render(&messages, true);
    let _ = template.render(&messages[1..2], false);
});
