//! The `webhooks` table: receivers of signed status updates, their
//! components, secrets and whether they are paused.

use sqlx::{AnyConnection, Row};

use crate::store::{split_list, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub components: Vec<String>,
    pub disabled: bool,
    pub created_at: i64,
}

fn webhook(row: &sqlx::any::AnyRow) -> Result<Webhook, StoreError> {
    let components: String = row.try_get("components")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        components: split_list(&components),
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn list(store: &Store) -> Result<Vec<Webhook>, StoreError> {
    sqlx::query(
        "SELECT id, url, components, disabled, created_at FROM webhooks ORDER BY created_at",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(webhook)
    .collect()
}

/// Active webhooks interested in any of `components` (or in everything).
pub async fn audience(
    conn: &mut AnyConnection,
    components: &[String],
) -> Result<Vec<Webhook>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, url, components, disabled, created_at FROM webhooks WHERE disabled = 0 ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let w = webhook(row)?;
        if w.components.is_empty()
            || components.is_empty()
            || w.components.iter().any(|c| components.contains(c))
        {
            out.push(w);
        }
    }
    Ok(out)
}

/// Stores an active webhook; `url` is already validated and `secret` is
/// the one shown once to the admin.
pub async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    url: &str,
    secret: &str,
    components: &[String],
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhooks (id, url, secret, components, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(id)
    .bind(url)
    .bind(secret)
    .bind(components.join(","))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: &str,
    disabled: bool,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE webhooks SET disabled = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(disabled))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The secrets a delivery is signed with at `now`, read at send time (never
/// copied into the outbox): the current one, and the previous one while a
/// rotation's overlap lasts.
pub async fn secrets(
    store: &Store,
    id: &str,
    now: i64,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT secret, previous_secret, previous_until FROM webhooks
         WHERE id = $1 AND disabled = 0",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    else {
        return Ok(None);
    };
    let until: Option<i64> = row.try_get(2)?;
    let previous: Option<String> = row.try_get(1)?;
    Ok(Some((
        row.try_get(0)?,
        previous.filter(|_| until.is_some_and(|u| now < u)),
    )))
}

/// Replaces the secret; the old one signs too until `overlap_until`.
pub async fn rotate(
    conn: &mut AnyConnection,
    id: &str,
    secret: &str,
    overlap_until: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webhooks SET previous_secret = secret, previous_until = $3, secret = $2
         WHERE id = $1",
    )
    .bind(id)
    .bind(secret)
    .bind(overlap_until)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
