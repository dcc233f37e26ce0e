//! Executions of approved revisions (a job any node claims under a lease,
//! resuming at `next_seq`) and the discrepancies they find.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::store::{insert_sql, numbered, Backend, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Execution {
    pub id: String,
    pub run_id: String,
    pub revision: i64,
    pub number: i64,
    pub state: String,
    pub stage: String,
    pub requested_by: String,
    pub created_at: i64,
    pub attempts: i64,
    pub lines_total: i64,
    pub next_seq: i64,
    pub settle_after: String,
    pub posted: i64,
    pub already_posted: i64,
    pub discrepancies: i64,
    pub payouts: i64,
    pub notices: i64,
    pub error: Option<String>,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, run_id, revision, number, state, stage, requested_by, created_at, \
     attempts, lines_total, next_seq, settle_after, posted, already_posted, discrepancies, \
     payouts, notices, error, finished_at";

fn execution(row: &AnyRow) -> Result<Execution, StoreError> {
    Ok(Execution {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        revision: row.try_get("revision")?,
        number: row.try_get("number")?,
        state: row.try_get("state")?,
        stage: row.try_get("stage")?,
        requested_by: row.try_get("requested_by")?,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get("attempts")?,
        lines_total: row.try_get("lines_total")?,
        next_seq: row.try_get("next_seq")?,
        settle_after: row.try_get("settle_after")?,
        posted: row.try_get("posted")?,
        already_posted: row.try_get("already_posted")?,
        discrepancies: row.try_get("discrepancies")?,
        payouts: row.try_get("payouts")?,
        notices: row.try_get("notices")?,
        error: row.try_get("error")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// Queues an execution of `revision`; its number is the run's next.
pub async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    run_id: &str,
    revision: i64,
    requested_by: &str,
    lines_total: i64,
    now: i64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO compensation_executions
             (id, run_id, revision, number, state, requested_by, created_at, lines_total)
         SELECT $1, $2, $3, COALESCE(MAX(number), 0) + 1, 'queued', $4, $5, $6
         FROM compensation_executions WHERE run_id = $2
         RETURNING number",
    )
    .bind(id)
    .bind(run_id)
    .bind(revision)
    .bind(requested_by)
    .bind(now)
    .bind(lines_total)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

/// Claims the oldest queued execution, or a running one whose lease ran out.
pub async fn claim(
    store: &Store,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Execution>, StoreError> {
    let lock = match store.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "UPDATE compensation_executions
         SET state = 'running', locked_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM compensation_executions
                      WHERE state = 'queued' OR (state = 'running' AND locked_until < $1)
                      ORDER BY created_at, id LIMIT 1 {lock})
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(now + lease_ms)
    .fetch_optional(store.pool())
    .await?
    .map(|row| execution(&row))
    .transpose()
}

/// Inside a write transaction: extends the lease of the execution attempt
/// `attempt` holds and reads it back; `None` when it is no longer that
/// attempt's (another node claimed it after a stall). Every batch starts
/// here, so a stale worker writes nothing.
pub async fn hold(
    conn: &mut AnyConnection,
    id: &str,
    attempt: i64,
    locked_until: i64,
) -> Result<Option<Execution>, StoreError> {
    sqlx::query(&format!(
        "UPDATE compensation_executions SET locked_until = $3
         WHERE id = $1 AND attempts = $2 AND state = 'running'
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(attempt)
    .bind(locked_until)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| execution(&row))
    .transpose()
}

/// How far the posting got: the next line to read and the counts so far.
pub async fn advance(
    conn: &mut AnyConnection,
    id: &str,
    next_seq: i64,
    posted: i64,
    already: i64,
    discrepancies: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE compensation_executions SET next_seq = $2, posted = posted + $3,
             already_posted = already_posted + $4, discrepancies = discrepancies + $5
         WHERE id = $1",
    )
    .bind(id)
    .bind(next_seq)
    .bind(posted)
    .bind(already)
    .bind(discrepancies)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves to the settling stage (payouts and notices), or records how far it got.
pub async fn settled_up_to(
    conn: &mut AnyConnection,
    id: &str,
    customer: &str,
    payouts: i64,
    notices: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE compensation_executions SET stage = 'settling', settle_after = $2,
             payouts = payouts + $3, notices = notices + $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(customer)
    .bind(payouts)
    .bind(notices)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn finish(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    error: Option<&str>,
    discrepancies: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE compensation_executions SET state = $2, stage = 'done', error = $3,
             discrepancies = discrepancies + $4, finished_at = $5, locked_until = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(error)
    .bind(discrepancies)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Execution>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM compensation_executions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .map(|row| execution(&row))
    .transpose()
}

/// A run's executions, newest first.
pub async fn of_run(store: &Store, run_id: &str) -> Result<Vec<Execution>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM compensation_executions WHERE run_id = $1 ORDER BY number DESC"
    ))
    .bind(run_id)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(execution)
    .collect()
}

/// Whether the run has an execution queued or running.
pub async fn active(conn: &mut AnyConnection, run_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "SELECT 1 FROM compensation_executions WHERE run_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(run_id)
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// A revision's lines from `seq` on, at most `limit`, in --details order.
pub async fn lines_from(
    conn: &mut AnyConnection,
    run_id: &str,
    revision: i64,
    seq: i64,
    limit: i64,
) -> Result<Vec<(i64, crate::store::compensation::StoredLine)>, StoreError> {
    sqlx::query(&format!(
        "SELECT seq, position, rule, customer_id, reference, amount_minor, currency
         FROM compensation_lines WHERE run_id = $1 AND revision = $2 AND seq >= $3
         ORDER BY seq LIMIT {}",
        limit.max(1)
    ))
    .bind(run_id)
    .bind(revision)
    .bind(seq)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok((
            row.try_get("seq")?,
            crate::store::compensation::StoredLine {
                position: row.try_get("position")?,
                rule: row.try_get("rule")?,
                customer_id: row.try_get("customer_id")?,
                reference: row.try_get("reference")?,
                amount_minor: row.try_get("amount_minor")?,
                currency: row.try_get("currency")?,
            },
        ))
    })
    .collect()
}

