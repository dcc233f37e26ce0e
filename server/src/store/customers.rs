//! The `customers` and `customer_subscriptions` tables.
//!
//! Imports write in batches of multi-row upserts inside the caller's
//! transaction: one statement per few hundred rows keeps a million-row file
//! well under a minute on either database, and the caller's transaction is
//! what makes a refused file leave nothing behind.

use plaster_engine::{CustomerRow, SubscriptionRow};
use sqlx::{AnyConnection, Row};

use crate::store::{insert_sql, numbered, placeholders, Store, StoreError};

/// Rows per upsert statement: 6 parameters each stays far below SQLite's
/// limit of 32766 bound parameters per statement.
pub const BATCH_ROWS: usize = 500;

/// `INSERT INTO table (cols) VALUES (..), (..) ON CONFLICT ...` for `rows` rows.
fn upsert_sql(table: &str, cols: &[&str], key: &[&str], rows: usize, numbered: bool) -> String {
    let mut sql = insert_sql(table, cols, rows, numbered);
    let updates: Vec<String> = cols
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sql.push_str(&format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        updates.join(", ")
    ));
    sql
}

const CUSTOMER_COLS: [&str; 7] = [
    "customer_id",
    "email",
    "name",
    "locale",
    "currency",
    "updated_at",
    "market",
];
const SUBSCRIPTION_COLS: [&str; 6] = [
    "customer_id",
    "plan",
    "monthly_fee_minor",
    "currency",
    "status",
    "updated_at",
];

