//! The execution job (runs.md §2-3): posts the lines of an approved
//! revision into the ledger under their keys, then makes the payouts and
//! the personal notices, and moves the run to `executed`.
//!
//! Any node claims a queued execution under a lease. Every batch is one
//! write transaction that starts by extending the lease for this attempt
//! (so a worker that lost the job writes nothing), posts up to [`BATCH`]
//! lines and records how far it got; a node killed anywhere leaves the
//! last batch's end, and whoever claims the job after the lease runs out
//! resumes there. Keys make the rest safe: a key already posted with the
//! same amount counts as done, one with another amount is a discrepancy
//! for a person, never a second posting. Payouts and notices have ids
//! derived from the execution and the customer, so making them again
//! after a crash keeps the first.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use plaster_engine::Plan;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::compensation::notices::{self, NoticeContext, Recipient};
use crate::compensation::state::RunState;
use crate::kernel::audit::Actor;
use crate::kernel::ids::hex;
use crate::kernel::money::{Currency, Money};
use crate::ledger::transaction::{line_postings, LineKey, TxKind};
use crate::store::audit::append;
use crate::store::compensation::{self as runs_table, LineFilter, StoredLine};
use crate::store::executions::{self as table, Discrepancy, Execution};
use crate::store::ledger::{self, NewTransaction};
use crate::store::outbox::{enqueue_many, NewMessage};
use crate::store::payouts::{self, Payout};
use crate::store::{Store, StoreError};

/// How long a claimed execution is its worker's without a batch.
const LEASE_MS: i64 = 15_000;
/// Lines per transaction: small enough that the write lock is short (SQLite),
/// big enough that a million lines take few round trips.
pub const BATCH: i64 = 2_000;
/// Customers per settling transaction.
const SETTLE_BATCH: i64 = 500;
const IDLE_POLL: Duration = Duration::from_millis(500);
const JOB: Actor = Actor::Job("execution job");

/// What the notices need from the process: where the public pages are and
/// the domain of Message-IDs.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    pub public_url: String,
    pub mail_domain: String,
    /// The page's time zone, in which notices tell the customer's records.
    pub time_zone: chrono_tz::Tz,
}

/// Starts this node's execution worker.
pub fn spawn(store: Store, settings: NoticeSettings) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_next(&store, &settings).await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(IDLE_POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "execution worker failed; retrying");
                    tokio::time::sleep(IDLE_POLL * 4).await;
                }
            }
        }
    })
}

/// Claims one due execution and works on it until it is done or no longer
/// this worker's; `false` when none was due.
pub async fn run_next(store: &Store, settings: &NoticeSettings) -> Result<bool, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let Some(job) = table::claim(store, now, LEASE_MS).await? else {
        return Ok(false);
    };
    tracing::info!(run = %job.run_id, execution = %job.id, attempt = job.attempts, "execution started");
    let plan = {
        let mut conn = store.pool().acquire().await?;
        runs_table::revisions(&mut conn, &job.run_id)
            .await?
            .into_iter()
            .find(|r| r.revision == job.revision)
            .map(|r| Plan::parse(&r.plan_toml))
    };
    let plan = match plan {
        Some(Ok(plan)) => plan,
        Some(Err(e)) => return fail(store, &job, &format!("the revision's plan: {e}")).await,
        None => return fail(store, &job, "the approved revision is gone").await,
    };
    let (adjustments, incident_id) = {
        let mut conn = store.pool().acquire().await?;
        let run = runs_table::run(&mut conn, &job.run_id).await?;
        (
            ledger::adjustments(&mut conn, &job.run_id).await?,
            run.map(|r| r.incident_id).unwrap_or_default(),
        )
    };
    let log_shas = {
        let mut conn = store.pool().acquire().await?;
        runs_table::run_logs(&mut conn, &job.run_id)
            .await?
            .into_iter()
            .map(|l| l.sha256)
            .collect()
    };
    let data = store.load_status_data(now).await?;
    let apology = data
        .incidents
        .iter()
        .find(|i| i.id == incident_id && !i.apology.is_empty())
        .cloned();
    let prepared = Prepared {
        page_names: app::dto::Lang::ALL
            .into_iter()
            .map(|lang| (lang, crate::notify::workers::page_name(&data, lang)))
            .collect(),
        jackpots: runs_table::lines(store, &job.run_id, job.revision, LineFilter::Customer(""))
            .await?,
        incident_id,
        adjustments,
        plan,
        apology,
        data,
        log_shas,
    };
    loop {
        match step(store, &job, &prepared, settings).await? {
            Step::More => {}
            Step::Done | Step::Lost => return Ok(true),
        }
    }
}

