//! Payout delivery (runs.md §3): pending payouts are put into batches
//! (each keeps its id and body for every retry: `webhook-id` is the batch
//! id), and each batch goes to the operator's payout endpoint, signed the
//! Standard Webhooks way through the same outgoing client as webhooks
//! (public addresses only, no redirects), or, with no endpoint set, to
//! Plaster's own inbox. An accepted payout is settled in the ledger under
//! its own key, so settling it again changes nothing; a rejected one waits
//! for finance, who may send it again; anything else is retried with backoff.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::compensation::runs::RunError;
use crate::kernel::audit::Actor;
use crate::kernel::ids::new_id;
use crate::kernel::outgoing::{
    check_url, client, describe, read_bounded, OutgoingPolicy, ANSWER_LIMIT,
};
use crate::ledger::transaction::{payout_postings, payout_tx_id, TxKind};
use crate::notify::webhooks::{new_secret, sign};
use crate::store::audit::append;
use crate::store::ledger::{self, NewTransaction};
use crate::store::payouts::{self as table, Batch, Endpoint, Payout};
use crate::store::{Store, StoreError};

/// Payouts per batch.
pub const BATCH_SIZE: i64 = 100;
/// How long a claimed batch is its sender's.
const LEASE_MS: i64 = 60_000;
const IDLE_POLL: Duration = Duration::from_millis(500);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Where a batch went when no endpoint is set.
pub const INBOX: &str = "inbox";

/// The wait before attempt `attempts + 1`: 5 s doubling to at most 10 min.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 8) - 1;
    (5_000_i64 << exp).min(600_000)
}

/// Batches one node sends at once: the receiver's round trip, not our
/// database, is what a lone sender waits on (docs/benchmarks-ledger.md).
pub const SENDERS: usize = 4;

/// Starts this node's payout sender: one loop forms batches and sends, the
/// others only send. Claims are exclusive (a lease, `SKIP LOCKED` on
/// PostgreSQL), so two loops never hold the same batch.
pub fn spawn(store: Store, policy: OutgoingPolicy) -> JoinHandle<()> {
    let http = client(&policy, "Plaster-Payouts/1", REQUEST_TIMEOUT);
    tokio::spawn(async move {
        let loops = (0..SENDERS).map(|i| sender(&store, &http, &policy, i == 0));
        futures_util::future::join_all(loops).await;
    })
}

async fn sender(store: &Store, http: &reqwest::Client, policy: &OutgoingPolicy, forms: bool) {
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let worked = async {
            let formed = if forms {
                form_batches(store, now).await?
            } else {
                0
            };
            let sent = deliver_due(store, http, policy, now).await?;
            Ok::<bool, StoreError>(formed > 0 || sent)
        }
        .await;
        match worked {
            Ok(true) => {}
            Ok(false) => tokio::time::sleep(IDLE_POLL).await,
            Err(e) => {
                tracing::warn!(error = %e, "payout sender failed; retrying");
                tokio::time::sleep(IDLE_POLL * 4).await;
            }
        }
    }
}

/// The body of a batch as runs.md §3 gives it.
pub fn batch_body(payouts: &[Payout], now: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let items: Vec<Value> = payouts
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "run": p.run_id,
                "customer_id": p.customer_id,
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "lines": serde_json::from_str::<Value>(&p.lines_json).unwrap_or(Value::Array(vec![])),
            })
        })
        .collect();
    json!({"type": "payout.batch", "timestamp": at, "data": {"payouts": items}}).to_string()
}

/// Puts waiting payouts into batches; returns how many batches were made.
pub async fn form_batches(store: &Store, now: i64) -> Result<usize, StoreError> {
    let mut made = 0;
    loop {
        let mut tx = store.begin_write().await?;
        let waiting = table::unbatched(&mut tx, store.backend(), BATCH_SIZE).await?;
        if waiting.is_empty() {
            return Ok(made);
        }
        let id = format!("pb_{}", new_id());
        let body = batch_body(&waiting, now);
        let ids: Vec<String> = waiting.iter().map(|p| p.id.clone()).collect();
        table::assign_batch(&mut tx, &ids, &id).await?;
        table::insert_batch(&mut tx, &id, &body, ids.len() as i64, now).await?;
        tx.commit().await?;
        made += 1;
    }
}

/// What the receiver said about each payout of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx without results: all accepted.
    All,
    /// (payout id, accepted, reason) as listed.
    Results(Vec<(String, bool, String)>),
}

/// Reads a 2xx body: `{"results": [...]}` lists per payout; anything else
/// accepts the whole batch.
pub fn parse_answer(body: &str) -> Answer {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return Answer::All;
    };
    let Some(results) = v.get("results").and_then(Value::as_array) else {
        return Answer::All;
    };
    Answer::Results(
        results
            .iter()
            .filter_map(|r| {
                let id = r.get("id")?.as_str()?.to_string();
                let accepted = r.get("status").and_then(Value::as_str) == Some("accepted");
                let reason = r
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .chars()
                    .take(500)
                    .collect();
                Some((id, accepted, reason))
            })
            .collect(),
    )
}

