//! The tables of compensation runs: runs, their editors and log files, the
//! stored log contents, preview jobs, revisions and their lines.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::store::{insert_sql, numbered, Backend, Store, StoreError};

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: String,
    pub incident_id: String,
    pub plan_toml: String,
    pub state: String,
    pub inputs_version: i64,
    pub created_by: String,
    pub created_by_email: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub approved_revision: Option<i64>,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

const RUN_COLUMNS: &str = "id, incident_id, plan_toml, state, inputs_version, created_by, \
     created_by_email, created_at, updated_at, approved_revision, approved_by, approved_at";

fn run_record(row: &AnyRow) -> Result<RunRecord, StoreError> {
    Ok(RunRecord {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        plan_toml: row.try_get("plan_toml")?,
        state: row.try_get("state")?,
        inputs_version: row.try_get("inputs_version")?,
        created_by: row.try_get("created_by")?,
        created_by_email: row.try_get("created_by_email")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        approved_revision: row.try_get("approved_revision")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: row.try_get("approved_at")?,
    })
}

/// Whether a run with this id exists (plan ids are unique across runs).
pub async fn run_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM compensation_runs WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

pub async fn insert_run(conn: &mut AnyConnection, run: &RunRecord) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO compensation_runs ({RUN_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL)"
    ))
    .bind(&run.id)
    .bind(&run.incident_id)
    .bind(&run.plan_toml)
    .bind(&run.state)
    .bind(run.inputs_version)
    .bind(&run.created_by)
    .bind(&run.created_by_email)
    .bind(run.created_at)
    .bind(run.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn run(conn: &mut AnyConnection, id: &str) -> Result<Option<RunRecord>, StoreError> {
    sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM compensation_runs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| run_record(&row))
    .transpose()
}

/// The run, locked for the rest of the transaction on PostgreSQL (SQLite's
/// write transaction holds the whole database already).
pub async fn run_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM compensation_runs WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| run_record(&row))
    .transpose()
}

/// Newest first.
pub async fn runs(store: &Store) -> Result<Vec<RunRecord>, StoreError> {
    sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM compensation_runs ORDER BY created_at DESC, id"
    ))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(run_record)
    .collect()
}

/// A state move, with the approval columns as given (cleared by passing `None`).
pub struct RunUpdate<'a> {
    pub state: &'a str,
    pub inputs_version: i64,
    pub plan_toml: &'a str,
    pub approved_revision: Option<i64>,
    pub approved_by: Option<&'a str>,
    pub approved_at: Option<i64>,
    pub now: i64,
}

pub async fn update_run(
    conn: &mut AnyConnection,
    id: &str,
    update: &RunUpdate<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE compensation_runs SET state = $2, inputs_version = $3, plan_toml = $4,
             approved_revision = $5, approved_by = $6, approved_at = $7, updated_at = $8
         WHERE id = $1",
    )
    .bind(id)
    .bind(update.state)
    .bind(update.inputs_version)
    .bind(update.plan_toml)
    .bind(update.approved_revision)
    .bind(update.approved_by)
    .bind(update.approved_at)
    .bind(update.now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves a run to `state` with its inputs as they are; any approval is
/// cleared (every move but an approval ends one).
pub async fn move_run(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE compensation_runs SET state = $2, approved_revision = NULL, approved_by = NULL,
             approved_at = NULL, updated_at = $3
         WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn add_editor(
    conn: &mut AnyConnection,
    run_id: &str,
    account_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO compensation_run_editors (run_id, account_id) VALUES ($1, $2)
         ON CONFLICT (run_id, account_id) DO NOTHING",
    )
    .bind(run_id)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records `account_id` as an editor of every run that a later preview
/// may still compute and approve: a customer or subscription import changes
/// what those previews read, so its author approves none of them.
pub async fn add_editor_to_open_runs(
    conn: &mut AnyConnection,
    account_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO compensation_run_editors (run_id, account_id)
         SELECT id, $1 FROM compensation_runs WHERE state IN ('draft', 'previewing', 'previewed', 'approved')
         ON CONFLICT (run_id, account_id) DO NOTHING",
    )
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn is_editor(
    conn: &mut AnyConnection,
    run_id: &str,
    account_id: &str,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM compensation_run_editors WHERE run_id = $1 AND account_id = $2")
            .bind(run_id)
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

// ---------------------------------------------------------------- log files

/// A log file attached to a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunLog {
    pub name: String,
    pub bytes: i64,
    pub sha256: String,
    pub added_by: String,
    pub added_at: i64,
}

/// Whether the content is already stored whole.
pub async fn blob_is_complete(store: &Store, sha256: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM log_blobs WHERE sha256 = $1 AND complete = 1")
            .bind(sha256)
            .fetch_optional(store.pool())
            .await?
            .is_some(),
    )
}

/// Starts (or restarts) storing a content: an incomplete earlier attempt's
/// chunks are dropped, since they may stop anywhere.
pub async fn begin_blob(
    store: &Store,
    sha256: &str,
    bytes: i64,
    chunks: i64,
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO log_blobs (sha256, bytes, chunks, complete, created_at)
         VALUES ($1, $2, $3, 0, $4) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(bytes)
    .bind(chunks)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM log_chunks WHERE sha256 = $1
           AND EXISTS (SELECT 1 FROM log_blobs WHERE sha256 = $1 AND complete = 0)",
    )
    .bind(sha256)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn insert_chunk(
    store: &Store,
    sha256: &str,
    seq: i64,
    data: Vec<u8>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO log_chunks (sha256, seq, data) VALUES ($1, $2, $3)
         ON CONFLICT (sha256, seq) DO NOTHING",
    )
    .bind(sha256)
    .bind(seq)
    .bind(data)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Marks a content whole once every chunk is in; refuses a count that does not add up.
pub async fn complete_blob(store: &Store, sha256: &str) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT b.chunks, (SELECT COUNT(*) FROM log_chunks c WHERE c.sha256 = b.sha256) AS n
         FROM log_blobs b WHERE b.sha256 = $1",
    )
    .bind(sha256)
    .fetch_one(store.pool())
    .await?;
    let expected = row.try_get::<i64, _>("chunks")?;
    let stored: i64 = row.try_get("n")?;
    if expected != stored {
        return Err(StoreError::Corrupt(format!(
            "log {sha256}: {stored} of {expected} chunks stored"
        )));
    }
    sqlx::query("UPDATE log_blobs SET complete = 1 WHERE sha256 = $1")
        .bind(sha256)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The number of chunks of a complete content.
