//! The preview job: any node claims a queued preview under a lease, runs
//! the engine over the run's stored logs and the customer tables as they
//! are now, and stores the result as the run's next revision.
//!
//! A live worker extends its lease every second and records its progress;
//! a node that dies stops extending it, and once it runs out another node
//! claims the job and starts it again (the engine's pass is a pure function
//! of the inputs, so starting again is how it resumes). A worker whose job
//! was cancelled, or claimed by another after a stall, learns so at its
//! next heartbeat, stops reading, and stores nothing: the revision is
//! written only in the transaction that ends the job as its holder.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use plaster_engine::{Engine, EngineError, Learned, Options, Preview};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::compensation::digest::digest;
use crate::compensation::kept_pass::WhatIfCache;
use crate::compensation::logs::{self, CANCELLED};
use crate::compensation::state::RunState;
use crate::kernel::audit::Actor;
use crate::store::audit::append;
use crate::store::compensation::{self as table, PreviewJob, RevisionRecord, RunLog, StoredLine};
use crate::store::customers::{reference, ReferenceRead};
use crate::store::{Store, StoreError};

/// How long a claimed preview is its worker's without a heartbeat.
const LEASE_MS: i64 = 15_000;
const HEARTBEAT: Duration = Duration::from_secs(1);
const IDLE_POLL: Duration = Duration::from_millis(500);
const JOB: Actor = Actor::Job("preview job");

/// Starts this node's preview worker; it stops when the handle is aborted.
/// What each preview learned is kept in `cache` for what-if pricing.
pub fn spawn(store: Store, cache: WhatIfCache) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_next(&store, &cache).await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(IDLE_POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "preview worker failed; retrying");
                    tokio::time::sleep(IDLE_POLL * 4).await;
                }
            }
        }
    })
}

/// Claims one due preview and runs it to its end; `false` when none was due.
pub async fn run_next(store: &Store, cache: &WhatIfCache) -> Result<bool, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let Some(job) = table::claim_preview(store, now, LEASE_MS).await? else {
        return Ok(false);
    };
    tracing::info!(run = %job.run_id, job = %job.id, attempt = job.attempts, "preview started");
    match compute(store, &job).await {
        Ok(Computed::Done(preview, digest, learned, read)) => {
            if store_revision(store, &job, &preview, &digest, &read).await? {
                cache.keep(&job.run_id, job.inputs_version, *learned);
            }
        }
        Ok(Computed::Stopped) => {
            tracing::info!(run = %job.run_id, job = %job.id, "preview stopped");
        }
        Err(reason) => fail(store, &job, &reason).await?,
    }
    Ok(true)
}

enum Computed {
    Done(Box<Preview>, String, Box<Learned>, ReferenceRead),
    /// Cancelled, or no longer this worker's job.
    Stopped,
}

