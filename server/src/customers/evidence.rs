//! A customer's own records in the logs of an incident's runs: what the
//! customer's page and a claim's page show. One index range per run
//! (`store::evidence`), so it is instant however big the logs.

use plaster_engine::{Instant, Plan};

use crate::store::compensation::{self as runs_table, RunRecord};
use crate::store::evidence::{self, EvidenceRecord};
use crate::store::{Store, StoreError};

/// More records than anyone reads; a customer with more sees the first.
pub const MAX_RECORDS: i64 = 2_000;

/// One run of an incident with the customer's records in its logs.
pub struct RunEvidence {
    pub run: RunRecord,
    pub plan: Plan,
    /// Oldest first.
    pub records: Vec<EvidenceRecord>,
    /// False when a log of the run was stored before records were indexed.
    pub complete: bool,
}

impl RunEvidence {
    /// The records inside the plan's window.
    pub fn in_window(&self) -> impl Iterator<Item = &EvidenceRecord> {
        let (from, to) = window_ms(&self.plan);
        self.records
            .iter()
            .filter(move |r| from <= r.ts_ms && r.ts_ms < to)
    }
}

pub fn instant_ms(t: plaster_engine::Instant) -> i64 {
    t.unix_seconds() * 1000 + (t.attos() / 1_000_000_000_000_000) as i64
}

/// The plan's window `[started_at, resolved_at)` in milliseconds.
pub fn window_ms(plan: &Plan) -> (i64, i64) {
    (instant_ms(plan.started_at), instant_ms(plan.resolved_at))
}

/// The runs of `incident_id` (every run when `None`) whose plan parses,
/// newest first, each with the customer's records.
pub async fn of_customer(
    store: &Store,
    customer_id: &str,
    incident_id: Option<&str>,
) -> Result<Vec<RunEvidence>, StoreError> {
    let mut out = Vec::new();
    // Newest first, as the store lists them.
    for run in runs_table::runs(store).await? {
        if incident_id.is_some_and(|i| i != run.incident_id) {
            continue;
        }
        // A stored plan was checked when it was saved; one that no longer
        // parses (an engine change) cannot be read as evidence.
        let Ok(plan) = Plan::parse(&run.plan_toml) else {
            continue;
        };
        let mut conn = store.pool().acquire().await?;
        let shas: Vec<String> = runs_table::run_logs(&mut conn, &run.id)
            .await?
            .into_iter()
            .map(|l| l.sha256)
            .collect();
        drop(conn);
        let records = evidence::of_customer(store, customer_id, &shas, MAX_RECORDS).await?;
        let complete = evidence::all_indexed(store, &shas).await?;
        out.push(RunEvidence {
            run,
            plan,
            records,
            complete,
        });
    }
    Ok(out)
}

fn instant(ms: i64) -> Instant {
    Instant::from_unix(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) * 1_000_000) as u32,
    )
}

/// Minutes the customer could not sign in or watch, by the engine's own
/// rule (compensation.md §3, `subscription_credit`), when the incident
/// touched login or streaming and they had a failure.
pub fn blocked_minutes(plan: &Plan, records: &[&EvidenceRecord]) -> Option<i64> {
    let relevant = |r: &&&EvidenceRecord| {
        (plan.components.login && r.kind == "login")
            || (plan.components.streaming && r.kind == "stream")
    };
    let fails: Vec<Instant> = records
        .iter()
        .filter(relevant)
        .filter(|r| r.outcome == "failure")
        .map(|r| instant(r.ts_ms))
        .collect();
    if fails.is_empty() {
        return None;
    }
    let succs: Vec<Instant> = records
        .iter()
        .filter(relevant)
        .filter(|r| r.outcome == "success")
        .map(|r| instant(r.ts_ms))
        .collect();
    let attos = plaster_engine::blocked_attos(&fails, &succs, plan.resolved_at);
    Some((attos / (60 * 1_000_000_000_000_000_000)) as i64)
}

/// The bet's deciding record (compensation.md §1: the latest by `ts`; on
/// equal `ts`, placed beats failed_after_debit beats rejected).
pub fn deciding_bet<'a>(records: &'a [EvidenceRecord], bet_id: &str) -> Option<&'a EvidenceRecord> {
    let rank = |o: &str| match o {
        "placed" => 2,
        "failed_after_debit" => 1,
        _ => 0,
    };
    records
        .iter()
        .filter(|r| r.kind == "bet" && r.bet_id == bet_id)
        .max_by_key(|r| (r.ts_ms, rank(&r.outcome)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bet(ts_ms: i64, outcome: &str) -> EvidenceRecord {
        EvidenceRecord {
            sha256: "s".into(),
            line: ts_ms,
            customer_id: "c".into(),
            ts_ms,
            kind: "bet".into(),
            outcome: outcome.into(),
            bet_id: "b-1".into(),
            game: "V75".into(),
            round_id: "r".into(),
            stake_minor: Some(100),
            currency: "SEK".into(),
            channel: String::new(),
            error: String::new(),
        }
    }

    #[test]
    fn the_latest_record_decides_a_bet_and_ties_go_to_placed() {
        let rs = [
            bet(1, "rejected"),
            bet(5, "failed_after_debit"),
            bet(5, "rejected"),
        ];
        assert_eq!(
            deciding_bet(&rs, "b-1").map(|r| r.outcome.as_str()),
            Some("failed_after_debit")
        );
        let rs = [bet(5, "failed_after_debit"), bet(5, "placed")];
        assert_eq!(
            deciding_bet(&rs, "b-1").map(|r| r.outcome.as_str()),
            Some("placed")
        );
        assert!(deciding_bet(&rs, "b-2").is_none());
    }
}
