//! Webhook subscribers: Statuspage-shaped JSON payloads, signed with
//! HMAC-SHA256, queued in the outbox and retried exactly like mail.
//!
//! Signature: `X-Plaster-Signature: t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256(secret, "<t>.<body>"). Receivers recompute it and
//! reject old timestamps, which stops replays.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::AnyConnection;

use crate::notify::mailer::MailError;
use crate::store::outbox::Outgoing;
use crate::store::status::component_exists;
use crate::store::{Store, StoreError};

pub const SIGNATURE_HEADER: &str = "x-plaster-signature";
/// The outbox kind of webhook deliveries.
pub const KIND: &str = "webhook";

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

/// Adds a webhook; returns its id and the secret (shown once to the admin).
pub async fn add(
    conn: &mut AnyConnection,
    url: &str,
    components: &[String],
) -> Result<(String, String), WebhookError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| WebhookError::Url(url.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(WebhookError::Url(url.to_string()));
    }
    for c in components {
        if !component_exists(&mut *conn, c).await? {
            return Err(WebhookError::Component(c.clone()));
        }
    }
    let id = crate::kernel::ids::new_id();
    let secret = crate::kernel::ids::random_token();
    let now = chrono::Utc::now().timestamp_millis();
    crate::store::webhooks::insert(&mut *conn, &id, parsed.as_str(), &secret, components, now)
        .await?;
    Ok((id, secret))
}

/// POSTs one queued delivery; Ok carries the receiver's status line.
pub async fn post(
    store: &Store,
    client: &reqwest::Client,
    message: &Outgoing,
) -> Result<String, MailError> {
    // The webhook's id travels in the subject; its secret stays in its table.
    let Some(secret) = crate::store::webhooks::secret(store, &message.subject).await? else {
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
