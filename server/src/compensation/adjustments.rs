//! Settling a discrepancy (runs.md §2): one finance member asks for an
//! adjustment of the difference, another approves it (four eyes), and only
//! then is it posted, keyed `(plan id, position, customer, reference,
//! "adjust", N)`. A positive adjustment for a customer is paid out too.

use serde_json::json;

use crate::compensation::execution_job::payouts_of;
use crate::compensation::runs::RunError;
use crate::compensation::state::RunState;
use crate::kernel::audit::Actor;
use crate::ledger::transaction::{line_postings, LineKey, TxKind};
use crate::store::audit::append;
use crate::store::compensation::{self as runs_table, StoredLine};
use crate::store::executions::{self as table, Discrepancy};
use crate::store::ledger::{self, NewTransaction};
use crate::store::{payouts, Store};

/// Which discrepancy: a line's key within its run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Which {
    pub position: i64,
    pub customer_id: String,
    pub reference: String,
}

async fn open_discrepancy(
    tx: &mut sqlx::AnyConnection,
    store: &Store,
    run_id: &str,
    which: &Which,
) -> Result<Discrepancy, RunError> {
    let run = runs_table::run_for_update(tx, store.backend(), run_id)
        .await?
        .ok_or_else(|| RunError::NotFound(run_id.to_string()))?;
    if run.state == RunState::Executing.as_str() {
        return Err(RunError::Refused(format!(
            "run {run_id} is executing: settle its discrepancies once the execution is done"
        )));
    }
    let d = table::discrepancy_for_update(
        tx,
        run_id,
        which.position,
        &which.customer_id,
        &which.reference,
    )
    .await?
    .ok_or_else(|| {
        RunError::Refused(format!(
            "run {run_id} has no discrepancy for rule {} / customer {:?} / reference {:?}",
            which.position + 1,
            which.customer_id,
            which.reference
        ))
    })?;
    if d.settled_at.is_some() {
        return Err(RunError::Refused(
            "this discrepancy is settled already".into(),
        ));
    }
    Ok(d)
}

/// The first step: a finance member asks for the adjustment.
pub async fn request(
    store: &Store,
    actor: &Actor,
    run_id: &str,
    which: &Which,
) -> Result<Discrepancy, RunError> {
    let account = actor
        .id()
        .ok_or_else(|| RunError::Refused("name the staff member (--by EMAIL)".into()))?;
    let mut tx = store.begin_write().await?;
    let d = open_discrepancy(&mut tx, store, run_id, which).await?;
    if d.requested_by.is_some() {
        return Err(RunError::Refused(format!(
            "{} asked for this adjustment already; another finance member approves it",
            d.requested_email.clone().unwrap_or_default()
        )));
    }
    let now = chrono::Utc::now().timestamp_millis();
    table::mark_discrepancy(
        &mut tx,
        &d,
        Some((account, actor.email().unwrap_or_default(), now)),
        None,
    )
    .await?;
    append(
        &mut tx,
        actor,
        "ledger.adjustment.request",
        run_id,
        None,
        Some(
            &json!({"position": d.position, "customer_id": d.customer_id,
                     "reference": d.reference, "posted_minor": d.posted_minor,
                     "newest_minor": d.newest_minor, "difference_minor": d.difference(),
                     "currency": d.currency}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

/// The second step: another finance member approves, and the difference is
/// posted (and paid out when it is owed to a customer).
pub async fn approve(
    store: &Store,
    actor: &Actor,
    run_id: &str,
    which: &Which,
) -> Result<String, RunError> {
    let account = actor
        .id()
        .ok_or_else(|| RunError::Refused("name the staff member (--by EMAIL)".into()))?;
    let mut tx = store.begin_write().await?;
    let d = open_discrepancy(&mut tx, store, run_id, which).await?;
    match d.requested_by.as_deref() {
        None => {
            return Err(RunError::Refused(
                "no adjustment was asked for yet: one finance member asks, another approves".into(),
            ))
        }
        Some(by) if by == account => {
            return Err(RunError::Refused(format!(
            "four eyes: {} asked for this adjustment, so another finance member must approve it",
            actor.email().unwrap_or_default()
        )))
        }
        Some(_) => {}
    }
    let key = LineKey {
        run_id: run_id.to_string(),
        position: d.position,
        customer_id: d.customer_id.clone(),
        reference: d.reference.clone(),
    };
    let n = ledger::run_keys(&mut tx, run_id)
        .await?
        .into_iter()
        .find(|k| {
            k.position == d.position && k.customer_id == d.customer_id && k.reference == d.reference
        })
        .map_or(0, |k| k.adjustments)
        + 1;
    let now = chrono::Utc::now().timestamp_millis();
    let difference = d.difference();
    let id = key.adjustment_id(n);
    let jackpot = (d.rule == "jackpot_topup").then_some(d.reference.as_str());
    let transaction = NewTransaction {
        id: id.clone(),
        kind: TxKind::Adjustment,
        run_id: run_id.to_string(),
        position: d.position,
        rule: d.rule.clone(),
        customer_id: d.customer_id.clone(),
        reference: d.reference.clone(),
        amount_minor: difference,
        currency: d.currency.clone(),
        revision: d.revision,
        execution_id: id.clone(),
        payout_id: String::new(),
        created_by: actor.label().to_string(),
        created_at: now,
        postings: line_postings(&d.rule, &d.customer_id, jackpot, difference, &d.currency),
    };
    if !ledger::insert(&mut tx, std::slice::from_ref(&transaction)).await? {
        return Err(RunError::Refused(format!(
            "adjustment {id} is posted already"
        )));
    }
    if difference > 0 && !d.customer_id.is_empty() {
        let line = StoredLine {
            position: d.position,
            rule: d.rule.clone(),
            customer_id: d.customer_id.clone(),
            reference: d.reference.clone(),
            amount_minor: difference,
            currency: d.currency.clone(),
        };
        payouts::insert(
            &mut tx,
            &payouts_of(run_id, &id, &d.customer_id, &[line], now),
        )
        .await?;
    }
    table::mark_discrepancy(&mut tx, &d, None, Some((account, now, &id))).await?;
    append(
        &mut tx,
        actor,
        "ledger.adjustment.approve",
        run_id,
        Some(&json!({"posted_minor": d.posted_minor})),
        Some(&json!({"transaction": id, "difference_minor": difference,
                     "currency": d.currency, "requested_by": d.requested_email,
                     "newest_minor": d.newest_minor})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
