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
//! - `execution_job`: posting an approved revision into the ledger, then
//!   its payouts and notices (`notices`); `adjustments`: settling a
//!   discrepancy with four eyes; `payouts`: delivery to the operator's
//!   endpoint or Plaster's inbox;
//! - `console` and `charts`: the finance pages; `demo`: the demo's runs.

pub mod adjustments;
pub mod charts;
pub mod console;
pub mod demo;
pub mod digest;
pub mod execution_job;
pub mod kept_pass;
pub mod ledger_csv;
pub mod log_records;
pub mod logs;
pub mod markets;
pub mod notices;
pub mod payouts;
pub mod preview_job;
pub mod revision;
pub mod runs;
pub mod state;
pub mod what_if;