/// Inserts or updates `rows` (at most [`BATCH_ROWS`], ids distinct). The
/// e-mail is stored as given; the importer has lower-cased it.
pub async fn upsert_customers(
    conn: &mut AnyConnection,
    rows: &[CustomerRow],
    now_ms: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = upsert_sql(
        "customers",
        &CUSTOMER_COLS,
        &["customer_id"],
        rows.len(),
        numbered(conn),
    );
    let mut query = sqlx::query(&sql);
    for r in rows {
        query = query
            .bind(r.id.as_str().to_string())
            .bind(r.email.clone())
            .bind(r.name.clone())
            .bind(r.locale.clone())
            .bind(r.currency.as_str().to_string())
            .bind(now_ms)
            .bind(r.market.clone().unwrap_or_default());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Inserts or updates `rows` (at most [`BATCH_ROWS`], (customer, plan) distinct).
pub async fn upsert_subscriptions(
    conn: &mut AnyConnection,
    rows: &[SubscriptionRow],
    now_ms: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = upsert_sql(
        "customer_subscriptions",
        &SUBSCRIPTION_COLS,
        &["customer_id", "plan"],
        rows.len(),
        numbered(conn),
    );
    let mut query = sqlx::query(&sql);
    for r in rows {
        query = query
            .bind(r.customer_id.as_str().to_string())
            .bind(r.plan.clone())
            .bind(r.monthly_fee_minor)
            .bind(r.currency.as_str().to_string())
            .bind(if r.active { "active" } else { "cancelled" })
            .bind(now_ms);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// What the customers page shows at the top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerCounts {
    pub customers: i64,
    pub active_subscriptions: i64,
    /// Customers per account currency, largest first.
    pub by_currency: Vec<(String, i64)>,
    /// Customers per locale, largest first.
    pub by_locale: Vec<(String, i64)>,
}

pub async fn counts(store: &Store) -> Result<CustomerCounts, StoreError> {
    let customers: i64 = sqlx::query("SELECT COUNT(*) FROM customers")
        .fetch_one(store.pool())
        .await?
        .try_get(0)?;
    let active_subscriptions: i64 =
        sqlx::query("SELECT COUNT(*) FROM customer_subscriptions WHERE status = 'active'")
            .fetch_one(store.pool())
            .await?
            .try_get(0)?;
    let grouped = |col: &'static str| async move {
        sqlx::query(&format!(
            "SELECT {col}, COUNT(*) AS n FROM customers GROUP BY {col} ORDER BY n DESC, {col}"
        ))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<Vec<(String, i64)>, StoreError>>()
    };
    Ok(CustomerCounts {
        customers,
        active_subscriptions,
        by_currency: grouped("currency").await?,
        by_locale: grouped("locale").await?,
    })
}

/// A stored customer with its subscriptions, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub currency: String,
    /// The licence's country (`SE`), or empty.
    pub market: String,
    pub subscriptions: Vec<SubscriptionRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    pub plan: String,
    pub monthly_fee_minor: i64,
    pub currency: String,
    pub status: String,
}

/// Customers whose id is `query` or whose e-mail is `query` (lower-cased),
/// at most `limit`, with their subscriptions.
pub async fn find(
    store: &Store,
    query: &str,
    limit: i64,
) -> Result<Vec<CustomerRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT customer_id, email, name, locale, currency, market FROM customers
         WHERE customer_id = $1 OR email = $2 ORDER BY customer_id LIMIT $3",
    )
    .bind(query.trim())
    .bind(query.trim().to_lowercase())
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let customer_id: String = row.try_get("customer_id")?;
        let subscriptions = sqlx::query(
            "SELECT plan, monthly_fee_minor, currency, status FROM customer_subscriptions
             WHERE customer_id = $1 ORDER BY plan",
        )
        .bind(&customer_id)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|s| {
            Ok(SubscriptionRecord {
                plan: s.try_get("plan")?,
                monthly_fee_minor: s.try_get("monthly_fee_minor")?,
                currency: s.try_get("currency")?,
                status: s.try_get("status")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(CustomerRecord {
            customer_id,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            locale: row.try_get("locale")?,
            currency: row.try_get("currency")?,
            market: row.try_get("market")?,
            subscriptions,
        });
    }
    Ok(out)
}

/// The customers and active subscriptions as the engine reads them: what a
/// preview runs against (runs.md §1: "as they are when a preview starts").
pub async fn reference(
    store: &Store,
) -> Result<
    (
        plaster_engine::Customers,
        plaster_engine::Subscriptions,
        ReferenceRead,
    ),
    StoreError,
> {
    use futures_util::TryStreamExt;
    use plaster_engine::reference::Subscription;
    use plaster_engine::{Currency, CustomerId, Customers, Subscriptions};
    use sha2::{Digest as _, Sha256};
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("stored {what} {value:?}"));
    let mut hash = Sha256::new();
    let mut read = 0i64;
    let mut customers = Customers::default();
    let mut rows = sqlx::query("SELECT customer_id, currency FROM customers ORDER BY customer_id")
        .fetch(store.pool());
    while let Some(row) = rows.try_next().await? {
        let id: String = row.try_get(0)?;
        let currency: String = row.try_get(1)?;
        hash.update(format!("c\t{id}\t{currency}\n").as_bytes());
        read += 1;
        customers.insert(
            CustomerId::parse(&id).ok_or_else(|| corrupt("customer id", &id))?,
            Currency::parse(&currency).ok_or_else(|| corrupt("currency", &currency))?,
        );
    }
    drop(rows);
    let mut subscriptions = Subscriptions::default();
    let mut rows = sqlx::query(
        "SELECT customer_id, plan, monthly_fee_minor, currency FROM customer_subscriptions
         WHERE status = 'active' ORDER BY customer_id, plan",
    )
    .fetch(store.pool());
    while let Some(row) = rows.try_next().await? {
        let id: String = row.try_get(0)?;
        let currency: String = row.try_get(3)?;
        let plan: String = row.try_get(1)?;
        let fee: i64 = row.try_get(2)?;
        hash.update(format!("s\t{id}\t{plan}\t{fee}\t{currency}\n").as_bytes());
        read += 1;
        subscriptions.insert_active(
            CustomerId::parse(&id).ok_or_else(|| corrupt("customer id", &id))?,
            Subscription {
                plan,
                monthly_fee_minor: fee,
                currency: Currency::parse(&currency)
                    .ok_or_else(|| corrupt("currency", &currency))?,
            },
        );
    }
    Ok((
        customers,
        subscriptions,
        ReferenceRead {
            digest: format!("{:x}", hash.finalize()),
            rows: read,
        },
    ))
}

