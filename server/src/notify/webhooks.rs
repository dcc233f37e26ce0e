//! Webhook subscribers: Statuspage-shaped JSON payloads, signed with
//! HMAC-SHA256, queued in the outbox and retried exactly like mail.
//!
//! Signature: `X-Plaster-Signature: t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256(secret, "<t>.<body>"). Receivers recompute it and
//! reject old timestamps, which stops replays.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

use crate::store::{Store, StoreError};

pub const SIGNATURE_HEADER: &str = "x-plaster-signature";
/// The outbox kind of webhook deliveries.
pub const KIND: &str = "webhook";

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub components: Vec<String>,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("url: {0:?} is not an http(s) URL")]
    Url(String),
    #[error("component: unknown component {0:?}")]
    Component(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `t=…,v1=…` for `body` sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this branch cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

fn webhook(row: &sqlx::any::AnyRow) -> Result<Webhook, StoreError> {
    let components: String = row.try_get("components")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        components: components
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
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
    conn: &mut sqlx::AnyConnection,
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

/// Adds a webhook; returns its id and the secret (shown once to the admin).
pub async fn add(
    conn: &mut sqlx::AnyConnection,
    url: &str,
    components: &[String],
) -> Result<(String, String), WebhookError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| WebhookError::Url(url.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(WebhookError::Url(url.to_string()));
    }
    for c in components {
        let known = sqlx::query("SELECT id FROM components WHERE id = $1")
            .bind(c)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::from)?
            .is_some();
        if !known {
            return Err(WebhookError::Component(c.clone()));
        }
    }
    let id = crate::kernel::ids::new_id();
    let secret = crate::kernel::ids::random_token();
    sqlx::query(
        "INSERT INTO webhooks (id, url, secret, components, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(&id)
    .bind(parsed.as_str())
    .bind(&secret)
    .bind(components.join(","))
    .bind(chrono::Utc::now().timestamp_millis())
    .execute(&mut *conn)
    .await
    .map_err(StoreError::from)?;
    Ok((id, secret))
}

pub async fn set_disabled(
    conn: &mut sqlx::AnyConnection,
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

/// POSTs one queued delivery; Ok carries the receiver's status line.
pub async fn post(
    store: &Store,
    client: &reqwest::Client,
    message: &super::outbox::Outgoing,
) -> Result<String, super::mailer::MailError> {
    use super::mailer::MailError;
    // The webhook's id travels in the subject; its secret stays in its table.
    let Some(secret) = secret(store, &message.subject).await? else {
        return Err(MailError::Build(format!(
            "webhook {} was removed or disabled",
            message.subject
        )));
    };
    let now = chrono::Utc::now().timestamp();
    let response = client
        .post(&message.recipient)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sign(&secret, now, &message.body_text))
        .header("x-plaster-delivery", &message.message_id)
        .body(message.body_text.clone())
        .send()
        .await
        .map_err(|e| MailError::Webhook(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(format!("HTTP {status}"));
    }
    // A receiver that refuses the request itself will refuse it again;
    // overload and server errors are worth retrying.
    if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
        return Err(MailError::Build(format!(
            "the receiver refused it: HTTP {status}"
        )));
    }
    Err(MailError::Webhook(format!("HTTP {status}")))
}

/// The secret of a webhook, read at send time (never copied into the outbox).
pub async fn secret(store: &Store, id: &str) -> Result<Option<String>, StoreError> {
    sqlx::query("SELECT secret FROM webhooks WHERE id = $1 AND disabled = 0")
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(StoreError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_time_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
        let sig = sign("key", 1_700_000_000, "{\"a\":1}");
        assert_eq!(
            sig,
            "t=1700000000,v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
        assert_ne!(sig, sign("other key", 1_700_000_000, "{\"a\":1}"));
        assert_ne!(sig, sign("key", 1_700_000_001, "{\"a\":1}"));
    }
}
