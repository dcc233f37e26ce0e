//! Indexes a stored log's records by customer (`store::evidence`), so a
//! support agent or a customer sees one person's records at once, however
//! big the logs. Records are read by the engine's own parser
//! ([`plaster_engine::each_record`]), so the index holds exactly what a
//! preview counts as a record.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use plaster_engine::record::{Access, BetOutcome, Event, Record};
use plaster_engine::{EventSource, Format};

use crate::store::evidence::{self, EvidenceRecord, BATCH};
use crate::store::{Store, StoreError};

/// Batches of [`BATCH`] records written per transaction.
const TX_BATCHES: usize = 10;

fn access(a: Access) -> &'static str {
    match a {
        Access::Success => "success",
        Access::Failure => "failure",
    }
}

pub fn bet_outcome(o: BetOutcome) -> &'static str {
    match o {
        BetOutcome::Placed => "placed",
        BetOutcome::Rejected => "rejected",
        BetOutcome::FailedAfterDebit => "failed_after_debit",
    }
}

fn row(sha256: &str, line: u64, rec: &Record<'_>) -> EvidenceRecord {
    let ts_ms = crate::customers::evidence::instant_ms(rec.ts);
    let mut r = EvidenceRecord {
        sha256: sha256.to_string(),
        line: line as i64,
        customer_id: rec.customer_id.to_string(),
        ts_ms,
        kind: String::new(),
        outcome: String::new(),
        bet_id: String::new(),
        game: String::new(),
        round_id: String::new(),
        stake_minor: None,
        currency: String::new(),
        channel: String::new(),
        error: rec.error.as_deref().unwrap_or_default().to_string(),
    };
    match &rec.event {
        Event::Login { outcome, channel } => {
            r.kind = "login".into();
            r.outcome = access(*outcome).into();
            r.channel = channel.as_deref().unwrap_or_default().to_string();
        }
        Event::Stream {
            outcome,
            channel,
            event_id,
        } => {
            r.kind = "stream".into();
            r.outcome = access(*outcome).into();
            r.channel = channel.as_deref().unwrap_or_default().to_string();
            // What was being watched is shown where a bet shows its game.
            r.game = event_id.as_deref().unwrap_or_default().to_string();
        }
        Event::Bet(b) => {
            r.kind = "bet".into();
            r.outcome = bet_outcome(b.outcome).into();
            r.bet_id = b.bet_id.to_string();
            r.game = b.game.to_string();
            r.round_id = b.round_id.to_string();
            r.stake_minor = Some(b.stake_minor);
            r.currency = b.currency.as_str().to_string();
        }
    }
    r
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot read: {0}")]
    Read(#[from] std::io::Error),
    /// The engine could not read the content (a cut gzip stream, say).
    #[error("{0}")]
    Content(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Indexes the records of the content `sha256`, a file of `format` read
/// from `path` (where it was just checked and stored from). Run before the
/// content is marked complete: an interrupted indexing is redone when the
/// file is added again, after what it wrote is dropped.
pub async fn index_file(
    store: &Store,
    sha256: &str,
    (name, format, gzip): (&str, Format, bool),
    path: &Path,
) -> Result<(), IndexError> {
    evidence::clear(store, sha256).await?;
    let file = File::open(path)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<EvidenceRecord>>(4);
    let sha = sha256.to_string();
    let source_name = name.to_string();
    let reader = tokio::task::spawn_blocking(move || {
        let raw = BufReader::with_capacity(1 << 18, file);
        let src = if gzip {
            EventSource::new(source_name, format, MultiGzDecoder::new(raw))
        } else {
            EventSource::new(source_name, format, raw)
        };
        let mut batch = Vec::with_capacity(BATCH);
        let mut visit = |line: u64, rec: &Record<'_>| {
            batch.push(row(&sha, line, rec));
            if batch.len() == BATCH {
                // The writer gone means it failed; its error is reported.
                let _ = tx.blocking_send(std::mem::take(&mut batch));
            }
        };
        let read = plaster_engine::each_record(src, &mut visit);
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        read
    });
    // Several statements per transaction: a commit per batch would cost
    // more than the batch.
    let mut written: Result<(), StoreError> = Ok(());
    let mut pending: Vec<EvidenceRecord> = Vec::new();
    while let Some(rows) = rx.recv().await {
        pending.extend(rows);
        if written.is_ok() && pending.len() >= BATCH * TX_BATCHES {
            written = write(store, &pending).await;
            pending.clear();
        }
    }
    if written.is_ok() && !pending.is_empty() {
        written = write(store, &pending).await;
    }
    match reader.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(IndexError::Content(e.to_string())),
        Err(e) => return Err(StoreError::Corrupt(format!("indexing {name}: {e}")).into()),
    }
    written?;
    evidence::mark_indexed(store, sha256).await?;
    Ok(())
}

async fn write(store: &Store, rows: &[EvidenceRecord]) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    evidence::insert(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(())
}
