//! Compensation runs (runs.md §1, §4): a plan for an incident, stored event
//! logs, previews that make immutable revisions, and four-eyes approval,
//! on the command line and in the console.

use plaster_server::staff::roles::Role;
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::fixtures::{eventually, StaffClient};
use crate::helpers::{plaster, run, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_run_goes_from_plan_to_approval_on_the_command_line,
    the_console_drafts_uploads_previews_and_approves,
    a_preview_whose_node_died_is_taken_over_and_a_cancelled_one_stores_nothing,
    a_market_blocks_what_its_law_forbids_until_finance_or_the_plan_changes,
);

/// A demo incident every test app has.
const INCIDENT: &str = "atg-2024-08-24-v75";
const RUN: &str = "atg-2024-08-24";

fn example(file: &str) -> std::path::PathBuf {
    crate::helpers::examples_dir("v75").join(file)
}

fn example_text(file: &str) -> String {
    std::fs::read_to_string(example(file)).expect("example file")
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Runs `plaster` with `args`; returns (exit code, stdout, stderr).
async fn cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let out = run(plaster(app, args)).await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
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

async fn import_example_customers(app: &TestApp) {
    let customers = path(&example("customers.csv"));
    let (code, _, err) = cli(app, &["customers", "import", "--customers", &customers]).await;
    assert_eq!(code, 0, "{err}");
}

async fn a_run_goes_from_plan_to_approval_on_the_command_line(app: TestApp) {
    import_example_customers(&app).await;
    let drafter = "drafter@example.se";
    let approver = "approver@example.se";
    let third = "third@example.se";
    app.staff_member(drafter, &[Role::Finance]).await;
    app.staff_member(approver, &[Role::Finance]).await;
    app.staff_member(third, &[Role::Finance]).await;
    app.staff_member("support@example.se", &[Role::Support])
        .await;
    let plan = path(&example("plan.toml"));
    let events = path(&example("events.jsonl"));

    // Roles and the incident are checked; a plan id is unique.
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "create",
            "--incident",
            INCIDENT,
            "--plan",
            &plan,
            "--by",
            "support@example.se",
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("this needs finance"), "{err}");
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "create",
            "--incident",
            "no-such",
            "--plan",
            &plan,
            "--by",
            drafter,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("incident \"no-such\" does not exist"), "{err}");
    let (code, out, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "create",
            "--incident",
            INCIDENT,
            "--plan",
            &plan,
            "--by",
            drafter,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out),
        serde_json::json!({"run": RUN, "state": "draft"})
    );
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "create",
            "--incident",
            INCIDENT,
            "--plan",
            &plan,
            "--by",
            drafter,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exists already"), "{err}");

    // No preview without logs; a file that is not what its name says is refused.
    let (code, _, err) = cli(
        &app,
        &["compensation", "run", "preview", RUN, "--by", drafter],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no event log files"), "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let fake_gz = dir.path().join("bets.jsonl.gz");
    std::fs::copy(example("events.jsonl"), &fake_gz).expect("copy");
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &path(&fake_gz),
            "--by",
            drafter,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bets.jsonl.gz: not gzip"), "{err}");

    let (code, out, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &events,
            "--by",
            drafter,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(example("events.jsonl")).expect("events");
    let sha = plaster_server::kernel::ids::hex(&Sha256::digest(&bytes));
    assert_eq!(
        json(&out),
        serde_json::json!({"files": [{"name": "events.jsonl", "bytes": bytes.len(), "sha256": sha}]})
    );
    // The same content again, under another name: stored once, attached once.
    let blobs = || async {
        sqlx::query("SELECT COUNT(*) FROM log_blobs")
            .fetch_one(app.store.pool())
            .await
            .expect("count")
            .get::<i64, _>(0)
    };
    let before = blobs().await;
    let copy = dir.path().join("copy.jsonl");
    std::fs::copy(example("events.jsonl"), &copy).expect("copy");
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &path(&copy),
            "--by",
            drafter,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(blobs().await, before);
    let attached: i64 = sqlx::query("SELECT COUNT(*) FROM compensation_run_logs WHERE run_id = $1")
        .bind(RUN)
        .fetch_one(app.store.pool())
        .await
        .expect("count")
        .get(0);
    assert_eq!(attached, 1);

    // The preview: the same report and lines as `plaster compensation preview`.
    let details = dir.path().join("lines.csv");
    let (code, out, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "preview",
            RUN,
            "--by",
            drafter,
            "--details",
            &path(&details),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let mut report = json(&out);
    let digest = report["digest"].as_str().expect("digest").to_string();
    assert_eq!(report["revision"], 1);
    let obj = report.as_object_mut().expect("object");
    obj.remove("digest");
    obj.remove("revision");
    assert_eq!(
        without_reasons(report.clone()),
        without_reasons(json(&example_text("expected-report.json")))
    );
    let lines = std::fs::read_to_string(&details).expect("details");
    assert_eq!(lines, example_text("expected-lines.csv"));
    // The digest is SHA-256 over the compact report, a line break, and the lines.
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(&report).expect("json"));
    hasher.update(b"\n");
    hasher.update(lines.as_bytes());
    assert_eq!(digest, plaster_server::kernel::ids::hex(&hasher.finalize()));

    // Four eyes, and the digest of the newest revision.
    let approve = |by: &'static str, digest: String| {
        let app = &app;
        async move {
            cli(
                app,
                &[
                    "compensation",
                    "run",
                    "approve",
                    RUN,
                    "--digest",
                    &digest,
                    "--by",
                    by,
                ],
            )
            .await
        }
    };
    let (code, _, err) = approve(drafter, digest.clone()).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("four eyes: drafter@example.se drafted run"),
        "{err}"
    );
    let (code, _, err) = approve(approver, "ab".repeat(32)).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not that of the newest revision"), "{err}");
    let (code, out, err) = approve(approver, digest.clone()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["state"], "approved");
    let (code, out, _) = cli(&app, &["compensation", "run", "show", RUN]).await;
    assert_eq!(code, 0);
    let shown = json(&out);
    assert_eq!(shown["state"], "approved");
    assert_eq!(shown["approved_by"], approver);
    assert_eq!(shown["digest"], digest.as_str());

    // A late log voids the approval; whoever added it may not approve.
    let late = dir.path().join("late.jsonl");
    std::fs::write(
        &late,
        "{\"ts\":\"2024-08-24T16:30:00+02:00\",\"kind\":\"bet\",\"customer_id\":\"s-001\",\"outcome\":\"failed_after_debit\",\"bet_id\":\"b-late\",\"game\":\"V75\",\"round_id\":\"2024-08-24-V75\",\"stake_minor\":1000,\"currency\":\"SEK\"}\n",
    )
    .expect("late log");
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &path(&late),
            "--by",
            approver,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = cli(&app, &["compensation", "run", "show", RUN]).await;
    assert_eq!(json(&out)["state"], "draft");
    assert_eq!(json(&out)["approved_by"], serde_json::Value::Null);
    let (code, _, err) = approve(approver, digest.clone()).await;
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = cli(
        &app,
        &["compensation", "run", "preview", RUN, "--by", approver],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let second = json(&out);
    assert_eq!(second["revision"], 2);
    let digest2 = second["digest"].as_str().expect("digest").to_string();
    assert_ne!(digest2, digest);
    let (code, _, err) = approve(approver, digest2.clone()).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("changed the inputs"), "{err}");
    let (code, _, err) = cli(
        &app,
        &[
            "compensation",
            "run",
            "reject",
            RUN,
            "--reason",
            " ",
            "--by",
            third,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = approve(third, digest2.clone()).await;
    assert_eq!(code, 0, "{err}");

    // Revisions never change; every move is in the audit log, by channel.
    let mut refused = vec![
        "UPDATE compensation_revisions SET digest = 'x'",
        "DELETE FROM compensation_lines",
    ];
    if app.store.backend() == plaster_server::store::Backend::Postgres {
        refused.extend(["TRUNCATE compensation_lines", "TRUNCATE audit_log"]);
    }
    for sql in refused {
        assert!(
            sqlx::query(sql).execute(app.store.pool()).await.is_err(),
            "{sql}"
        );
    }
    let actions: Vec<(String, String)> =
        sqlx::query("SELECT action, actor FROM audit_log WHERE target = $1 ORDER BY id")
            .bind(RUN)
            .fetch_all(app.store.pool())
            .await
            .expect("audit")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let names: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "compensation.run.create",
            "compensation.run.add_logs",
            "compensation.run.preview",
            "compensation.run.previewed",
            "compensation.run.approve",
            "compensation.run.add_logs",
            "compensation.run.preview",
            "compensation.run.previewed",
            "compensation.run.approve",
        ]
    );
    assert_eq!(actions[0].1, "drafter@example.se (command line)");
    assert_eq!(actions[3].1, "preview job");
}

