//! Executing approved runs (runs.md §2-4): the ledger's keys, late logs and
//! discrepancies, adjustments with four eyes, payouts to the inbox and to a
//! signed endpoint that fails and rejects (or floods its answer), and the
//! personal notices.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use plaster_server::compensation::{adjustments, payouts as delivery, runs};
use plaster_server::kernel::audit::Actor;
use plaster_server::kernel::ids::AccountId;
use plaster_server::kernel::outgoing::{OutgoingPolicy, ANSWER_LIMIT};
use plaster_server::staff::roles::Role;
use sqlx::Row;

use crate::fixtures::{eventually, inbox_paid_by_two};
use crate::helpers::{plaster, run, TestApp};
use crate::on_both_backends;

on_both_backends!(
    an_approved_run_is_posted_once_paid_and_told,
    payouts_reach_a_signed_endpoint_through_failures_and_rejections,
    a_payout_endpoints_answer_is_read_only_up_to_its_bound,
    random_runs_always_balance,
    two_nodes_race_to_approve_change_and_execute,
);

const INCIDENT: &str = "atg-2024-08-24-v75";
const RUN: &str = "atg-2024-08-24";
const DRAFTER: &str = "drafter@example.se";
const APPROVER: &str = "approver@example.se";
const THIRD: &str = "third@example.se";

fn example(file: &str) -> String {
    crate::helpers::examples_dir("v75")
        .join(file)
        .display()
        .to_string()
}

async fn cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let out = run(plaster(app, args)).await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn ok(app: &TestApp, args: &[&str]) -> String {
    let (code, out, err) = cli(app, args).await;
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Three finance members; returns their actors for library calls.
async fn finance(app: &TestApp) -> [Actor; 3] {
    let mut out = Vec::new();
    for email in [DRAFTER, APPROVER, THIRD] {
        let id = app.staff_member(email, &[Role::Finance]).await;
        out.push(Actor::Staff {
            id: AccountId::from(id.as_str()),
            email: email.to_string(),
        });
    }
    out.try_into().unwrap_or_else(|_| unreachable!())
}

/// The example run, previewed and approved by another member; its digest.
async fn approved_example(app: &TestApp) {
    ok(
        app,
        &[
            "customers",
            "import",
            "--customers",
            &example("customers.csv"),
        ],
    )
    .await;
    ok(
        app,
        &[
            "compensation",
            "run",
            "create",
            "--incident",
            INCIDENT,
            "--plan",
            &example("plan.toml"),
            "--by",
            DRAFTER,
        ],
    )
    .await;
    ok(
        app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &example("events.jsonl"),
            "--by",
            DRAFTER,
        ],
    )
    .await;
    preview_and_approve(app, DRAFTER, APPROVER).await;
}

async fn preview(app: &TestApp, previewer: &str) -> String {
    let report = json(
        &ok(
            app,
            &["compensation", "run", "preview", RUN, "--by", previewer],
        )
        .await,
    );
    report["digest"].as_str().expect("digest").to_string()
}

async fn preview_and_approve(app: &TestApp, previewer: &str, approver: &str) {
    let digest = preview(app, previewer).await;
    ok(
        app,
        &[
            "compensation",
            "run",
            "approve",
            RUN,
            "--digest",
            &digest,
            "--by",
            approver,
        ],
    )
    .await;
}

async fn execute(app: &TestApp, by: &str) -> serde_json::Value {
    json(&ok(app, &["compensation", "run", "execute", RUN, "--by", by]).await)
}

/// Debits equal credits per currency over the whole ledger, from the CLI.
async fn assert_balanced(app: &TestApp) -> BTreeMap<(String, String), (i64, i64)> {
    let csv = ok(app, &["ledger", "balance"]).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("account,currency,debit_minor,credit_minor")
    );
    let mut per: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut accounts = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let (d, c): (i64, i64) = (f[2].parse().expect("debit"), f[3].parse().expect("credit"));
        let e = per.entry(f[1].to_string()).or_default();
        e.0 += d;
        e.1 += c;
        accounts.insert((f[0].to_string(), f[1].to_string()), (d, c));
    }
    for (currency, (d, c)) in per {
        assert_eq!(d, c, "{currency} does not balance");
    }
    accounts
}