/// What a preview read of the customer and subscription tables: a SHA-256
/// over the rows the engine used, in order, and how many there were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReferenceRead {
    pub digest: String,
    pub rows: i64,
}

/// A customer as a notice addresses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: String,
    pub name: String,
    pub locale: String,
}

/// The contacts of `ids` (those that are known), and their subscriptions'
/// monthly fees by (customer, plan) in minor units with the currency.
#[allow(clippy::type_complexity)]
pub async fn contacts(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<
    (
        std::collections::HashMap<String, Contact>,
        std::collections::HashMap<(String, String), (i64, String)>,
    ),
    StoreError,
> {
    let mut contacts = std::collections::HashMap::new();
    let mut fees = std::collections::HashMap::new();
    let numbered = numbered(conn);
    for chunk in ids.chunks(BATCH_ROWS) {
        let marks = placeholders(chunk.len(), numbered);
        let sql = format!(
            "SELECT customer_id, email, name, locale FROM customers WHERE customer_id IN ({marks})"
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            contacts.insert(
                row.try_get("customer_id")?,
                Contact {
                    email: row.try_get("email")?,
                    name: row.try_get("name")?,
                    locale: row.try_get("locale")?,
                },
            );
        }
        let sql = format!(
            "SELECT customer_id, plan, monthly_fee_minor, currency FROM customer_subscriptions
             WHERE customer_id IN ({marks})"
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            fees.insert(
                (row.try_get("customer_id")?, row.try_get("plan")?),
                (row.try_get("monthly_fee_minor")?, row.try_get("currency")?),
            );
        }
    }
    Ok((contacts, fees))
}

/// One customer by id, with subscriptions.
pub async fn by_id(store: &Store, customer_id: &str) -> Result<Option<CustomerRecord>, StoreError> {
    Ok(find(store, customer_id, 50)
        .await?
        .into_iter()
        .find(|c| c.customer_id == customer_id))
}

// ------------------------------------------------------------------ markets

/// A remedy finance allowed or blocked for a market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketRemedy {
    pub market: String,
    pub rule: String,
    pub allowed: bool,
    pub updated_by: String,
    pub updated_at: i64,
}

pub async fn market_remedies(store: &Store) -> Result<Vec<MarketRemedy>, StoreError> {
    sqlx::query(
        "SELECT market, rule, allowed, updated_by, updated_at FROM market_remedies
         ORDER BY market, rule",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(MarketRemedy {
            market: r.try_get(0)?,
            rule: r.try_get(1)?,
            allowed: r.try_get::<i64, _>(2)? == 1,
            updated_by: r.try_get(3)?,
            updated_at: r.try_get(4)?,
        })
    })
    .collect()
}

pub async fn set_market_remedy(
    conn: &mut AnyConnection,
    m: &MarketRemedy,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO market_remedies (market, rule, allowed, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (market, rule) DO UPDATE SET allowed = excluded.allowed,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(&m.market)
    .bind(&m.rule)
    .bind(i64::from(m.allowed))
    .bind(&m.updated_by)
    .bind(m.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A revision's lines to customers with a market, per (market, rule,
/// currency): how many and their sum.
pub async fn lines_by_market(
    conn: &mut AnyConnection,
    run_id: &str,
    revision: i64,
) -> Result<Vec<(String, String, String, i64, i64)>, StoreError> {
    sqlx::query(
        "SELECT c.market, l.rule, l.currency, COUNT(*), CAST(SUM(l.amount_minor) AS BIGINT)
         FROM compensation_lines l JOIN customers c ON c.customer_id = l.customer_id
         WHERE l.run_id = $1 AND l.revision = $2 AND c.market <> ''
         GROUP BY c.market, l.rule, l.currency ORDER BY c.market, l.rule, l.currency",
    )
    .bind(run_id)
    .bind(revision)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        ))
    })
    .collect()
}
