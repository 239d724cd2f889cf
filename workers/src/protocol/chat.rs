//! The chat request's messages and settings.

use super::ModelChoice;
use serde::{Deserialize, Serialize};

/// A chat model's reply to a conversation: the reply streams as [`super::WorkerEvent::Partial`] text and the
/// job ends with `JobResult::ChatReply`. The worker keeps the conversation's KV cache, so a next turn that
/// starts with the same messages only runs its new tokens.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChatRequest {
    pub model: ModelChoice,
    pub messages: Vec<ChatTurn>,
    pub settings: ChatSettings,
}

/// Who wrote a chat message.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatTurn {
    pub role: ChatRole,
    pub content: String,
}

/// How a reply is generated, carried in the chat page's URL. Temperature 0 is greedy.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChatSettings {
    pub temperature: f32,
    pub top_k: u32,
    pub top_p: f32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub max_tokens: u32,
    pub seed: u64,
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.1,
            max_tokens: 512,
            seed: 0,
        }
    }
}
