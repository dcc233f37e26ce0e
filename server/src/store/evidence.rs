//! `log_records`: every well-formed record of the stored event logs, by
//! customer, so a customer's evidence is one index range however big the
//! logs are. Written when a log is stored (`compensation::log_records`).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::store::{insert_sql, numbered, placeholders, Store, StoreError};

/// One record as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceRecord {
    pub sha256: String,
    pub line: i64,
    pub customer_id: String,
    pub ts_ms: i64,
    /// `login`, `bet` or `stream`.
    pub kind: String,
    pub outcome: String,
    pub bet_id: String,
    pub game: String,
    pub round_id: String,
    pub stake_minor: Option<i64>,
    pub currency: String,
    pub channel: String,
    pub error: String,
}

const COLUMNS: [&str; 13] = [
    "sha256",
    "line",
    "customer_id",
    "ts_ms",
    "kind",
    "outcome",
    "bet_id",
    "game",
    "round_id",
    "stake_minor",
    "currency",
    "channel",
    "error",
];
/// 13 parameters a row: 2,000 rows stay under SQLite's 32,766 per statement.
pub const BATCH: usize = 2_000;

/// Drops what an interrupted earlier indexing of this content wrote.
pub async fn clear(store: &Store, sha256: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM log_records WHERE sha256 = $1")
        .bind(sha256)
        .execute(store.pool())
        .await?;
    Ok(())
}

pub async fn insert(conn: &mut AnyConnection, rows: &[EvidenceRecord]) -> Result<(), StoreError> {
    let numbered = numbered(conn);
    for batch in rows.chunks(BATCH) {
        let mut sql = insert_sql("log_records", &COLUMNS, batch.len(), numbered);
        // A content indexed twice at once by two uploads keeps one copy.
        sql.push_str(" ON CONFLICT (sha256, line) DO NOTHING");
        let mut q = sqlx::query(&sql);
        for r in batch {
            q = q
                .bind(r.sha256.as_str())
                .bind(r.line)
                .bind(r.customer_id.as_str())
                .bind(r.ts_ms)
                .bind(r.kind.as_str())
                .bind(r.outcome.as_str())
                .bind(r.bet_id.as_str())
                .bind(r.game.as_str())
                .bind(r.round_id.as_str())
                .bind(r.stake_minor)
                .bind(r.currency.as_str())
                .bind(r.channel.as_str())
                .bind(r.error.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn mark_indexed(store: &Store, sha256: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE log_blobs SET records_indexed = 1 WHERE sha256 = $1")
        .bind(sha256)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Whether every one of these contents has its records indexed.
pub async fn all_indexed(store: &Store, shas: &[String]) -> Result<bool, StoreError> {
    if shas.is_empty() {
        return Ok(true);
    }
    let mut conn = store.pool().acquire().await?;
    let sql = format!(
        "SELECT COUNT(*) FROM log_blobs WHERE records_indexed = 1 AND sha256 IN ({})",
        placeholders(shas.len(), numbered(&conn))
    );
    let mut q = sqlx::query(&sql);
    for s in shas {
        q = q.bind(s.as_str());
    }
    let n: i64 = q.fetch_one(&mut *conn).await?.try_get(0)?;
    Ok(n == shas.len() as i64)
}

fn record(row: &AnyRow) -> Result<EvidenceRecord, StoreError> {
    Ok(EvidenceRecord {
        sha256: row.try_get("sha256")?,
        line: row.try_get("line")?,
        customer_id: row.try_get("customer_id")?,
        ts_ms: row.try_get("ts_ms")?,
        kind: row.try_get("kind")?,
        outcome: row.try_get("outcome")?,
        bet_id: row.try_get("bet_id")?,
        game: row.try_get("game")?,
        round_id: row.try_get("round_id")?,
        stake_minor: row.try_get("stake_minor")?,
        currency: row.try_get("currency")?,
        channel: row.try_get("channel")?,
        error: row.try_get("error")?,
    })
}

/// Every record of `customer_id` in these contents, oldest first (at most
/// `limit`: a customer with more than that is shown the first ones).
pub async fn of_customer(
    store: &Store,
    customer_id: &str,
    shas: &[String],
    limit: i64,
) -> Result<Vec<EvidenceRecord>, StoreError> {
    if shas.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = store.pool().acquire().await?;
    let numbered = numbered(&conn);
    let list = (2..shas.len() + 2)
        .map(|i| {
            if numbered {
                format!("${i}")
            } else {
                "?".into()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {} FROM log_records WHERE customer_id = {} AND sha256 IN ({list})
         ORDER BY ts_ms, sha256, line LIMIT {}",
        COLUMNS.join(", "),
        if numbered { "$1" } else { "?" },
        limit.max(0)
    );
    let mut q = sqlx::query(&sql).bind(customer_id);
    for s in shas {
        q = q.bind(s.as_str());
    }
    q.fetch_all(&mut *conn).await?.iter().map(record).collect()
}

/// The records of the customers after `after` up to `upto` (as the ledger
/// orders its customer ids) in these contents between `from_ms` and
/// `to_ms`, by customer, oldest first: one read per batch of notices.
pub async fn of_customer_range(
    conn: &mut AnyConnection,
    (after, upto): (&str, &str),
    shas: &[String],
    (from_ms, to_ms): (i64, i64),
) -> Result<Vec<EvidenceRecord>, StoreError> {
    if shas.is_empty() {
        return Ok(Vec::new());
    }
    let numbered = numbered(conn);
    let p = |i: usize| {
        if numbered {
            format!("${i}")
        } else {
            "?".into()
        }
    };
    let list = (5..shas.len() + 5).map(p).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {} FROM log_records
         WHERE customer_id > {} AND customer_id <= {} AND ts_ms >= {} AND ts_ms < {}
           AND sha256 IN ({list})
         ORDER BY customer_id, ts_ms, sha256, line",
        COLUMNS.join(", "),
        p(1),
        p(2),
        p(3),
        p(4)
    );
    let mut q = sqlx::query(&sql)
        .bind(after)
        .bind(upto)
        .bind(from_ms)
        .bind(to_ms);
    for s in shas {
        q = q.bind(s.as_str());
    }
    q.fetch_all(&mut *conn).await?.iter().map(record).collect()
}
