//! Compensation runs (runs.md §1): a plan for one incident of the status
//! page, event log files, previews that make revisions, and four-eyes
//! approval. The engine (`plaster_engine`) does the matching; this room
//! keeps the workflow around it.
//!
//! - `state`: the run states and who may move them;
//! - `logs`: event log files, checked and stored once per content;
//! - `runs`: the commands (create, add logs, preview, approve, reject);
//! - `preview_job`: the background job any node can claim;
//! - `what_if`: a changed plan priced over what the last pass learned
//!   (`kept_pass`: where this node keeps it);
//! - `digest`: what a revision's digest is computed over;
//! - `revision`: a stored revision read back, its CSV and its diff;
//! - `console` and `charts`: the finance pages; `demo`: the demo's runs.

pub mod charts;
pub mod console;
pub mod demo;
pub mod digest;
pub mod kept_pass;
pub mod logs;
pub mod preview_job;
pub mod revision;
pub mod runs;
pub mod state;
pub mod what_if;