pub async fn blob_chunks(store: &Store, sha256: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT chunks FROM log_blobs WHERE sha256 = $1 AND complete = 1")
        .bind(sha256)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("log {sha256} is not stored whole")))?;
    Ok(row.try_get::<i64, _>(0)?)
}

pub async fn chunk(store: &Store, sha256: &str, seq: i64) -> Result<Vec<u8>, StoreError> {
    let row = sqlx::query("SELECT data FROM log_chunks WHERE sha256 = $1 AND seq = $2")
        .bind(sha256)
        .bind(seq)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("log {sha256}: chunk {seq} is missing")))?;
    Ok(row.try_get(0)?)
}

/// Attaches a stored content to a run; `false` when the run has it already.
pub async fn attach_log(
    conn: &mut AnyConnection,
    run_id: &str,
    log: &RunLog,
) -> Result<bool, StoreError> {
    // The caller holds the run's lock, so positions cannot collide.
    let done = sqlx::query(
        "INSERT INTO compensation_run_logs (run_id, position, sha256, name, bytes, added_by, added_at)
         SELECT $1, COALESCE(MAX(position), 0) + 1, $2, $3, $4, $5, $6
         FROM compensation_run_logs WHERE run_id = $1
         ON CONFLICT (run_id, sha256) DO NOTHING",
    )
    .bind(run_id)
    .bind(&log.sha256)
    .bind(&log.name)
    .bind(log.bytes)
    .bind(&log.added_by)
    .bind(log.added_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// In the order they were added.
pub async fn run_logs(conn: &mut AnyConnection, run_id: &str) -> Result<Vec<RunLog>, StoreError> {
    sqlx::query(
        "SELECT name, bytes, sha256, added_by, added_at FROM compensation_run_logs
         WHERE run_id = $1 ORDER BY position",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(RunLog {
            name: row.try_get("name")?,
            bytes: row.try_get("bytes")?,
            sha256: row.try_get("sha256")?,
            added_by: row.try_get("added_by")?,
            added_at: row.try_get("added_at")?,
        })
    })
    .collect()
}

// ------------------------------------------------------------ preview jobs

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewJob {
    pub id: String,
    pub run_id: String,
    pub inputs_version: i64,
    pub state: String,
    pub requested_by: String,
    pub created_at: i64,
    pub attempts: i64,
    pub bytes_total: i64,
    pub bytes_done: i64,
    pub records_done: i64,
    pub error: Option<String>,
    pub revision: Option<i64>,
    pub finished_at: Option<i64>,
}

const JOB_COLUMNS: &str = "id, run_id, inputs_version, state, requested_by, created_at, attempts, \
     bytes_total, bytes_done, records_done, error, revision, finished_at";

