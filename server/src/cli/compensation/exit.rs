//! Exit statuses of spec §4.

use std::process::ExitCode;

/// A file could not be read (or written).
pub fn unreadable() -> ExitCode {
    ExitCode::from(1)
}

/// A plan or argument error.
pub fn usage() -> ExitCode {
    ExitCode::from(2)
}
