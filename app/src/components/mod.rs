//! Reusable pieces of UI.

pub mod audio_capture;
pub mod audio_file;
pub mod audio_picker;
pub mod audio_segments;
pub mod job_status;
pub mod loaded_models;
pub mod model_line;
pub mod share_button;
pub mod transcript_view;
pub mod update_banner;