fn job(row: &AnyRow) -> Result<PreviewJob, StoreError> {
    Ok(PreviewJob {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        inputs_version: row.try_get("inputs_version")?,
        state: row.try_get("state")?,
        requested_by: row.try_get("requested_by")?,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get("attempts")?,
        bytes_total: row.try_get("bytes_total")?,
        bytes_done: row.try_get("bytes_done")?,
        records_done: row.try_get("records_done")?,
        error: row.try_get("error")?,
        revision: row.try_get("revision")?,
        finished_at: row.try_get("finished_at")?,
    })
}

pub async fn insert_preview(
    conn: &mut AnyConnection,
    id: &str,
    run_id: &str,
    inputs_version: i64,
    requested_by: &str,
    bytes_total: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO compensation_previews
             (id, run_id, inputs_version, state, requested_by, created_at, bytes_total)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6)",
    )
    .bind(id)
    .bind(run_id)
    .bind(inputs_version)
    .bind(requested_by)
    .bind(now)
    .bind(bytes_total)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Claims the oldest queued job, or a running one whose lease ran out (its
/// node died), for `lease_ms`.
pub async fn claim_preview(
    store: &Store,
    now: i64,
    lease_ms: i64,
) -> Result<Option<PreviewJob>, StoreError> {
    let lock = match store.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "UPDATE compensation_previews
         SET state = 'running', locked_until = $2, attempts = attempts + 1,
             bytes_done = 0, records_done = 0
         WHERE id IN (SELECT id FROM compensation_previews
                      WHERE state = 'queued' OR (state = 'running' AND locked_until < $1)
                      ORDER BY created_at, id LIMIT 1 {lock})
         RETURNING {JOB_COLUMNS}"
    ))
    .bind(now)
    .bind(now + lease_ms)
    .fetch_optional(store.pool())
    .await?
    .map(|row| job(&row))
    .transpose()
}

