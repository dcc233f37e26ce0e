//! Money needs two people, tried as an insider would over HTTP: a support
//! agent alone pays only within what finance allowed (per claim, per
//! customer and incident, per agent and day), never a stake the logs do not
//! have and never more than a line may carry; an admin alone cannot make a
//! finance account, grant itself a role, take over a colleague's sign-in,
//! or draft a run; what moves money or hands out access asks for the
//! password again.

use plaster_server::claims::file::{file, ClaimForm, ReceiptSettings};
use plaster_server::staff::roles::Role;
use sqlx::Row;

use crate::fixtures::{ledger_count, mail_with};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    a_support_agent_alone_pays_nothing_finance_did_not_allow,
    the_bounds_per_customer_and_per_agent_day_send_the_rest_to_finance,
    an_admin_alone_cannot_make_or_take_over_a_finance_account,
    what_moves_money_asks_for_the_password_again,
);

const V75_2024: &str = "atg-2024-08-24-v75";

async fn claim_state(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM claims WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .expect("claim")
}

/// Files a sign-in claim for the V75 2024 incident as customer `n` (by
/// customer id order) of the demo's SEK customers; (claim id, customer id).
async fn sign_in_claim(app: &TestApp, n: i64) -> (String, String) {
    let row = sqlx::query(
        "SELECT customer_id, email FROM customers WHERE currency = 'SEK'
         ORDER BY customer_id LIMIT 1 OFFSET $1",
    )
    .bind(n)
    .fetch_one(app.store.pool())
    .await
    .expect("a SEK customer");
    let (customer, email): (String, String) = (row.get(0), row.get(1));
    let id = file(
        &app.store,
        &customer,
        &email,
        app::dto::Lang::Sv,
        ClaimForm {
            incident_id: V75_2024.into(),
            kind: "sign_in".into(),
            bet_id: String::new(),
            happened_at: String::new(),
            description: "Kom inte in.".into(),
            screenshot: None,
        },
        chrono_tz::Europe::Stockholm,
        &ReceiptSettings {
            public_url: &app.address,
            mail_domain: "plaster.local",
            page_name: "Status",
        },
    )
    .await
    .expect("claim filed");
    (id, customer)
}

