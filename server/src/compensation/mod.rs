//! The compensation CLI: `plaster compensation preview` and
//! `plaster demo generate-logs`. This side does the I/O (files, gzip, progress,
//! exit codes); the engine crate does the work on readers.

mod generate;
mod input;
mod preview;

pub use generate::{generate_logs_command, GenerateLogsArgs};
pub use preview::{preview_command, PreviewArgs};

/// Exit statuses of spec §4.
pub(crate) mod exit {
    use std::process::ExitCode;

    /// A file could not be read (or written).
    pub fn unreadable() -> ExitCode {
        ExitCode::from(1)
    }

    /// A plan or argument error.
    pub fn usage() -> ExitCode {
        ExitCode::from(2)
    }
}
