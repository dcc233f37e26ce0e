//! The audit log's table: appending inside the change's own transaction,
//! and reading it back for the console.

use sqlx::{AnyConnection, Row};

use crate::kernel::audit::{bounds, Actor, AuditEntry, AuditFilter, FilterError};
use crate::store::{Store, StoreError};

/// Appends one entry. `before`/`after` are the changed object's state as
/// JSON, `None` where it did not exist.
pub async fn append(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, before_json, after_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(chrono::Utc::now().timestamp_millis())
    .bind(actor.id())
    .bind(actor.label())
    .bind(action)
    .bind(target)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Newest first, at most `limit` entries.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, AuditQueryError> {
        let (from, to) = bounds(filter)?;
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, before_json, after_json FROM audit_log
             WHERE ($1 = '' OR LOWER(actor) LIKE $2)
               AND ($3 = '' OR action = $3)
               AND at >= $4 AND at < $5
             ORDER BY id DESC LIMIT $6",
        )
        .bind(filter.actor.trim())
        .bind(format!("%{}%", filter.actor.trim().to_lowercase()))
        .bind(filter.action.trim())
        .bind(from.unwrap_or(i64::MIN))
        .bind(to.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::from)?;
        Ok(rows.iter().map(entry).collect::<Result<_, _>>()?)
    }

    /// Everything done to one target (a run, say), newest first, at most `limit`.
    pub async fn audit_for_target(
        &self,
        target: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query(
            "SELECT id, at, actor, action, target, before_json, after_json FROM audit_log
             WHERE target = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(target)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(entry)
        .collect()
    }

    /// The distinct actions in the log, for the filter's choices.
    pub async fn audit_actions(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT DISTINCT action FROM audit_log ORDER BY action")
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
    }
}

fn entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        before: row.try_get("before_json")?,
        after: row.try_get("after_json")?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AuditQueryError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
