//! The ledger's tables: transactions and their postings (append-only: the
//! database refuses UPDATE, DELETE and TRUNCATE), read back as balances,
//! statements and a run's lines.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::kernel::money::MAX_LINE_MINOR;
use crate::ledger::transaction::{balanced, Posting, TxKind};
use crate::store::{insert_sql, numbered, placeholders, Store, StoreError};

/// A transaction to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransaction {
    pub id: String,
    pub kind: TxKind,
    pub run_id: String,
    pub position: i64,
    pub rule: String,
    pub customer_id: String,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub revision: i64,
    pub execution_id: String,
    pub payout_id: String,
    pub created_by: String,
    pub created_at: i64,
    pub postings: Vec<Posting>,
}

const TX_COLUMNS: [&str; 14] = [
    "id",
    "kind",
    "run_id",
    "position",
    "rule",
    "customer_id",
    "reference",
    "amount_minor",
    "currency",
    "revision",
    "execution_id",
    "payout_id",
    "created_by",
    "created_at",
];
const POSTING_COLUMNS: [&str; 7] = [
    "transaction_id",
    "n",
    "account",
    "currency",
    "debit_minor",
    "credit_minor",
    "created_at",
];
/// Rows per statement: 2,000 transactions of 14 parameters (28,000) or
/// 2,000 postings of 7 stay under SQLite's 32,766 and PostgreSQL's 65,535
/// parameters per statement; fewer, bigger statements post faster.
const BATCH: usize = 2_000;

/// Writes transactions and their postings, refusing the lot when any of
/// them breaks the double-entry rule. `Ok(false)` when a key was there
/// already (nothing of the batch is then to be kept: the caller rolls back).
pub async fn insert(conn: &mut AnyConnection, txs: &[NewTransaction]) -> Result<bool, StoreError> {
    for t in txs {
        balanced(&t.postings).map_err(|e| {
            StoreError::Corrupt(format!("transaction {} does not balance: {e}", t.id))
        })?;
        if t.amount_minor.unsigned_abs() > MAX_LINE_MINOR.unsigned_abs() {
            return Err(StoreError::Corrupt(format!(
                "transaction {} carries {} minor units, more than one line may ({MAX_LINE_MINOR})",
                t.id, t.amount_minor
            )));
        }
    }
    let numbered = numbered(conn);
    for batch in txs.chunks(BATCH) {
        let mut sql = insert_sql("ledger_transactions", &TX_COLUMNS, batch.len(), numbered);
        sql.push_str(" ON CONFLICT (id) DO NOTHING");
        let mut q = sqlx::query(&sql);
        for t in batch {
            q = q
                .bind(t.id.as_str())
                .bind(t.kind.as_str())
                .bind(t.run_id.as_str())
                .bind(t.position)
                .bind(t.rule.as_str())
                .bind(t.customer_id.as_str())
                .bind(t.reference.as_str())
                .bind(t.amount_minor)
                .bind(t.currency.as_str())
                .bind(t.revision)
                .bind(t.execution_id.as_str())
                .bind(t.payout_id.as_str())
                .bind(t.created_by.as_str())
                .bind(t.created_at);
        }
        if q.execute(&mut *conn).await?.rows_affected() != batch.len() as u64 {
            return Ok(false);
        }
        let postings: Vec<(&NewTransaction, usize, &Posting)> = batch
            .iter()
            .flat_map(|t| t.postings.iter().enumerate().map(move |(n, p)| (t, n, p)))
            .collect();
        for chunk in postings.chunks(BATCH) {
            let sql = insert_sql("ledger_postings", &POSTING_COLUMNS, chunk.len(), numbered);
            let mut q = sqlx::query(&sql);
            for (t, n, p) in chunk {
                q = q
                    .bind(t.id.as_str())
                    .bind(*n as i64)
                    .bind(p.account.name())
                    .bind(p.currency.as_str())
                    .bind(p.debit_minor)
                    .bind(p.credit_minor)
                    .bind(t.created_at);
            }
            q.execute(&mut *conn).await?;
        }
    }
    Ok(true)
}

