//! Customers' own pages and the claims queue: sign-in by e-mail link
//! (lifetime, single use, no enumeration, limits), "my compensation" with
//! the customer's own evidence, claims and every decision path with its
//! ledger effect, the same remedy paid once whichever way it comes, and
//! the privacy walls between customers.

use plaster_server::staff::roles::Role;
use reqwest::Client;
use sqlx::Row;

use crate::fixtures::{
    ask_link, cookie_client, ledger_count, link_token, mail_with, until, StaffClient,
};
use crate::helpers::{plaster, run, TestApp};
use crate::on_both_backends;

on_both_backends!(
    customers_sign_in_by_link_and_see_only_their_own,
    claims_are_decided_through_the_ledger_and_paid_once,
    a_bet_id_a_customer_typed_reaches_finance_as_text,
);

const INCIDENT: &str = "atg-2024-08-24-v75";
const RUN: &str = "atg-2024-08-24";
const DRAFTER: &str = "drafter@example.se";
const APPROVER: &str = "approver@example.se";
/// s-004: bet b-4001 refunded (24,00 kr) and goodwill (50,00 kr).
const JOHAN: &str = "johan.nilsson@example.se";
/// s-001: placed a bet before the incident; not affected.
const ANNA: &str = "anna.svensson@example.se";
/// s-009: Norwegian, goodwill in NOK.
const OLE: &str = "ole.nilsen@example.no";
/// s-007: English-speaking, EUR.
const LIISA: &str = "liisa.virtanen@example.fi";

fn example(file: &str) -> String {
    crate::helpers::examples_dir("v75")
        .join(file)
        .display()
        .to_string()
}

async fn ok(app: &TestApp, args: &[&str]) -> String {
    let out = run(plaster(app, args)).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The shared V75 example, executed: s-004's bet refunded and paid.
async fn executed_example(app: &TestApp) {
    app.staff_member(DRAFTER, &[Role::Finance]).await;
    app.staff_member(APPROVER, &[Role::Finance]).await;
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
    approve_and_execute(app).await;
}

async fn approve_and_execute(app: &TestApp) {
    let report: serde_json::Value = serde_json::from_str(
        &ok(
            app,
            &["compensation", "run", "preview", RUN, "--by", DRAFTER],
        )
        .await,
    )
    .expect("report");
    let digest = report["digest"].as_str().expect("digest").to_string();
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
            APPROVER,
        ],
    )
    .await;
    ok(
        app,
        &["compensation", "run", "execute", RUN, "--by", APPROVER],
    )
    .await;
}

