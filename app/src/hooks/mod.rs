//! Custom hooks: one file per hook.

pub mod use_cache_report;
pub mod use_device_plan;
pub mod use_file_job;
pub mod use_job;
pub mod use_job_stream;
pub mod use_live_mic;
