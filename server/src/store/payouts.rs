//! Payouts, the batches they travel in, the operator's endpoint and
//! Plaster's own payout inbox.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::store::{insert_sql, numbered, Backend, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Payout {
    pub id: String,
    pub run_id: String,
    pub execution_id: String,
    pub customer_id: String,
    pub currency: String,
    pub amount_minor: i64,
    pub lines_json: String,
    pub state: String,
    pub batch_id: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

const COLUMNS: [&str; 10] = [
    "id",
    "run_id",
    "execution_id",
    "customer_id",
    "currency",
    "amount_minor",
    "lines_json",
    "state",
    "created_at",
    "batch_id",
];

fn payout(row: &AnyRow) -> Result<Payout, StoreError> {
    Ok(Payout {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        execution_id: row.try_get("execution_id")?,
        customer_id: row.try_get("customer_id")?,
        currency: row.try_get("currency")?,
        amount_minor: row.try_get("amount_minor")?,
        lines_json: row.try_get("lines_json")?,
        state: row.try_get("state")?,
        batch_id: row.try_get("batch_id")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        settled_at: row.try_get("settled_at")?,
    })
}

/// Inserts payouts; one whose id exists already (a restarted execution) is kept.
pub async fn insert(conn: &mut AnyConnection, payouts: &[Payout]) -> Result<u64, StoreError> {
    let numbered = numbered(conn);
    let mut n = 0;
    for chunk in payouts.chunks(500) {
        let mut sql = insert_sql("payouts", &COLUMNS[..9], chunk.len(), numbered);
        sql.push_str(" ON CONFLICT (id) DO NOTHING");
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(p.id.as_str())
                .bind(p.run_id.as_str())
                .bind(p.execution_id.as_str())
                .bind(p.customer_id.as_str())
                .bind(p.currency.as_str())
                .bind(p.amount_minor)
                .bind(p.lines_json.as_str())
                .bind(p.state.as_str())
                .bind(p.created_at);
        }
        n += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(n)
}