async fn a_support_agent_alone_pays_nothing_finance_did_not_allow(app: TestApp) {
    // As on a new installation: finance has set no limits (the demo sets some).
    sqlx::query("DELETE FROM claim_limits")
        .execute(app.store.pool())
        .await
        .expect("no limits");
    let support = app.staff(&[Role::Support]).await;
    let (missed, bet): (String, String) = {
        let row = sqlx::query(
            "SELECT id, bet_id FROM claims WHERE kind = 'missed_bet' AND state = 'open'
             AND incident_id = $1 LIMIT 1",
        )
        .bind(V75_2024)
        .fetch_one(app.store.pool())
        .await
        .expect("the demo's missed bet");
        (row.get(0), row.get(1))
    };
    // The attack: the run's refund with a stake the agent typed.
    let r = support
        .post(
            &format!("/staff/claims/{missed}/decide"),
            &[("remedy", "run_refund"), ("stake", "1000000")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(claim_state(&app, &missed).await, "awaiting_finance");
    let posted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_transactions WHERE reference = $1")
            .bind(&bet)
            .fetch_one(app.store.pool())
            .await
            .expect("ledger");
    assert_eq!(posted, 0, "nothing posted before finance approves");
    let why: String = sqlx::query_scalar(
        "SELECT after_json FROM audit_log WHERE action = 'claim.decide' AND target = $1",
    )
    .bind(format!("claim:{missed}"))
    .fetch_one(app.store.pool())
    .await
    .expect("audit");
    assert!(why.contains("not in the logs"), "{why}");

    // No limits for the incident: the run's goodwill waits too (fail closed).
    let (c, _) = sign_in_claim(&app, 0).await;
    let r = support
        .post(
            &format!("/staff/claims/{c}/decide"),
            &[("remedy", "run_goodwill")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(claim_state(&app, &c).await, "awaiting_finance");

    // More than a line may carry is refused outright, not wrapped.
    let (c, _) = sign_in_claim(&app, 1).await;
    let r = support
        .post(
            &format!("/staff/claims/{c}/decide"),
            &[
                ("remedy", "own_goodwill"),
                ("amount", "92233720368547758.07"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("more than one payment may carry"), "{html}");
    assert_eq!(claim_state(&app, &c).await, "open");
    // The books still add up and their pages open.
    let finance = app.staff(&[Role::Finance]).await;
    assert_eq!(finance.get("/staff/ledger").await.status(), 200);
    assert_eq!(finance.get("/staff/payouts").await.status(), 200);
}

async fn the_bounds_per_customer_and_per_agent_day_send_the_rest_to_finance(app: TestApp) {
    let support = app.staff(&[Role::Support]).await;
    let finance = app.staff(&[Role::Finance]).await;
    let r = finance
        .post(
            "/staff/claims/limits",
            &[
                ("incident", V75_2024),
                ("currency", "SEK"),
                ("cap", "100"),
                ("above", "100"),
                ("customer_max", "150"),
                ("agent_day", "250"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let decide = |c: String| {
        let support = &support;
        async move {
            let r = support
                .post(
                    &format!("/staff/claims/{c}/decide"),
                    &[("remedy", "own_goodwill"), ("amount", "100")],
                )
                .await;
            assert_eq!(r.status(), 303, "decision on {c}");
        }
    };
    // Within every bound: paid alone.
    let (first, customer) = sign_in_claim(&app, 2).await;
    decide(first.clone()).await;
    assert_eq!(claim_state(&app, &first).await, "approved");
    assert_eq!(
        ledger_count(&app, &format!(r#"["claim","{first}"]"#)).await,
        1
    );
    // The same customer again: 200 for the incident is above 150.
    let (second, again) = sign_in_claim(&app, 2).await;
    assert_eq!(again, customer);
    decide(second.clone()).await;
    assert_eq!(claim_state(&app, &second).await, "awaiting_finance");
    // Another customer: the agent's 24 hours hold 100 paid alone, +100 fits 250.
    let (third, _) = sign_in_claim(&app, 3).await;
    decide(third.clone()).await;
    assert_eq!(claim_state(&app, &third).await, "approved");
    // A third customer: 300 in 24 hours is above 250.
    let (fourth, _) = sign_in_claim(&app, 4).await;
    decide(fourth.clone()).await;
    assert_eq!(claim_state(&app, &fourth).await, "awaiting_finance");
    // Finance, who did not decide them, approves what waits.
    let r = finance
        .post(&format!("/staff/claims/{fourth}/approve"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(claim_state(&app, &fourth).await, "approved");
}

async fn account_id(app: &TestApp, email: &str) -> (String, String) {
    let row = sqlx::query("SELECT id, roles FROM staff_accounts WHERE email = $1")
        .bind(email)
        .fetch_one(app.store.pool())
        .await
        .expect("account");
    (row.get(0), row.get(1))
}

async fn waiting_request(app: &TestApp, account: &str) -> String {
    sqlx::query_scalar("SELECT id FROM staff_requests WHERE account_id = $1 AND state = 'waiting'")
        .bind(account)
        .fetch_one(app.store.pool())
        .await
        .expect("a waiting request")
}

async fn an_admin_alone_cannot_make_or_take_over_a_finance_account(app: TestApp) {
    let admin = app.staff(&[Role::Admin]).await;
    let other = app.staff(&[Role::Admin]).await;
    // A finance account made by one admin: no password on the page, the
    // member gets it by e-mail, and finance waits for a second admin.
    let email = "new-finance@example.se";
    let r = admin
        .post(
            "/staff/accounts",
            &[
                ("email", email),
                ("role", "finance"),
                ("role", "communications"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    assert!(html.contains("went to that address by e-mail"), "{html}");
    assert!(!html.contains("one-time-password"), "{html}");
    let mail = mail_with(&app, email, &["One-time password:"]).await;
    let password = mail
        .lines()
        .find_map(|l| l.strip_prefix("One-time password: "))
        .expect("the password line")
        .trim()
        .to_string();
    assert!(!html.contains(&password), "the console never shows it");
    let (id, roles) = account_id(&app, email).await;
    assert_eq!(roles, "communications", "finance waits");
    let request = waiting_request(&app, &id).await;
    // The admin who asked cannot approve it.
    let r = admin
        .post(
            &format!("/staff/accounts/requests/{request}"),
            &[("action", "approve")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(account_id(&app, email).await.1, "communications");
    // The sent-mail page does not show the password to anyone.
    let mail_id: String = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE recipient = $1 AND kind = 'staff_password'",
    )
    .bind(email)
    .fetch_one(app.store.pool())
    .await
    .expect("outbox");
    let shown = admin
        .get(&format!("/staff/mail/{mail_id}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(!shown.contains(&password), "{shown}");
    // A second admin approves.
    let r = other
        .post(
            &format!("/staff/accounts/requests/{request}"),
            &[("action", "approve")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(account_id(&app, email).await.1, "communications,finance");

    // Nobody grants themselves a role.
    let r = admin
        .post(
            &format!("/staff/accounts/{}", admin.account_id),
            &[("action", "roles"), ("role", "admin"), ("role", "support")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("html").contains("grants themselves"));
    // Support and finance are not held by one account.
    let r = other
        .post(
            &format!("/staff/accounts/{id}"),
            &[
                ("action", "roles"),
                ("role", "finance"),
                ("role", "support"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("not held by one account"));

    // Resetting a finance account's password waits for the other admin.
    let r = admin
        .post(
            &format!("/staff/accounts/{id}"),
            &[("action", "reset-password")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let request = waiting_request(&app, &id).await;
    let must_change: bool = sqlx::query_scalar::<_, bool>(
        "SELECT must_change_password FROM staff_accounts WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(app.store.pool())
    .await
    .unwrap_or(true);
    assert!(must_change, "never signed in yet: still the first password");
    let r = other
        .post(
            &format!("/staff/accounts/requests/{request}"),
            &[("action", "approve")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let resets: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND kind = 'staff_password'",
    )
    .bind(email)
    .fetch_one(app.store.pool())
    .await
    .expect("outbox");
    assert_eq!(resets, 2, "the new password went to its owner");

    // Admins do not draft runs or import customers.
    assert_eq!(admin.get("/staff/compensation/new").await.status(), 403);
    let r = admin
        .post(
            "/staff/compensation/runs",
            &[("incident", V75_2024), ("title", "by an admin")],
        )
        .await;
    assert_eq!(r.status(), 403);
}

async fn what_moves_money_asks_for_the_password_again(app: TestApp) {
    // Signed in, not confirmed: the session of someone who walked away.
    let email = "finance-unconfirmed@example.se";
    app.staff_member(email, &[Role::Finance]).await;
    let (client, csrf) = app.signed_in(email).await;
    for path in [
        "/staff/compensation/runs/no-such-run/approve",
        "/staff/compensation/runs/no-such-run/execute",
        "/staff/compensation/runs/no-such-run/discrepancies/approve",
        "/staff/claims/no-such-claim/approve",
        "/staff/claims/limits",
    ] {
        let r = client
            .post(app.url(path))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 403, "{path} without a step-up");
        assert!(
            r.text().await.expect("html").contains("Confirm it is you"),
            "{path} says why"
        );
    }
    // With the password typed in the same form, it goes through to the
    // handler (which then finds no such run).
    let r = client
        .post(app.url("/staff/compensation/runs/no-such-run/execute"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("step_up", crate::fixtures::PASSWORD),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 404);
}
