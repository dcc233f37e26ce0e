//! The compensation CLI: `plaster compensation preview` and
//! `plaster demo generate-logs`. This side does the I/O (files, gzip, progress,
//! exit codes); the engine crate does the work on readers.

mod exit;
mod generate;
mod input;
mod preview;
pub mod run;

pub use generate::{generate_logs_command, GenerateLogsArgs};
pub use preview::{preview_command, PreviewArgs};
