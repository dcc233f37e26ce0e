//! The `subscribers` table: e-mail subscriptions with their language,
//! components, state and link token. An unsubscribed row keeps a fresh
//! random token that was never mailed to anyone: the column is NOT NULL
//! UNIQUE, and a value nobody holds opens nothing, as no token would.

use app::dto::Lang;
use sqlx::{AnyConnection, Row};

use crate::store::{split_list, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    pub id: String,
    pub email: String,
    pub lang: Lang,
    /// Empty: every component.
    pub components: Vec<String>,
    pub state: String,
    pub token: String,
    /// When the subscription now in place was asked for (a pending one's
    /// confirmation link counts from here).
    pub created_at: i64,
}

fn subscriber(row: &sqlx::any::AnyRow) -> Result<Subscriber, StoreError> {
    let lang: String = row.try_get("lang")?;
    let components: String = row.try_get("components")?;
    Ok(Subscriber {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        lang: lang
            .parse()
            .map_err(|e: app::dto::UnknownValue| StoreError::Corrupt(e.to_string()))?,
        components: split_list(&components),
        state: row.try_get("state")?,
        token: row.try_get("token")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The subscriber with `email`, read inside the caller's transaction: the
/// caller decides from it what to write in that same transaction.
pub async fn by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<Subscriber>, StoreError> {
    sqlx::query(
        "SELECT id, email, lang, components, state, token, created_at FROM subscribers WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| subscriber(&row))
    .transpose()
}

/// Forgets pending subscriptions asked for before `before_ms` and never
/// confirmed; returns how many.
pub async fn purge_unconfirmed(
    conn: &mut AnyConnection,
    before_ms: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM subscribers WHERE state = 'pending' AND created_at < $1")
        .bind(before_ms)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// A new subscriber, pending until the address is confirmed.
pub async fn insert_pending(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    lang: Lang,
    components: &[String],
    token: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO subscribers (id, email, lang, components, state, token, created_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6)",
    )
    .bind(id)
    .bind(email)
    .bind(lang.code())
    .bind(components.join(","))
    .bind(token)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// New choices for the subscriber `id`; its state and token stay (for a
/// confirmed address asked again).
pub async fn set_choices_by_id(
    conn: &mut AnyConnection,
    id: &str,
    lang: Lang,
    components: &[String],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE subscribers SET lang = $2, components = $3 WHERE id = $1")
        .bind(id)
        .bind(lang.code())
        .bind(components.join(","))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// New choices and a fresh token for a subscriber that is not confirmed
/// (pending, or unsubscribed and asking again), pending again as if asked
/// for `now`: the old links stop working, the new confirmation link gets
/// its full week, and an earlier confirmation no longer counts (the new
/// subscription needs its own).
pub async fn renew_pending(
    conn: &mut AnyConnection,
    id: &str,
    lang: Lang,
    components: &[String],
    token: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE subscribers SET lang = $2, components = $3, state = 'pending', token = $4,
                created_at = $5, confirmed_at = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(lang.code())
    .bind(components.join(","))
    .bind(token)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn by_token(store: &Store, token: &str) -> Result<Option<Subscriber>, StoreError> {
    sqlx::query(
        "SELECT id, email, lang, components, state, token, created_at FROM subscribers WHERE token = $1",
    )
    .bind(token)
    .fetch_optional(store.pool())
    .await?
    .map(|row| subscriber(&row))
    .transpose()
}

/// Confirms the subscriber with `token`; false for a token that opens
/// nothing (unknown, or an unsubscribed row's from before tokens rotated).
pub async fn confirm(store: &Store, token: &str, now: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE subscribers SET state = 'confirmed', confirmed_at = COALESCE(confirmed_at, $2)
         WHERE token = $1 AND state <> 'unsubscribed'",
    )
    .bind(token)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Unsubscribes the subscriber with `token` and replaces the token with
/// `new_token` (never mailed), so no link that went out opens it again;
/// false for a token that opens nothing.
pub async fn unsubscribe(store: &Store, token: &str, new_token: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE subscribers SET state = 'unsubscribed', token = $2
         WHERE token = $1 AND state <> 'unsubscribed'",
    )
    .bind(token)
    .bind(new_token)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// New choices for the subscriber with `token`; false for a token that
/// opens nothing.
pub async fn update_choices(
    store: &Store,
    token: &str,
    lang: Lang,
    components: &[String],
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE subscribers SET lang = $2, components = $3
         WHERE token = $1 AND state <> 'unsubscribed'",
    )
    .bind(token)
    .bind(lang.code())
    .bind(components.join(","))
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirmed subscribers who want news about any of `components` (or all).
pub async fn audience(
    conn: &mut AnyConnection,
    components: &[String],
) -> Result<Vec<Subscriber>, StoreError> {
    let all = sqlx::query(
        "SELECT id, email, lang, components, state, token, created_at FROM subscribers WHERE state = 'confirmed' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    all.iter()
        .map(subscriber)
        .filter(|s| {
            s.as_ref().map_or(true, |s| {
                s.components.is_empty()
                    || components.is_empty()
                    || s.components.iter().any(|c| components.contains(c))
            })
        })
        .collect()
}