async fn compute(store: &Store, job: &PreviewJob) -> Result<Computed, String> {
    let internal = |e: StoreError| e.to_string();
    let mut conn = store.pool().acquire().await.map_err(|e| e.to_string())?;
    let run = table::run(&mut conn, &job.run_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| format!("run {} is gone", job.run_id))?;
    if run.inputs_version != job.inputs_version {
        return Err("the run's inputs changed after the preview was asked for".into());
    }
    let plan = plaster_engine::Plan::parse(&run.plan_toml).map_err(|e| e.to_string())?;
    let files = table::run_logs(&mut conn, &job.run_id)
        .await
        .map_err(internal)?;
    drop(conn);
    let mut chunks = Vec::with_capacity(files.len());
    for f in &files {
        chunks.push(
            table::blob_chunks(store, &f.sha256)
                .await
                .map_err(internal)?,
        );
    }
    let bytes = Arc::new(AtomicU64::new(0));
    let records = Arc::new(AtomicU64::new(0));
    let cancel = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (store, job, bytes, records, cancel, finished) = (
            store.clone(),
            job.clone(),
            bytes.clone(),
            records.clone(),
            cancel.clone(),
            finished.clone(),
        );
        tokio::spawn(async move {
            while !finished.load(Ordering::Relaxed) {
                tokio::time::sleep(HEARTBEAT).await;
                let now = chrono::Utc::now().timestamp_millis();
                match table::heartbeat(
                    &store,
                    &job.id,
                    job.attempts,
                    now + LEASE_MS,
                    bytes.load(Ordering::Relaxed) as i64,
                    records.load(Ordering::Relaxed) as i64,
                )
                .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        cancel.store(true, Ordering::Relaxed);
                        return;
                    }
                    // A missed beat is retried; the lease outlasts many.
                    Err(e) => tracing::warn!(error = %e, "preview heartbeat failed"),
                }
            }
        })
    };
    let counters = Counters {
        bytes,
        records,
        cancel: cancel.clone(),
    };
    let result = pass(store, plan, files, chunks, counters).await;
    finished.store(true, Ordering::Relaxed);
    heartbeat.abort();
    match result {
        Ok((preview, learned, read)) => {
            let digest = digest(&preview).map_err(|e| e.to_string())?;
            Ok(Computed::Done(
                Box::new(preview),
                digest,
                Box::new(learned),
                read,
            ))
        }
        Err(_) if cancel.load(Ordering::Relaxed) => Ok(Computed::Stopped),
        Err(PassError::Cancelled) => Ok(Computed::Stopped),
        Err(PassError::Failed(e)) => Err(e),
    }
}

/// What a pass reports while it reads, and how it is told to stop.
struct Counters {
    bytes: Arc<AtomicU64>,
    records: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
}

enum PassError {
    Cancelled,
    Failed(String),
}

/// One pass of the engine over a run's stored logs and the customer tables
/// as they are now, on a blocking thread.
async fn pass(
    store: &Store,
    plan: plaster_engine::Plan,
    files: Vec<RunLog>,
    chunks: Vec<i64>,
    counters: Counters,
) -> Result<(Preview, Learned, ReferenceRead), PassError> {
    let (customers, subscriptions, read) = reference(store)
        .await
        .map_err(|e| PassError::Failed(e.to_string()))?;
    let runtime = tokio::runtime::Handle::current();
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut sources = Vec::with_capacity(files.len());
        for (f, n) in files.iter().zip(chunks) {
            sources.push(
                logs::source(
                    runtime.clone(),
                    store.clone(),
                    f,
                    n,
                    counters.bytes.clone(),
                    counters.cancel.clone(),
                )
                .map_err(|e| PassError::Failed(e.to_string()))?,
            );
        }
        let engine = Engine::new(plan, customers, subscriptions);
        let options = Options {
            records_done: Some(counters.records.clone()),
            ..Options::default()
        };
        engine
            .preview_and_learn(sources, &options)
            .map(|(preview, learned)| (preview, learned, read))
            .map_err(|e| match e {
                EngineError::Read { error, .. } if error.to_string() == CANCELLED => {
                    PassError::Cancelled
                }
                other => PassError::Failed(other.to_string()),
            })
    })
    .await
    .unwrap_or_else(|e| {
        Err(PassError::Failed(format!(
            "the preview's thread failed: {e}"
        )))
    })
}

