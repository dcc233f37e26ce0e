//! Storage: one `Store` over sqlx's `Any` driver, so SQLite (the embedded
//! default) and PostgreSQL (for several nodes) run the very same queries with
//! `$1` placeholders. Only what truly differs between the engines (migrations,
//! row locking, LISTEN/NOTIFY) branches on [`Backend`].

pub mod audit;
pub mod claims;
pub mod compensation;
pub mod customer_access;
pub mod customers;
pub mod evidence;
pub mod executions;
pub mod fan_out;
pub mod housekeeping;
pub mod ledger;
pub mod mailbox;
pub mod outbox;
pub mod payouts;
pub mod staff;
pub mod status;
pub mod subscribers;
pub mod webhooks;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use crate::kernel::slots::WorkSlots;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A validated database URL. The password of a PostgreSQL URL is hidden
/// when it is displayed, so it never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn default_sqlite() -> Self {
        DatabaseUrl::Sqlite {
            path: PathBuf::from("data/plaster.db"),
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(rest) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("a sqlite URL needs a file path, e.g. sqlite://data/plaster.db".into());
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            url::Url::parse(s).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            return Ok(DatabaseUrl::Postgres { url: s.to_string() });
        }
        Err("must start with sqlite:// or postgres://".into())
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DatabaseUrl::Sqlite { .. })
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The URL handed to sqlx; SQLite files are created when missing.
    fn connect_string(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            DatabaseUrl::Postgres { url } => url.clone(),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    // libpq also takes the password as a query parameter.
                    if u.query_pairs().any(|(k, _)| k == "password") {
                        let pairs: Vec<(String, String)> = u
                            .query_pairs()
                            .map(|(k, v)| {
                                let v = if k == "password" {
                                    "***".into()
                                } else {
                                    v.into_owned()
                                };
                                (k.into_owned(), v)
                            })
                            .collect();
                        u.query_pairs_mut().clear().extend_pairs(pairs);
                    }
                    write!(f, "{u}")
                }
                Err(_) => f.write_str("postgres://(invalid)"),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The budget for password hashing. It lives here because every
    /// password check has the store at hand, and per store (one per
    /// application or command) rather than in a static, so that several
    /// applications in one process (the integration tests) never queue
    /// behind each other's hashing.
    password_work: WorkSlots,
}

impl Store {
    /// Opens the database (creating a SQLite file and its folder when missing).
    pub async fn connect(url: &DatabaseUrl) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if let DatabaseUrl::Sqlite { path } = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let options = AnyConnectOptions::from_str(&url.connect_string()).map_err(|source| {
            StoreError::Connect {
                url: url.to_string(),
                source,
            }
        })?;
        let backend = url.backend();
        let pool = AnyPoolOptions::new()
            // SQLite allows one writer at a time; a few readers are plenty.
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                url: url.to_string(),
                source,
            })?;
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while a writer commits; it persists in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Store {
            pool,
            backend,
            password_work: WorkSlots::for_passwords(),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Where password hashing and checking waits its turn (see
    /// [`crate::staff::password::argon2_work`]).
    pub fn password_work(&self) -> &WorkSlots {
        &self.password_work
    }

    /// A transaction that is going to write. On SQLite it takes the write
    /// lock at BEGIN (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// first and writes later cannot wait for another writer (SQLite fails
    /// the upgrade at once, busy timeout or not), so two writers at once —
    /// the outbox worker and a form, say — made one of them fail with
    /// "database is locked". Taken up front, the lock is waited for (up to
    /// the busy timeout) like any other. PostgreSQL needs nothing of the kind.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Serialises, for the rest of `conn`'s transaction, every writer that
    /// locks one of `keys`, so a limit that counts rows and then inserts one
    /// holds when requests arrive at once. SQLite's write transaction
    /// (`begin_write`) is exclusive already; PostgreSQL takes an advisory
    /// lock per key, in one order, so two writers never deadlock.
    pub async fn lock_keys(
        &self,
        conn: &mut sqlx::AnyConnection,
        keys: &[&str],
    ) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for key in sorted {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 1524))")
                .bind(key)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// Whether the placeholders must be numbered (`$1`, PostgreSQL) or may be
/// plain `?` (SQLite). SQLite takes `$1` for a parameter *name*, and finding
/// a parameter's name walks the list of all names, so binding a statement
/// with n named parameters costs n²: with 3,000 parameters that made the
/// customer import 10× slower than with anonymous `?`
/// (docs/benchmarks-customers.md). Every multi-row statement uses this.
pub(crate) fn numbered(conn: &sqlx::AnyConnection) -> bool {
    !conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// `$1, $2, ..` (or `?, ?, ..`) for an `IN (...)` list of `n` values.
pub(crate) fn placeholders(n: usize, numbered: bool) -> String {
    (1..=n)
        .map(|i| {
            if numbered {
                format!("${i}")
            } else {
                "?".into()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (cols) VALUES ($1, ..), ($n, ..)` for `rows` rows.
pub(crate) fn insert_sql(table: &str, cols: &[&str], rows: usize, numbered: bool) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            if numbered {
                sql.push_str(&format!("${n}"));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// A comma-separated list column (component ids, say) as its items; the
/// empty string is the empty list.
pub fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn to_ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("time {ms} ms is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_validated_and_passwords_hidden() {
        assert!(DatabaseUrl::parse("sqlite://data/x.db")
            .expect("ok")
            .is_sqlite());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("mysql://localhost/x").is_err());
        let pg = DatabaseUrl::parse("postgres://u:secret@localhost/db").expect("ok");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert!(!pg.to_string().contains("secret"));
        assert!(!format!("{pg:?}").contains("secret"));
        let query = DatabaseUrl::parse("postgres://u@localhost/db?sslmode=disable&password=secret")
            .expect("ok");
        assert!(!query.to_string().contains("secret"), "{query}");
        assert!(query.to_string().contains("sslmode=disable"));
    }
}