async fn payouts_csv(app: &TestApp) -> Vec<Vec<String>> {
    ok(app, &["payouts", "export", "--run", RUN])
        .await
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

async fn an_approved_run_is_posted_once_paid_and_told(app: TestApp) {
    let [drafter, approver, third] = finance(&app).await;
    approved_example(&app).await;

    // The demo's runs are in the ledger already: this run's effect is the difference.
    let before = assert_balanced(&app).await;
    let delta = |after: &BTreeMap<(String, String), (i64, i64)>, account: &str, currency: &str| {
        let key = (account.to_string(), currency.to_string());
        let (d0, c0) = before.get(&key).copied().unwrap_or_default();
        let (d1, c1) = after.get(&key).copied().unwrap_or_default();
        (d1 - d0, c1 - c0)
    };
    // Nothing is posted before the execution; then every line, once.
    let (code, _, err) = cli(
        &app,
        &["compensation", "run", "execute", RUN, "--by", DRAFTER],
    )
    .await;
    assert_eq!(code, 0, "the drafter may execute an approved run: {err}");
    let expected = std::fs::read_to_string(example("expected-lines.csv")).expect("lines");
    assert_eq!(ok(&app, &["ledger", "lines", "--run", RUN]).await, expected);
    let show = json(&ok(&app, &["compensation", "run", "show", RUN]).await);
    assert_eq!(show["state"], "executed");
    // Key present with the same amount: already posted, nothing doubles.
    assert_eq!(
        execute(&app, APPROVER).await,
        serde_json::json!({"posted": 0, "already_posted": 6, "discrepancies": 0})
    );
    assert_eq!(ok(&app, &["ledger", "lines", "--run", RUN]).await, expected);
    let accounts = assert_balanced(&app).await;
    assert_eq!(
        delta(&accounts, "jackpot:pool:2024-08-31-V75", "SEK"),
        (0, 4_800_000_000)
    );
    assert_eq!(delta(&accounts, "jackpot:fund", "SEK"), (4_800_000_000, 0));
    assert_eq!(
        delta(&accounts, "compensation:goodwill_credit", "NOK"),
        (5000, 0)
    );

    // One payout per customer and currency, delivered to the inbox and
    // not settled by it: the inbox paid nobody.
    eventually(30, "the payouts delivered to the inbox", || async {
        let rows = payouts_csv(&app).await;
        rows.len() == 4 && rows.iter().all(|r| r[4] == "sent")
    })
    .await;
    assert!(inbox_paid_by_two(&app).await >= 1);
    let rows = payouts_csv(&app).await;
    assert!(rows.iter().all(|r| r[4] == "settled"), "{rows:?}");
    let rows = payouts_csv(&app).await;
    let by_customer: BTreeMap<&str, (&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), (r[2].as_str(), r[3].as_str())))
        .collect();
    assert_eq!(by_customer["s-004"], ("SEK", "7400"));
    assert_eq!(by_customer["s-009"], ("NOK", "5000"));
    let ids: BTreeSet<String> = rows.iter().map(|r| r[0].clone()).collect();
    let mut received = BTreeSet::new();
    for row in sqlx::query("SELECT body FROM payout_inbox")
        .fetch_all(app.store.pool())
        .await
        .expect("inbox")
    {
        let body = json(&row.get::<String, _>(0));
        assert_eq!(body["type"], "payout.batch");
        for p in body["data"]["payouts"].as_array().expect("payouts") {
            if p["run"] == RUN {
                received.insert(p["id"].as_str().expect("id").to_string());
            }
        }
    }
    assert_eq!(
        received, ids,
        "the CSV reconciles with what the inbox received"
    );
    let accounts = assert_balanced(&app).await;
    assert_eq!(
        delta(&accounts, "customer:s-004", "SEK"),
        (7400, 7400),
        "owed, then paid"
    );

    // Each customer is told once, in their language, with the arithmetic.
    // The incident's published apology reaches them too, once.
    let notice = |to: &'static str, kicker: &'static str| {
        let app = &app;
        async move {
            eventually(30, "the notice and the apology in the mailbox", || async {
                let mail = app.sent_mail(to).await;
                mail.len() == 2 && mail.iter().any(|(s, _)| s.starts_with(kicker))
            })
            .await;
            app.sent_mail(to)
                .await
                .into_iter()
                .find(|(s, _)| s.starts_with(kicker))
                .unwrap_or_default()
        }
    };
    let (_, text) = notice("johan.nilsson@example.se", "Du får kompensation").await;
    for expect in [
        // The bet's game and time, read back from the logs.
        "Insatsen för spel b-4001, som drogs men aldrig registrerades, tillbaka (V75, 2024-08-24 16:12 CEST): **24,00\u{a0}kr**",
        "Kompensation för att du inte kunde spela i tid: **50,00\u{a0}kr**",
        "(**74,00\u{a0}kr**)",
        "Jackpotten för omgång 2024-08-31-V75 fylls dessutom på med 48\u{a0}000\u{a0}000,00\u{a0}kr",
    ] {
        assert!(text.contains(expect), "{expect:?} not in {text}");
    }
    let (_, text) = notice("ole.nilsen@example.no", "Du får kompensasjon").await;
    assert!(
        text.contains("Kompensasjon fordi du ikke kunne spille i tide: **50,00\u{a0}kr**"),
        "{text}"
    );
    let notices: i64 = sqlx::query(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'compensation_notice' AND id LIKE 'notice-%'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("count")
    .get(0);
    // The demo's executions told their own customers too; this run told four.
    let ours: i64 = sqlx::query(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'compensation_notice' AND recipient IN
         (SELECT email FROM customers WHERE customer_id IN ('s-002', 's-004', 's-006', 's-009'))",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("count")
    .get(0);
    assert_eq!(
        ours, 4,
        "one notice per customer of the execution ({notices} in all)"
    );

    // Late logs: a new revision; after its approval only the new key is posted.
    let dir = tempfile::tempdir().expect("dir");
    let late = dir.path().join("late.jsonl");
    std::fs::write(
        &late,
        "{\"ts\":\"2024-08-24T16:30:00+02:00\",\"kind\":\"bet\",\"customer_id\":\"s-001\",\"outcome\":\"failed_after_debit\",\"bet_id\":\"b-late\",\"game\":\"V75\",\"round_id\":\"2024-08-24-V75\",\"stake_minor\":1000,\"currency\":\"SEK\"}\n",
    )
    .expect("late log");
    ok(
        &app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &late.display().to_string(),
            "--by",
            APPROVER,
        ],
    )
    .await;
    assert_eq!(
        json(&ok(&app, &["compensation", "run", "show", RUN]).await)["state"],
        "draft"
    );
    preview_and_approve(&app, APPROVER, THIRD).await;
    assert_eq!(
        execute(&app, THIRD).await,
        serde_json::json!({"posted": 1, "already_posted": 6, "discrepancies": 0})
    );

    // Once lines are posted, rules cannot be removed or reordered.
    let plan = std::fs::read_to_string(example("plan.toml")).expect("plan");
    let (head, rules) = plan.split_once("[[rules]]").expect("rules");
    let parts: Vec<&str> = rules.split("[[rules]]").collect();
    let reordered = format!(
        "{head}[[rules]]{}[[rules]]{}[[rules]]{}",
        parts[1], parts[0], parts[2]
    );
    let refused = runs::change_plan(&app.store, &drafter, RUN, &reordered)
        .await
        .expect_err("reordering is refused");
    assert!(
        refused
            .to_string()
            .contains("cannot be removed or reordered"),
        "{refused}"
    );

    // A changed amount: nothing posted, a discrepancy with both amounts.
    let richer = plan.replace(
        "amount_minor = { SEK = 5000, NOK = 5000 }",
        "amount_minor = { SEK = 6000, NOK = 5000 }",
    );
    assert_ne!(richer, plan);
    runs::change_plan(&app.store, &drafter, RUN, &richer)
        .await
        .expect("plan changed");
    // The drafter changed it; the third member may approve (four eyes).
    preview_and_approve(&app, DRAFTER, THIRD).await;
    assert_eq!(
        execute(&app, THIRD).await,
        serde_json::json!({"posted": 0, "already_posted": 5, "discrepancies": 2})
    );
    let found = ok(&app, &["ledger", "discrepancies", "--run", RUN]).await;
    assert_eq!(
        found,
        "rule,customer_id,reference,posted_minor,newest_minor,currency\n\
         goodwill_credit,s-002,,5000,6000,SEK\n\
         goodwill_credit,s-004,,5000,6000,SEK\n"
    );

    // An adjustment needs four eyes; then the difference is posted and paid.
    let which = adjustments::Which {
        position: 1,
        customer_id: "s-002".into(),
        reference: String::new(),
    };
    adjustments::request(&app.store, &approver, RUN, &which)
        .await
        .expect("asked");
    let refused = adjustments::approve(&app.store, &approver, RUN, &which)
        .await
        .expect_err("the asker may not approve");
    assert!(refused.to_string().contains("four eyes"), "{refused}");
    let id = adjustments::approve(&app.store, &third, RUN, &which)
        .await
        .expect("approved");
    assert_eq!(id, r#"["atg-2024-08-24",1,"s-002","","adjust",1]"#);
    assert_eq!(
        execute(&app, THIRD).await,
        serde_json::json!({"posted": 0, "already_posted": 6, "discrepancies": 1}),
        "the adjusted key now matches; the other is still open"
    );
    let accounts = assert_balanced(&app).await;
    assert_eq!(
        delta(&accounts, "compensation:goodwill_credit", "SEK").0,
        5000 + 5000 + 1000
    );
    eventually(30, "the adjustment's payout made", || async {
        let rows = payouts_csv(&app).await;
        rows.iter().filter(|r| r[1] == "s-002").count() == 2
    })
    .await;
    inbox_paid_by_two(&app).await;
    assert!(payouts_csv(&app).await.iter().all(|r| r[4] == "settled"));

    // The ledger is append-only.
    let mut refused = vec![
        "UPDATE ledger_postings SET debit_minor = 0",
        "DELETE FROM ledger_transactions",
        "DELETE FROM ledger_postings",
    ];
    if app.store.backend() == plaster_server::store::Backend::Postgres {
        refused.extend(["TRUNCATE ledger_postings", "TRUNCATE ledger_transactions"]);
    }
    for sql in refused {
        assert!(
            sqlx::query(sql).execute(app.store.pool()).await.is_err(),
            "{sql}"
        );
    }
    assert_balanced(&app).await;
}

/// What the endpoint got: (webhook-id, webhook-timestamp, webhook-signature, body).
type Got = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A payout endpoint: down for the first two requests, then it rejects the
/// payout of s-006 once, then accepts everything.
async fn endpoint() -> (String, Got) {
    use axum::http::{HeaderMap, StatusCode};
    let got: Got = Default::default();
    let log = got.clone();
    let app = axum::Router::new().route(
        "/payouts",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let h = |n: &str| {
                    headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
                };
                let mut log = log.lock().expect("log");
                log.push((h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"), body.clone()));
                match log.len() {
                    1 | 2 => (StatusCode::SERVICE_UNAVAILABLE, String::new()),
                    3 => {
                        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                        let results: Vec<serde_json::Value> = v["data"]["payouts"]
                            .as_array()
                            .expect("payouts")
                            .iter()
                            .map(|p| {
                                if p["customer_id"] == "s-006" {
                                    serde_json::json!({"id": p["id"], "status": "rejected", "reason": "account closed"})
                                } else {
                                    serde_json::json!({"id": p["id"], "status": "accepted"})
                                }
                            })
                            .collect();
                        (StatusCode::OK, serde_json::json!({"results": results}).to_string())
                    }
                    _ => (StatusCode::OK, String::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/payouts"), got)
}

fn verifies(secret: &str, id: &str, ts: &str, signature: &str, body: &str) -> bool {
    use base64::Engine;
    use hmac::Mac;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_"))
        .expect("key");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    signature
        == format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        )
}

async fn payouts_reach_a_signed_endpoint_through_failures_and_rejections(app: TestApp) {
    let [_, approver, _] = finance(&app).await;
    let admin = Actor::Cli;
    let policy = OutgoingPolicy::allowing(vec!["127.0.0.0/8".parse().expect("range")]);
    let (url, got) = endpoint().await;
    let strict = delivery::set_endpoint(&app.store, &admin, &OutgoingPolicy::default(), &url).await;
    assert!(
        strict.is_err(),
        "a loopback endpoint is refused unless allowed"
    );
    let secret = delivery::set_endpoint(&app.store, &admin, &policy, &url)
        .await
        .expect("set");
    approved_example(&app).await;
    execute(&app, APPROVER).await;

    // The server's sender and this loop both deliver; the clock here runs
    // ahead so that backoff does not make the test wait.
    let http = reqwest::Client::new();
    let mut clock = chrono::Utc::now().timestamp_millis();
    let mut resent = false;
    for _ in 0..40 {
        clock += 700_000;
        delivery::form_batches(&app.store, clock)
            .await
            .expect("batches");
        delivery::deliver_due(&app.store, &http, &policy, clock)
            .await
            .expect("deliver");
        let rows = payouts_csv(&app).await;
        if !resent {
            if let Some(r) = rows.iter().find(|r| r[4] == "rejected") {
                assert_eq!(r[1], "s-006");
                let reason: String = sqlx::query("SELECT reason FROM payouts WHERE id = $1")
                    .bind(&r[0])
                    .fetch_one(app.store.pool())
                    .await
                    .expect("reason")
                    .get(0);
                assert_eq!(reason, "account closed");
                delivery::send_again(&app.store, &approver, &r[0])
                    .await
                    .expect("sent again");
                resent = true;
            }
        }
        if resent && rows.len() == 4 && rows.iter().all(|r| r[4] == "settled") {
            break;
        }
    }
    let rows = payouts_csv(&app).await;
    assert!(rows.iter().all(|r| r[4] == "settled"), "{rows:?}");
    let got = got.lock().expect("log").clone();
    assert!(
        got.len() >= 4,
        "two failures, a rejection, the resend: {}",
        got.len()
    );
    // Every request is signed; a batch keeps its id and body on every retry.
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (id, ts, signature, body) in &got {
        assert!(id.starts_with("pb_"), "{id}");
        assert!(
            verifies(&secret, id, ts, signature, body),
            "signature of {id}"
        );
        if let Some(first) = bodies.insert(id.clone(), body.clone()) {
            assert_eq!(&first, body, "batch {id} changed between retries");
        }
        for p in json(body)["data"]["payouts"].as_array().expect("payouts") {
            seen.insert(p["id"].as_str().expect("id").to_string());
        }
    }
    assert_eq!(got[0].0, got[1].0, "a retry keeps the webhook-id");
    let ids: BTreeSet<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        seen, ids,
        "the receiver saw exactly the exported payout ids"
    );
    // Settled once each in the ledger.
    let settled: i64 = sqlx::query(
        "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'payout' AND run_id = $1",
    )
    .bind(RUN)
    .fetch_one(app.store.pool())
    .await
    .expect("count")
    .get(0);
    assert_eq!(settled, 4);
    assert_balanced(&app).await;
}

/// A payout endpoint that takes every batch with a 2xx and 10 MB of text.
async fn flooding_endpoint() -> String {
    let app = axum::Router::new().route(
        "/payouts",
        axum::routing::post(|| async {
            (axum::http::StatusCode::OK, "x".repeat(10 * 1024 * 1024))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/payouts")
}

/// An answer longer than the bound is not read (it might list rejections
/// past it): the batch settles nothing and waits to be sent again, with a
/// failure in our words, not the receiver's text.
async fn a_payout_endpoints_answer_is_read_only_up_to_its_bound(app: TestApp) {
    finance(&app).await;
    let policy = OutgoingPolicy::allowing(vec!["127.0.0.0/8".parse().expect("range")]);
    let url = flooding_endpoint().await;
    delivery::set_endpoint(&app.store, &Actor::Cli, &policy, &url)
        .await
        .expect("set");
    approved_example(&app).await;
    execute(&app, APPROVER).await;

    // This loop and the server's own sender both deliver; either way the
    // answer is cut at the bound.
    let http = reqwest::Client::new();
    let mut clock = chrono::Utc::now().timestamp_millis();
    let mut errors: Vec<String> = Vec::new();
    for _ in 0..20 {
        clock += 700_000;
        delivery::form_batches(&app.store, clock)
            .await
            .expect("batches");
        delivery::deliver_due(&app.store, &http, &policy, clock)
            .await
            .expect("deliver");
        errors = sqlx::query("SELECT last_error FROM payout_batches WHERE last_error IS NOT NULL")
            .fetch_all(app.store.pool())
            .await
            .expect("batches")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        if !errors.is_empty() {
            break;
        }
    }
    assert!(!errors.is_empty(), "the failed delivery is recorded");
    let expected = format!(
        "the endpoint's answer is longer than {} KiB; it was not read",
        ANSWER_LIMIT / 1024
    );
    for error in &errors {
        assert_eq!(error, &expected);
    }
    let made = run_count(&app, "SELECT COUNT(*) FROM payouts WHERE run_id = $1").await;
    assert!(made > 0, "the run has payouts");
    assert_eq!(
        run_count(
            &app,
            "SELECT COUNT(*) FROM payouts WHERE run_id = $1 AND state = 'settled'"
        )
        .await,
        0,
        "a flooded answer settles nothing"
    );
    assert_eq!(
        run_count(
            &app,
            "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'payout' AND run_id = $1"
        )
        .await,
        0
    );
}

/// `sql`'s count with the example run as `$1`.
async fn run_count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .bind(RUN)
        .fetch_one(app.store.pool())
        .await
        .expect("count")
        .get(0)
}

/// Random revisions, executed by the job itself: every transaction balances
/// per currency, the ledger holds exactly the revision's lines, and a second
/// execution posts nothing.
async fn random_runs_always_balance(app: TestApp) {
    use plaster_server::compensation::execution_job::{self, NoticeSettings};
    use plaster_server::store::compensation::{
        self as table, RevisionRecord, RunRecord, StoredLine,
    };
    let [_, approver, _] = finance(&app).await;
    let settings = NoticeSettings {
        public_url: app.address.clone(),
        mail_domain: "plaster.test".into(),
        time_zone: chrono_tz::Europe::Stockholm,
    };
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let rules = [
        "refund_failed_debits",
        "goodwill_credit",
        "subscription_credit",
        "jackpot_topup",
    ];
    let currencies = ["SEK", "NOK", "EUR"];
    for round in 0..4 {
        let id = format!("random-{round}");
        let mut lines = Vec::new();
        for position in 0..4i64 {
            let rule = rules[position as usize];
            let count = 1 + next(300);
            for i in 0..count {
                let jackpot = rule == "jackpot_topup";
                lines.push(StoredLine {
                    position,
                    rule: rule.into(),
                    customer_id: if jackpot {
                        String::new()
                    } else {
                        format!("r{round}-c{:04}", next(200))
                    },
                    reference: if jackpot {
                        format!("round-{i}")
                    } else {
                        format!("ref-{i}")
                    },
                    amount_minor: 1 + next(10_000_000_000) as i64,
                    currency: currencies[next(3) as usize].into(),
                });
            }
        }
        lines.sort_by(|a, b| {
            (a.position, &a.customer_id, &a.reference).cmp(&(
                b.position,
                &b.customer_id,
                &b.reference,
            ))
        });
        lines.dedup_by(|a, b| {
            (a.position, &a.customer_id, &a.reference) == (b.position, &b.customer_id, &b.reference)
        });
        let now = chrono::Utc::now().timestamp_millis();
        let mut tx = app.store.begin_write().await.expect("tx");
        table::insert_run(
            &mut tx,
            &RunRecord {
                id: id.clone(),
                incident_id: INCIDENT.into(),
                plan_toml: String::new(),
                state: "approved".into(),
                inputs_version: 1,
                created_by: "nobody".into(),
                created_by_email: "nobody@example.se".into(),
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
            .bind(&id)
            .execute(&mut *tx)
            .await
            .expect("approved");
        table::insert_revision(
            &mut tx,
            &RevisionRecord {
                run_id: id.clone(),
                revision: 1,
                inputs_version: 1,
                plan_toml: format!("id = \"{id}\"\ncomponents = [\"login\"]\nstarted_at = \"2024-08-24T16:06:00+02:00\"\nresolved_at = \"2024-08-24T20:41:00+02:00\"\n[[rules]]\nkind = \"refund_failed_debits\"\n"),
                report_json: "{}".into(),
                digest: "0".repeat(64),
                lines: lines.len() as i64,
                customers: 0,
                failures_json: "[]".into(),
                created_by: "test".into(),
                created_at: now,
                reference_digest: String::new(),
                reference_rows: 0,
            },
        )
        .await
        .expect("revision");
        table::insert_lines(&mut tx, &id, 1, &lines)
            .await
            .expect("lines");
        tx.commit().await.expect("commit");

        for expect_posted in [lines.len() as i64, 0] {
            let job = runs::execute(&app.store, &approver, &id)
                .await
                .expect("execute");
            eventually(60, "the execution done", || async {
                execution_job::run_next(&app.store, &settings)
                    .await
                    .expect("job");
                plaster_server::store::executions::get(&app.store, &job)
                    .await
                    .expect("job")
                    .is_some_and(|j| j.state == "done")
            })
            .await;
            let done = plaster_server::store::executions::get(&app.store, &job)
                .await
                .expect("job")
                .expect("job");
            assert_eq!(done.posted, expect_posted, "round {round}");
        }
        let unbalanced: i64 = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT transaction_id, currency FROM ledger_postings
             GROUP BY transaction_id, currency HAVING SUM(debit_minor) <> SUM(credit_minor)) u",
        )
        .fetch_one(app.store.pool())
        .await
        .expect("count")
        .get(0);
        assert_eq!(unbalanced, 0, "round {round}");
        let mut conn = app.store.pool().acquire().await.expect("conn");
        let posted = plaster_server::store::ledger::run_keys(&mut conn, &id)
            .await
            .expect("keys");
        let posted: Vec<(i64, String, String, i64, String)> = posted
            .into_iter()
            .map(|k| {
                (
                    k.position,
                    k.customer_id,
                    k.reference,
                    k.line_minor,
                    k.currency,
                )
            })
            .collect();
        let wanted: Vec<(i64, String, String, i64, String)> = lines
            .iter()
            .map(|l| {
                (
                    l.position,
                    l.customer_id.clone(),
                    l.reference.clone(),
                    l.amount_minor,
                    l.currency.clone(),
                )
            })
            .collect();
        assert_eq!(posted, wanted, "round {round}");
    }
    assert_balanced(&app).await;
}

/// Two nodes (two pools on one database) race an approval against a plan
/// change, in both orders: the approval is refused or voided, never applied
/// to inputs the approver did not see. Then both click Execute at once:
/// one execution does the work, each line is posted once.
async fn two_nodes_race_to_approve_change_and_execute(app: TestApp) {
    let [drafter, approver, _] = finance(&app).await;
    ok(
        &app,
        &[
            "customers",
            "import",
            "--customers",
            &example("customers.csv"),
        ],
    )
    .await;
    let plan = std::fs::read_to_string(example("plan.toml")).expect("plan");
    let create = [
        "compensation",
        "run",
        "create",
        "--incident",
        INCIDENT,
        "--plan",
        &example("plan.toml"),
        "--by",
        DRAFTER,
    ];
    ok(&app, &create).await;
    let add = [
        "compensation",
        "run",
        "add-logs",
        RUN,
        &example("events.jsonl"),
        "--by",
        DRAFTER,
    ];
    ok(&app, &add).await;
    let url = plaster_server::store::DatabaseUrl::parse(&app.database_url).expect("url");
    let other = plaster_server::store::Store::connect(&url)
        .await
        .expect("a second node's pool");
    let nodes = [&app.store, &other];
    for round in 0..4 {
        let digest = preview(&app, DRAFTER).await;
        // The same rules, other text: an input change all the same.
        let changed = format!("{plan}\n# round {round}\n");
        let (a, b) = (nodes[round % 2], nodes[(round + 1) % 2]);
        let approve = runs::approve(a, &approver, RUN, &digest);
        let change = runs::change_plan(b, &drafter, RUN, &changed);
        let (approved, change) = if round < 2 {
            tokio::join!(approve, change)
        } else {
            let (c, a) = tokio::join!(change, approve);
            (a, c)
        };
        let change = change.expect("the plan change is taken");
        let show = json(&ok(&app, &["compensation", "run", "show", RUN]).await);
        assert_eq!(show["state"], "draft", "round {round}: {show}");
        match approved {
            Ok(r) => assert_eq!(
                change.voided_approval, r.approved_revision,
                "round {round}: the approval came first, so the change voided it"
            ),
            Err(e) => assert!(
                change.voided_approval.is_none(),
                "round {round}: approval refused ({e}) yet something was voided"
            ),
        }
    }
    let digest = preview(&app, DRAFTER).await;
    runs::approve(&other, &approver, RUN, &digest)
        .await
        .expect("approved");
    let (x, y) = tokio::join!(
        runs::execute(&app.store, &approver, RUN),
        runs::execute(&other, &drafter, RUN)
    );
    let (x, y) = (x.expect("first click"), y.expect("second click"));
    assert_eq!(x, y, "both clicks name the one execution");
    eventually(60, "the execution done", || async {
        json(&ok(&app, &["compensation", "run", "show", RUN]).await)["state"] == "executed"
    })
    .await;
    let expected = std::fs::read_to_string(example("expected-lines.csv")).expect("lines");
    assert_eq!(ok(&app, &["ledger", "lines", "--run", RUN]).await, expected);
    let executions: i64 =
        sqlx::query("SELECT COUNT(*) FROM compensation_executions WHERE run_id = $1")
            .bind(RUN)
            .fetch_one(app.store.pool())
            .await
            .expect("executions")
            .get(0);
    assert_eq!(executions, 1);
    assert_balanced(&app).await;
}
