//! Leases and outgoing limits: payouts, like webhooks, follow no redirect
//! and reach no private address (refused when the name is resolved, at
//! connection time); and an execution whose lease another attempt took
//! over writes nothing.
//!
//! The runs here are put straight into the tables (an approved revision
//! being executed), so that the test decides who holds an execution and
//! when; the server's own execution worker and payout senders do the rest,
//! as they do in production.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use plaster_server::compensation::execution_job::line_transaction;
use plaster_server::compensation::payouts as delivery;
use plaster_server::kernel::audit::Actor;
use plaster_server::kernel::outgoing::OutgoingPolicy;
use plaster_server::store::compensation::{self as table, RevisionRecord, RunRecord, StoredLine};
use plaster_server::store::{executions, ledger};
use sqlx::Row;

use crate::fixtures::{eventually, open_minor};
use crate::helpers::{spawn_bare_app_with_env, TestApp, TestBackend};
use crate::on_both_backends;

on_both_backends!(
    a_stale_execution_lease_writes_nothing,
    webhooks_do_not_follow_redirects,
);

// The payout tests need a server of their own settings and without the
// demo (whose payouts would go to the test's endpoint too).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_payouts_refuse_a_name_that_resolves_to_a_private_address() {
    payouts_refuse_a_name_that_resolves_to_a_private_address(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_payouts_refuse_a_name_that_resolves_to_a_private_address() {
    payouts_refuse_a_name_that_resolves_to_a_private_address(TestBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_payouts_do_not_follow_redirects() {
    payouts_do_not_follow_redirects(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_payouts_do_not_follow_redirects() {
    payouts_do_not_follow_redirects(TestBackend::Postgres).await;
}

const REQUESTED_BY: &str = "finance@example.se";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `n` lines of one rule, one customer each, in the order the job reads them.
fn lines_of(prefix: &str, n: usize) -> Vec<StoredLine> {
    (1..=n)
        .map(|i| StoredLine {
            position: 0,
            rule: "refund_failed_debits".into(),
            customer_id: format!("{prefix}-c{i:03}"),
            reference: format!("ref-{i}"),
            amount_minor: 1_000 * i as i64,
            currency: "SEK".into(),
        })
        .collect()
}

/// A run whose revision 1 (`lines`) is approved and being executed; returns
/// the execution's id. With `leased_until` the execution is running under
/// a lease until then that no worker holds (the server's worker leaves it
/// alone until the lease runs out); without, it is queued for the server's
/// worker.
async fn executing_run(
    app: &TestApp,
    run: &str,
    lines: &[StoredLine],
    leased_until: Option<i64>,
) -> String {
    let now = now_ms();
    let plan = format!(
        "id = \"{run}\"\ncomponents = [\"login\"]\nstarted_at = \"2024-08-24T16:06:00+02:00\"\n\
         resolved_at = \"2024-08-24T20:41:00+02:00\"\n[[rules]]\nkind = \"refund_failed_debits\"\n"
    );
    let id = format!("exec-{run}");
    let mut tx = app.store.begin_write().await.expect("tx");
    table::insert_run(
        &mut tx,
        &RunRecord {
            id: run.to_string(),
            incident_id: "no-such-incident".into(),
            plan_toml: plan.clone(),
            state: "executing".into(),
            inputs_version: 1,
            created_by: "nobody".into(),
            created_by_email: REQUESTED_BY.into(),
            created_at: now,
            updated_at: now,
            approved_revision: None,
            approved_by: None,
            approved_at: None,
        },
    )
    .await
    .expect("run");
    sqlx::query("UPDATE compensation_runs SET approved_revision = 1 WHERE id = $1")
        .bind(run)
        .execute(&mut *tx)
        .await
        .expect("approved");
    table::insert_revision(
        &mut tx,
        &RevisionRecord {
            run_id: run.to_string(),
            revision: 1,
            inputs_version: 1,
            plan_toml: plan,
            report_json: "{}".into(),
            digest: "0".repeat(64),
            lines: lines.len() as i64,
            customers: lines.len() as i64,
            failures_json: "[]".into(),
            created_by: "test".into(),
            created_at: now,
            reference_digest: String::new(),
            reference_rows: 0,
        },
    )
    .await
    .expect("revision");
    table::insert_lines(&mut tx, run, 1, lines)
        .await
        .expect("lines");
    executions::insert(&mut tx, &id, run, 1, REQUESTED_BY, lines.len() as i64, now)
        .await
        .expect("execution");
    if let Some(until) = leased_until {
        // In the same transaction: no worker ever sees it queued.
        sqlx::query(
            "UPDATE compensation_executions SET state = 'running', locked_until = $2 WHERE id = $1",
        )
        .bind(&id)
        .bind(until)
        .execute(&mut *tx)
        .await
        .expect("leased");
    }
    tx.commit().await.expect("commit");
    id
}

/// `SELECT COUNT(*) …` with `binds` for `$1`, `$2`, ….
async fn count(app: &TestApp, sql: &str, binds: &[&str]) -> i64 {
    let mut query = sqlx::query(sql);
    for b in binds {
        query = query.bind(*b);
    }
    query
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// One execution's batches as the execution job writes them.
struct Job<'a> {
    app: &'a TestApp,
    run: &'a str,
    id: &'a str,
    lines: &'a [StoredLine],
    lease_until: i64,
}

impl Job<'_> {
    /// One batch of `attempt` (`execution_job::step`): the lease is
    /// extended first, in the batch's own transaction, and only while the
    /// execution is still that attempt's are lines `next_seq..upto` posted
    /// (`created_by` = `writer`) and the progress recorded. `false`:
    /// nothing was written.
    async fn batch(&self, attempt: i64, writer: &str, upto: usize) -> bool {
        let now = now_ms();
        let mut tx = self.app.store.begin_write().await.expect("tx");
        let Some(held) = executions::hold(&mut tx, self.id, attempt, self.lease_until)
            .await
            .expect("hold")
        else {
            tx.rollback().await.expect("rollback");
            return false;
        };
        assert_eq!(held.attempts, attempt);
        let from = held.next_seq as usize;
        let batch: Vec<_> = self.lines[from..upto]
            .iter()
            .map(|l| line_transaction(self.run, 1, self.id, writer, l, now))
            .collect();
        assert!(
            ledger::insert(&mut tx, &batch).await.expect("posted"),
            "none of these keys was posted before"
        );
        executions::advance(&mut tx, self.id, upto as i64, batch.len() as i64, 0, 0)
            .await
            .expect("advanced");
        tx.commit().await.expect("commit");
        true
    }

    /// Line transactions of this run written by `writer`.
    async fn written_by(&self, writer: &str) -> i64 {
        count(
            self.app,
            "SELECT COUNT(*) FROM ledger_transactions
             WHERE kind = 'line' AND run_id = $1 AND created_by = $2",
            &[self.run, writer],
        )
        .await
    }
}

/// Two attempts claim one execution in turn (the clock passed to `claim`
/// runs ahead, as a node's does when it finds a stalled node's lease run
/// out; the server's worker, on the real clock, sees a live lease and
/// keeps off). The first attempt's batches are refused from then on and
/// write nothing, before and after the second attempt's; then the server's
/// worker takes over and finishes from where the second attempt got.
async fn a_stale_execution_lease_writes_nothing(app: TestApp) {
    const RUN: &str = "lease-run";
    const LEASE: i64 = 15_000;
    let lines = lines_of("lease", 5);
    let start = now_ms();
    let id = executing_run(&app, RUN, &lines, Some(start + 3_600_000)).await;

    let t1 = start + 2 * 3_600_000;
    let a = executions::claim(&app.store, t1, LEASE)
        .await
        .expect("claim")
        .expect("the execution's lease ran out: it is claimed");
    assert_eq!((a.id.as_str(), a.attempts), (id.as_str(), 1));
    // a stalls past its lease; b claims.
    let t2 = t1 + LEASE + 1;
    let b = executions::claim(&app.store, t2, LEASE)
        .await
        .expect("claim")
        .expect("a's lease ran out: it is claimed again");
    assert_eq!((b.id.as_str(), b.attempts), (id.as_str(), 2));
    assert!(
        executions::claim(&app.store, t2, LEASE)
            .await
            .expect("claim")
            .is_none(),
        "b's lease is live: nobody else claims it"
    );

    // The primitive itself: the stale attempt's hold finds nothing, the
    // holder's finds the execution where it stands.
    let mut tx = app.store.begin_write().await.expect("tx");
    assert!(
        executions::hold(&mut tx, &id, a.attempts, t2 + LEASE)
            .await
            .expect("hold")
            .is_none(),
        "attempt 1 no longer holds the execution"
    );
    let held = executions::hold(&mut tx, &id, b.attempts, t2 + LEASE)
        .await
        .expect("hold")
        .expect("attempt 2 holds it");
    assert_eq!((held.attempts, held.next_seq), (2, 0));
    tx.rollback().await.expect("rollback");

    let job = Job {
        app: &app,
        run: RUN,
        id: &id,
        lines: &lines,
        lease_until: t2 + LEASE,
    };
    assert!(!job.batch(a.attempts, "attempt 1", 2).await);
    assert!(job.batch(b.attempts, "attempt 2", 2).await);
    assert!(
        !job.batch(a.attempts, "attempt 1", 4).await,
        "still refused after the holder's batch"
    );
    assert_eq!(
        job.written_by("attempt 1").await,
        0,
        "the stale attempt wrote no line"
    );
    assert_eq!(job.written_by("attempt 2").await, 2);
    let so_far = executions::get(&app.store, &id)
        .await
        .expect("execution")
        .expect("exists");
    assert_eq!((so_far.next_seq, so_far.posted, so_far.attempts), (2, 2, 2));

    // b dies too: once its lease is out, the server's worker resumes at line 2.
    sqlx::query("UPDATE compensation_executions SET locked_until = 0 WHERE id = $1")
        .bind(&id)
        .execute(app.store.pool())
        .await
        .expect("lease out");
    eventually(60, "the execution finished", || async {
        executions::get(&app.store, &id)
            .await
            .expect("execution")
            .is_some_and(|e| e.state == "done")
    })
    .await;
    let done = executions::get(&app.store, &id)
        .await
        .expect("execution")
        .expect("exists");
    assert_eq!(done.attempts, 3, "{done:?}");
    assert_eq!(
        (done.posted, done.already_posted, done.discrepancies),
        (5, 0, 0),
        "{done:?}"
    );
    assert_eq!(job.written_by("attempt 1").await, 0);
    assert_eq!(job.written_by("attempt 2").await, 2);
    assert_eq!(
        job.written_by(REQUESTED_BY).await,
        3,
        "the server's worker posted the rest"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'line' AND run_id = $1",
            &[RUN],
        )
        .await,
        5,
        "each line once"
    );
}

/// Requests a test receiver got.
#[derive(Default)]
struct Hits {
    /// At the configured path, which answers 307 to `/landed`.
    configured: AtomicUsize,
    /// At `/landed`.
    landed: AtomicUsize,
}

/// A receiver on 127.0.0.1 whose `path` answers `307 Temporary Redirect`
/// with `Location: /landed`; its port and what it got.
async fn redirecting_receiver(path: &'static str) -> (u16, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let (configured, landed) = (hits.clone(), hits.clone());
    let app = axum::Router::new()
        .route(
            path,
            axum::routing::post(move || {
                let hits = configured.clone();
                async move {
                    hits.configured.fetch_add(1, Ordering::SeqCst);
                    axum::response::Redirect::temporary("/landed")
                }
            }),
        )
        .route(
            "/landed",
            axum::routing::any(move || {
                let hits = landed.clone();
                async move {
                    hits.landed.fetch_add(1, Ordering::SeqCst);
                    axum::http::StatusCode::OK
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, hits)
}

/// The first failure a payout batch recorded, once there is one.
async fn batch_error(app: &TestApp) -> String {
    async fn first(app: &TestApp) -> Option<String> {
        sqlx::query(
            "SELECT last_error FROM payout_batches WHERE last_error IS NOT NULL
             ORDER BY created_at, id",
        )
        .fetch_optional(app.store.pool())
        .await
        .expect("batches")
        .map(|r| r.get::<String, _>(0))
    }
    eventually(60, "a payout batch's failed delivery recorded", || async {
        first(app).await.is_some()
    })
    .await;
    first(app).await.expect("recorded")
}

/// The run's payouts exist and none of them is settled, in the table or
/// in the ledger; no batch counts as delivered.
async fn nothing_settled(app: &TestApp, run: &str, payouts: i64) {
    let made = count(
        app,
        "SELECT COUNT(*) FROM payouts WHERE run_id = $1",
        &[run],
    )
    .await;
    assert_eq!(made, payouts, "one payout per customer");
    let settled = count(
        app,
        "SELECT COUNT(*) FROM payouts WHERE run_id = $1 AND state = 'settled'",
        &[run],
    )
    .await;
    assert_eq!(settled, 0, "no payout settled");
    let in_ledger = count(
        app,
        "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'payout' AND run_id = $1",
        &[run],
    )
    .await;
    assert_eq!(in_ledger, 0, "no settlement in the ledger");
    let delivered = count(
        app,
        "SELECT COUNT(*) FROM payout_batches WHERE state <> 'pending'",
        &[],
    )
    .await;
    assert_eq!(delivered, 0, "no batch delivered");
}

/// SSRF at delivery: a payout endpoint given by name is taken when it is
/// set (a name is not an address), but the name resolves to loopback, and
/// without `PLASTER_OUTGOING_ALLOW` the server's payout sender refuses to
/// connect: the receiver gets nothing and the batch records why.
async fn payouts_refuse_a_name_that_resolves_to_a_private_address(backend: TestBackend) {
    let Some(app) = spawn_bare_app_with_env(backend, &[("PLASTER_OUTGOING_ALLOW", "")]).await
    else {
        return;
    };
    let (port, hits) = redirecting_receiver("/payouts").await;
    let url = format!("http://localhost:{port}/payouts");
    delivery::set_endpoint(&app.store, &Actor::Cli, &OutgoingPolicy::default(), &url)
        .await
        .expect("a name passes when the endpoint is set");
    executing_run(&app, "private-run", &lines_of("private", 3), None).await;

    let error = batch_error(&app).await;
    assert!(
        error.starts_with("refused: ")
            && error.contains("is not a public address")
            && error.contains("PLASTER_OUTGOING_ALLOW"),
        "{error}"
    );
    assert_eq!(
        hits.configured.load(Ordering::SeqCst) + hits.landed.load(Ordering::SeqCst),
        0,
        "nothing reached the receiver"
    );
    nothing_settled(&app, "private-run", 3).await;
}

/// A payout endpoint that answers with a redirect is not followed: the
/// target of the redirect gets nothing, the batch records the redirect
/// as its failure, and nothing is settled.
async fn payouts_do_not_follow_redirects(backend: TestBackend) {
    // The test settings allow loopback (127.0.0.0/8): the sender connects.
    let Some(app) = spawn_bare_app_with_env(backend, &[]).await else {
        return;
    };
    let (port, hits) = redirecting_receiver("/payouts").await;
    let policy = OutgoingPolicy::allowing(vec!["127.0.0.0/8".parse().expect("range")]);
    let url = format!("http://127.0.0.1:{port}/payouts");
    delivery::set_endpoint(&app.store, &Actor::Cli, &policy, &url)
        .await
        .expect("set");
    executing_run(&app, "redirect-run", &lines_of("redirect", 3), None).await;

    let error = batch_error(&app).await;
    assert!(
        error.contains("answered HTTP 307") && error.contains("redirects are not followed"),
        "{error}"
    );
    assert!(
        hits.configured.load(Ordering::SeqCst) >= 1,
        "the endpoint was asked"
    );
    assert_eq!(
        hits.landed.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
    nothing_settled(&app, "redirect-run", 3).await;
}

/// (state, last_reply) of every webhook delivery in the outbox.
async fn webhook_deliveries(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query("SELECT state, last_reply FROM outbox WHERE kind = 'webhook' ORDER BY id")
        .fetch_all(app.store.pool())
        .await
        .expect("outbox")
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<Option<String>, _>(1)))
        .collect()
}

/// A webhook receiver that answers with a redirect is not followed: the
/// delivery fails for good (the receiver must be given the URL that
/// answers) with the redirect named in Sent mail, and the redirect's
/// target gets nothing.
async fn webhooks_do_not_follow_redirects(app: TestApp) {
    let (port, hits) = redirecting_receiver("/hook").await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let policy = OutgoingPolicy::allowing(vec!["127.0.0.0/8".parse().expect("range")]);
    let mut tx = app.store.pool().begin().await.expect("tx");
    plaster_server::notify::webhooks::add(&mut tx, &policy, &url, &[])
        .await
        .expect("added");
    tx.commit().await.expect("commit");
    open_minor(&app, "Slow odds").await;
    eventually(60, "the webhook deliveries given up", || async {
        let all = webhook_deliveries(&app).await;
        !all.is_empty() && all.iter().all(|(state, _)| state == "failed")
    })
    .await;
    for (_, reply) in webhook_deliveries(&app).await {
        let reply = reply.unwrap_or_default();
        assert!(
            reply.contains("answered HTTP 307") && reply.contains("redirects are not followed"),
            "{reply}"
        );
    }
    assert!(
        hits.configured.load(Ordering::SeqCst) >= 1,
        "the receiver was asked"
    );
    assert_eq!(
        hits.landed.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}

/// Whether a response is the in-memory limiter's refusal (not the
/// database's per-hour limits behind it).
async fn stopped_in_memory(r: reqwest::Response) -> bool {
    let status = r.status();
    let retry = r.headers().contains_key("retry-after");
    let body = r.text().await.unwrap_or_default();
    status == 429 && retry && body.contains("Too many requests from your network")
}

/// A flood of public posts from one network is answered 429 in memory once
/// its burst is spent; the rest of its /64 shares the budget, another
/// network does not, and behind the trusted proxy its `X-Forwarded-For`
/// names the client. One backend: nothing here touches the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_public_posts_is_stopped_in_memory_per_network() {
    let app = spawn_bare_app_with_env(
        TestBackend::Sqlite,
        &[("PLASTER_TRUSTED_PROXY", "127.0.0.1")],
    )
    .await
    .expect("app");
    let client = reqwest::Client::new();
    let post = |from: &str| {
        client
            .post(app.url("/me/sign-in"))
            .header("x-forwarded-for", format!("203.0.113.1, {from}"))
            .form(&[("email", "flood@example.se"), ("lang", "en")])
            .send()
    };
    let sent = plaster_server::kernel::public_writes::BURST as usize + 10;
    let mut stopped = 0;
    for _ in 0..sent {
        if stopped_in_memory(post("2001:db8:7:1::1").await.expect("POST")).await {
            stopped += 1;
        }
    }
    assert!(
        (9..=11).contains(&stopped),
        "{stopped} of {sent} stopped in memory"
    );
    assert!(
        stopped_in_memory(post("2001:db8:7:1:ffff::9").await.expect("POST")).await,
        "the same /64 is the same client"
    );
    assert!(
        !stopped_in_memory(post("2001:db8:7:2::1").await.expect("POST")).await,
        "another network has its own budget"
    );
    // The console's work after sign-in is never a public write.
    let r = client
        .post(app.url("/staff/incidents"))
        .header("x-forwarded-for", "2001:db8:7:1::1")
        .send()
        .await
        .expect("POST");
    assert!(!stopped_in_memory(r).await);
}