// ------------------------------------------------------------ discrepancies

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Discrepancy {
    pub run_id: String,
    pub position: i64,
    pub customer_id: String,
    pub reference: String,
    pub rule: String,
    pub currency: String,
    pub posted_minor: i64,
    /// `None`: the newest revision has no such line.
    pub newest_minor: Option<i64>,
    pub revision: i64,
    pub found_at: i64,
    pub requested_by: Option<String>,
    pub requested_email: Option<String>,
    pub requested_at: Option<i64>,
    pub settled_by: Option<String>,
    pub settled_at: Option<i64>,
    pub adjustment_id: Option<String>,
}

impl Discrepancy {
    /// What an adjustment must post: newest minus posted.
    pub fn difference(&self) -> i64 {
        self.newest_minor.unwrap_or(0) - self.posted_minor
    }
}

const DISCREPANCY_COLUMNS: [&str; 10] = [
    "run_id",
    "position",
    "customer_id",
    "reference",
    "rule",
    "currency",
    "posted_minor",
    "newest_minor",
    "revision",
    "found_at",
];

fn discrepancy(row: &AnyRow) -> Result<Discrepancy, StoreError> {
    Ok(Discrepancy {
        run_id: row.try_get("run_id")?,
        position: row.try_get("position")?,
        customer_id: row.try_get("customer_id")?,
        reference: row.try_get("reference")?,
        rule: row.try_get("rule")?,
        currency: row.try_get("currency")?,
        posted_minor: row.try_get("posted_minor")?,
        newest_minor: row.try_get("newest_minor")?,
        revision: row.try_get("revision")?,
        found_at: row.try_get("found_at")?,
        requested_by: row.try_get("requested_by")?,
        requested_email: row.try_get("requested_email")?,
        requested_at: row.try_get("requested_at")?,
        settled_by: row.try_get("settled_by")?,
        settled_at: row.try_get("settled_at")?,
        adjustment_id: row.try_get("adjustment_id")?,
    })
}

