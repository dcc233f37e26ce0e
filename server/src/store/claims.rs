//! `claims` and `claim_limits`: customers' claims, support's decisions,
//! and what support may give per incident and currency.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::store::{Backend, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claim {
    pub id: String,
    pub customer_id: String,
    pub incident_id: String,
    pub kind: String,
    pub bet_id: String,
    pub happened_at: Option<i64>,
    pub description: String,
    pub screenshot_type: Option<String>,
    pub state: String,
    pub assigned_to: Option<String>,
    pub assigned_email: Option<String>,
    pub decision: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub transaction_id: Option<String>,
    pub payout_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, customer_id, incident_id, kind, bet_id, happened_at, description, \
     screenshot_type, state, assigned_to, assigned_email, decision, amount_minor, currency, reason, \
     decided_by, decided_at, approved_by, approved_at, transaction_id, payout_id, created_at, updated_at";

fn claim(row: &AnyRow) -> Result<Claim, StoreError> {
    Ok(Claim {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        incident_id: row.try_get("incident_id")?,
        kind: row.try_get("kind")?,
        bet_id: row.try_get("bet_id")?,
        happened_at: row.try_get("happened_at")?,
        description: row.try_get("description")?,
        screenshot_type: row.try_get("screenshot_type")?,
        state: row.try_get("state")?,
        assigned_to: row.try_get("assigned_to")?,
        assigned_email: row.try_get("assigned_email")?,
        decision: row.try_get("decision")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        reason: row.try_get("reason")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: row.try_get("approved_at")?,
        transaction_id: row.try_get("transaction_id")?,
        payout_id: row.try_get("payout_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A claim as filed.
pub struct NewClaim<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub incident_id: &'a str,
    pub kind: &'a str,
    pub bet_id: &'a str,
    pub happened_at: Option<i64>,
    pub description: &'a str,
    pub screenshot: Option<(&'a str, Vec<u8>)>,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, c: NewClaim<'_>) -> Result<(), StoreError> {
    let (kind, bytes) = match c.screenshot {
        Some((k, b)) => (Some(k.to_string()), Some(b)),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO claims (id, customer_id, incident_id, kind, bet_id, happened_at, description,
                             screenshot_type, screenshot, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $10)",
    )
    .bind(c.id)
    .bind(c.customer_id)
    .bind(c.incident_id)
    .bind(c.kind)
    .bind(c.bet_id)
    .bind(c.happened_at)
    .bind(c.description)
    .bind(kind)
    .bind(bytes)
    .bind(c.now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Claim>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM claims WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| claim(&r))
        .transpose()
}

/// The claim, locked on PostgreSQL for the decision being written.
pub async fn for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &str,
) -> Result<Option<Claim>, StoreError> {
    let lock = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    sqlx::query(&format!("SELECT {COLUMNS} FROM claims WHERE id = $1{lock}"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| claim(&r))
        .transpose()
}

pub async fn screenshot(store: &Store, id: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    sqlx::query(
        "SELECT screenshot_type, screenshot FROM claims WHERE id = $1 AND screenshot IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .transpose()
}

pub async fn of_customer(store: &Store, customer_id: &str) -> Result<Vec<Claim>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM claims WHERE customer_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(customer_id)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(claim)
    .collect()
}

/// What the queue shows: filters on state, incident, kind and who has it.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Empty: open and awaiting finance.
    pub state: String,
    pub incident: String,
    pub kind: String,
    /// `mine`, `unassigned` or empty.
    pub assigned: String,
}

/// Claims oldest first, at most `limit`, with how many match in all.
pub async fn queue(
    store: &Store,
    f: &QueueFilter,
    me: &str,
    limit: i64,
) -> Result<(Vec<Claim>, i64), StoreError> {
    let where_ = "WHERE (($1 = '' AND state IN ('open', 'awaiting_finance')) OR state = $1)
           AND ($2 = '' OR incident_id = $2) AND ($3 = '' OR kind = $3)
           AND ($4 = '' OR ($4 = 'mine' AND assigned_to = $5)
                        OR ($4 = 'unassigned' AND assigned_to IS NULL))";
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM claims {where_} ORDER BY created_at, id LIMIT $6"
    ))
    .bind(&f.state)
    .bind(&f.incident)
    .bind(&f.kind)
    .bind(&f.assigned)
    .bind(me)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let total: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM claims {where_}"))
        .bind(&f.state)
        .bind(&f.incident)
        .bind(&f.kind)
        .bind(&f.assigned)
        .bind(me)
        .fetch_one(store.pool())
        .await?
        .try_get(0)?;
    Ok((rows.iter().map(claim).collect::<Result<_, _>>()?, total))
}

pub async fn assign(
    conn: &mut AnyConnection,
    id: &str,
    account_id: &str,
    email: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE claims SET assigned_to = $2, assigned_email = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(account_id)
    .bind(email)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A decision to record.
pub struct Decision<'a> {
    pub state: &'a str,
    pub decision: &'a str,
    pub amount_minor: Option<i64>,
    pub currency: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub decided_by: &'a str,
    pub transaction_id: Option<&'a str>,
    pub payout_id: Option<&'a str>,
    pub now: i64,
}

/// Writes a decision on a claim that is still `from_state`; false when it
/// moved meanwhile (someone else decided).
pub async fn decide(
    conn: &mut AnyConnection,
    id: &str,
    from_state: &str,
    d: &Decision<'_>,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE claims SET state = $3, decision = $4, amount_minor = $5, currency = $6,
                reason = $7, decided_by = $8, decided_at = $9, transaction_id = $10,
                payout_id = $11, updated_at = $9
         WHERE id = $1 AND state = $2",
    )
    .bind(id)
    .bind(from_state)
    .bind(d.state)
    .bind(d.decision)
    .bind(d.amount_minor)
    .bind(d.currency)
    .bind(d.reason)
    .bind(d.decided_by)
    .bind(d.now)
    .bind(d.transaction_id)
    .bind(d.payout_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// A finance approver's signature on a decision that waited for one.
pub async fn approve(
    conn: &mut AnyConnection,
    id: &str,
    approved_by: &str,
    transaction_id: Option<&str>,
    payout_id: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE claims SET state = 'approved', approved_by = $2, approved_at = $3,
                transaction_id = $4, payout_id = $5, updated_at = $3
         WHERE id = $1 AND state = 'awaiting_finance'",
    )
    .bind(id)
    .bind(approved_by)
    .bind(now)
    .bind(transaction_id)
    .bind(payout_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// What support may give of its own for an incident in a currency, and
/// what it may pay alone before a decision waits for finance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub incident_id: String,
    pub currency: String,
    pub goodwill_cap_minor: i64,
    /// A decision above this waits for finance.
    pub approval_above_minor: i64,
    /// Claims paid to one customer for the incident, this one included.
    pub customer_incident_max_minor: i64,
    /// What one agent pays alone in 24 hours, this one included.
    pub agent_day_max_minor: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

pub async fn limit(
    conn: &mut AnyConnection,
    incident_id: &str,
    currency: &str,
) -> Result<Option<Limit>, StoreError> {
    sqlx::query(
        "SELECT incident_id, currency, goodwill_cap_minor, approval_above_minor, updated_by, updated_at,
                customer_incident_max_minor, agent_day_max_minor
         FROM claim_limits WHERE incident_id = $1 AND currency = $2",
    )
    .bind(incident_id)
    .bind(currency)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| limit_row(&r))
    .transpose()
}

fn limit_row(r: &AnyRow) -> Result<Limit, StoreError> {
    Ok(Limit {
        incident_id: r.try_get(0)?,
        currency: r.try_get(1)?,
        goodwill_cap_minor: r.try_get(2)?,
        approval_above_minor: r.try_get(3)?,
        updated_by: r.try_get(4)?,
        updated_at: r.try_get(5)?,
        customer_incident_max_minor: r.try_get(6)?,
        agent_day_max_minor: r.try_get(7)?,
    })
}

pub async fn limits(store: &Store) -> Result<Vec<Limit>, StoreError> {
    sqlx::query(
        "SELECT incident_id, currency, goodwill_cap_minor, approval_above_minor, updated_by, updated_at,
                customer_incident_max_minor, agent_day_max_minor
         FROM claim_limits ORDER BY incident_id, currency",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(limit_row)
    .collect()
}

pub async fn set_limit(conn: &mut AnyConnection, l: &Limit) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO claim_limits (incident_id, currency, goodwill_cap_minor, approval_above_minor,
                                   updated_by, updated_at, customer_incident_max_minor,
                                   agent_day_max_minor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (incident_id, currency) DO UPDATE SET
             goodwill_cap_minor = excluded.goodwill_cap_minor,
             approval_above_minor = excluded.approval_above_minor,
             customer_incident_max_minor = excluded.customer_incident_max_minor,
             agent_day_max_minor = excluded.agent_day_max_minor,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(&l.incident_id)
    .bind(&l.currency)
    .bind(l.goodwill_cap_minor)
    .bind(l.approval_above_minor)
    .bind(&l.updated_by)
    .bind(l.updated_at)
    .bind(l.customer_incident_max_minor)
    .bind(l.agent_day_max_minor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What claims of `customer_id` for the incident hold in `currency`: paid
/// or waiting for finance, so splitting a sum over claims gains nothing.
pub async fn held_for_customer(
    conn: &mut AnyConnection,
    incident_id: &str,
    customer_id: &str,
    currency: &str,
) -> Result<i64, StoreError> {
    let sum: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM claims
         WHERE incident_id = $1 AND customer_id = $2 AND currency = $3
           AND state IN ('approved', 'awaiting_finance') AND decision <> 'already_paid'",
    )
    .bind(incident_id)
    .bind(customer_id)
    .bind(currency)
    .fetch_one(&mut *conn)
    .await?;
    Ok(sum.unwrap_or(0))
}

/// What `agent` paid alone (no finance approver) in `currency` since `since`.
pub async fn paid_alone_since(
    conn: &mut AnyConnection,
    agent: &str,
    currency: &str,
    since: i64,
) -> Result<i64, StoreError> {
    let sum: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM claims
         WHERE decided_by = $1 AND decided_at >= $2 AND currency = $3
           AND state = 'approved' AND approved_by IS NULL AND decision <> 'already_paid'",
    )
    .bind(agent)
    .bind(since)
    .bind(currency)
    .fetch_one(&mut *conn)
    .await?;
    Ok(sum.unwrap_or(0))
}