/// A pass of `plan_toml` over the run's current logs, outside any job (what-if
/// when no kept pass can serve): the preview, and what it learned.
pub async fn learn(
    store: &Store,
    run_id: &str,
    plan_toml: &str,
) -> Result<(Preview, Learned), String> {
    let plan = plaster_engine::Plan::parse(plan_toml).map_err(|e| e.to_string())?;
    let mut conn = store.pool().acquire().await.map_err(|e| e.to_string())?;
    let files = table::run_logs(&mut conn, run_id)
        .await
        .map_err(|e| e.to_string())?;
    drop(conn);
    if files.is_empty() {
        return Err(format!("run {run_id} has no event log files yet"));
    }
    let mut chunks = Vec::with_capacity(files.len());
    for f in &files {
        chunks.push(
            table::blob_chunks(store, &f.sha256)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let counters = Counters {
        bytes: Arc::default(),
        records: Arc::default(),
        cancel: Arc::default(),
    };
    pass(store, plan, files, chunks, counters)
        .await
        .map(|(preview, learned, _)| (preview, learned))
        .map_err(|e| match e {
            PassError::Cancelled => "the pass was cancelled".to_string(),
            PassError::Failed(e) => e,
        })
}

/// Ends the job as failed and the run back to draft, if the job is still ours.
async fn fail(store: &Store, job: &PreviewJob, reason: &str) -> Result<(), StoreError> {
    tracing::warn!(run = %job.run_id, job = %job.id, %reason, "preview failed");
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    if !table::finish_preview(
        &mut tx,
        &job.id,
        job.attempts,
        "failed",
        Some(reason),
        None,
        now,
    )
    .await?
    {
        return Ok(());
    }
    if let Some(run) = table::run_for_update(&mut tx, store.backend(), &job.run_id).await? {
        if run.state == RunState::Previewing.as_str() && run.inputs_version == job.inputs_version {
            table::move_run(&mut tx, &run.id, RunState::Draft.as_str(), now).await?;
            append(
                &mut tx,
                &JOB,
                "compensation.run.preview_failed",
                &run.id,
                Some(&json!({"state": "previewing"})),
                Some(&json!({"state": "draft", "job": job.id, "error": reason})),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Stores the preview as the run's next revision and moves the run to
/// `previewed`, in one transaction that also ends the job; nothing is
/// stored when the job is no longer this worker's.
async fn store_revision(
    store: &Store,
    job: &PreviewJob,
    preview: &Preview,
    digest: &str,
    read: &ReferenceRead,
) -> Result<bool, StoreError> {
    let lines: Vec<StoredLine> = preview
        .lines
        .iter()
        .map(|l| StoredLine {
            position: l.rule_position as i64,
            rule: l.rule.to_string(),
            customer_id: l.customer_id.clone(),
            reference: l.reference.clone(),
            amount_minor: l.amount_minor as i64,
            currency: l.currency.as_str().to_string(),
        })
        .collect();
    let customers = {
        let mut ids: Vec<&str> = lines
            .iter()
            .map(|l| l.customer_id.as_str())
            .filter(|c| !c.is_empty())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len() as i64
    };
    let report_json = serde_json::to_string(&preview.report)
        .map_err(|e| StoreError::Corrupt(format!("the report does not serialise: {e}")))?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    let Some(run) = table::run_for_update(&mut tx, store.backend(), &job.run_id).await? else {
        return Ok(false);
    };
    let revision = table::revisions(&mut tx, &run.id)
        .await?
        .first()
        .map_or(1, |r| r.revision + 1);
    if !table::finish_preview(
        &mut tx,
        &job.id,
        job.attempts,
        "done",
        None,
        Some(revision),
        now,
    )
    .await?
    {
        return Ok(false);
    }
    table::insert_revision(
        &mut tx,
        &RevisionRecord {
            run_id: run.id.clone(),
            revision,
            inputs_version: job.inputs_version,
            plan_toml: run.plan_toml.clone(),
            report_json,
            digest: digest.to_string(),
            lines: lines.len() as i64,
            customers,
            failures_json: serde_json::to_string(&preview.failures_per_minute)
                .map_err(|e| StoreError::Corrupt(format!("the failure tally: {e}")))?,
            created_by: job.requested_by.clone(),
            created_at: now,
            reference_digest: read.digest.clone(),
            reference_rows: read.rows,
        },
    )
    .await?;
    table::insert_lines(&mut tx, &run.id, revision, &lines).await?;
    let current = run.inputs_version == job.inputs_version;
    if current && run.state == RunState::Previewing.as_str() {
        table::move_run(&mut tx, &run.id, RunState::Previewed.as_str(), now).await?;
    }
    append(
        &mut tx,
        &JOB,
        "compensation.run.previewed",
        &run.id,
        Some(&json!({"state": run.state})),
        Some(
            &json!({"state": if current { "previewed" } else { run.state.as_str() },
                     "revision": revision, "digest": digest, "lines": lines.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(run = %run.id, revision, lines = lines.len(), "preview stored");
    Ok(true)
}
