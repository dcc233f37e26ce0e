//! The `mailbox` table: Plaster's own inbox, where mail is delivered when
//! no SMTP server is configured, so the demo's mail can be read.

use crate::store::outbox::Outgoing;
use crate::store::{Store, StoreError};

/// Delivers a message into the mailbox. Keyed by Message-ID, so a retry
/// after a crash (same Message-ID) stores it once.
pub async fn deliver(
    store: &Store,
    message: &Outgoing,
    delivered_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mailbox (message_id, recipient, subject, body_text, body_html, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&message.message_id)
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.body_text)
    .bind(&message.body_html)
    .bind(delivered_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The newest message delivered to `recipient`: (subject, text, delivered at ms).
pub async fn newest_to(
    store: &Store,
    recipient: &str,
) -> Result<Option<(String, String, i64)>, StoreError> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT subject, body_text, delivered_at FROM mailbox WHERE recipient = $1
         ORDER BY delivered_at DESC, id DESC LIMIT 1",
    )
    .bind(recipient)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .transpose()
}