fn upload(staff: &StaffClient, files: &[(&str, Vec<u8>)]) -> Form {
    let mut form = Form::new().text("csrf", staff.csrf.clone());
    for (name, bytes) in files {
        form = form.part(
            "logs",
            Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
    }
    form
}

async fn post_multipart(staff: &StaffClient, path: &str, form: Form) -> (u16, String) {
    let response = staff
        .client
        .post(staff.url(path))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn page(staff: &StaffClient, path: &str) -> (u16, String) {
    let r = staff.get(path).await;
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

async fn state_of(app: &TestApp) -> String {
    sqlx::query("SELECT state FROM compensation_runs WHERE id = $1")
        .bind(RUN)
        .fetch_one(app.store.pool())
        .await
        .expect("run")
        .get(0)
}

async fn the_console_drafts_uploads_previews_and_approves(app: TestApp) {
    import_example_customers(&app).await;
    let drafter = app.staff(&[Role::Finance]).await;
    let approver = app.staff(&[Role::Finance]).await;
    let support = app.staff(&[Role::Support]).await;

    // The form is prefilled from the incident.
    let (status, html) = page(
        &drafter,
        &format!("/staff/compensation/new?incident={INCIDENT}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("value=\"atg-2024-08-24-v75\""),
        "plan id from the incident"
    );
    assert!(html.contains("value=\"2024-08-24T14:06:00Z\""), "{html}");
    assert!(html.contains("value=\"login\" checked") && html.contains("value=\"betting\" checked"));
    assert!(!html.contains("value=\"streaming\" checked"));

    // A bad field is named at the field, nothing is created.
    let fields = |started: &str| {
        Form::new()
            .text("csrf", drafter.csrf.clone())
            .text("incident", INCIDENT)
            .text("id", RUN)
            .text("started_at", started.to_string())
            .text("resolved_at", "2024-08-24T20:41:00+02:00")
            .text("component", "betting")
            .text("rules", "[[rules]]\nkind = \"refund_failed_debits\"\n")
    };
    let (status, html) = post_multipart(
        &drafter,
        "/staff/compensation/runs",
        fields("2024-08-24 16:06"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"started_at-error\""), "{html}");
    assert!(html.contains("started_at: "), "{html}");
    assert_eq!(
        sqlx::query("SELECT COUNT(*) FROM compensation_runs WHERE id = $1")
            .bind(RUN)
            .fetch_one(app.store.pool())
            .await
            .expect("count")
            .get::<i64, _>(0),
        0
    );
    // The whole plan as TOML instead.
    let form = Form::new()
        .text("csrf", drafter.csrf.clone())
        .text("incident", INCIDENT)
        .text("toml", example_text("plan.toml"));
    let (status, html) = post_multipart(&drafter, "/staff/compensation/runs", form).await;
    assert_eq!(status, 303, "{html}");
    let (status, html) = page(&drafter, &format!("/staff/compensation/runs/{RUN}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"no-logs\""));

    // Uploads: a lying .gz is refused with its reason; the real file is stored.
    let logs_path = format!("/staff/compensation/runs/{RUN}/logs");
    let (status, html) = post_multipart(
        &drafter,
        &logs_path,
        upload(&drafter, &[("bets.csv.gz", b"ts,kind\n".to_vec())]),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("bets.csv.gz: not gzip"), "{html}");
    let events = std::fs::read(example("events.jsonl")).expect("events");
    let (status, html) = post_multipart(
        &drafter,
        &logs_path,
        upload(&drafter, &[("events.jsonl", events)]),
    )
    .await;
    assert_eq!(status, 303, "{html}");
    let (_, html) = page(&drafter, &format!("/staff/compensation/runs/{RUN}")).await;
    assert!(html.contains("<td>events.jsonl</td>"));

    // Support may look, not act.
    let r = support
        .client
        .post(support.url(&format!("/staff/compensation/runs/{RUN}/preview")))
        .form(&[("csrf", support.csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);

    // The preview runs on the server's worker; the page shows it done.
    let r = drafter
        .post(&format!("/staff/compensation/runs/{RUN}/preview"), &[])
        .await;
    assert_eq!(r.status(), 303);
    eventually(30, "the preview is stored", || async {
        state_of(&app).await == "previewed"
    })
    .await;
    let (status, html) = page(&support, &format!("/staff/compensation/runs/{RUN}")).await;
    assert_eq!(status, 200);
    for expected in [
        "data-testid=\"figures\"",
        "<svg class=\"chart\"",
        "role=\"img\"",
        "data-testid=\"largest\"",
        "lines.csv",
    ] {
        assert!(
            html.contains(expected),
            "{expected} missing from the run page"
        );
    }
    let (status, csv) = page(
        &support,
        &format!("/staff/compensation/runs/{RUN}/revisions/1/lines.csv"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(csv, example_text("expected-lines.csv"));
    let (_, html) = page(
        &support,
        &format!("/staff/compensation/runs/{RUN}?revision=1&customer=s-004"),
    )
    .await;
    assert!(
        html.contains("data-testid=\"customer-lines\""),
        "s-004 has a refund line"
    );

    // What-if: a changed amount priced from what the preview learned, not saved.
    let changed = example_text("plan.toml").replace("SEK = 5000", "SEK = 7000");
    let r = drafter
        .post(
            &format!("/staff/compensation/runs/{RUN}/what-if"),
            &[("toml", changed.as_str())],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("from what the last preview learned"),
        "{html}"
    );
    let dir = tempfile::tempdir().expect("dir");
    let plan_file = dir.path().join("plan.toml");
    std::fs::write(&plan_file, &changed).expect("plan");
    let out = run(plaster(
        &app,
        &[
            "compensation",
            "preview",
            "--plan",
            &path(&plan_file),
            "--customers",
            &path(&example("customers.csv")),
            &path(&example("events.jsonl")),
        ],
    ))
    .await;
    let full = json(&String::from_utf8_lossy(&out.stdout));
    let sek = full["total_minor"]["SEK"].as_i64().expect("SEK total");
    let shown = plaster_server::compensation::charts::money(sek, "SEK");
    assert!(
        html.contains(&format!("data-testid=\"what-if-total\">{shown}<")),
        "{shown} in {html}"
    );
    assert_eq!(state_of(&app).await, "previewed", "a what-if saves nothing");

    // Four eyes in the console: the drafter is barred, another approves the digest seen.
    let (status, html) = page(&drafter, &format!("/staff/compensation/runs/{RUN}/approve")).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"barred\""));
    let digest: String = sqlx::query("SELECT digest FROM compensation_revisions WHERE run_id = $1")
        .bind(RUN)
        .fetch_one(app.store.pool())
        .await
        .expect("revision")
        .get(0);
    let r = drafter
        .post(
            &format!("/staff/compensation/runs/{RUN}/approve"),
            &[("digest", digest.as_str())],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("four eyes"));
    let (status, html) = page(
        &approver,
        &format!("/staff/compensation/runs/{RUN}/approve"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains(&digest) && !html.contains("data-testid=\"barred\""));
    let r = approver
        .post(
            &format!("/staff/compensation/runs/{RUN}/approve"),
            &[("digest", digest.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app).await, "approved");
}

async fn a_preview_whose_node_died_is_taken_over_and_a_cancelled_one_stores_nothing(app: TestApp) {
    import_example_customers(&app).await;
    app.staff_member("fin@example.se", &[Role::Finance]).await;
    let plan = path(&example("plan.toml"));
    let events = path(&example("events.jsonl"));
    for args in [
        vec![
            "compensation",
            "run",
            "create",
            "--incident",
            INCIDENT,
            "--plan",
            &plan,
            "--by",
            "fin@example.se",
        ],
        vec![
            "compensation",
            "run",
            "add-logs",
            RUN,
            &events,
            "--by",
            "fin@example.se",
        ],
    ] {
        let (code, _, err) = cli(&app, &args).await;
        assert_eq!(code, 0, "{err}");
    }
    // As if a node had claimed the preview and died: running, its lease run out.
    let mut tx = app.store.begin_write().await.expect("tx");
    sqlx::query("UPDATE compensation_runs SET state = 'previewing' WHERE id = $1")
        .bind(RUN)
        .execute(&mut *tx)
        .await
        .expect("state");
    sqlx::query(
        "INSERT INTO compensation_previews (id, run_id, inputs_version, state, requested_by,
             created_at, locked_until, attempts, bytes_total)
         VALUES ('dead-node-job', $1, 2, 'running', 'fin@example.se', 0, 1, 1, 10)",
    )
    .bind(RUN)
    .execute(&mut *tx)
    .await
    .expect("job");
    tx.commit().await.expect("commit");
    eventually(30, "another node takes the preview over", || async {
        state_of(&app).await == "previewed"
    })
    .await;
    let row = sqlx::query(
        "SELECT state, attempts, revision FROM compensation_previews WHERE id = 'dead-node-job'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("job");
    assert_eq!(row.get::<String, _>(0), "done");
    assert_eq!(row.get::<i64, _>(1), 2);
    assert_eq!(row.get::<Option<i64>, _>(2), Some(1));

    // Cancelled while a worker holds it (a lease far ahead, so no other
    // worker takes it): the run is back in draft, and the holder learns at
    // its next heartbeat that the job is no longer its to finish.
    let mut tx = app.store.begin_write().await.expect("tx");
    sqlx::query("UPDATE compensation_runs SET state = 'previewing' WHERE id = $1")
        .bind(RUN)
        .execute(&mut *tx)
        .await
        .expect("state");
    sqlx::query(
        "INSERT INTO compensation_previews (id, run_id, inputs_version, state, requested_by,
             created_at, locked_until, attempts, bytes_total)
         VALUES ('held-job', $1, 2, 'running', 'fin@example.se', 0, 99999999999999, 1, 10)",
    )
    .bind(RUN)
    .execute(&mut *tx)
    .await
    .expect("job");
    tx.commit().await.expect("commit");
    let fin = plaster_server::kernel::audit::Actor::Staff {
        id: plaster_server::kernel::ids::AccountId::from("someone"),
        email: "fin@example.se".into(),
    };
    plaster_server::compensation::runs::cancel_preview(&app.store, &fin, RUN)
        .await
        .expect("cancelled");
    assert_eq!(state_of(&app).await, "draft");
    use plaster_server::store::compensation as table;
    assert!(!table::heartbeat(&app.store, "held-job", 1, i64::MAX, 5, 5)
        .await
        .expect("beat"));
    let mut conn = app.store.pool().acquire().await.expect("conn");
    assert!(
        !table::finish_preview(&mut conn, "held-job", 1, "done", None, Some(2), 0)
            .await
            .expect("finish")
    );
    let revisions: i64 =
        sqlx::query("SELECT COUNT(*) FROM compensation_revisions WHERE run_id = $1")
            .bind(RUN)
            .fetch_one(app.store.pool())
            .await
            .expect("count")
            .get(0);
    assert_eq!(revisions, 1, "the cancelled preview stored nothing");
}

/// Swedish customers (market SE) may not get goodwill credit by default:
/// a revision paying them some cannot be approved, its approval page says
/// why, and once finance allows it (after step-up) the same revision can be.
async fn a_market_blocks_what_its_law_forbids_until_finance_or_the_plan_changes(app: TestApp) {
    let dir = tempfile::tempdir().expect("dir");
    let customers = dir.path().join("customers.csv");
    let mut csv = String::new();
    for (i, line) in example_text("customers.csv").lines().enumerate() {
        let market = match (i, line.contains(",sv,")) {
            (0, _) => "market",
            (_, true) => "se",
            _ => "",
        };
        csv.push_str(&format!("{line},{market}\n"));
    }
    std::fs::write(&customers, csv).expect("write");
    let (code, _, err) = cli(
        &app,
        &["customers", "import", "--customers", &path(&customers)],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let sweden: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE market = 'SE'")
        .fetch_one(app.store.pool())
        .await
        .expect("count");
    assert!(sweden > 0, "the market is stored upper-cased");
    let (drafter, approver) = ("m-drafter@example.se", "m-approver@example.se");
    app.staff_member(drafter, &[Role::Finance]).await;
    app.staff_member(approver, &[Role::Finance]).await;
    let plan = path(&example("plan.toml"));
    let events = path(&example("events.jsonl"));
    for args in [
        vec![
            "compensation",
            "run",
            "create",
            "--incident",
            INCIDENT,
            "--plan",
            &plan,
            "--by",
            drafter,
        ],
        vec![
            "compensation",
            "run",
            "add-logs",
            RUN,
            &events,
            "--by",
            drafter,
        ],
    ] {
        let (code, _, err) = cli(&app, &args).await;
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    let (code, out, err) = cli(
        &app,
        &["compensation", "run", "preview", RUN, "--by", drafter],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let digest = json(&out)["digest"].as_str().expect("digest").to_string();
    let approve = [
        "compensation",
        "run",
        "approve",
        RUN,
        "--digest",
        &digest,
        "--by",
        approver,
    ];
    let (code, _, err) = cli(&app, &approve).await;
    assert_eq!(code, 2, "refused: {err}");
    assert!(
        err.contains("goodwill_credit") && err.contains("SE"),
        "{err}"
    );
    let (client, _) = app.signed_in(approver).await;
    let page = client
        .get(app.url(&format!("/staff/compensation/runs/{RUN}/approve")))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert!(page.contains("data-testid=\"market-blocked\""), "{page}");

    let finance = app.staff(&[Role::Finance]).await;
    let r = finance
        .post(
            "/staff/markets",
            &[
                ("market", "SE"),
                ("rule", "goodwill_credit"),
                ("allowed", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (code, _, err) = cli(&app, &approve).await;
    assert_eq!(code, 0, "allowed now: {err}");
}
