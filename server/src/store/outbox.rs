//! The outbox table: messages waiting to be sent, claimed by workers,
//! retried with backoff, given up on after a while and shown to admins.

use sqlx::{AnyConnection, Row};

use crate::store::{Backend, Store, StoreError};

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Deterministic where the cause is ("subscribe-…", "change-12-sub-…"),
    /// so queueing the same cause twice keeps one message.
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub unsubscribe_url: Option<String>,
}

/// `<id@domain>`: the same for every attempt, so a retry after a crash is
/// recognisably the same e-mail.
pub fn message_id(id: &str, domain: &str) -> String {
    format!("<{id}@{domain}>")
}

/// Queues a message inside the caller's transaction; false when a message
/// with this id was queued before.
pub async fn enqueue(
    conn: &mut AnyConnection,
    message: &NewMessage,
    domain: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO outbox (id, message_id, kind, recipient, subject, body_text, body_html,
                             unsubscribe_url, state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $9)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&message.id)
    .bind(message_id(&message.id, domain))
    .bind(&message.kind)
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.body_text)
    .bind(&message.body_html)
    .bind(message.unsubscribe_url.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Rows per multi-row INSERT: 9 parameters each stays under SQLite's
/// 999-parameter limit with room to spare.
const ROWS_PER_INSERT: usize = 100;

/// When messages of `kinds` were queued for `recipient` since `since_ms`,
/// oldest first: what the subscription form's limits count.
pub async fn queued_to_since(
    conn: &mut AnyConnection,
    recipient: &str,
    kinds: &[&str],
    since_ms: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut times = Vec::new();
    for kind in kinds {
        let rows = sqlx::query(
            "SELECT created_at FROM outbox WHERE recipient = $1 AND kind = $2 AND created_at >= $3",
        )
        .bind(recipient)
        .bind(*kind)
        .bind(since_ms)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            times.push(row.try_get::<i64, _>(0)?);
        }
    }
    times.sort_unstable();
    Ok(times)
}

/// Queues many messages with few statements; returns how many were new.
pub async fn enqueue_many(
    conn: &mut AnyConnection,
    messages: &[NewMessage],
    domain: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for chunk in messages.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'queued', 0, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8,
                    p + 9,
                    p + 9
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO outbox (id, message_id, kind, recipient, subject, body_text, body_html,
                                 unsubscribe_url, state, attempts, next_attempt_at, created_at)
             VALUES {} ON CONFLICT (id) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for m in chunk {
            query = query
                .bind(&m.id)
                .bind(message_id(&m.id, domain))
                .bind(&m.kind)
                .bind(&m.recipient)
                .bind(&m.subject)
                .bind(&m.body_text)
                .bind(&m.body_html)
                .bind(m.unsubscribe_url.as_deref())
                .bind(now);
        }
        inserted += usize::try_from(query.execute(&mut *conn).await?.rows_affected()).unwrap_or(0);
    }
    Ok(inserted)
}

/// A claimed message.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: String,
    pub message_id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub unsubscribe_url: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
}

fn outgoing(row: &sqlx::any::AnyRow) -> Result<Outgoing, StoreError> {
    Ok(Outgoing {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        kind: row.try_get("kind")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        body_text: row.try_get("body_text")?,
        body_html: row.try_get("body_html")?,
        unsubscribe_url: row.try_get("unsubscribe_url")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Takes up to `limit` due messages for `lease_ms`. On PostgreSQL, workers
/// on every node skip each other's rows (`FOR UPDATE SKIP LOCKED`); on
/// SQLite the write lock makes the claim atomic. A worker that dies leaves
/// its lease to expire, and the messages are claimed again.
pub async fn claim(
    store: &Store,
    now: i64,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<Outgoing>, StoreError> {
    let lock = match store.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = sqlx::query(&format!(
        "UPDATE outbox SET locked_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM outbox
                      WHERE state = 'queued' AND next_attempt_at <= $1
                        AND (locked_until IS NULL OR locked_until < $1)
                      ORDER BY next_attempt_at, id LIMIT $3 {lock})
         RETURNING id, message_id, kind, recipient, subject, body_text, body_html,
                   unsubscribe_url, attempts, created_at"
    ))
    .bind(now)
    .bind(now + lease_ms)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(outgoing).collect()
}

pub async fn mark_sent(
    conn: &mut AnyConnection,
    id: &str,
    reply: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $2, last_reply = $3, locked_until = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(reply)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Schedules another attempt, or gives up once the message is older than
/// `give_up_after_ms` (it then shows as failed to admins).
pub async fn mark_failed_attempt(
    conn: &mut AnyConnection,
    message: &Outgoing,
    reply: &str,
    now: i64,
    give_up_after_ms: i64,
) -> Result<bool, StoreError> {
    let give_up = now - message.created_at >= give_up_after_ms;
    let next = now + backoff_ms(message.attempts);
    sqlx::query(
        "UPDATE outbox SET state = $2, next_attempt_at = $3, last_reply = $4, locked_until = NULL
         WHERE id = $1",
    )
    .bind(&message.id)
    .bind(if give_up { "failed" } else { "queued" })
    .bind(next)
    .bind(reply)
    .execute(&mut *conn)
    .await?;
    Ok(give_up)
}

/// Exponential from one second, capped at ten minutes, with ±50 % jitter so
/// many messages failing together do not retry together.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    let base = (1_000_i64 << exp).min(600_000);
    let jitter = rand::random_range(0.5..1.5);
    (base as f64 * jitter) as i64
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
}

pub async fn counts(store: &Store) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for row in sqlx::query("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        .fetch_all(store.pool())
        .await?
    {
        let state: String = row.try_get(0)?;
        let n: i64 = row.try_get(1)?;
        match state.as_str() {
            "queued" => counts.queued = n,
            "sent" => counts.sent = n,
            "failed" => counts.failed = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// One line of the staff "Sent mail" view.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: String,
    pub message_id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub last_reply: Option<String>,
}

/// Newest first; `state` empty for all.
pub async fn list(store: &Store, state: &str, limit: i64) -> Result<Vec<Listed>, StoreError> {
    sqlx::query(
        "SELECT id, message_id, kind, recipient, subject, state, attempts, created_at, sent_at, last_reply
         FROM outbox WHERE ($1 = '' OR state = $1) ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(state)
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| {
        Ok(Listed {
            id: row.try_get("id")?,
            message_id: row.try_get("message_id")?,
            kind: row.try_get("kind")?,
            recipient: row.try_get("recipient")?,
            subject: row.try_get("subject")?,
            state: row.try_get("state")?,
            attempts: row.try_get("attempts")?,
            created_at: row.try_get("created_at")?,
            sent_at: row.try_get("sent_at")?,
            last_reply: row.try_get("last_reply")?,
        })
    })
    .collect()
}

/// One message's bodies, for the viewer.
pub async fn bodies(
    store: &Store,
    id: &str,
) -> Result<Option<(String, String, String)>, StoreError> {
    sqlx::query("SELECT subject, body_text, body_html FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        for _ in 0..100 {
            let first = backoff_ms(1);
            assert!((500..=1_500).contains(&first), "{first}");
            let late = backoff_ms(30);
            assert!((300_000..=900_000).contains(&late), "{late}");
        }
        assert!(backoff_ms(5) > backoff_ms(1) / 2);
    }
}