/// What every batch of one execution reads the same.
struct Prepared {
    plan: Plan,
    adjustments: HashMap<(i64, String, String), i64>,
    page_names: HashMap<app::dto::Lang, String>,
    jackpots: Vec<StoredLine>,
    incident_id: String,
    /// The incident's published apology, which compensated customers get too.
    apology: Option<crate::store::status::IncidentRecord>,
    data: crate::store::status::StatusData,
    /// The run's logs, whose indexed records notices quote.
    log_shas: Vec<String>,
}

enum Step {
    More,
    Done,
    /// Another worker holds the job now.
    Lost,
}

async fn step(
    store: &Store,
    job: &Execution,
    prepared: &Prepared,
    settings: &NoticeSettings,
) -> Result<Step, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    let Some(held) = table::hold(&mut tx, &job.id, job.attempts, now + LEASE_MS).await? else {
        return Ok(Step::Lost);
    };
    let step = match held.stage.as_str() {
        "posting" => post_batch(&mut tx, &held, &prepared.adjustments, now).await?,
        "settling" => settle_batch(&mut tx, &held, prepared, settings, now).await?,
        other => {
            return Err(StoreError::Corrupt(format!(
                "execution {} is in stage {other:?}",
                job.id
            )))
        }
    };
    tx.commit().await?;
    Ok(step)
}

fn key(run_id: &str, l: &StoredLine) -> LineKey {
    LineKey {
        run_id: run_id.to_string(),
        position: l.position,
        customer_id: l.customer_id.clone(),
        reference: l.reference.clone(),
    }
}

/// The transaction of a line of `revision`, posted by `execution`.
pub fn line_transaction(
    run_id: &str,
    revision: i64,
    execution_id: &str,
    created_by: &str,
    l: &StoredLine,
    now: i64,
) -> NewTransaction {
    let jackpot = (l.rule == "jackpot_topup").then_some(l.reference.as_str());
    NewTransaction {
        id: key(run_id, l).line_id(),
        kind: TxKind::Line,
        run_id: run_id.to_string(),
        position: l.position,
        rule: l.rule.clone(),
        customer_id: l.customer_id.clone(),
        reference: l.reference.clone(),
        amount_minor: l.amount_minor,
        currency: l.currency.clone(),
        revision,
        execution_id: execution_id.to_string(),
        payout_id: String::new(),
        created_by: created_by.to_string(),
        created_at: now,
        postings: line_postings(
            &l.rule,
            &l.customer_id,
            jackpot,
            l.amount_minor,
            &l.currency,
        ),
    }
}

async fn post_batch(
    tx: &mut sqlx::AnyConnection,
    job: &Execution,
    adjustments: &HashMap<(i64, String, String), i64>,
    now: i64,
) -> Result<Step, StoreError> {
    let lines = table::lines_from(tx, &job.run_id, job.revision, job.next_seq, BATCH).await?;
    let Some(last_seq) = lines.last().map(|(seq, _)| *seq) else {
        ledger::refresh_statistics(tx, ledger::Analysed::LedgerTransactions).await?;
        table::settled_up_to(tx, &job.id, "", 0, 0).await?;
        return Ok(Step::More);
    };
    let ids: Vec<String> = lines
        .iter()
        .map(|(_, l)| key(&job.run_id, l).line_id())
        .collect();
    let existing = ledger::existing(tx, &ids).await?;
    let mut new = Vec::new();
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut already = 0;
    for ((_, l), id) in lines.iter().zip(&ids) {
        if !seen.insert(id.as_str()) {
            already += 1;
            continue;
        }
        match existing.get(id) {
            None => new.push(line_transaction(
                &job.run_id,
                job.revision,
                &job.id,
                &job.requested_by,
                l,
                now,
            )),
            Some((posted, currency)) => {
                let adjusted = adjustments
                    .get(&(l.position, l.customer_id.clone(), l.reference.clone()))
                    .copied()
                    .unwrap_or(0);
                let total = posted + adjusted;
                if total == l.amount_minor && *currency == l.currency {
                    already += 1;
                } else {
                    found.push(Discrepancy {
                        run_id: job.run_id.clone(),
                        position: l.position,
                        customer_id: l.customer_id.clone(),
                        reference: l.reference.clone(),
                        rule: l.rule.clone(),
                        currency: currency.clone(),
                        posted_minor: total,
                        newest_minor: Some(l.amount_minor),
                        revision: job.revision,
                        found_at: now,
                        requested_by: None,
                        requested_email: None,
                        requested_at: None,
                        settled_by: None,
                        settled_at: None,
                        adjustment_id: None,
                    });
                }
            }
        }
    }
    if !ledger::insert(tx, &new).await? {
        // Someone posted one of these keys since we looked: this batch is
        // rolled back and read again.
        return Err(StoreError::Corrupt(
            "a key was posted while the batch was being made; retrying".into(),
        ));
    }
    table::upsert_discrepancies(tx, &found).await?;
    table::advance(
        tx,
        &job.id,
        last_seq + 1,
        new.len() as i64,
        already,
        found.len() as i64,
    )
    .await?;
    Ok(Step::More)
}

