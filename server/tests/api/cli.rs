//! The `plaster` binary's own behaviour: help, bad settings, and what
//! `plaster serve` puts into an empty database.

use std::process::Command;
use std::time::Duration;

use sqlx::Row;

use crate::helpers::{examples_dir, fresh_database, TestBackend};

fn plaster() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plaster"))
}

#[test]
fn help_lists_every_subcommand() {
    let out = plaster().arg("--help").output().expect("run plaster");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "demo", "compensation"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
}

#[test]
fn a_bad_setting_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = plaster()
        .current_dir(dir.path())
        .args(["serve"])
        .env("PLASTER_TIME_ZONE", "Mars/Olympus_Mons")
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PLASTER_TIME_ZONE"), "{err}");
}

#[test]
fn a_bad_config_file_exits_2_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plaster.toml");
    std::fs::write(&file, "listen = \"not an address\"\n").expect("write");
    let out = plaster()
        .current_dir(dir.path())
        .args(["migrate"])
        .env_remove("PLASTER_LISTEN")
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plaster.toml") && err.contains("listen"),
        "{err}"
    );
}

/// `plaster compensation preview` in `dir`, with its plan.toml and customers.csv.
fn preview_in(dir: &std::path::Path) -> Command {
    let mut cmd = plaster();
    cmd.current_dir(dir).args([
        "compensation",
        "preview",
        "--plan",
        "plan.toml",
        "--customers",
        "customers.csv",
    ]);
    cmd
}

fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The malformed examples are compared by file and line only: the reason's
/// wording is ours.
fn without_reasons(mut report: serde_json::Value) -> serde_json::Value {
    if let Some(list) = report["malformed_examples"].as_array_mut() {
        for m in list {
            if let Some(obj) = m.as_object_mut() {
                obj.remove("reason");
            }
        }
    }
    report
}

#[test]
fn compensation_preview_matches_the_shared_examples() {
    for (name, subscriptions) in [("v75", false), ("sumo", true)] {
        let dir = examples_dir(name);
        let details = tempfile::NamedTempFile::new().expect("temp file");
        let mut cmd = preview_in(&dir);
        if subscriptions {
            cmd.args(["--subscriptions", "subscriptions.csv"]);
        }
        let out = cmd
            .arg("--details")
            .arg(details.path())
            .arg("events.jsonl")
            .output()
            .expect("run plaster");
        assert_success(&out);
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report is JSON");
        let want: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected-report.json")).expect("expected report"),
        )
        .expect("expected report is JSON");
        assert_eq!(without_reasons(got), without_reasons(want), "{name} report");
        let lines = std::fs::read_to_string(details.path()).expect("details");
        let want_lines =
            std::fs::read_to_string(dir.join("expected-lines.csv")).expect("expected lines");
        assert_eq!(lines, want_lines, "{name} details");
    }
}

#[test]
fn compensation_preview_exit_codes_name_the_problem() {
    let dir = examples_dir("v75");
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad_plan = tmp.path().join("plan.toml");
    std::fs::write(
        &bad_plan,
        std::fs::read_to_string(dir.join("plan.toml"))
            .expect("plan")
            .replace("id = \"atg-2024-08-24\"", "id = \"Not Valid!\""),
    )
    .expect("write plan");
    let out = plaster()
        .current_dir(&dir)
        .args(["compensation", "preview", "--plan"])
        .arg(&bad_plan)
        .args(["--customers", "customers.csv", "events.jsonl"])
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plan.toml") && err.contains("id"), "{err}");

    let out = preview_in(&dir)
        .arg(tmp.path().join("missing.jsonl"))
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
}

#[test]
fn generated_logs_are_deterministic_and_preview_cleanly() {
    let run = |out: &std::path::Path| {
        let status = plaster()
            .args([
                "demo",
                "generate-logs",
                "--scenario",
                "v75-2024",
                "--events",
                "5000",
                "--seed",
                "7",
                "--out",
            ])
            .arg(out)
            .status()
            .expect("run plaster");
        assert!(status.success());
    };
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    run(a.path());
    run(b.path());
    let mut files: Vec<_> = walk(a.path());
    files.sort();
    assert!(!files.is_empty());
    for rel in &files {
        assert_eq!(
            std::fs::read(a.path().join(rel)).expect("read a"),
            std::fs::read(b.path().join(rel)).expect("read b"),
            "{} differs between two runs with the same seed",
            rel.display()
        );
    }
    let scenario = files
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "plan.toml"))
        .and_then(|p| p.parent())
        .map(|p| a.path().join(p))
        .expect("a plan was generated");
    let events: Vec<_> = std::fs::read_dir(&scenario)
        .expect("scenario dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            n.starts_with("events")
        })
        .collect();
    assert!(
        !events.is_empty(),
        "no event files in {}",
        scenario.display()
    );
    let out = preview_in(&scenario)
        .args(&events)
        .output()
        .expect("run plaster");
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        report["events"]["records"].as_u64().unwrap_or(0) > 1000,
        "{report}"
    );
    assert!(
        report["events"]["malformed"].as_u64().unwrap_or(0) > 0,
        "generator writes malformed lines"
    );
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out
}

/// A `plaster serve` child process on a port of its own, its stdout and
/// stderr in files. Killed and reaped however the test ends (a failed
/// assertion included), before its log folder goes.
struct Served {
    child: std::process::Child,
    base: String,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
    _folder: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Everything the process printed so far, stdout then stderr.
    fn output(&self) -> String {
        let out = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        format!("{out}\n{err}")
    }
}