/// A customer signed in through the mailed link.
async fn customer(app: &TestApp, email: &str) -> Client {
    let client = cookie_client();
    assert_eq!(ask_link(app, &client, email).await, "sent");
    let token = link_token(app, email, "").await;
    let r = client
        .post(app.url("/me/link"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("link POST");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/me");
    client
}

async fn text(client: &Client, url: String) -> (u16, String) {
    let r = client.get(url).send().await.expect("GET");
    (r.status().as_u16(), r.text().await.expect("body"))
}

async fn customers_sign_in_by_link_and_see_only_their_own(app: TestApp) {
    executed_example(&app).await;
    let stranger = cookie_client();
    // The same answer for an unknown address, and nothing is sent.
    assert_eq!(ask_link(&app, &stranger, "nobody@example.se").await, "sent");
    assert_eq!(ask_link(&app, &stranger, "not an address").await, "email");

    let johan = customer(&app, JOHAN).await;
    // A second link a moment later is refused, for known and unknown alike.
    assert_eq!(ask_link(&app, &stranger, JOHAN).await, "too_soon");
    assert_eq!(
        ask_link(&app, &stranger, "nobody@example.se").await,
        "too_soon"
    );
    assert!(app.sent_mail("nobody@example.se").await.is_empty());

    // A link works once.
    let token = {
        let mut conn = app.store.pool().acquire().await.expect("conn");
        sqlx::query("UPDATE customer_sign_in_requests SET created_at = created_at - 3600000")
            .execute(&mut *conn)
            .await
            .expect("age requests");
        drop(conn);
        let first = link_token(&app, JOHAN, "").await;
        let c = cookie_client();
        assert_eq!(ask_link(&app, &c, JOHAN).await, "sent");
        link_token(&app, JOHAN, &first).await
    };
    let (status, page) = text(&stranger, app.url(&format!("/me/link?token={token}"))).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("name=\"token\""),
        "the link shows a button: {page}"
    );
    let use_it = || async {
        cookie_client()
            .post(app.url("/me/link"))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .expect("POST")
    };
    assert_eq!(use_it().await.headers()["location"], "/me");
    assert_eq!(
        use_it().await.headers()["location"],
        "/sv/me?notice=link",
        "used twice"
    );
    // An expired link is refused too.
    let expired = "expired-token-for-the-test";
    sqlx::query(
        "INSERT INTO customer_sign_in_links (token_hash, customer_id, created_at, expires_at)
         VALUES ($1, 's-004', 0, 1)",
    )
    .bind(plaster_server::customers::sign_in::hash_token(expired))
    .execute(app.store.pool())
    .await
    .expect("insert");
    let r = cookie_client()
        .post(app.url("/me/link"))
        .form(&[("token", expired)])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.headers()["location"], "/sv/me?notice=link");
    // A link from another site's page is refused outright.
    let r = cookie_client()
        .post(app.url("/me/link"))
        .header("origin", "https://evil.example")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);

    // Johan's page: his own evidence, his lines with their words, paid
    // once finance settled the inbox batch with four eyes.
    crate::fixtures::inbox_paid_by_two(&app).await;
    let me = until(30, "Johan's payout settled on his page", || async {
        let (status, page) = text(&johan, app.url("/me")).await;
        assert_eq!(status, 200);
        page.contains("data-stage=\"paid\"").then_some(page)
    })
    .await;
    for expect in [
        "Johan Nilsson",
        "b-4001",
        "24,00",
        "50,00",
        "po_",
        "Insatsen för spel b-4001",
    ] {
        assert!(me.contains(expect), "{expect:?} not on Johan's page: {me}");
    }
    // Anna was not found affected, and sees how to claim.
    let anna = customer(&app, ANNA).await;
    let (_, page) = text(&anna, app.url("/me")).await;
    assert!(page.contains("not-found-affected"), "{page}");
    assert!(!page.contains("b-4001") && !page.contains("Johan"));

    // Everything held about Johan, and only Johan.
    let r = johan
        .get(app.url("/me/export.json"))
        .send()
        .await
        .expect("export");
    let data: serde_json::Value = r.json().await.expect("json");
    assert_eq!(data["customer"]["customer_id"], "s-004");
    assert!(data.to_string().contains("b-4001"));
    assert!(!data.to_string().contains("s-006"));
    assert_eq!(
        stranger
            .get(app.url("/me/export.json"))
            .send()
            .await
            .expect("GET")
            .status(),
        401
    );

    // A claim by Anna; Johan cannot reach it as staff can.
    let claim = file_claim(
        &app,
        &anna,
        "missed_bet",
        "b-1001",
        Some(b"\x89PNG\r\n\x1a\nfake".to_vec()),
    )
    .await;
    for path in [
        format!("/staff/claims/{claim}"),
        format!("/staff/claims/{claim}/screenshot"),
        "/staff/claims".to_string(),
    ] {
        let r = johan.get(app.url(&path)).send().await.expect("GET");
        assert!(
            matches!(r.status().as_u16(), 303 | 401 | 403),
            "{path}: {}",
            r.status()
        );
    }
    let (_, page) = text(&johan, app.url("/me")).await;
    assert!(!page.contains(&claim), "Johan sees no claim of Anna's");
    // A claim cannot be filed without the session's token, or signed out.
    let form = reqwest::multipart::Form::new()
        .text("incident", INCIDENT)
        .text("kind", "sign_in")
        .text("description", "x");
    let r = johan
        .post(app.url("/me/claims"))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);
    // A screenshot that is no picture is refused with the field named.
    let (_, page) = text(&anna, app.url("/me/claims/new")).await;
    let form = claim_form(
        &anna,
        "sign_in",
        "",
        Some(b"<svg onload=alert(1)>".to_vec()),
    )
    .await
    .text("csrf", csrf_of(&page));
    let r = anna
        .post(app.url("/me/claims"))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("screenshot:"));

    // Signing out ends the session.
    let (_, page) = text(&johan, app.url("/me")).await;
    let csrf = csrf_of(&page);
    let r = johan
        .post(app.url("/me/sign-out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 303);
    let (_, page) = text(&johan, app.url("/me")).await;
    assert!(page.contains("/me/sign-in") && !page.contains("b-4001"));
}

fn csrf_of(html: &str) -> String {
    let at =
        html.find("name=\"csrf\" value=\"").expect("csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].chars().take_while(|c| *c != '"').collect()
}

async fn claim_form(
    client: &Client,
    kind: &str,
    bet: &str,
    shot: Option<Vec<u8>>,
) -> reqwest::multipart::Form {
    let _ = client;
    let mut form = reqwest::multipart::Form::new();
    form = form
        .text("incident", INCIDENT)
        .text("kind", kind.to_string())
        .text("bet_id", bet.to_string())
        .text("happened_at", "2024-08-24T16:15")
        .text(
            "description",
            "The money left my account but the bet never showed up.",
        );
    if let Some(bytes) = shot {
        form = form.part(
            "screenshot",
            reqwest::multipart::Part::bytes(bytes).file_name("shot.png"),
        );
    }
    form
}

/// Files a claim as `client` (signed in); its id.
async fn file_claim(
    app: &TestApp,
    client: &Client,
    kind: &str,
    bet: &str,
    shot: Option<Vec<u8>>,
) -> String {
    let (status, page) = text(
        client,
        app.url(&format!("/me/claims/new?incident={INCIDENT}")),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let csrf = csrf_of(&page);
    let form = claim_form(client, kind, bet, shot).await.text("csrf", csrf);
    let r = client
        .post(app.url("/me/claims"))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    sqlx::query("SELECT id FROM claims ORDER BY created_at DESC, id DESC LIMIT 1")
        .fetch_one(app.store.pool())
        .await
        .expect("claim")
        .get::<String, _>(0)
}

/// Finance sets the claim limits of the example's incident in `currency`.
async fn set_limits(
    finance: &StaffClient,
    currency: &str,
    cap: &str,
    above: &str,
    customer_max: &str,
    agent_day: &str,
) {
    let r = finance
        .post(
            "/staff/claims/limits",
            &[
                ("incident", INCIDENT),
                ("currency", currency),
                ("cap", cap),
                ("above", above),
                ("customer_max", customer_max),
                ("agent_day", agent_day),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "limits in {currency}");
}

async fn claim_state(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>) {
    let row = sqlx::query("SELECT state, decision, payout_id FROM claims WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .expect("claim");
    (row.get(0), row.get(1), row.get(2))
}

async fn balanced(app: &TestApp) {
    let rows = sqlx::query(
        "SELECT currency, CAST(SUM(debit_minor) AS BIGINT), CAST(SUM(credit_minor) AS BIGINT)
         FROM ledger_postings GROUP BY currency",
    )
    .fetch_all(app.store.pool())
    .await
    .expect("balance");
    for r in rows {
        assert_eq!(
            r.get::<i64, _>(1),
            r.get::<i64, _>(2),
            "{}",
            r.get::<String, _>(0)
        );
    }
}

async fn claims_are_decided_through_the_ledger_and_paid_once(app: TestApp) {
    executed_example(&app).await;
    // Finance starts with no limits here (the demo sets some): what
    // support may do is what this test gives it.
    sqlx::query("DELETE FROM claim_limits")
        .execute(app.store.pool())
        .await
        .expect("no limits");
    let support = app.staff(&[Role::Support]).await;
    let finance = app.staff(&[Role::Finance]).await;
    let johan = customer(&app, JOHAN).await;

    // A claim for a bet the run refunded: answered, never paid twice.
    let c1 = file_claim(&app, &johan, "missed_bet", "b-4001", None).await;
    let page = support
        .get(&format!("/staff/claims/{c1}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("b-4001") && page.contains("failed after debit"),
        "the evidence: {page}"
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'claim.evidence_viewed'")
            .fetch_one(app.store.pool())
            .await
            .expect("audit");
    assert!(audited >= 1);
    let r = support
        .post(
            &format!("/staff/claims/{c1}/decide"),
            &[("remedy", "run_refund")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (state, decision, payout) = claim_state(&app, &c1).await;
    assert_eq!(
        (state.as_str(), decision.as_deref()),
        ("approved", Some("already_paid"))
    );
    assert!(payout.as_deref().is_some_and(|p| p.starts_with("po_")));
    let mail = mail_with(&app, JOHAN, &[&format!("Ärende {c1}"), "redan ersatt den"]).await;
    assert!(mail.contains(payout.as_deref().unwrap_or("?")), "{mail}");

    // A bet the logs missed: refunded under the run's key, with the stake given.
    let c2 = file_claim(&app, &johan, "missed_bet", "b-missed-1", None).await;
    let r = support
        .post(
            &format!("/staff/claims/{c2}/decide"),
            &[("remedy", "run_refund")],
        )
        .await;
    assert_eq!(r.status(), 422, "no stake for a bet the logs lack");
    let r = support
        .post(
            &format!("/staff/claims/{c2}/decide"),
            &[("remedy", "run_refund"), ("stake", "150")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let key = format!(r#"["{RUN}",0,"s-004","b-missed-1"]"#);
    assert_eq!(
        (
            claim_state(&app, &c2).await.0.as_str(),
            ledger_count(&app, &key).await
        ),
        ("awaiting_finance", 0),
        "a stake the logs do not have always waits for finance"
    );
    let r = finance
        .post(&format!("/staff/claims/{c2}/approve"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(ledger_count(&app, &key).await, 1);
    let (state, _, payout) = claim_state(&app, &c2).await;
    assert_eq!(state, "approved");
    // The same bet claimed again is answered as paid.
    let c3 = file_claim(&app, &johan, "missed_bet", "b-missed-1", None).await;
    support
        .post(
            &format!("/staff/claims/{c3}/decide"),
            &[("remedy", "run_refund"), ("stake", "150")],
        )
        .await;
    assert_eq!(
        claim_state(&app, &c3).await.1.as_deref(),
        Some("already_paid")
    );
    assert_eq!(claim_state(&app, &c3).await.2, payout);
    assert_eq!(ledger_count(&app, &key).await, 1);

    // Late logs that now show the bet: the run posts nothing new for it.
    let dir = tempfile::tempdir().expect("dir");
    let late = dir.path().join("late.jsonl");
    std::fs::write(
        &late,
        r#"{"ts":"2024-08-24T16:15:00+02:00","kind":"bet","customer_id":"s-004","outcome":"failed_after_debit","bet_id":"b-missed-1","game":"V75","round_id":"2024-08-24-V75","stake_minor":15000,"currency":"SEK"}
"#,
    )
    .expect("write");
    ok(
        &app,
        &[
            "compensation",
            "run",
            "add-logs",
            RUN,
            &late.display().to_string(),
            "--by",
            DRAFTER,
        ],
    )
    .await;
    approve_and_execute(&app).await;
    assert_eq!(ledger_count(&app, &key).await, 1);
    let payouts_for_bet: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM payouts WHERE lines_json LIKE '%b-missed-1%'")
            .fetch_one(app.store.pool())
            .await
            .expect("payouts");
    assert_eq!(payouts_for_bet, 1, "the bet is paid once, by the claim");
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_discrepancies WHERE run_id = $1 AND settled_at IS NULL",
    )
    .bind(RUN)
    .fetch_one(app.store.pool())
    .await
    .expect("discrepancies");
    assert_eq!(open, 0, "the claim's line is no discrepancy");

    // The run's goodwill: for someone the run gave none, posted under the
    // rule's key; for someone it gave it to, answered as paid.
    let anna = customer(&app, ANNA).await;
    // Within the limits finance set, support pays alone.
    set_limits(&finance, "SEK", "0", "1000", "1000", "1000").await;
    let c8 = file_claim(&app, &anna, "sign_in", "", None).await;
    let r = support
        .post(
            &format!("/staff/claims/{c8}/decide"),
            &[("remedy", "run_goodwill")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        claim_state(&app, &c8).await.1.as_deref(),
        Some("run_goodwill")
    );
    let goodwill_key = format!(r#"["{RUN}",1,"s-001",""]"#);
    assert_eq!(ledger_count(&app, &goodwill_key).await, 1);
    let c9 = file_claim(&app, &johan, "sign_in", "", None).await;
    support
        .post(
            &format!("/staff/claims/{c9}/decide"),
            &[("remedy", "run_goodwill")],
        )
        .await;
    assert_eq!(
        claim_state(&app, &c9).await.1.as_deref(),
        Some("already_paid")
    );

    // Goodwill of support's own: capped by finance, above the line needs finance.
    let ole = customer(&app, OLE).await;
    let c4 = file_claim(&app, &ole, "sign_in", "", None).await;
    let r = support
        .post(
            &format!("/staff/claims/{c4}/decide"),
            &[("remedy", "own_goodwill"), ("amount", "150")],
        )
        .await;
    assert_eq!(
        r.status(),
        422,
        "no cap set: support gives nothing of its own"
    );
    set_limits(&finance, "NOK", "200", "100", "1000", "1000").await;
    let r = support
        .post(
            &format!("/staff/claims/{c4}/decide"),
            &[("remedy", "own_goodwill"), ("amount", "250")],
        )
        .await;
    assert_eq!(r.status(), 422, "over the cap");
    support
        .post(
            &format!("/staff/claims/{c4}/decide"),
            &[("remedy", "own_goodwill"), ("amount", "150")],
        )
        .await;
    assert_eq!(claim_state(&app, &c4).await.0, "awaiting_finance");
    let claim_key = format!(r#"["claim","{c4}"]"#);
    assert_eq!(
        ledger_count(&app, &claim_key).await,
        0,
        "nothing posted before finance approves"
    );
    let r = support
        .post(&format!("/staff/claims/{c4}/approve"), &[])
        .await;
    assert_eq!(r.status(), 403, "support does not approve");
    let r = finance
        .post(&format!("/staff/claims/{c4}/approve"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(claim_state(&app, &c4).await.0, "approved");
    assert_eq!(ledger_count(&app, &claim_key).await, 1);
    let mail = mail_with(&app, OLE, &["Saken din er godkjent"]).await;
    assert!(
        mail.contains("150,00") && mail.contains("utbetaling po_"),
        "{mail}"
    );

    // A rejection, with its reason in the customer's language.
    let c5 = file_claim(&app, &ole, "streaming", "", None).await;
    support
        .post(
            &format!("/staff/claims/{c5}/decide"),
            &[
                ("remedy", "reject"),
                ("reason", "not_in_logs"),
                ("text", ""),
            ],
        )
        .await;
    assert_eq!(claim_state(&app, &c5).await.0, "rejected");
    let (_, page) = text(&ole, app.url("/me")).await;
    assert!(page.contains("Vi finner ingenting i loggene"), "{page}");
    // And in English, to an English-speaking customer.
    let liisa = customer(&app, LIISA).await;
    let c7 = file_claim(&app, &liisa, "sign_in", "", None).await;
    support
        .post(
            &format!("/staff/claims/{c7}/decide"),
            &[
                ("remedy", "reject"),
                ("reason", "outside_incident"),
                ("text", "Your sign-in failed on the 25th."),
            ],
        )
        .await;
    let mail = mail_with(&app, LIISA, &["A decision on your claim"]).await;
    assert!(
        mail.contains(&format!("Claim {c7}"))
            && mail.contains("We cannot approve it: What you describe happened outside the incident. Your sign-in failed on the 25th."),
        "{mail}"
    );
    // Decided once: a second decision is refused.
    let r = support
        .post(
            &format!("/staff/claims/{c5}/decide"),
            &[("remedy", "run_goodwill")],
        )
        .await;
    assert_eq!(r.status(), 422);
    balanced(&app).await;

    // The queue: oldest first, filters.
    let c6 = file_claim(&app, &ole, "sign_in", "", None).await;
    let queue = support
        .get("/staff/claims")
        .await
        .text()
        .await
        .expect("queue");
    assert!(
        queue.contains(&c6) && !queue.contains(&c5),
        "only waiting claims by default"
    );
    let r = support.post(&format!("/staff/claims/{c6}/take"), &[]).await;
    assert_eq!(r.status(), 303);
    let mine = support
        .get("/staff/claims?assigned=mine")
        .await
        .text()
        .await
        .expect("queue");
    assert!(mine.contains(&c6));
    let unassigned = support
        .get("/staff/claims?assigned=unassigned")
        .await
        .text()
        .await
        .expect("queue");
    assert!(!unassigned.contains(&c6));

    // Ole's data download holds his claims and their decisions, but not
    // who on the staff has them, decided or approved them: no staff
    // e-mail, no staff account id, only the side ("support", "finance").
    let (status, export) = text(&ole, app.url("/me/export.json")).await;
    assert_eq!(status, 200, "{export}");
    let data: serde_json::Value = serde_json::from_str(&export).expect("json");
    let approved = data["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .find(|c| c["id"] == c4.as_str())
        .expect("the approved claim is in the export");
    assert_eq!(
        (&approved["decided_by"], &approved["approved_by"]),
        (&serde_json::json!("support"), &serde_json::json!("finance"))
    );
    assert!(approved["approved_at"].is_i64(), "{approved}");
    assert!(
        export.contains(&c5) && export.contains(&c6),
        "the rejected and the taken claim too: {export}"
    );
    for staff in [
        support.email.as_str(),
        support.account_id.as_str(),
        finance.email.as_str(),
        finance.account_id.as_str(),
        DRAFTER,
        APPROVER,
    ] {
        assert!(
            !export.contains(staff),
            "{staff} is in Ole's export: {export}"
        );
    }
    for field in ["assigned_to", "assigned_email"] {
        assert!(!export.contains(field), "{field} in Ole's export: {export}");
    }
}

/// A bet id a customer typed reaches finance's ledger CSV (a claim's refund
/// is posted under the run's key with the bet id as its reference) as
/// text: a spreadsheet shows it, never runs it; amounts stay numbers.
async fn a_bet_id_a_customer_typed_reaches_finance_as_text(app: TestApp) {
    const FORMULA: &str = r#"=HYPERLINK("http://evil.example","x")"#;
    executed_example(&app).await;
    let support = app.staff(&[Role::Support]).await;
    let finance = app.staff(&[Role::Finance]).await;
    let johan = customer(&app, JOHAN).await;
    let claim = file_claim(&app, &johan, "missed_bet", FORMULA, None).await;
    let r = support
        .post(
            &format!("/staff/claims/{claim}/decide"),
            &[("remedy", "run_refund"), ("stake", "150")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(claim_state(&app, &claim).await.0, "awaiting_finance");
    let r = finance
        .post(&format!("/staff/claims/{claim}/approve"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(claim_state(&app, &claim).await.0, "approved");

    let r = finance
        .get(&format!("/staff/compensation/runs/{RUN}/ledger/lines.csv"))
        .await;
    assert_eq!(r.status(), 200);
    let console = r.text().await.expect("csv");
    let command_line = ok(&app, &["ledger", "lines", "--run", RUN]).await;
    for (from, body) in [
        ("the console", &console),
        ("the command line", &command_line),
    ] {
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(body.as_bytes())
            .records()
            .collect::<Result<_, _>>()
            .expect("csv");
        let row = rows
            .iter()
            .find(|r| r[2].contains("HYPERLINK"))
            .unwrap_or_else(|| panic!("{from}: the claim's line is missing: {body}"));
        assert_eq!(&row[1], "s-004", "{from}");
        assert_eq!(&row[2], format!("'{FORMULA}").as_str(), "{from}");
        assert!(
            row[3].parse::<i64>().is_ok(),
            "{from}: the amount stays a number"
        );
        assert!(
            rows.iter().flatten().all(|cell| !cell.starts_with('=')),
            "{from}: no cell is a formula: {body}"
        );
    }
}
