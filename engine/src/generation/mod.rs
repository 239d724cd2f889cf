//! Text generation shared by every decoder: choosing tokens ([`Sampler`]), stop strings ([`StopStrings`]) and
//! why a reply ended ([`StopReason`]). Kept apart from the models, which only turn tokens into logits.

mod cancel;
mod sampler;
mod stop;

pub use cancel::CancelFlag;
pub use sampler::{argmax, Sampler, SamplingParams};
pub use stop::StopStrings;

use serde::{Deserialize, Serialize};

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn (an end-of-turn token).
    EndOfTurn,
    /// A stop string appeared.
    StopString,
    /// The token limit was reached.
    MaxTokens,
    /// The context is full.
    ContextFull,
    /// The caller asked to stop.
    Cancelled,
}
