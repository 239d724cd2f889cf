//! The chat conversations kept on this device: every chat a person started, newest first, each titled by its
//! first message. Plain data (serde) that the chat page keeps as one localStorage entry
//! ([`STORAGE_KEY`]); the page opens, continues and deletes them. The store from before there was a list
//! (one conversation under [`OLD_KEY`]) becomes its first entry. No browser API here, so it is unit-tested
//! natively.

use offgrid_workers::protocol::{ChatRole, ChatTurn};
use serde::{Deserialize, Serialize};

/// The localStorage entry holding the list.
pub const STORAGE_KEY: &str = "offgrid-chat-conversations-v2";
/// The single conversation of earlier versions.
pub const OLD_KEY: &str = "offgrid-chat-conversation-v1";
/// Characters of the first message kept as a title.
const TITLE_CHARS: usize = 60;

/// One saved conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedChat {
    pub id: u64,
    pub messages: Vec<ChatTurn>,
}

impl SavedChat {
    /// The first thing the person wrote, shortened, as the conversation's name.
    pub fn title(&self) -> String {
        let first = self
            .messages
            .iter()
            .find(|t| t.role == ChatRole::User)
            .map(|t| t.content.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        if first.chars().count() > TITLE_CHARS {
            let cut: String = first.chars().take(TITLE_CHARS).collect();
            format!("{}…", cut.trim_end())
        } else if first.is_empty() {
            "(empty)".into()
        } else {
            first
        }
    }
}

/// Every saved conversation and which one is open.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedChats {
    /// Newest (most recently changed) first.
    pub chats: Vec<SavedChat>,
    /// The open conversation's id (it may have no messages yet, and then it is not in `chats`).
    pub current: u64,
}

impl SavedChats {
    /// The list from what the two storage entries hold (the old single conversation becomes the first entry
    /// when there is no list yet; anything unreadable counts as nothing).
    pub fn from_stored(list_json: Option<&str>, old_json: Option<&str>) -> Self {
        if let Some(saved) = list_json.and_then(|json| serde_json::from_str::<Self>(json).ok()) {
            return saved;
        }
        let old = old_json
            .and_then(|json| serde_json::from_str::<Vec<ChatTurn>>(json).ok())
            .filter(|m| !m.is_empty());
        match old {
            Some(messages) => SavedChats {
                chats: vec![SavedChat { id: 1, messages }],
                current: 1,
            },
            None => SavedChats {
                chats: Vec::new(),
                current: 1,
            },
        }
    }

    /// The list as its storage entry holds it.
    pub fn to_json(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    /// The open conversation's messages.
    pub fn current_messages(&self) -> Vec<ChatTurn> {
        self.chats
            .iter()
            .find(|c| c.id == self.current)
            .map(|c| c.messages.clone())
            .unwrap_or_default()
    }

    /// Records the open conversation's messages: it moves to the top; with no messages it is not listed.
    pub fn update_current(&mut self, messages: &[ChatTurn]) {
        let id = self.current;
        self.chats.retain(|c| c.id != id);
        if !messages.is_empty() {
            self.chats.insert(
                0,
                SavedChat {
                    id,
                    messages: messages.to_vec(),
                },
            );
        }
    }

    /// Starts a new, empty conversation (the open one stays in the list).
    pub fn start_new(&mut self) {
        self.current = self
            .chats
            .iter()
            .map(|c| c.id)
            .max()
            .unwrap_or(0)
            .max(self.current)
            + 1;
    }

    /// Opens a saved conversation; `None` if there is none with that id.
    pub fn open(&mut self, id: u64) -> Option<Vec<ChatTurn>> {
        let messages = self.chats.iter().find(|c| c.id == id)?.messages.clone();
        self.current = id;
        Some(messages)
    }

    /// Deletes a conversation; deleting the open one starts a new one.
    pub fn delete(&mut self, id: u64) {
        self.chats.retain(|c| c.id != id);
        if self.current == id {
            self.start_new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(text: &str) -> Vec<ChatTurn> {
        vec![
            ChatTurn {
                role: ChatRole::User,
                content: text.into(),
            },
            ChatTurn {
                role: ChatRole::Assistant,
                content: "ok".into(),
            },
        ]
    }

    #[test]
    fn conversations_are_kept_newest_first_and_can_be_opened_and_deleted() {
        let mut s = SavedChats {
            chats: Vec::new(),
            current: 1,
        };
        s.update_current(&said("first question"));
        s.start_new();
        assert!(s.current_messages().is_empty(), "a new chat starts empty");
        s.update_current(&said("second   question\nwith a line break"));
        let titles: Vec<String> = s.chats.iter().map(SavedChat::title).collect();
        assert_eq!(
            titles,
            ["second question with a line break", "first question"]
        );
        // Opening the first and changing it moves it to the top.
        let first = s.chats[1].id;
        assert_eq!(s.open(first), Some(said("first question")));
        let mut more = said("first question");
        more.extend(said("a follow-up"));
        s.update_current(&more);
        assert_eq!(s.chats[0].id, first);
        assert_eq!(s.chats.len(), 2);
        // Deleting the open one starts a new conversation with a fresh id.
        s.delete(first);
        assert_eq!(s.chats.len(), 1);
        assert!(s.chats.iter().all(|c| c.id != s.current));
        assert_eq!(s.open(first), None);
        // A long first message is shortened for the title.
        let long = SavedChat {
            id: 9,
            messages: said(&"word ".repeat(40)),
        };
        assert!(long.title().ends_with('…') && long.title().chars().count() <= TITLE_CHARS + 1);
    }

    #[test]
    fn the_single_conversation_of_earlier_versions_becomes_the_first_entry() {
        let old = serde_json::to_string(&said("kept from before")).unwrap();
        let s = SavedChats::from_stored(None, Some(&old));
        assert_eq!(s.chats.len(), 1);
        assert_eq!(s.current_messages(), said("kept from before"));
        // Once there is a list, it is what counts; unreadable entries count as nothing.
        let json = s.to_json().unwrap();
        assert_eq!(SavedChats::from_stored(Some(&json), Some("[]")), s);
        assert!(SavedChats::from_stored(Some("{not json"), Some("nor this"))
            .chats
            .is_empty());
    }
}
