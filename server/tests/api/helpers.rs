//! `spawn_app`: a real Plaster on port 0 against a fresh database.
//!
//! SQLite: a file in a temporary folder. PostgreSQL: a new database on
//! 127.0.0.1:5432 (or `PLASTER_TEST_PG_URL`), dropped when the test ends.
//! An unreachable PostgreSQL fails the test: nothing is skipped.

use std::collections::BTreeMap;
use std::sync::Arc;

use plaster_server::config::Settings;
use plaster_server::staff::password::FirstAdmin;
use plaster_server::startup::{Application, StartOptions};
use plaster_server::status::live::LiveHandle;
use plaster_server::status::snapshot::SnapshotHolder;
use plaster_server::store::Store;
use sqlx::{Connection, Executor, PgConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub first_admin: Option<FirstAdmin>,
    pub database_url: String,
    /// The running server's snapshot: rebuild it after writing to the store.
    pub snapshot: Arc<SnapshotHolder>,
    /// Wakes the running server's live task after a write made in the test.
    pub live: LiveHandle,
    _database: TestDatabase,
}

impl TestApp {
    /// Which database this app runs on, for a second app on the same kind.
    pub fn backend(&self) -> TestBackend {
        if self.database_url.starts_with("sqlite") {
            TestBackend::Sqlite
        } else {
            TestBackend::Postgres
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        get_with(&self.client, &self.address, path).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("response body"))
    }
}

/// `GET base+path` with `client`, failing the test with the path on error.
pub async fn get_with(client: &reqwest::Client, base: &str, path: &str) -> reqwest::Response {
    client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
}

pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another node's database: the first node drops it.
    Shared,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any runtime we may block on: use a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime for dropping the test database");
                rt.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                        let _ = conn
                            .execute(
                                format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)
                                    .as_str(),
                            )
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// The worked examples of `docs/spec/compensation.md`, kept in the repository
/// (`docs/examples/NAME`), so a clone alone runs every test.
pub fn examples_dir(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/examples")
        .join(name)
}

pub fn pg_base_url() -> String {
    std::env::var("PLASTER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh database URL for `backend`.
pub async fn fresh_database(backend: TestBackend) -> Option<(String, TestDatabase)> {
    match backend {
        TestBackend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let url = format!("sqlite://{}", dir.path().join("plaster.db").display());
            Some((url, TestDatabase::Sqlite(dir)))
        }
        TestBackend::Postgres => {
            let base = pg_base_url();
            let admin_url = format!("{base}/postgres");
            // `make test` always provides a server (a private one when none
            // answers), so an unreachable one is a failure, never a skip.
            let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {base} is unreachable ({e}). Run the tests with `make test` \
                     (it starts a private server when none answers), or set \
                     PLASTER_TEST_PG_URL=postgres://user@host:port"
                )
            });
            let name = format!("plaster_test_{}", plaster_server::kernel::ids::new_id());
            conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                .await
                .expect("create the test database");
            let _ = conn.close().await;
            Some((
                format!("{base}/{name}"),
                TestDatabase::Postgres { admin_url, name },
            ))
        }
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    test_settings_with(database_url, &[])
}

/// Test settings plus extra environment, e.g. `PLASTER_SMTP_HOST`.
pub fn test_settings_with(database_url: &str, extra: &[(&str, &str)]) -> Settings {
    let env: BTreeMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("PLASTER_LISTEN", "127.0.0.1:0"),
        // The tests' webhook and payout receivers listen on loopback.
        ("PLASTER_OUTGOING_ALLOW", "127.0.0.0/8,::1"),
    ]
    .iter()
    .chain(extra.iter())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Settings::from_sources(&env, None).expect("test settings are valid")
}

pub async fn spawn_app(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, StartOptions { seed_demo: true }).await
}

pub async fn spawn_app_with(backend: TestBackend, options: StartOptions) -> Option<TestApp> {
    plaster_server::telemetry::init();
    let (database_url, database) = fresh_database(backend).await?;
    start(database_url, database, options).await
}

