//! The chat page's conversation: the messages, the reply being streamed, and the last reply's figures, as a
//! Yew reducer so that streamed tokens are applied in order to the latest state. Saved in localStorage.

use crate::browser::{load_setting, save_setting};
use crate::saved_chats::{SavedChats, OLD_KEY, STORAGE_KEY};
use offgrid_workers::protocol::{ChatRole, ChatTurn, JobResult, WorkerEvent};
use std::rc::Rc;
use yew::Reducible;

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
    /// Tokens of the reply being streamed so far, and when the first and the latest came (ms), for the live
    /// speed.
    pub streamed_tokens: u32,
    pub first_token_ms: Option<f64>,
    pub latest_token_ms: Option<f64>,
    /// Every conversation kept on this device, this one with its latest finished messages (kept in step by
    /// the reducer when the messages change, not on every streamed token; shared, so a token's new state
    /// does not copy the list).
    pub saved: Rc<SavedChats>,
    /// Counts changes to what is saved, so the page saves after each (not on every streamed token).
    version: u32,
}

/// What can happen to the conversation.
pub enum ConversationAction {
    UserSaid(String),
    ReplyStarted,
    /// An event of the reply's job, and when it arrived (ms).
    Event(Box<WorkerEvent>, f64),
    /// Opens a saved conversation.
    Open(u64),
    /// Deletes a saved conversation.
    Delete(u64),
    DropLastReply,
    EditLastUser,
    Clear,
}

impl Conversation {
    /// The conversation open on this device (with the list of the others), or an empty one.
    pub fn restored() -> Self {
        let saved = SavedChats::from_stored(
            load_setting(STORAGE_KEY).as_deref(),
            load_setting(OLD_KEY).as_deref(),
        );
        Conversation {
            messages: saved.current_messages(),
            saved: Rc::new(saved),
            ..Default::default()
        }
    }

    /// Saves the finished messages (not a half-streamed reply) into the list of conversations.
    pub fn save(&self) {
        if let Some(json) = self.saved.to_json() {
            save_setting(STORAGE_KEY, Some(&json));
            save_setting(OLD_KEY, None);
        }
    }

    /// The reply's live speed: tokens so far and tokens per second after the first (None before two tokens).
    pub fn live_rate(&self) -> Option<(u32, f64)> {
        let (first, latest) = (self.first_token_ms?, self.latest_token_ms?);
        let seconds = (latest - first) / 1000.0;
        (self.streamed_tokens >= 2 && seconds > 0.0).then(|| {
            (
                self.streamed_tokens,
                f64::from(self.streamed_tokens - 1) / seconds,
            )
        })
    }

    /// A number that changes whenever what is saved changes (the messages or the list).
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

    fn apply(&mut self, event: WorkerEvent, now_ms: f64) {
        match event {
            WorkerEvent::Partial { text, .. } => {
                self.progress = None;
                self.streamed_tokens += 1;
                self.first_token_ms.get_or_insert(now_ms);
                self.latest_token_ms = Some(now_ms);
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
                next.streamed_tokens = 0;
                next.first_token_ms = None;
                next.latest_token_ms = None;
                next.stats = None;
                next.error = None;
                next.stopped = false;
            }
            ConversationAction::Event(event, now_ms) => next.apply(*event, now_ms),
            ConversationAction::Open(id) => {
                let mut saved = (*next.saved).clone();
                if let Some(messages) = saved.open(id) {
                    next = Conversation {
                        messages,
                        saved: Rc::new(saved),
                        ..Default::default()
                    };
                }
            }
            ConversationAction::Delete(id) => {
                let mut saved = (*next.saved).clone();
                let was_open = saved.current == id;
                saved.delete(id);
                let saved = Rc::new(saved);
                next = if was_open {
                    Conversation {
                        saved,
                        ..Default::default()
                    }
                } else {
                    Conversation { saved, ..next }
                };
            }
            ConversationAction::DropLastReply => {
                next.messages = next.turns_before_last_reply();
            }
            ConversationAction::EditLastUser => {
                next.messages = next.turns_before_last_reply();
                next.messages.pop();
                next.stats = None;
            }
            ConversationAction::Clear => {
                // The open conversation stays in the list; a new one starts.
                let mut saved = (*next.saved).clone();
                saved.start_new();
                next = Conversation {
                    saved: Rc::new(saved),
                    ..Default::default()
                };
            }
        }
        // Finished messages change on a sent message, a reply's end, an edit or a switch, never on a streamed
        // token: only then is the list brought up to date and the conversation saved (`version`).
        if next.messages != self.messages {
            Rc::make_mut(&mut next.saved).update_current(&next.messages);
        }
        next.version = if next.messages != self.messages || !Rc::ptr_eq(&next.saved, &self.saved) {
            self.version.wrapping_add(1)
        } else {
            self.version
        };
        Rc::new(next)
    }
}
