//! The six things the app does, with their route slugs and words for people.

use serde::{Deserialize, Serialize};

/// One task the app offers; each has its own page, worker messages and model variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Voice activity detection: where speech starts and stops in audio.
    Vad,
    /// Speech to text.
    Transcribe,
    /// Text to speech.
    Speak,
    /// Cut the subject of a photo out of its background.
    RemoveBackground,
    /// Semantic search over the user's own texts.
    Search,
    /// A small chat model.
    Chat,
}

impl Task {
    /// Every task, in the order the home page shows them.
    pub const ALL: [Task; 6] = [
        Task::Vad,
        Task::Transcribe,
        Task::Speak,
        Task::RemoveBackground,
        Task::Search,
        Task::Chat,
    ];

    /// The route slug (`#/<slug>`), also the serde name.
    pub fn slug(self) -> &'static str {
        match self {
            Task::Vad => "vad",
            Task::Transcribe => "transcribe",
            Task::Speak => "speak",
            Task::RemoveBackground => "remove-background",
            Task::Search => "search",
            Task::Chat => "chat",
        }
    }

    /// The task named by a route slug, if any.
    pub fn from_slug(slug: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.slug() == slug)
    }

    /// A short title for cards and headings.
    pub fn title(self) -> &'static str {
        match self {
            Task::Vad => "Voice activity",
            Task::Transcribe => "Transcribe",
            Task::Speak => "Speak",
            Task::RemoveBackground => "Remove background",
            Task::Search => "Search",
            Task::Chat => "Chat",
        }
    }

    /// One line saying what the task does, for people.
    pub fn description(self) -> &'static str {
        match self {
            Task::Vad => "Find where speech starts and stops in a recording or the microphone.",
            Task::Transcribe => "Turn speech into text, on this device.",
            Task::Speak => "Read text aloud with a voice made on this device.",
            Task::RemoveBackground => "Cut the subject of a photo out of its background.",
            Task::Search => "Search your own notes and documents by meaning, not just by words.",
            Task::Chat => "Talk with a small language model that never leaves this device.",
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_match_serde() {
        for task in Task::ALL {
            assert_eq!(Task::from_slug(task.slug()), Some(task));
            let json = serde_json::to_string(&task).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", task.slug()));
        }
        assert_eq!(Task::from_slug("remove_background"), None);
    }
}
