//! A chat model's GGUF metadata: the config, the byte-level BPE tokenizer rebuilt from `tokenizer.ggml.*`, and
//! the chat template from `tokenizer.chat_template`, rendered for a fixed conversation, tokenized and streamed
//! back to text as the chat job does (`ChatModel::from_gguf` without the weights).
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation the file does not back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::io::Gguf;
use offgrid_engine::models::llama::LlamaConfig;
use offgrid_engine::text::{ChatMessage, ChatTemplate, ChatTokenizer, Role, TokenStream};

fuzz_target!(|data: &[u8]| {
    let Ok(g) = Gguf::from_bytes(data.to_vec()) else {
        return;
    };
    let _ = LlamaConfig::from_gguf(&g);
    let Ok(tok) = ChatTokenizer::from_gguf(&g) else {
        return;
    };
    let source = g
        .get("tokenizer.chat_template")
        .and_then(|v| v.as_str())
        .unwrap_or("{% for m in messages %}{{ m.content }}{% endfor %}");
    let text_of = |id: Option<u32>| id.and_then(|i| tok.token(i)).unwrap_or_default();
    let Ok(template) = ChatTemplate::new(source, &text_of(tok.bos()), &text_of(tok.eos())) else {
        return;
    };
    let messages = [
        ChatMessage::new(Role::System, "You are brief."),
        ChatMessage::new(Role::User, "Hi! What's 2 + 2?"),
        ChatMessage::new(Role::Assistant, "4."),
        ChatMessage::new(Role::User, "Thanks 🙂"),
    ];
    let Ok(prompt) = template.render(&messages, true) else {
        return;
    };
    if let Ok(ids) = tok.encode(&prompt) {
        let mut stream = TokenStream::new();
        for &id in ids.iter().take(64) {
            let _ = stream.push(&tok, id);
        }
        let _ = stream.finish(&tok);
    }
});
