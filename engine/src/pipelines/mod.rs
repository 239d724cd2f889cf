//! Pipelines that chain models, shared by the app's worker and the `offgrid` CLI so both run the same steps.

pub mod remove_background;
pub mod speak;
pub mod speech_to_text;
