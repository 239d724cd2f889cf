//! One module per page.

pub mod chat;
pub mod device;
pub mod home;
pub mod models;
pub mod not_found;
pub mod remove_background;
pub mod search;
pub mod speak;
pub mod transcribe;
pub mod vad;