/// A payout's stable id: the same execution, customer and currency always
/// give the same one.
pub fn payout_id(source: &str, customer_id: &str, currency: &str) -> String {
    let digest = Sha256::digest(format!("{source}\n{customer_id}\n{currency}").as_bytes());
    format!("po_{}", &hex(&digest)[..24])
}

/// The payouts of one customer's lines: one per currency.
pub fn payouts_of(
    run_id: &str,
    execution_id: &str,
    customer_id: &str,
    lines: &[StoredLine],
    now: i64,
) -> Vec<Payout> {
    let mut per: Vec<(String, Vec<&StoredLine>)> = Vec::new();
    for l in lines {
        match per.iter_mut().find(|(c, _)| *c == l.currency) {
            Some((_, v)) => v.push(l),
            None => per.push((l.currency.clone(), vec![l])),
        }
    }
    per.into_iter()
        .map(|(currency, ls)| Payout {
            id: payout_id(execution_id, customer_id, &currency),
            run_id: run_id.to_string(),
            execution_id: execution_id.to_string(),
            customer_id: customer_id.to_string(),
            amount_minor: ls.iter().map(|l| l.amount_minor).sum(),
            lines_json: json!(ls
                .iter()
                .map(|l| json!({"rule": l.rule, "reference": l.reference,
                                "amount_minor": l.amount_minor}))
                .collect::<Vec<_>>())
            .to_string(),
            currency,
            state: "pending".into(),
            batch_id: None,
            reason: None,
            created_at: now,
            settled_at: None,
        })
        .collect()
}

async fn settle_batch(
    tx: &mut sqlx::AnyConnection,
    job: &Execution,
    prepared: &Prepared,
    settings: &NoticeSettings,
    now: i64,
) -> Result<Step, StoreError> {
    let plan = &prepared.plan;
    let customers =
        ledger::execution_customers(tx, &job.id, &job.settle_after, SETTLE_BATCH).await?;
    let Some(upto) = customers.last().cloned() else {
        finish(tx, job, &prepared.adjustments, now).await?;
        return Ok(Step::Done);
    };
    let lines = ledger::execution_lines(tx, &job.id, &job.settle_after, &upto).await?;
    let (contacts, fees) = crate::store::customers::contacts(tx, &customers).await?;
    let records = crate::store::evidence::of_customer_range(
        tx,
        (job.settle_after.as_str(), upto.as_str()),
        &prepared.log_shas,
        crate::customers::evidence::window_ms(plan),
    )
    .await?
    .into_iter()
    .fold(HashMap::<String, Vec<_>>::new(), |mut by, r| {
        by.entry(r.customer_id.clone()).or_default().push(r);
        by
    });
    let fees: HashMap<(String, String), Money> = fees
        .into_iter()
        .filter_map(|(k, (minor, cur))| {
            Some((
                k,
                Money {
                    minor: i128::from(minor),
                    currency: Currency::parse(&cur)?,
                },
            ))
        })
        .collect();
    let incident = &prepared.incident_id;
    let page_name = |lang| prepared.page_names.get(&lang).cloned().unwrap_or_default();
    let title = |lang: app::dto::Lang| {
        plan.title
            .get(lang.code())
            .or_else(|| plan.title.get("en"))
            .or_else(|| plan.title.values().next())
            .cloned()
            .unwrap_or_else(|| plan.id.clone())
    };
    let url = |lang: app::dto::Lang| {
        format!(
            "{}/{}/incidents/{incident}",
            settings.public_url.trim_end_matches('/'),
            lang.code()
        )
    };
    let ctx = NoticeContext {
        plan,
        page_name: &page_name,
        incident_title: &title,
        incident_url: &url,
        fees: &fees,
        jackpots: &prepared.jackpots,
        tz: settings.time_zone,
    };
    let mut all_payouts = Vec::new();
    let mut messages = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let customer = lines[start].customer_id.clone();
        let end = lines[start..]
            .iter()
            .position(|l| l.customer_id != customer)
            .map_or(lines.len(), |n| start + n);
        let mine = &lines[start..end];
        all_payouts.extend(payouts_of(&job.run_id, &job.id, &customer, mine, now));
        if let Some(contact) = contacts.get(&customer) {
            let to = Recipient {
                email: &contact.email,
                name: &contact.name,
                locale: &contact.locale,
            };
            let theirs = records.get(&customer).map_or(&[][..], Vec::as_slice);
            let mail = notices::render(&ctx, &customer, &to, mine, theirs)
                .map_err(|e| StoreError::Corrupt(format!("rendering a notice: {e}")))?;
            if let Some(incident) = &prepared.apology {
                messages.push(
                    crate::notify::workers::apology_message(
                        &prepared.data,
                        &settings.public_url,
                        incident,
                        &customer,
                        contact,
                    )
                    .map_err(|e| StoreError::Corrupt(format!("rendering an apology: {e}")))?,
                );
            }
            messages.push(NewMessage {
                id: format!("notice-{}-{customer}", job.id),
                kind: notices::KIND.into(),
                recipient: contact.email.clone(),
                subject: mail.subject,
                body_text: mail.text,
                body_html: mail.html,
                unsubscribe_url: None,
            });
        }
        start = end;
    }
    let made = payouts::insert(tx, &all_payouts).await?;
    let queued = enqueue_many(tx, &messages, &settings.mail_domain, now).await?;
    table::settled_up_to(tx, &job.id, &upto, made as i64, queued as i64).await?;
    Ok(Step::More)
}

