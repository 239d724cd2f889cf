//! Reusable pieces of UI.

pub mod job_status;
pub mod share_button;
pub mod update_banner;
