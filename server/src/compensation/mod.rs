//! PLACEHOLDER written by the foundation work so the server compiles before
//! the engine helper delivers this module; the helper replaces this file.
use std::path::PathBuf;
use std::process::ExitCode;
pub struct PreviewArgs { pub plan: PathBuf, pub customers: PathBuf, pub subscriptions: Option<PathBuf>, pub details: Option<PathBuf>, pub events: Vec<PathBuf> }
pub fn preview_command(_args: PreviewArgs) -> ExitCode { ExitCode::FAILURE }
pub struct GenerateLogsArgs { pub out_dir: PathBuf, pub scenario: String, pub events: u64, pub seed: u64, pub gzip_share_percent: u8, pub csv_share_percent: u8 }
pub fn generate_logs_command(_args: GenerateLogsArgs) -> ExitCode { ExitCode::FAILURE }