/// Lines posted before and missing from this revision become
/// discrepancies; the run is executed and the job done.
async fn finish(
    tx: &mut sqlx::AnyConnection,
    job: &Execution,
    adjustments: &HashMap<(i64, String, String), i64>,
    now: i64,
) -> Result<(), StoreError> {
    // Every line of the revision has its key in the ledger now, so only a
    // run with more posted keys than the revision has lines can have lost
    // some; the search for them is skipped otherwise.
    let vanished = if ledger::line_count(tx, &job.run_id).await? > job.lines_total {
        table::vanished(tx, &job.run_id, job.revision).await?
    } else {
        Vec::new()
    };
    let ids: Vec<String> = vanished
        .iter()
        .map(|(position, customer_id, reference, _, _)| {
            LineKey {
                run_id: job.run_id.clone(),
                position: *position,
                customer_id: customer_id.clone(),
                reference: reference.clone(),
            }
            .line_id()
        })
        .collect();
    let posted = ledger::existing(tx, &ids).await?;
    let mut found = Vec::new();
    for ((position, customer_id, reference, rule, currency), id) in vanished.into_iter().zip(&ids) {
        let line = posted.get(id).map_or(0, |(a, _)| *a);
        let total = line
            + adjustments
                .get(&(position, customer_id.clone(), reference.clone()))
                .copied()
                .unwrap_or(0);
        if total == 0 {
            continue;
        }
        found.push(Discrepancy {
            run_id: job.run_id.clone(),
            position,
            customer_id,
            reference,
            rule,
            currency,
            posted_minor: total,
            newest_minor: None,
            revision: job.revision,
            found_at: now,
            requested_by: None,
            requested_email: None,
            requested_at: None,
            settled_by: None,
            settled_at: None,
            adjustment_id: None,
        });
    }
    table::upsert_discrepancies(tx, &found).await?;
    ledger::refresh_statistics(tx, ledger::Analysed::Payouts).await?;
    table::finish(tx, &job.id, "done", None, found.len() as i64, now).await?;
    runs_table::set_state(tx, &job.run_id, RunState::Executed.as_str(), now).await?;
    append(
        tx,
        &JOB,
        "compensation.run.executed",
        &job.run_id,
        Some(&json!({"state": "executing"})),
        Some(
            &json!({"state": "executed", "execution": job.number, "revision": job.revision,
                     "posted": job.posted, "already_posted": job.already_posted,
                     "discrepancies": job.discrepancies + found.len() as i64,
                     "payouts": job.payouts, "notices": job.notices}),
        ),
    )
    .await?;
    tracing::info!(run = %job.run_id, execution = %job.id, posted = job.posted, "execution done");
    Ok(())
}

/// Ends the job as failed and the run back to approved, so finance can
/// look and execute again.
async fn fail(store: &Store, job: &Execution, reason: &str) -> Result<bool, StoreError> {
    tracing::warn!(run = %job.run_id, execution = %job.id, %reason, "execution failed");
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    if table::hold(&mut tx, &job.id, job.attempts, now)
        .await?
        .is_none()
    {
        return Ok(true);
    }
    table::finish(&mut tx, &job.id, "failed", Some(reason), 0, now).await?;
    runs_table::set_state(&mut tx, &job.run_id, RunState::Approved.as_str(), now).await?;
    append(
        &mut tx,
        &JOB,
        "compensation.run.execution_failed",
        &job.run_id,
        Some(&json!({"state": "executing"})),
        Some(&json!({"state": "approved", "execution": job.number, "error": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
