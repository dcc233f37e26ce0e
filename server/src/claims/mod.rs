//! Claims: what a customer tells us the logs missed, the support queue
//! that decides on the evidence, and decisions that go through the same
//! ledger as runs, so nothing is paid twice (runs.md §2).

pub mod console;
pub mod decide;
pub mod demo;
pub mod file;
pub mod words;

/// The execution id of everything a claim posts: `claim-<id>`. A run's
/// own executions never start so (their ids are random).
pub fn execution_id(claim_id: &str) -> String {
    format!("claim-{claim_id}")
}