/// Extends the lease of a job this worker holds (attempt `attempt`) and
/// records its progress. `false` when the job is no longer this worker's to
/// finish: cancelled, or claimed again after the lease ran out.
pub async fn heartbeat(
    store: &Store,
    id: &str,
    attempt: i64,
    locked_until: i64,
    bytes_done: i64,
    records_done: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE compensation_previews SET locked_until = $3, bytes_done = $4, records_done = $5
         WHERE id = $1 AND attempts = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(attempt)
    .bind(locked_until)
    .bind(bytes_done)
    .bind(records_done)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a job held by attempt `attempt`; `false` when it was not that attempt's.
pub async fn finish_preview(
    conn: &mut AnyConnection,
    id: &str,
    attempt: i64,
    state: &str,
    error: Option<&str>,
    revision: Option<i64>,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE compensation_previews
         SET state = $3, error = $4, revision = $5, finished_at = $6, locked_until = NULL,
             bytes_done = bytes_total
         WHERE id = $1 AND attempts = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(attempt)
    .bind(state)
    .bind(error)
    .bind(revision)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels the run's queued or running preview; `true` when there was one.
pub async fn cancel_previews(
    conn: &mut AnyConnection,
    run_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE compensation_previews SET state = 'cancelled', error = $2, finished_at = $3,
             locked_until = NULL
         WHERE run_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(run_id)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn preview_job(store: &Store, id: &str) -> Result<Option<PreviewJob>, StoreError> {
    sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM compensation_previews WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .map(|row| job(&row))
    .transpose()
}

/// The run's newest preview job, whatever its state.
pub async fn latest_preview(store: &Store, run_id: &str) -> Result<Option<PreviewJob>, StoreError> {
    sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM compensation_previews WHERE run_id = $1
         ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(run_id)
    .fetch_optional(store.pool())
    .await?
    .map(|row| job(&row))
    .transpose()
}

// --------------------------------------------------------------- revisions

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    pub run_id: String,
    pub revision: i64,
    pub inputs_version: i64,
    pub plan_toml: String,
    pub report_json: String,
    pub digest: String,
    pub lines: i64,
    pub customers: i64,
    pub failures_json: String,
    pub created_by: String,
    pub created_at: i64,
    /// What the preview read of the customer and subscription tables.
    pub reference_digest: String,
    pub reference_rows: i64,
}

const REVISION_COLUMNS: &str = "run_id, revision, inputs_version, plan_toml, report_json, digest, \
     lines, customers, failures_json, created_by, created_at, reference_digest, reference_rows";

fn revision_record(row: &AnyRow) -> Result<RevisionRecord, StoreError> {
    Ok(RevisionRecord {
        run_id: row.try_get("run_id")?,
        revision: row.try_get("revision")?,
        inputs_version: row.try_get("inputs_version")?,
        plan_toml: row.try_get("plan_toml")?,
        report_json: row.try_get("report_json")?,
        digest: row.try_get("digest")?,
        lines: row.try_get("lines")?,
        customers: row.try_get("customers")?,
        failures_json: row.try_get("failures_json")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        reference_digest: row.try_get("reference_digest")?,
        reference_rows: row.try_get("reference_rows")?,
    })
}

pub async fn insert_revision(
    conn: &mut AnyConnection,
    r: &RevisionRecord,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO compensation_revisions ({REVISION_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&r.run_id)
    .bind(r.revision)
    .bind(r.inputs_version)
    .bind(&r.plan_toml)
    .bind(&r.report_json)
    .bind(&r.digest)
    .bind(r.lines)
    .bind(r.customers)
    .bind(&r.failures_json)
    .bind(&r.created_by)
    .bind(r.created_at)
    .bind(&r.reference_digest)
    .bind(r.reference_rows)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Newest first.
pub async fn revisions(
    conn: &mut AnyConnection,
    run_id: &str,
) -> Result<Vec<RevisionRecord>, StoreError> {
    sqlx::query(&format!(
        "SELECT {REVISION_COLUMNS} FROM compensation_revisions WHERE run_id = $1
         ORDER BY revision DESC"
    ))
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(revision_record)
    .collect()
}

/// A line of a revision as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub position: i64,
    pub rule: String,
    pub customer_id: String,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
}

const LINE_COLUMNS: [&str; 9] = [
    "run_id",
    "revision",
    "seq",
    "position",
    "rule",
    "customer_id",
    "reference",
    "amount_minor",
    "currency",
];
/// 9 parameters a row: far below SQLite's 32766 per statement.
const LINE_BATCH: usize = 500;

/// Writes a revision's lines, `first_seq` numbering them in the order given.
pub async fn insert_lines(
    conn: &mut AnyConnection,
    run_id: &str,
    revision: i64,
    lines: &[StoredLine],
) -> Result<(), StoreError> {
    let numbered = numbered(conn);
    for (batch_no, batch) in lines.chunks(LINE_BATCH).enumerate() {
        let sql = insert_sql("compensation_lines", &LINE_COLUMNS, batch.len(), numbered);
        let mut query = sqlx::query(&sql);
        for (i, l) in batch.iter().enumerate() {
            query = query
                .bind(run_id)
                .bind(revision)
                .bind((batch_no * LINE_BATCH + i) as i64)
                .bind(l.position)
                .bind(l.rule.as_str())
                .bind(l.customer_id.as_str())
                .bind(l.reference.as_str())
                .bind(l.amount_minor)
                .bind(l.currency.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

fn stored_line(row: &AnyRow) -> Result<StoredLine, StoreError> {
    Ok(StoredLine {
        position: row.try_get("position")?,
        rule: row.try_get("rule")?,
        customer_id: row.try_get("customer_id")?,
        reference: row.try_get("reference")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
    })
}

/// Which lines of a revision to read.
pub enum LineFilter<'a> {
    /// Every line, in --details order.
    All,
    /// One customer's, in --details order.
    Customer(&'a str),
    /// The `n` largest amounts.
    Largest(i64),
}

pub async fn lines(
    store: &Store,
    run_id: &str,
    revision: i64,
    filter: LineFilter<'_>,
) -> Result<Vec<StoredLine>, StoreError> {
    let base = "SELECT position, rule, customer_id, reference, amount_minor, currency
                FROM compensation_lines WHERE run_id = $1 AND revision = $2";
    let (sql, customer) = match filter {
        LineFilter::All => (format!("{base} ORDER BY seq"), None),
        LineFilter::Customer(c) => (
            format!("{base} AND customer_id = $3 ORDER BY seq"),
            Some(c.to_string()),
        ),
        LineFilter::Largest(n) => (
            format!("{base} ORDER BY amount_minor DESC, seq LIMIT {}", n.max(0)),
            None,
        ),
    };
    let mut query = sqlx::query(&sql).bind(run_id).bind(revision);
    if let Some(c) = customer {
        query = query.bind(c);
    }
    query
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(stored_line)
        .collect()
}

/// How many lines of a revision have each amount, per currency: the
/// distribution chart's input (few distinct amounts even in big runs).
pub async fn amount_counts(
    store: &Store,
    run_id: &str,
    revision: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    sqlx::query(
        "SELECT currency, amount_minor, COUNT(*) FROM compensation_lines
         WHERE run_id = $1 AND revision = $2
         GROUP BY currency, amount_minor ORDER BY currency, amount_minor",
    )
    .bind(run_id)
    .bind(revision)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
    .collect()
}

/// Moves a run to `state` keeping its approval: `approved → executing →
/// executed` all concern the approved revision.
pub async fn set_state(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE compensation_runs SET state = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