/// Up to `limit` payouts waiting for a batch, oldest first, locked on PostgreSQL.
pub async fn unbatched(
    conn: &mut AnyConnection,
    backend: Backend,
    limit: i64,
) -> Result<Vec<Payout>, StoreError> {
    // SQLite, with no statistics, prefers the equality index and sorts every
    // pending payout; it is told which index hands them over in order.
    let (index, lock) = match backend {
        Backend::Postgres => ("", " FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => (" INDEXED BY payouts_queue", ""),
    };
    sqlx::query(&format!(
        "SELECT * FROM payouts{index} WHERE state = 'pending' AND batch_id IS NULL
         ORDER BY created_at, id LIMIT {}{lock}",
        limit.max(1)
    ))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(payout)
    .collect()
}

/// Puts payouts into a batch.
pub async fn assign_batch(
    conn: &mut AnyConnection,
    ids: &[String],
    batch_id: &str,
) -> Result<(), StoreError> {
    for id in ids {
        sqlx::query("UPDATE payouts SET batch_id = $2, state = 'sent' WHERE id = $1")
            .bind(id.as_str())
            .bind(batch_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn insert_batch(
    conn: &mut AnyConnection,
    id: &str,
    body: &str,
    payouts: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payout_batches (id, body, payouts, state, next_attempt_at, created_at)
         VALUES ($1, $2, $3, 'pending', $4, $4)",
    )
    .bind(id)
    .bind(body)
    .bind(payouts)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: String,
    pub body: String,
    pub payouts: i64,
    pub attempts: i64,
}

/// Claims a due batch for `lease_ms`.
pub async fn claim_batch(
    store: &Store,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Batch>, StoreError> {
    let lock = match store.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "UPDATE payout_batches SET locked_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM payout_batches
                      WHERE state = 'pending' AND next_attempt_at <= $1
                        AND (locked_until IS NULL OR locked_until < $1)
                      ORDER BY next_attempt_at, id LIMIT 1 {lock})
         RETURNING id, body, payouts, attempts"
    ))
    .bind(now)
    .bind(now + lease_ms)
    .fetch_optional(store.pool())
    .await?
    .map(|row| {
        Ok(Batch {
            id: row.try_get("id")?,
            body: row.try_get("body")?,
            payouts: row.try_get("payouts")?,
            attempts: row.try_get("attempts")?,
        })
    })
    .transpose()
}

/// The batch was answered: it is done, wherever it went.
pub async fn batch_delivered(
    conn: &mut AnyConnection,
    id: &str,
    to: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE payout_batches SET state = 'delivered', delivered_to = $2, delivered_at = $3,
             locked_until = NULL, last_error = NULL
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(to)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// The batch failed; it is tried again at `next_attempt_at`.
pub async fn batch_failed(
    store: &Store,
    id: &str,
    error: &str,
    next_attempt_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE payout_batches SET last_error = $2, next_attempt_at = $3, locked_until = NULL
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(error)
    .bind(next_attempt_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

pub async fn in_batch(conn: &mut AnyConnection, batch_id: &str) -> Result<Vec<Payout>, StoreError> {
    sqlx::query("SELECT * FROM payouts WHERE batch_id = $1 ORDER BY id")
        .bind(batch_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(payout)
        .collect()
}

/// Marks a payout settled (the caller posts its ledger transaction).
pub async fn settle(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE payouts SET state = 'settled', settled_at = $2, reason = NULL
         WHERE id = $1 AND state <> 'settled'",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn reject(conn: &mut AnyConnection, id: &str, reason: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE payouts SET state = 'rejected', reason = $2 WHERE id = $1 AND state = 'sent'",
    )
    .bind(id)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A payout goes back to wait for a new batch (not answered, or sent again
/// after a rejection).
pub async fn release(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE payouts SET state = 'pending', batch_id = NULL
         WHERE id = $1 AND state IN ('sent', 'rejected')",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Payout>, StoreError> {
    sqlx::query("SELECT * FROM payouts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| payout(&row))
        .transpose()
}

/// A run's payouts in customer order (all, or those of one state).
pub async fn of_run(
    store: &Store,
    run_id: &str,
    state: Option<&str>,
) -> Result<Vec<Payout>, StoreError> {
    let filter = if state.is_some() {
        " AND state = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT * FROM payouts WHERE run_id = $1{filter} ORDER BY customer_id, currency, id"
    );
    let mut q = sqlx::query(&sql).bind(run_id);
    if let Some(s) = state {
        q = q.bind(s);
    }
    q.fetch_all(store.pool())
        .await?
        .iter()
        .map(payout)
        .collect()
}

/// Payouts per state and currency, of one run or of all: (state,
/// currency, count, sum).
pub async fn counts(
    store: &Store,
    run_id: Option<&str>,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    sqlx::query(
        "SELECT state, currency, COUNT(*), CAST(SUM(amount_minor) AS BIGINT) FROM payouts
         WHERE $1 IS NULL OR run_id = $1
         GROUP BY state, currency ORDER BY state, currency",
    )
    .bind(run_id)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| {
        Ok((
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        ))
    })
    .collect()
}

/// Payouts the endpoint rejected, oldest first, at most `limit`.
pub async fn rejected(store: &Store, limit: i64) -> Result<Vec<Payout>, StoreError> {
    sqlx::query(&format!(
        "SELECT * FROM payouts WHERE state = 'rejected' ORDER BY created_at, id LIMIT {}",
        limit.max(0)
    ))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(payout)
    .collect()
}

/// Batches still to deliver: (count, attempts of the most-tried, its last error).
pub async fn pending_batches(store: &Store) -> Result<(i64, i64, Option<String>), StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*), COALESCE(MAX(attempts), 0) FROM payout_batches WHERE state = 'pending'",
    )
    .fetch_one(store.pool())
    .await?;
    let error = sqlx::query(
        "SELECT last_error FROM payout_batches WHERE state = 'pending' AND last_error IS NOT NULL
         ORDER BY attempts DESC LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?
    .map(|r| r.try_get::<String, _>(0))
    .transpose()?;
    Ok((row.try_get(0)?, row.try_get(1)?, error))
}

// ---------------------------------------------------------------- endpoint

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub secret: String,
    pub updated_by: String,
    pub updated_at: i64,
}

pub async fn endpoint(store: &Store) -> Result<Option<Endpoint>, StoreError> {
    sqlx::query("SELECT url, secret, updated_by, updated_at FROM payout_endpoint WHERE id = 1")
        .fetch_optional(store.pool())
        .await?
        .map(|row| {
            Ok(Endpoint {
                url: row.try_get("url")?,
                secret: row.try_get("secret")?,
                updated_by: row.try_get("updated_by")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
}

pub async fn set_endpoint(conn: &mut AnyConnection, e: &Endpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payout_endpoint (id, url, secret, updated_by, updated_at)
         VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(e.url.as_str())
    .bind(e.secret.as_str())
    .bind(e.updated_by.as_str())
    .bind(e.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn clear_endpoint(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM payout_endpoint WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ------------------------------------------------------------------- inbox

pub async fn inbox_receive(
    conn: &mut AnyConnection,
    batch_id: &str,
    body: &str,
    payouts: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payout_inbox (batch_id, body, payouts, received_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (batch_id) DO NOTHING",
    )
    .bind(batch_id)
    .bind(body)
    .bind(payouts)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A batch in Plaster's inbox and how far marking it paid has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxBatch {
    pub batch_id: String,
    pub body: String,
    pub payouts: i64,
    pub received_at: i64,
    /// How it was paid, as the member who asked said.
    pub paid_note: Option<String>,
    pub paid_asked_by: Option<String>,
    pub paid_asked_email: Option<String>,
    pub paid_confirmed_at: Option<i64>,
}

const INBOX_COLUMNS: &str = "batch_id, body, payouts, received_at, paid_note, paid_asked_by, \
     paid_asked_email, paid_confirmed_at";

fn inbox_row(row: &sqlx::any::AnyRow) -> Result<InboxBatch, StoreError> {
    Ok(InboxBatch {
        batch_id: row.try_get(0)?,
        body: row.try_get(1)?,
        payouts: row.try_get(2)?,
        received_at: row.try_get(3)?,
        paid_note: row.try_get(4)?,
        paid_asked_by: row.try_get(5)?,
        paid_asked_email: row.try_get(6)?,
        paid_confirmed_at: row.try_get(7)?,
    })
}

/// The inbox, newest first.
pub async fn inbox(store: &Store, limit: i64) -> Result<Vec<InboxBatch>, StoreError> {
    sqlx::query(&format!(
        "SELECT {INBOX_COLUMNS} FROM payout_inbox
         ORDER BY received_at DESC, batch_id LIMIT {}",
        limit.max(0)
    ))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(inbox_row)
    .collect()
}

pub async fn inbox_batch(
    conn: &mut AnyConnection,
    batch_id: &str,
) -> Result<Option<InboxBatch>, StoreError> {
    sqlx::query(&format!(
        "SELECT {INBOX_COLUMNS} FROM payout_inbox WHERE batch_id = $1"
    ))
    .bind(batch_id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| inbox_row(&r))
    .transpose()
}

/// One member says the batch was paid by another channel; false when
/// someone asked first.
pub async fn ask_paid(
    conn: &mut AnyConnection,
    batch_id: &str,
    note: &str,
    by: &str,
    email: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE payout_inbox SET paid_note = $2, paid_asked_by = $3, paid_asked_email = $4,
             paid_asked_at = $5
         WHERE batch_id = $1 AND paid_asked_by IS NULL",
    )
    .bind(batch_id)
    .bind(note)
    .bind(by)
    .bind(email)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Another member confirms; false when the batch was confirmed already or
/// `by` is the one who asked.
pub async fn confirm_paid(
    conn: &mut AnyConnection,
    batch_id: &str,
    by: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE payout_inbox SET paid_confirmed_by = $2, paid_confirmed_at = $3
         WHERE batch_id = $1 AND paid_asked_by IS NOT NULL AND paid_asked_by <> $2
           AND paid_confirmed_by IS NULL",
    )
    .bind(batch_id)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// A customer's payouts, oldest first.
pub async fn of_customer(store: &Store, customer_id: &str) -> Result<Vec<Payout>, StoreError> {
    sqlx::query("SELECT * FROM payouts WHERE customer_id = $1 ORDER BY created_at, id")
        .bind(customer_id)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(payout)
        .collect()
}

/// The payout an execution made for a customer in a currency, if any.
pub async fn id_of(
    conn: &mut AnyConnection,
    execution_id: &str,
    customer_id: &str,
    currency: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM payouts WHERE execution_id = $1 AND customer_id = $2 AND currency = $3",
    )
    .bind(execution_id)
    .bind(customer_id)
    .bind(currency)
    .fetch_optional(&mut *conn)
    .await?)
}