/// Starts `plaster serve EXTRA...` on `database_url` and waits until it
/// answers /healthz (it has printed its welcome by then).
async fn serve(database_url: &str, extra: &[&str]) -> Served {
    let folder = tempfile::tempdir().expect("temporary folder");
    let stdout = folder.path().join("stdout.txt");
    let stderr = folder.path().join("stderr.txt");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = plaster()
        // A folder of its own, so no plaster.toml is picked up.
        .current_dir(folder.path())
        .env_remove("PLASTER_CONFIG")
        .env("DATABASE_URL", database_url)
        .env("PLASTER_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info,sqlx=warn")
        .arg("serve")
        .args(extra)
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start plaster serve");
    let mut served = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
        stdout,
        stderr,
        _folder: folder,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    // Seeding the demo on a loaded PostgreSQL takes a while.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let answered = client
            .get(format!("{}/healthz", served.base))
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == 200);
        if answered {
            return served;
        }
        if let Ok(Some(status)) = served.child.try_wait() {
            panic!(
                "plaster serve {extra:?} exited ({status}) before it answered:\n{}",
                served.output()
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "plaster serve {extra:?} did not answer /healthz within 180 s:\n{}",
            served.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(store: &plaster_server::store::Store, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    sqlx::query(&sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<i64, _>(0)
}

async fn open_store(database_url: &str) -> plaster_server::store::Store {
    let url: plaster_server::store::DatabaseUrl = database_url.parse().expect("database URL");
    plaster_server::store::Store::connect(&url)
        .await
        .expect("connect to the served database")
}

async fn incident_page_status(served: &Served) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/en/incidents/atg-2024-08-24-v75", served.base))
        .send()
        .await
        .expect("GET the demo incident")
        .status()
        .as_u16()
}

/// What the demo adds that a plain start must not: its staff accounts (with
/// one-time passwords printed), customers, runs, claims, status content.
const DEMO_STAFF: [&str; 3] = [
    "finance@plaster.local",
    "approver@plaster.local",
    "support@plaster.local",
];
const DEMO_TABLES: [&str; 8] = [
    "customers",
    "compensation_runs",
    "claims",
    "components",
    "incidents",
    "ledger_transactions",
    "payouts",
    "outbox",
];

/// Issue #29: a plain `plaster serve` on an empty database creates only the
/// first admin and prints only its one-time password; the demo, with its demo
/// staff accounts and their printed one-time passwords, only with `--demo`.
async fn serve_creates_only_the_first_admin_unless_asked_for_the_demo(backend: TestBackend) {
    use plaster_server::startup::FIRST_ADMIN_EMAIL;
    // Declared first, so dropped last: every server is gone before the
    // database is dropped.
    let Some((plain_url, _plain_database)) = fresh_database(backend).await else {
        return;
    };
    let Some((demo_url, _demo_database)) = fresh_database(backend).await else {
        return;
    };

    let plain = serve(&plain_url, &[]).await;
    let store = open_store(&plain_url).await;
    let emails: Vec<String> = sqlx::query("SELECT email FROM staff_accounts")
        .fetch_all(store.pool())
        .await
        .expect("staff accounts")
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect();
    assert_eq!(emails, [FIRST_ADMIN_EMAIL], "only the first admin");
    for table in DEMO_TABLES {
        assert_eq!(count(&store, table).await, 0, "{table} after a plain serve");
    }
    store.close().await;
    assert_eq!(incident_page_status(&plain).await, 404);
    let printed = plain.output();
    assert!(printed.contains(FIRST_ADMIN_EMAIL), "{printed}");
    assert_eq!(
        printed.matches("one-time password").count(),
        1,
        "only the first admin's one-time password is printed:\n{printed}"
    );
    for marker in
        DEMO_STAFF
            .iter()
            .copied()
            .chain(["Demo staff", "Demo customers", "seeded the demo"])
    {
        assert!(!printed.contains(marker), "{marker} printed:\n{printed}");
    }
    drop(plain);

    let demo = serve(&demo_url, &["--demo"]).await;
    let store = open_store(&demo_url).await;
    assert_eq!(
        count(&store, "staff_accounts").await,
        1 + DEMO_STAFF.len() as i64
    );
    for table in ["customers", "compensation_runs", "claims", "incidents"] {
        assert!(count(&store, table).await > 0, "{table} after serve --demo");
    }
    store.close().await;
    assert_eq!(incident_page_status(&demo).await, 200);
    let printed = demo.output();
    for email in DEMO_STAFF.iter().copied().chain([FIRST_ADMIN_EMAIL]) {
        assert!(printed.contains(email), "{email} not printed:\n{printed}");
    }
    assert_eq!(
        printed.matches("one-time password").count(),
        1 + DEMO_STAFF.len(),
        "{printed}"
    );
    assert!(printed.contains("Demo customers"), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_serve_creates_only_the_first_admin_unless_asked_for_the_demo() {
    serve_creates_only_the_first_admin_unless_asked_for_the_demo(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serve_creates_only_the_first_admin_unless_asked_for_the_demo() {
    serve_creates_only_the_first_admin_unless_asked_for_the_demo(TestBackend::Postgres).await;
}