/// Sends one due batch; `false` when none was due.
pub async fn deliver_due(
    store: &Store,
    http: &reqwest::Client,
    policy: &OutgoingPolicy,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(batch) = table::claim_batch(store, now, LEASE_MS).await? else {
        return Ok(false);
    };
    let Some(endpoint) = table::endpoint(store).await? else {
        // Delivered, not settled: the inbox has paid nobody. Its payouts
        // stay on their way until finance marks the batch paid by another
        // channel, with four eyes (runs.md §3).
        let mut tx = store.begin_write().await?;
        table::inbox_receive(&mut tx, &batch.id, &batch.body, batch.payouts, now).await?;
        table::batch_delivered(&mut tx, &batch.id, INBOX, now).await?;
        tx.commit().await?;
        return Ok(true);
    };
    match send(http, policy, &endpoint, &batch).await {
        Ok(answer) => {
            let mut tx = store.begin_write().await?;
            settle(&mut tx, &batch, &answer, "endpoint", now).await?;
            tx.commit().await?;
        }
        Err(error) => {
            tracing::warn!(batch = %batch.id, attempt = batch.attempts, %error, "payout batch not delivered; will retry");
            table::batch_failed(store, &batch.id, &error, now + backoff_ms(batch.attempts)).await?;
        }
    }
    Ok(true)
}

/// POSTs a batch; `Err` is in our words, never the receiver's text.
async fn send(
    http: &reqwest::Client,
    policy: &OutgoingPolicy,
    endpoint: &Endpoint,
    batch: &Batch,
) -> Result<Answer, String> {
    let url = url::Url::parse(&endpoint.url).map_err(|_| "the endpoint URL does not parse")?;
    check_url(policy, &url).map_err(|e| format!("refused: {e}"))?;
    let ts = chrono::Utc::now().timestamp();
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &batch.id)
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            sign(&endpoint.secret, &batch.id, ts, &batch.body),
        )
        .body(batch.body.clone())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(if status.is_redirection() {
            format!("the endpoint answered HTTP {status}; redirects are not followed")
        } else {
            format!("the endpoint answered HTTP {status}")
        });
    }
    // Read up to a bound: a longer answer might list rejections past it,
    // so it settles nothing and the batch is sent again.
    let body = read_bounded(response, ANSWER_LIMIT)
        .await
        .map_err(|e| describe(&e))?;
    if !body.complete {
        return Err(format!(
            "the endpoint's answer is longer than {} KiB; it was not read",
            ANSWER_LIMIT / 1024
        ));
    }
    Ok(parse_answer(&String::from_utf8_lossy(&body.bytes)))
}

/// The postings of a settled payout, under the payout's own key.
fn settlement(p: &Payout, now: i64) -> NewTransaction {
    NewTransaction {
        id: payout_tx_id(&p.id),
        kind: TxKind::Payout,
        run_id: p.run_id.clone(),
        position: -1,
        rule: "payout".into(),
        customer_id: p.customer_id.clone(),
        reference: p.id.clone(),
        amount_minor: p.amount_minor,
        currency: p.currency.clone(),
        revision: 0,
        execution_id: p.execution_id.clone(),
        payout_id: p.id.clone(),
        created_by: "payout sender".into(),
        created_at: now,
        postings: payout_postings(&p.customer_id, p.amount_minor, &p.currency),
    }
}

/// Applies an answer: accepted payouts settled, rejected ones kept for
/// finance with the reason, unlisted ones back in the queue.
async fn settle(
    tx: &mut sqlx::AnyConnection,
    batch: &Batch,
    answer: &Answer,
    to: &str,
    now: i64,
) -> Result<(), StoreError> {
    if !table::batch_delivered(tx, &batch.id, to, now).await? {
        return Ok(());
    }
    apply(tx, &batch.id, answer, now).await
}

/// Settles, rejects or releases each payout of a delivered batch still
/// on its way, per the answer.
async fn apply(
    tx: &mut sqlx::AnyConnection,
    batch_id: &str,
    answer: &Answer,
    now: i64,
) -> Result<(), StoreError> {
    for p in table::in_batch(tx, batch_id).await? {
        if p.state != "sent" {
            continue;
        }
        let verdict = match answer {
            Answer::All => Some((true, String::new())),
            Answer::Results(list) => list
                .iter()
                .find(|(id, _, _)| *id == p.id)
                .map(|(_, ok, reason)| (*ok, reason.clone())),
        };
        match verdict {
            Some((true, _)) => {
                // Already in the ledger means settled before: nothing to add.
                ledger::insert(tx, &[settlement(&p, now)]).await?;
                table::settle(tx, &p.id, now).await?;
            }
            Some((false, reason)) => {
                let reason = if reason.is_empty() {
                    "rejected without a reason".to_string()
                } else {
                    reason
                };
                table::reject(tx, &p.id, &reason).await?;
            }
            None => {
                table::release(tx, &p.id).await?;
            }
        }
    }
    Ok(())
}

