//! The fan-out's reads and writes: its cursor in `notify_cursor`, and the
//! `status_changes` rows after it.

use sqlx::{AnyConnection, Row};

use crate::kernel::change::{ChangeKind, UnknownChangeKind};
use crate::store::{Backend, StoreError};

/// One `status_changes` row, as the fan-out reads it.
#[derive(Debug)]
pub struct Change {
    pub id: i64,
    /// An error for a kind this version does not know (a newer node wrote
    /// it): the caller skips the change instead of failing on it, and the
    /// cursor still moves past it.
    pub kind: Result<ChangeKind, UnknownChangeKind>,
    pub subject_id: String,
    pub changed_at: i64,
}

/// The last change the subscribers' fan-out handled. On PostgreSQL the
/// cursor row stays locked until the transaction ends, so fan-outs on two
/// nodes take turns instead of both handling the same changes; on SQLite
/// the write transaction's lock does the same.
pub async fn lock_subscribers_cursor(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<i64, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT last_change_id FROM notify_cursor WHERE name = 'subscribers'{lock}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Up to 50 changes after `after_id` made no later than `until_ms`, oldest
/// first.
pub async fn changes_after(
    conn: &mut AnyConnection,
    after_id: i64,
    until_ms: i64,
) -> Result<Vec<Change>, StoreError> {
    sqlx::query(
        "SELECT id, kind, subject_id, changed_at FROM status_changes
         WHERE id > $1 AND changed_at <= $2 ORDER BY id LIMIT 50",
    )
    .bind(after_id)
    .bind(until_ms)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Change {
            id: row.try_get("id")?,
            kind: row.try_get::<String, _>("kind")?.parse(),
            subject_id: row.try_get("subject_id")?,
            changed_at: row.try_get("changed_at")?,
        })
    })
    .collect()
}

/// Moves the subscribers' cursor, in the transaction that queued the
/// messages up to it: a crash before the commit repeats the work, and the
/// messages' ids keep it from being doubled.
pub async fn set_subscribers_cursor(
    conn: &mut AnyConnection,
    last_change_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE notify_cursor SET last_change_id = $1 WHERE name = 'subscribers'")
        .bind(last_change_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
