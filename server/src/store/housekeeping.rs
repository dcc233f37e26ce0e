//! Rows that have served their purpose (#15.7): expired staff and customer
//! sessions, sign-in attempts past their window, and delivered or given-up
//! mail past its keeping time. Queued mail is never touched, and a notice's
//! row outlives any execution that could queue it again by far.

use crate::store::{Store, StoreError};

/// Sent mail stays readable in the console (and its id blocks a second
/// copy) this long.
pub const SENT_MAIL_KEPT_MS: i64 = 90 * 24 * 3_600_000;
/// Longer than any throttle window counts back.
pub const ATTEMPTS_KEPT_MS: i64 = 24 * 3_600_000;

/// How many rows one purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub staff_sessions: u64,
    pub customer_sessions: u64,
    pub sign_in_attempts: u64,
    pub mail: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.staff_sessions + self.customer_sessions + self.sign_in_attempts + self.mail
    }
}

/// Removes what is past its time at `now_ms`, a statement per table (each
/// its own short write, so a purge never holds SQLite's lock for long).
pub async fn purge(store: &Store, now_ms: i64) -> Result<Purged, StoreError> {
    let run = |sql: &'static str, before: i64| async move {
        Ok::<u64, StoreError>(
            sqlx::query(sql)
                .bind(before)
                .execute(store.pool())
                .await?
                .rows_affected(),
        )
    };
    Ok(Purged {
        staff_sessions: run("DELETE FROM staff_sessions WHERE expires_at < $1", now_ms).await?,
        customer_sessions: run(
            "DELETE FROM customer_sessions WHERE expires_at < $1",
            now_ms,
        )
        .await?,
        sign_in_attempts: run(
            "DELETE FROM login_failures WHERE failed_at < $1",
            now_ms - ATTEMPTS_KEPT_MS,
        )
        .await?,
        mail: run(
            "DELETE FROM outbox WHERE state IN ('sent', 'failed') AND created_at < $1",
            now_ms - SENT_MAIL_KEPT_MS,
        )
        .await?,
    })
}
