//! Webhook subscribers: Statuspage-shaped JSON payloads, signed the
//! Standard Webhooks way (<https://www.standardwebhooks.com>), queued in the
//! outbox and retried exactly like mail.
//!
//! Headers: `webhook-id` (the delivery's id, the same on every retry),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`:
//! `v1,<base64 HMAC-SHA256 over "id.timestamp.body">`, keyed by the
//! base64-decoded part of the `whsec_…` secret, so receivers can use any
//! off-the-shelf verifier. During a secret rotation's overlap a second
//! `v1,…` signature (space-separated) is made with the old secret. Requests
//! go through [`crate::kernel::outgoing`]: public addresses only, no
//! redirects.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::AnyConnection;

use crate::kernel::outgoing::{check_url, describe, OutgoingPolicy};
use crate::notify::mailer::MailError;
use crate::store::outbox::Outgoing;
use crate::store::status::component_exists;
use crate::store::{Store, StoreError};

/// The outbox kind of webhook deliveries.
pub const KIND: &str = "webhook";
/// How long an old secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("url: {0:?} is not an http(s) URL")]
    Url(String),
    #[error("url: {0}")]
    Refused(String),
    #[error("component: unknown component {0:?}")]
    Component(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 32]>()))
}

/// The HMAC key of a secret: the bytes a `whsec_` secret encodes; the text
/// itself for secrets made before signatures followed Standard Webhooks.
fn key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1,<base64>` for the delivery `id` with `body`, sent at `unix_seconds`.
pub fn sign(secret: &str, id: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(&key(secret)) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this branch cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{unix_seconds}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Adds a webhook; returns its id and the secret (shown once to the admin).
/// An address the outgoing policy refuses is refused here already; a name
/// is checked again at every connection, after it is resolved.
pub async fn add(
    conn: &mut AnyConnection,
    policy: &OutgoingPolicy,
    url: &str,
    components: &[String],
) -> Result<(String, String), WebhookError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| WebhookError::Url(url.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(WebhookError::Url(url.to_string()));
    }
    check_url(policy, &parsed).map_err(WebhookError::Refused)?;
    for c in components {
        if !component_exists(&mut *conn, c).await? {
            return Err(WebhookError::Component(c.clone()));
        }
    }
    let id = crate::kernel::ids::new_id();
    let secret = new_secret();
    let now = chrono::Utc::now().timestamp_millis();
    crate::store::webhooks::insert(&mut *conn, &id, parsed.as_str(), &secret, components, now)
        .await?;
    Ok((id, secret))
}

/// POSTs one queued delivery; Ok carries the receiver's status line. What
/// is recorded of a failure is in our words, never the receiver's text.
pub async fn post(
    store: &Store,
    client: &reqwest::Client,
    policy: &OutgoingPolicy,
    message: &Outgoing,
) -> Result<String, MailError> {
    let now = chrono::Utc::now();
    // The webhook's id travels in the subject; its secrets stay in its table.
    let Some((secret, previous)) =
        crate::store::webhooks::secrets(store, &message.subject, now.timestamp_millis()).await?
    else {
        return Err(MailError::Build(format!(
            "webhook {} was removed or disabled",
            message.subject
        )));
    };
    let url = url::Url::parse(&message.recipient)
        .map_err(|_| MailError::Build("the webhook's URL does not parse".into()))?;
    check_url(policy, &url).map_err(|e| MailError::Build(format!("refused: {e}")))?;
    let ts = now.timestamp();
    let mut signature = sign(&secret, &message.message_id, ts, &message.body_text);
    if let Some(old) = previous {
        signature.push(' ');
        signature.push_str(&sign(&old, &message.message_id, ts, &message.body_text));
    }
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.message_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(message.body_text.clone())
        .send()
        .await
        .map_err(|e| MailError::Webhook(describe(&e)))?;
    // The status is the answer: the body is never read (an answer that is
    // read goes through `kernel::outgoing::read_bounded`).
    let status = response.status();
    if status.is_success() {
        return Ok(format!("HTTP {status}"));
    }
    // A redirect is not followed: the receiver must be configured with the
    // URL that answers.
    if status.is_redirection() {
        return Err(MailError::Build(format!(
            "the receiver answered HTTP {status}; redirects are not followed"
        )));
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
    fn signatures_follow_standard_webhooks() {
        // The specification's own test vector.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            "{\"test\": 2432232314}",
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let secret = new_secret();
        assert!(secret.starts_with("whsec_") && key(&secret).len() == 32);
        assert_ne!(sign(&secret, "a", 1, "{}"), sign(&secret, "b", 1, "{}"));
    }
}