/// Records discrepancies found by an execution; one found again replaces
/// the old finding (and any adjustment asked for on it).
pub async fn upsert_discrepancies(
    conn: &mut AnyConnection,
    found: &[Discrepancy],
) -> Result<(), StoreError> {
    let numbered = numbered(conn);
    for chunk in found.chunks(500) {
        let mut sql = insert_sql(
            "ledger_discrepancies",
            &DISCREPANCY_COLUMNS,
            chunk.len(),
            numbered,
        );
        sql.push_str(
            " ON CONFLICT (run_id, position, customer_id, reference) DO UPDATE SET
                 rule = excluded.rule, currency = excluded.currency,
                 posted_minor = excluded.posted_minor, newest_minor = excluded.newest_minor,
                 revision = excluded.revision, found_at = excluded.found_at,
                 requested_by = NULL, requested_email = NULL, requested_at = NULL,
                 settled_by = NULL, settled_at = NULL, adjustment_id = NULL",
        );
        let mut q = sqlx::query(&sql);
        for d in chunk {
            q = q
                .bind(d.run_id.as_str())
                .bind(d.position)
                .bind(d.customer_id.as_str())
                .bind(d.reference.as_str())
                .bind(d.rule.as_str())
                .bind(d.currency.as_str())
                .bind(d.posted_minor)
                .bind(d.newest_minor)
                .bind(d.revision)
                .bind(d.found_at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Forgets a run's open findings: a new execution finds them again.
pub async fn clear_open(conn: &mut AnyConnection, run_id: &str) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM ledger_discrepancies WHERE run_id = $1 AND settled_at IS NULL")
            .bind(run_id)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

/// A run's discrepancies, open ones first, in --details order.
pub async fn discrepancies(
    conn: &mut AnyConnection,
    run_id: &str,
) -> Result<Vec<Discrepancy>, StoreError> {
    sqlx::query(
        "SELECT * FROM ledger_discrepancies WHERE run_id = $1
         ORDER BY CASE WHEN settled_at IS NULL THEN 0 ELSE 1 END, position, customer_id, reference",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(discrepancy)
    .collect()
}

pub async fn discrepancy_for_update(
    conn: &mut AnyConnection,
    run_id: &str,
    position: i64,
    customer_id: &str,
    reference: &str,
) -> Result<Option<Discrepancy>, StoreError> {
    sqlx::query(
        "SELECT * FROM ledger_discrepancies
         WHERE run_id = $1 AND position = $2 AND customer_id = $3 AND reference = $4",
    )
    .bind(run_id)
    .bind(position)
    .bind(customer_id)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| discrepancy(&row))
    .transpose()
}

/// Records who asked for an adjustment, or (with `settled`) who approved it.
pub async fn mark_discrepancy(
    conn: &mut AnyConnection,
    d: &Discrepancy,
    requested: Option<(&str, &str, i64)>,
    settled: Option<(&str, i64, &str)>,
) -> Result<(), StoreError> {
    let (rb, re, ra) =
        requested.map_or((None, None, None), |(a, b, c)| (Some(a), Some(b), Some(c)));
    let (sb, sa, adj) = settled.map_or((None, None, None), |(a, b, c)| (Some(a), Some(b), Some(c)));
    sqlx::query(
        "UPDATE ledger_discrepancies SET
             requested_by = COALESCE($5, requested_by), requested_email = COALESCE($6, requested_email),
             requested_at = COALESCE($7, requested_at),
             settled_by = $8, settled_at = $9, adjustment_id = $10
         WHERE run_id = $1 AND position = $2 AND customer_id = $3 AND reference = $4",
    )
    .bind(d.run_id.as_str())
    .bind(d.position)
    .bind(d.customer_id.as_str())
    .bind(d.reference.as_str())
    .bind(rb)
    .bind(re)
    .bind(ra)
    .bind(sb)
    .bind(sa)
    .bind(adj)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Line keys the run has posted that `revision` has no line for. Lines a
/// claim posted under the run's key (execution `claim-…`) are the claim's,
/// not a revision's: a run that never found them has not lost them.
pub async fn vanished(
    conn: &mut AnyConnection,
    run_id: &str,
    revision: i64,
) -> Result<Vec<(i64, String, String, String, String)>, StoreError> {
    sqlx::query(
        "SELECT t.position, t.customer_id, t.reference, t.rule, t.currency
         FROM ledger_transactions t
         WHERE t.run_id = $1 AND t.kind = 'line' AND t.execution_id NOT LIKE 'claim-%'
           AND NOT EXISTS (
             SELECT 1 FROM compensation_lines l
             WHERE l.run_id = t.run_id AND l.revision = $2 AND l.position = t.position
               AND l.customer_id = t.customer_id AND l.reference = t.reference)
         ORDER BY t.position, t.customer_id, t.reference",
    )
    .bind(run_id)
    .bind(revision)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok((
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
        ))
    })
    .collect()
}