/// The amount and currency of each of `ids` that is in the ledger.
pub async fn existing(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, (i64, String)>, StoreError> {
    let mut out = HashMap::new();
    let numbered = numbered(conn);
    for chunk in ids.chunks(BATCH) {
        let sql = format!(
            "SELECT id, amount_minor, currency FROM ledger_transactions WHERE id IN ({})",
            placeholders(chunk.len(), numbered)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert(
                row.try_get("id")?,
                (row.try_get("amount_minor")?, row.try_get("currency")?),
            );
        }
    }
    Ok(out)
}

/// A key of a run as the ledger holds it: the line's amount plus every
/// adjustment of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedKey {
    pub position: i64,
    pub rule: String,
    pub customer_id: String,
    pub reference: String,
    pub currency: String,
    /// The line transaction's own amount.
    pub line_minor: i64,
    /// Line plus adjustments.
    pub total_minor: i64,
    pub adjustments: i64,
    pub created_at: i64,
}

/// Every line key of a run, sorted as --details sorts lines (rule
/// position, customer id, reference), by bytes whatever the database's
/// collation.
pub async fn run_keys(
    conn: &mut AnyConnection,
    run_id: &str,
) -> Result<Vec<PostedKey>, StoreError> {
    let rows = sqlx::query(
        "SELECT position, customer_id, reference,
                MAX(CASE WHEN kind = 'line' THEN rule END) AS rule,
                MAX(currency) AS currency,
                CAST(SUM(CASE WHEN kind = 'line' THEN amount_minor ELSE 0 END) AS BIGINT) AS line_minor,
                CAST(SUM(amount_minor) AS BIGINT) AS total_minor,
                CAST(SUM(CASE WHEN kind = 'adjustment' THEN 1 ELSE 0 END) AS BIGINT) AS adjustments,
                MIN(created_at) AS created_at
         FROM ledger_transactions WHERE run_id = $1 AND kind IN ('line', 'adjustment')
         GROUP BY position, customer_id, reference",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut keys = rows
        .iter()
        .map(|row| {
            Ok(PostedKey {
                position: row.try_get("position")?,
                rule: row
                    .try_get::<Option<String>, _>("rule")?
                    .unwrap_or_default(),
                customer_id: row.try_get("customer_id")?,
                reference: row.try_get("reference")?,
                currency: row.try_get("currency")?,
                line_minor: row.try_get("line_minor")?,
                total_minor: row.try_get("total_minor")?,
                adjustments: row.try_get("adjustments")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    keys.sort_by(|a, b| {
        (a.position, a.customer_id.as_bytes(), a.reference.as_bytes()).cmp(&(
            b.position,
            b.customer_id.as_bytes(),
            b.reference.as_bytes(),
        ))
    });
    Ok(keys)
}

/// The sum of adjustments per key of a run, by line transaction id.
pub async fn adjustments(
    conn: &mut AnyConnection,
    run_id: &str,
) -> Result<HashMap<(i64, String, String), i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT position, customer_id, reference, CAST(SUM(amount_minor) AS BIGINT) AS total
         FROM ledger_transactions WHERE run_id = $1 AND kind = 'adjustment'
         GROUP BY position, customer_id, reference",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = HashMap::new();
    for row in rows {
        out.insert(
            (
                row.try_get("position")?,
                row.try_get("customer_id")?,
                row.try_get("reference")?,
            ),
            row.try_get("total")?,
        );
    }
    Ok(out)
}

/// Whether any line of the run is in the ledger.
pub async fn run_has_lines(conn: &mut AnyConnection, run_id: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query(
            "SELECT 1 FROM ledger_transactions WHERE run_id = $1 AND kind = 'line' LIMIT 1",
        )
        .bind(run_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some(),
    )
}

/// A line of the trial balance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BalanceRow {
    pub account: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

fn balance_row(row: &sqlx::any::AnyRow, account: &str) -> Result<BalanceRow, StoreError> {
    Ok(BalanceRow {
        account: row.try_get(account)?,
        currency: row.try_get("currency")?,
        debit_minor: row.try_get("d")?,
        credit_minor: row.try_get("c")?,
    })
}

/// Every account's debits and credits per currency, from the postings.
pub async fn trial_balance(store: &Store) -> Result<Vec<BalanceRow>, StoreError> {
    sqlx::query(
        "SELECT account, currency, CAST(SUM(debit_minor) AS BIGINT) AS d, CAST(SUM(credit_minor) AS BIGINT) AS c
         FROM ledger_postings GROUP BY account, currency ORDER BY account, currency",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| balance_row(row, "account"))
    .collect()
}

/// The trial balance as the console shows it: every account but the
/// customers' in full, the customers' (one per compensated customer, a
/// million after a big run) as one group per currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceSummary {
    pub accounts: Vec<BalanceRow>,
    /// (the group's row, named `customer:*`; how many accounts it holds)
    pub customers: Vec<(BalanceRow, i64)>,
}

/// Customer accounts are named `customer:<id>`.
const CUSTOMER_ACCOUNTS: &str = "customer:%";

pub async fn trial_balance_summary(store: &Store) -> Result<BalanceSummary, StoreError> {
    let rows = sqlx::query(
        "SELECT CASE WHEN account LIKE $1 THEN 'customer:*' ELSE account END AS grp, currency,
                CAST(COUNT(DISTINCT account) AS BIGINT) AS n,
                CAST(SUM(debit_minor) AS BIGINT) AS d, CAST(SUM(credit_minor) AS BIGINT) AS c
         FROM ledger_postings GROUP BY grp, currency ORDER BY grp, currency",
    )
    .bind(CUSTOMER_ACCOUNTS)
    .fetch_all(store.pool())
    .await?;
    let mut summary = BalanceSummary {
        accounts: Vec::new(),
        customers: Vec::new(),
    };
    for row in &rows {
        let balance = balance_row(row, "grp")?;
        if balance.account == "customer:*" {
            summary.customers.push((balance, row.try_get("n")?));
        } else {
            summary.accounts.push(balance);
        }
    }
    Ok(summary)
}

/// Customer accounts whose debits and credits differ (owed, not yet paid),
/// first `limit` by account name.
pub async fn open_customer_balances(
    store: &Store,
    limit: i64,
) -> Result<Vec<BalanceRow>, StoreError> {
    sqlx::query(&format!(
        "SELECT account, currency, CAST(SUM(debit_minor) AS BIGINT) AS d, CAST(SUM(credit_minor) AS BIGINT) AS c
         FROM ledger_postings WHERE account LIKE $1 GROUP BY account, currency
         HAVING SUM(debit_minor) <> SUM(credit_minor) ORDER BY account, currency LIMIT {}",
        limit.max(0)
    ))
    .bind(CUSTOMER_ACCOUNTS)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| balance_row(row, "account"))
    .collect()
}

/// A posting on an account, with its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    pub transaction_id: String,
    pub kind: String,
    pub run_id: String,
    pub rule: String,
    pub reference: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    pub created_at: i64,
}

/// An account's postings, oldest first (at most `limit`).
pub async fn statement(
    store: &Store,
    account: &str,
    limit: i64,
) -> Result<Vec<StatementRow>, StoreError> {
    sqlx::query(&format!(
        "SELECT p.transaction_id, t.kind, t.run_id, t.rule, t.reference, p.currency,
                p.debit_minor, p.credit_minor, p.created_at
         FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
         WHERE p.account = $1 ORDER BY p.created_at, p.transaction_id, p.n LIMIT {}",
        limit.max(0)
    ))
    .bind(account)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| {
        Ok(StatementRow {
            transaction_id: row.try_get("transaction_id")?,
            kind: row.try_get("kind")?,
            run_id: row.try_get("run_id")?,
            rule: row.try_get("rule")?,
            reference: row.try_get("reference")?,
            currency: row.try_get("currency")?,
            debit_minor: row.try_get("debit_minor")?,
            credit_minor: row.try_get("credit_minor")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .collect()
}

/// Transactions per kind and currency for a run: (kind, currency, count, sum).
pub async fn run_totals(
    store: &Store,
    run_id: &str,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    sqlx::query(
        "SELECT kind, currency, COUNT(*) AS n, CAST(SUM(amount_minor) AS BIGINT) AS s FROM ledger_transactions
         WHERE run_id = $1 GROUP BY kind, currency ORDER BY kind, currency",
    )
    .bind(run_id)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?)))
    .collect()
}

/// Called once an execution has written many rows into `table` (its
/// lines into `ledger_transactions`, its payouts into `payouts`).
/// PostgreSQL's planner has no statistics yet for rows just written
/// (autovacuum analyses them later), and without them it chose a bitmap
/// scan over every line of the execution for each batch of 500 customers
/// to settle: 0.36 s a batch, 12 minutes for a million lines. Fresh
/// statistics make it walk the index. SQLite plans these queries from its
/// indexes alone.
pub async fn refresh_statistics(
    conn: &mut AnyConnection,
    table: Analysed,
) -> Result<(), StoreError> {
    if conn.backend_name() == "PostgreSQL" {
        let name = match table {
            Analysed::LedgerTransactions => "ledger_transactions",
            Analysed::Payouts => "payouts",
        };
        sqlx::query(&format!("ANALYZE {name}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The tables an execution fills in bulk.
#[derive(Debug, Clone, Copy)]
pub enum Analysed {
    LedgerTransactions,
    Payouts,
}

/// Up to `limit` customers with lines posted by an execution, after `after`.
pub async fn execution_customers(
    conn: &mut AnyConnection,
    execution_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    sqlx::query(&format!(
        "SELECT DISTINCT customer_id FROM ledger_transactions
         WHERE execution_id = $1 AND kind = 'line' AND customer_id > $2
         ORDER BY customer_id LIMIT {}",
        limit.max(1)
    ))
    .bind(execution_id)
    .bind(after)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| Ok(row.try_get(0)?))
    .collect()
}

/// The lines an execution posted for customers in `(after, upto]`, by
/// customer, currency, rule position and reference.
pub async fn execution_lines(
    conn: &mut AnyConnection,
    execution_id: &str,
    after: &str,
    upto: &str,
) -> Result<Vec<crate::store::compensation::StoredLine>, StoreError> {
    sqlx::query(
        "SELECT position, rule, customer_id, reference, amount_minor, currency
         FROM ledger_transactions
         WHERE execution_id = $1 AND kind = 'line' AND customer_id > $2 AND customer_id <= $3
         ORDER BY customer_id, currency, position, reference",
    )
    .bind(execution_id)
    .bind(after)
    .bind(upto)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(crate::store::compensation::StoredLine {
            position: row.try_get("position")?,
            rule: row.try_get("rule")?,
            customer_id: row.try_get("customer_id")?,
            reference: row.try_get("reference")?,
            amount_minor: row.try_get("amount_minor")?,
            currency: row.try_get("currency")?,
        })
    })
    .collect()
}

/// Every customer that a run of `incident_id` has posted lines for.
pub async fn compensated_customers(
    conn: &mut AnyConnection,
    incident_id: &str,
) -> Result<Vec<String>, StoreError> {
    sqlx::query(
        "SELECT DISTINCT t.customer_id FROM ledger_transactions t
         JOIN compensation_runs r ON r.id = t.run_id
         WHERE r.incident_id = $1 AND t.kind = 'line' AND t.customer_id <> ''
         ORDER BY t.customer_id",
    )
    .bind(incident_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| Ok(row.try_get(0)?))
    .collect()
}

/// How many line transactions a run's executions posted (claims' own not counted).
pub async fn line_count(conn: &mut AnyConnection, run_id: &str) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM ledger_transactions WHERE run_id = $1 AND kind = 'line' AND execution_id NOT LIKE 'claim-%'")
            .bind(run_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    )
}

/// One transaction's amount, currency, execution and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedTx {
    pub id: String,
    pub run_id: String,
    pub position: i64,
    pub rule: String,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub execution_id: String,
    pub created_at: i64,
}

const POSTED_COLUMNS: &str =
    "id, run_id, position, rule, reference, amount_minor, currency, execution_id, created_at";

fn posted(row: &sqlx::any::AnyRow) -> Result<PostedTx, StoreError> {
    Ok(PostedTx {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        position: row.try_get("position")?,
        rule: row.try_get("rule")?,
        reference: row.try_get("reference")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        execution_id: row.try_get("execution_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn transaction(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<PostedTx>, StoreError> {
    sqlx::query(&format!(
        "SELECT {POSTED_COLUMNS} FROM ledger_transactions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| posted(&r))
    .transpose()
}

/// A customer's line and adjustment transactions, oldest first.
pub async fn of_customer(store: &Store, customer_id: &str) -> Result<Vec<PostedTx>, StoreError> {
    sqlx::query(&format!(
        "SELECT {POSTED_COLUMNS} FROM ledger_transactions
         WHERE customer_id = $1 AND kind IN ('line', 'adjustment') ORDER BY created_at, id"
    ))
    .bind(customer_id)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(posted)
    .collect()
}
