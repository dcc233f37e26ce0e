//! What-if: the cost of a plan change before it is saved.
//!
//! A preview keeps what its pass over the logs learned (the engine's
//! [`Learned`]: the records that matter, decided bets, blocked time, and
//! the customer tables it ran against) in this node's memory, for the
//! newest preview only. Pricing a changed plan then only re-applies the
//! rules: no log is read again, which is what keeps it under two seconds
//! for ten million events (docs/benchmarks-compensation.md). A plan that
//! needs records the pass did not keep (another window or components, a
//! later deadline, a first subscription credit), or a node that did not run
//! the newest preview, takes one full pass, which is then kept.

use std::time::Instant;

use plaster_engine::Preview;

pub use crate::compensation::kept_pass::WhatIfCache;
use crate::compensation::preview_job;
use crate::compensation::runs::{parse_plan, RunError};
use crate::store::compensation as table;
use crate::store::Store;

/// A changed plan priced.
pub struct Priced {
    pub preview: Preview,
    pub millis: u128,
    /// Whether the logs were read again (no kept pass could serve it).
    pub full_pass: bool,
    /// Why they had to be, when they had to be.
    pub why_full: Option<String>,
}

/// Prices `plan_toml` for the run's current logs and customers; writes nothing.
pub async fn price(
    store: &Store,
    cache: &WhatIfCache,
    run_id: &str,
    plan_toml: &str,
) -> Result<Priced, RunError> {
    let started = Instant::now();
    let plan = parse_plan(plan_toml)?;
    let mut conn = store.pool().acquire().await?;
    let run = table::run(&mut conn, run_id)
        .await?
        .ok_or_else(|| RunError::NotFound(run_id.to_string()))?;
    drop(conn);
    let kept = cache.get(run_id, run.inputs_version);
    let mut why_full = None;
    if let Some(learned) = kept {
        let p = plan.clone();
        let repriced =
            tokio::task::spawn_blocking(move || learned.reprice(&p).map_err(str::to_string))
                .await
                .map_err(|e| RunError::Refused(format!("pricing failed: {e}")))?;
        match repriced {
            Ok(preview) => {
                return Ok(Priced {
                    preview,
                    millis: started.elapsed().as_millis(),
                    full_pass: false,
                    why_full: None,
                })
            }
            Err(why) => why_full = Some(why),
        }
    }
    let (preview, learned) = preview_job::learn(store, run_id, plan_toml)
        .await
        .map_err(RunError::Refused)?;
    cache.keep(run_id, run.inputs_version, learned);
    Ok(Priced {
        preview,
        millis: started.elapsed().as_millis(),
        full_pass: true,
        why_full: Some(
            why_full.unwrap_or_else(|| {
                "no pass over these inputs was kept on this node yet".to_string()
            }),
        ),
    })
}
