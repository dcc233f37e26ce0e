//! Customer sign-in: mailed links (hashed), requests for them (for the
//! limits), and customer sessions, apart from staff sessions.

use sqlx::{AnyConnection, Row};

use crate::store::{Store, StoreError};

/// Records a request for a link, known address or not.
pub async fn record_request(
    conn: &mut AnyConnection,
    email: &str,
    client: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customer_sign_in_requests (email, client, created_at) VALUES ($1, $2, $3)",
    )
    .bind(email)
    .bind(client)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// When links were asked for this address since `since`, oldest first.
pub async fn requests_for_email(
    conn: &mut AnyConnection,
    email: &str,
    since: i64,
) -> Result<Vec<i64>, StoreError> {
    sqlx::query(
        "SELECT created_at FROM customer_sign_in_requests
         WHERE email = $1 AND created_at >= $2 ORDER BY created_at",
    )
    .bind(email)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// How many links this client address asked for since `since`.
pub async fn requests_from_client(
    conn: &mut AnyConnection,
    client: &str,
    since: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM customer_sign_in_requests WHERE client = $1 AND created_at >= $2",
    )
    .bind(client)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

/// Forgets requests, used links and sessions older than `before`.
pub async fn purge(conn: &mut AnyConnection, before: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM customer_sign_in_requests WHERE created_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM customer_sign_in_links WHERE expires_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM customer_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn insert_link(
    conn: &mut AnyConnection,
    token_hash: &str,
    customer_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customer_sign_in_links (token_hash, customer_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(customer_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A link as stored: whose, until when, and whether it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub customer_id: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn link(store: &Store, token_hash: &str) -> Result<Option<Link>, StoreError> {
    sqlx::query(
        "SELECT customer_id, expires_at, used_at FROM customer_sign_in_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(store.pool())
    .await?
    .map(|r| {
        Ok(Link {
            customer_id: r.try_get(0)?,
            expires_at: r.try_get(1)?,
            used_at: r.try_get(2)?,
        })
    })
    .transpose()
}

/// Uses a link: true only for the one caller that found it unused and
/// unexpired (two clicks at once sign in once).
pub async fn use_link(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE customer_sign_in_links SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn insert_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    customer_id: &str,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    // The address the link went to is the session's: an import that
    // changes it ends the session.
    sqlx::query(
        "INSERT INTO customer_sessions (token_hash, customer_id, csrf_token, created_at, expires_at,
                                        last_seen_at, email)
         SELECT $1, customer_id, $3, $4, $5, $4, email FROM customers WHERE customer_id = $2",
    )
    .bind(token_hash)
    .bind(customer_id)
    .bind(csrf_token)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A live session's customer, CSRF token and when it was last used: not
/// expired, used since `idle_since`, and its customer still at the address
/// it signed in with.
pub async fn session(
    store: &Store,
    token_hash: &str,
    now: i64,
    idle_since: i64,
) -> Result<Option<(String, String, i64)>, StoreError> {
    sqlx::query(
        "SELECT s.customer_id, s.csrf_token, s.last_seen_at FROM customer_sessions s
         JOIN customers c ON c.customer_id = s.customer_id AND c.email = s.email
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3",
    )
    .bind(token_hash)
    .bind(now)
    .bind(idle_since)
    .fetch_optional(store.pool())
    .await?
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    .transpose()
}

/// Marks a session used now.
pub async fn touch_session(store: &Store, token_hash: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE customer_sessions SET last_seen_at = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(now)
        .execute(store.pool())
        .await?;
    Ok(())
}

pub async fn delete_session(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM customer_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(store.pool())
        .await?;
    Ok(())
}