/// One finance member says an inbox batch was paid by another channel
/// (`note`: how, such as a bank file's name); nothing is settled yet.
pub async fn ask_inbox_paid(
    store: &Store,
    actor: &Actor,
    email: &str,
    batch_id: &str,
    note: &str,
) -> Result<(), RunError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(RunError::Refused(
            "note: say how the batch was paid (a bank file, a transfer's reference)".into(),
        ));
    }
    let by = actor.id().unwrap_or_default().to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    let batch = table::inbox_batch(&mut tx, batch_id)
        .await?
        .ok_or_else(|| RunError::Refused(format!("batch {batch_id} is not in the inbox")))?;
    if !table::ask_paid(&mut tx, batch_id, note, &by, email, now).await? {
        return Err(RunError::Refused(format!(
            "batch {batch_id} was marked paid already by {}",
            batch.paid_asked_email.unwrap_or_default()
        )));
    }
    append(
        &mut tx,
        actor,
        "payout.inbox.paid_asked",
        batch_id,
        None,
        Some(&json!({"note": note, "payouts": batch.payouts})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Another finance member confirms: the batch's payouts are settled in the
/// ledger, each under its own key.
pub async fn confirm_inbox_paid(
    store: &Store,
    actor: &Actor,
    batch_id: &str,
) -> Result<(), RunError> {
    let by = actor.id().unwrap_or_default().to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    let batch = table::inbox_batch(&mut tx, batch_id)
        .await?
        .ok_or_else(|| RunError::Refused(format!("batch {batch_id} is not in the inbox")))?;
    if batch.paid_asked_by.is_none() {
        return Err(RunError::Refused(format!(
            "batch {batch_id}: nobody said it was paid yet"
        )));
    }
    if batch.paid_asked_by.as_deref() == Some(by.as_str()) {
        return Err(RunError::Refused(
            "you marked this batch paid: another finance member confirms it (four eyes)".into(),
        ));
    }
    if !table::confirm_paid(&mut tx, batch_id, &by, now).await? {
        return Err(RunError::Refused(format!(
            "batch {batch_id} was confirmed a moment ago"
        )));
    }
    apply(&mut tx, batch_id, &Answer::All, now).await?;
    append(
        &mut tx,
        actor,
        "payout.inbox.paid_confirmed",
        batch_id,
        Some(&json!({"asked_by": batch.paid_asked_email, "note": batch.paid_note})),
        Some(&json!({"settled": batch.payouts})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Finance sends a rejected payout again (in a new batch, same payout id).
pub async fn send_again(store: &Store, actor: &Actor, payout_id: &str) -> Result<(), RunError> {
    let mut tx = store.begin_write().await?;
    let p = table::get(&mut tx, payout_id)
        .await?
        .ok_or_else(|| RunError::Refused(format!("payout {payout_id} does not exist")))?;
    if p.state != "rejected" {
        return Err(RunError::Refused(format!(
            "payout {payout_id} is {}: only a rejected payout is sent again",
            p.state
        )));
    }
    table::release(&mut tx, payout_id).await?;
    append(
        &mut tx,
        actor,
        "payout.send_again",
        &p.run_id,
        Some(&json!({"payout": p.id, "state": "rejected", "reason": p.reason})),
        Some(&json!({"payout": p.id, "state": "pending"})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the operator's payout endpoint; returns the new signing secret
/// (shown once). The URL must be one the outgoing policy allows.
pub async fn set_endpoint(
    store: &Store,
    actor: &Actor,
    policy: &OutgoingPolicy,
    url: &str,
) -> Result<String, RunError> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|_| RunError::Refused(format!("url: {url:?} is not an http(s) URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(RunError::Refused(format!(
            "url: {url:?} is not an http(s) URL"
        )));
    }
    check_url(policy, &parsed).map_err(|e| RunError::Refused(format!("url: {e}")))?;
    let secret = new_secret();
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    table::set_endpoint(
        &mut tx,
        &Endpoint {
            url: parsed.to_string(),
            secret: secret.clone(),
            updated_by: actor.label().to_string(),
            updated_at: now,
        },
    )
    .await?;
    append(
        &mut tx,
        actor,
        "payout.endpoint.set",
        "payout-endpoint",
        None,
        Some(&json!({"url": parsed.as_str()})),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Removes the endpoint: payouts go to Plaster's inbox again.
pub async fn clear_endpoint(store: &Store, actor: &Actor) -> Result<(), RunError> {
    let mut tx = store.begin_write().await?;
    table::clear_endpoint(&mut tx).await?;
    append(
        &mut tx,
        actor,
        "payout.endpoint.clear",
        "payout-endpoint",
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_backoff() {
        assert_eq!(parse_answer(""), Answer::All);
        assert_eq!(parse_answer("{\"ok\": true}"), Answer::All);
        assert_eq!(
            parse_answer(
                r#"{"results": [{"id": "po_1", "status": "accepted"},
                                {"id": "po_2", "status": "rejected", "reason": "account closed"}]}"#
            ),
            Answer::Results(vec![
                ("po_1".into(), true, String::new()),
                ("po_2".into(), false, "account closed".into())
            ])
        );
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(50), 600_000);
    }
}