/// A server with extra settings (SMTP, say) on a fresh database.
pub async fn spawn_app_with_env(backend: TestBackend, extra: &[(&str, &str)]) -> Option<TestApp> {
    plaster_server::telemetry::init();
    let (database_url, database) = fresh_database(backend).await?;
    start_with(
        test_settings_with(&database_url, extra),
        database_url,
        database,
        StartOptions { seed_demo: true },
    )
    .await
}

/// [`spawn_app_with_env`] without the demo: nothing in the outbox but
/// what the test queues (the demo's executed runs queue notices).
pub async fn spawn_bare_app_with_env(
    backend: TestBackend,
    extra: &[(&str, &str)],
) -> Option<TestApp> {
    plaster_server::telemetry::init();
    let (database_url, database) = fresh_database(backend).await?;
    start_with(
        test_settings_with(&database_url, extra),
        database_url,
        database,
        StartOptions { seed_demo: false },
    )
    .await
}

/// A server with the demo on a database the test made itself (a private
/// PostgreSQL server, say); the test drops it.
pub async fn spawn_app_on(database_url: &str) -> TestApp {
    plaster_server::telemetry::init();
    start(
        database_url.to_string(),
        TestDatabase::Shared,
        StartOptions { seed_demo: true },
    )
    .await
    .expect("the application starts")
}

/// A PostgreSQL server of the test's own (`scripts/lib/private-postgres.sh`):
/// its own data directory and port, so stopping it takes no other test's
/// database away. Stopped when dropped.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    pub url: String,
}

impl PrivatePostgres {
    fn script(action: &str, dir: &std::path::Path) -> String {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/lib/private-postgres.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(action)
            .arg(dir)
            .output()
            .expect("run private-postgres.sh");
        assert!(
            out.status.success(),
            "private-postgres.sh {action} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = Self::script("start", dir.path());
        PrivatePostgres { dir, url }
    }

    pub fn stop(&self) {
        Self::script("stop", self.dir.path());
    }

    /// Starts the same server again, on the same port and data.
    pub fn restart(&self) {
        let url = Self::script("start", self.dir.path());
        assert_eq!(url, self.url, "the server comes back on its port");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A second server on the same database as `app`, as another node would be.
pub async fn spawn_second_node(app: &TestApp) -> TestApp {
    start(
        app.database_url.clone(),
        TestDatabase::Shared,
        StartOptions { seed_demo: false },
    )
    .await
    .expect("the second node starts")
}

async fn start(
    database_url: String,
    database: TestDatabase,
    options: StartOptions,
) -> Option<TestApp> {
    start_with(
        test_settings(&database_url),
        database_url,
        database,
        options,
    )
    .await
}

async fn start_with(
    settings: Settings,
    database_url: String,
    database: TestDatabase,
    options: StartOptions,
) -> Option<TestApp> {
    let app = Application::build(settings, options)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    let first_admin = app.first_admin().cloned();
    let snapshot = app.snapshot();
    let live = app.live();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A server that stops answering fails the test by name instead
            // of holding the whole run until CI's limit.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("HTTP client"),
        store,
        first_admin,
        database_url,
        snapshot,
        live,
        _database: database,
    })
}

/// The `plaster` binary on the test's database.
pub fn plaster(app: &TestApp, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_plaster"));
    // A folder of its own, so no plaster.toml is picked up.
    cmd.current_dir(std::env::temp_dir())
        .env_remove("PLASTER_CONFIG")
        .env("DATABASE_URL", &app.database_url)
        .args(args);
    cmd
}

/// Runs a command like [`plaster`] makes, off the async threads.
pub async fn run(mut cmd: std::process::Command) -> std::process::Output {
    // A bounded wait: a stuck child process fails the test instead of hanging the suite.
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::task::spawn_blocking(move || cmd.output().expect("run plaster")),
    )
    .await
    .expect("plaster CLI finished within 120 s")
    .expect("join")
}

/// Runs each listed test once per backend: `sqlite::name` and `postgres::name`.
/// Each test is an `async fn name(app: TestApp)` in the invoking module.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::TestBackend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::TestBackend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
