//! Why a subcommand failed, and which exit status that is.

use crate::customers::import::ImportError;
use crate::status::commands::WriteError;

/// Why a subcommand failed. Input the command refuses exits 2 like a bad
/// argument; everything else (the database, the benchmark, hashing) exits 1,
/// each named for what it is.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the notice benchmark failed: {0}")]
    Bench(#[from] crate::notify::bench::BenchError),
    #[error("hashing the one-time password failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("cannot open {path}: {error}")]
    Open { path: String, error: std::io::Error },
    /// A refused argument: `--by` naming nobody, a plan that does not parse.
    #[error("{0}")]
    By(String),
    #[error(transparent)]
    Run(#[from] crate::compensation::runs::RunError),
    #[error(transparent)]
    Log(#[from] crate::compensation::logs::LogError),
    #[error("{0}")]
    Preview(String),
}

impl CliError {
    pub fn is_bad_input(&self) -> bool {
        match self {
            CliError::Write(e) => e.is_bad_input(),
            CliError::Import(e) => e.is_bad_input(),
            CliError::By(_) => true,
            CliError::Run(e) => e.is_bad_input(),
            CliError::Log(e) => e.is_bad_input(),
            _ => false,
        }
    }
}
