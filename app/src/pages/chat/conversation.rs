//! The chat page's conversation: the messages, the reply being streamed, and the last reply's figures, as a
//! Yew reducer so that streamed tokens are applied in order to the latest state. Saved in localStorage.

use crate::browser::{load_setting, save_setting};
use offgrid_workers::protocol::{ChatRole, ChatTurn, JobResult, WorkerEvent};
use std::rc::Rc;
use yew::Reducible;

/// Where the conversation is kept on the device.
const STORAGE_KEY: &str = "offgrid-chat-conversation-v1";

/// The figures of the last finished reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub result: JobResult,
}

/// The conversation on screen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversation {
    pub messages: Vec<ChatTurn>,
    /// The reply being generated, as far as it has come.
    pub streaming: Option<String>,
    /// Download or loading progress before the first token.
    pub progress: Option<WorkerEvent>,
    pub stats: Option<Stats>,
    pub error: Option<String>,
    /// The last reply was stopped by the person (the worker answers a stopped job with `Cancelled`).
    pub stopped: bool,
    /// Counts changes, so the page saves after each.
    version: u32,
}

/// What can happen to the conversation.
pub enum ConversationAction {
    UserSaid(String),
    ReplyStarted,
    Event(Box<WorkerEvent>),
    DropLastReply,
    EditLastUser,
    Clear,
}

impl Conversation {
    /// The conversation saved on this device, or an empty one.
    pub fn restored() -> Self {
        let messages = load_setting(STORAGE_KEY)
            .and_then(|json| serde_json::from_str::<Vec<ChatTurn>>(&json).ok())
            .unwrap_or_default();
        Conversation {
            messages,
            ..Default::default()
        }
    }

    /// Saves the finished messages (not a half-streamed reply).
    pub fn save(&self) {
        match serde_json::to_string(&self.messages) {
            Ok(json) if !self.messages.is_empty() => save_setting(STORAGE_KEY, Some(&json)),
            _ => save_setting(STORAGE_KEY, None),
        }
    }

    /// A number that changes with every change.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Every finished message.
    pub fn turns(&self) -> Vec<ChatTurn> {
        self.messages.clone()
    }

    /// The messages up to the last user message (what Regenerate sends again).
    pub fn turns_before_last_reply(&self) -> Vec<ChatTurn> {
        let mut turns = self.messages.clone();
        while turns.last().is_some_and(|t| t.role == ChatRole::Assistant) {
            turns.pop();
        }
        turns
    }

    /// Whether the conversation ends with a reply.
    pub fn has_assistant_reply(&self) -> bool {
        self.messages
            .last()
            .is_some_and(|t| t.role == ChatRole::Assistant)
    }

    /// The last thing the person wrote.
    pub fn last_user_message(&self) -> Option<String> {
        self.messages
            .iter()
            .rev()
            .find(|t| t.role == ChatRole::User)
            .map(|t| t.content.clone())
    }

    fn apply(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::Partial { text, .. } => {
                self.progress = None;
                self.streaming
                    .get_or_insert_with(String::new)
                    .push_str(&text);
            }
            event @ WorkerEvent::Progress { .. } => self.progress = Some(event),
            WorkerEvent::Done { result, .. } => {
                if let JobResult::ChatReply { text, .. } = &result {
                    self.messages.push(ChatTurn {
                        role: ChatRole::Assistant,
                        content: text.clone(),
                    });
                }
                self.streaming = None;
                self.progress = None;
                self.stats = Some(Stats { result });
            }
            WorkerEvent::Failed { error, .. } => {
                self.keep_partial_reply();
                self.error = Some(error.message);
            }
            WorkerEvent::Cancelled { .. } => {
                self.keep_partial_reply();
                self.stopped = true;
            }
            _ => {}
        }
    }

    /// A reply cut short (stopped, or the worker failed) is kept as far as it came.
    fn keep_partial_reply(&mut self) {
        if let Some(text) = self.streaming.take().filter(|t| !t.trim().is_empty()) {
            self.messages.push(ChatTurn {
                role: ChatRole::Assistant,
                content: text,
            });
        }
        self.progress = None;
    }
}

impl Reducible for Conversation {
    type Action = ConversationAction;

    fn reduce(self: Rc<Self>, action: ConversationAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ConversationAction::UserSaid(text) => {
                next.messages.push(ChatTurn {
                    role: ChatRole::User,
                    content: text,
                });
                next.error = None;
            }
            ConversationAction::ReplyStarted => {
                next.streaming = Some(String::new());
                next.stats = None;
                next.error = None;
                next.stopped = false;
            }
            ConversationAction::Event(event) => next.apply(*event),
            ConversationAction::DropLastReply => {
                next.messages = next.turns_before_last_reply();
            }
            ConversationAction::EditLastUser => {
                next.messages = next.turns_before_last_reply();
                next.messages.pop();
                next.stats = None;
            }
            ConversationAction::Clear => next = Conversation::default(),
        }
        next.version = self.version.wrapping_add(1);
        Rc::new(next)
    }
}
