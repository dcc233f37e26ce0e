//! Two-step sign-in (TOTP and recovery codes), step-up before dangerous
//! changes, one-time passwords that expire, and `__Host-` cookies.

use plaster_server::staff::roles::Role;
use plaster_server::staff::totp::{code_at, step_at};
use reqwest::Client;

use crate::fixtures::{cookie_client, csrf_in, post_form, PASSWORD};
use crate::helpers::{spawn_app_with_env, TestApp};
use crate::on_both_backends;

on_both_backends!(
    finance_sets_up_a_code_then_signs_in_with_it_or_a_recovery_code,
    dangerous_changes_need_the_password_or_a_code_again,
    one_time_passwords_expire_after_72_hours_and_an_admin_issues_new_ones,
    over_https_cookies_carry_the_host_prefix_and_every_answer_hsts,
);

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The text of the first `<code data-testid="NAME">` in a page.
fn code_in(html: &str, testid: &str) -> String {
    let marker = format!("data-testid=\"{testid}\">");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{testid} in {html}"))
        + marker.len();
    html[at..html[at..].find('<').map(|e| at + e).expect("closing tag")].to_string()
}

async fn finance_sets_up_a_code_then_signs_in_with_it_or_a_recovery_code(app: TestApp) {
    let email = "fia@example.se";
    let id = app.staff_member(email, &[Role::Finance]).await;
    // As a member from before two-step sign-in: no second factor yet.
    let mut conn = app.store.pool().acquire().await.expect("conn");
    plaster_server::store::staff::disable_totp(&mut conn, &id, None)
        .await
        .expect("off");
    drop(conn);
    let client = cookie_client();
    let r = app.try_sign_in(&client, email, PASSWORD).await;
    assert_eq!(location(&r), "/staff");
    // Finance reaches nothing before setting it up.
    let r = client
        .get(app.url("/staff/ledger"))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/staff/two-factor")
    );
    let page = client
        .get(app.url("/staff/two-factor"))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("<svg"), "a QR code");
    let secret: String = code_in(&html, "totp-secret").split_whitespace().collect();
    let csrf = csrf_in(&html);
    let now = chrono::Utc::now().timestamp();
    // A wrong code turns nothing on.
    let wrong = if code_at(&secret, step_at(now)).expect("code") == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = post_form(
        &app,
        &client,
        "/staff/two-factor",
        &[
            ("csrf", &csrf),
            ("action", "confirm"),
            ("code", wrong),
            ("step_up", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("not the code your app shows"));
    let code = code_at(&secret, step_at(now)).expect("code");
    let r = post_form(
        &app,
        &client,
        "/staff/two-factor",
        &[
            ("csrf", &csrf),
            ("action", "confirm"),
            ("code", &code),
            ("step_up", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|c| c[..c.find('<').expect("end")].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes in {html}");
    let r = client
        .get(app.url("/staff/ledger"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200, "on: the console opens");
    let audit: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.second-factor.on'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("audit");
    assert_eq!(audit, 1);
    // Finance cannot turn it off.
    let r = post_form(
        &app,
        &client,
        "/staff/two-factor",
        &[("csrf", &csrf), ("action", "off"), ("step_up", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), 422);

    // Next sign-in: the password alone opens only the code page.
    let client = cookie_client();
    let r = app.try_sign_in(&client, email, PASSWORD).await;
    assert!(
        location(&r).starts_with("/staff/login/code"),
        "{}",
        location(&r)
    );
    let r = client
        .get(app.url("/staff/ledger"))
        .send()
        .await
        .expect("GET");
    assert!(
        location(&r).starts_with("/staff/login/code"),
        "waiting for the code: {}",
        location(&r)
    );
    let page = client
        .get(app.url("/staff/login/code"))
        .send()
        .await
        .expect("GET");
    let csrf = csrf_in(&page.text().await.expect("html"));
    // The code used to turn it on was used: it does not work twice.
    let r = post_form(
        &app,
        &client,
        "/staff/login/code",
        &[("csrf", &csrf), ("code", &code), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 401, "a used code");
    // A recovery code works once, typed however.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let r = post_form(
        &app,
        &client,
        "/staff/login/code",
        &[("csrf", &csrf), ("code", &typed), ("next", "/staff")],
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/staff/two-factor?recovered=1")
    );
    let r = client
        .get(app.url("/staff/ledger"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200, "signed in with a recovery code");
    let html = client
        .get(app.url("/staff/two-factor?recovered=1"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert!(html.contains("9 left"), "{html}");
    let again = cookie_client();
    app.try_sign_in(&again, email, PASSWORD).await;
    let page = again
        .get(app.url("/staff/login/code"))
        .send()
        .await
        .expect("GET");
    let csrf = csrf_in(&page.text().await.expect("html"));
    let r = post_form(
        &app,
        &again,
        "/staff/login/code",
        &[("csrf", &csrf), ("code", &codes[3]), ("next", "/staff")],
    )
    .await;
    assert_eq!(r.status(), 401, "a recovery code works once");
    // The app's next code does.
    let code = app.next_code_of(&id, &secret).await;
    let r = post_form(
        &app,
        &again,
        "/staff/login/code",
        &[("csrf", &csrf), ("code", &code), ("next", "/staff/ledger")],
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/staff/ledger")
    );
    // Five wrong codes, then the code page waits.
    let third = cookie_client();
    app.try_sign_in(&third, email, PASSWORD).await;
    let page = third
        .get(app.url("/staff/login/code"))
        .send()
        .await
        .expect("GET");
    let csrf = csrf_in(&page.text().await.expect("html"));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = post_form(
            &app,
            &third,
            "/staff/login/code",
            &[
                ("csrf", &csrf),
                ("code", "zzzz-zzzz-zzzz-zzzz"),
                ("next", "/staff"),
            ],
        )
        .await;
        statuses.push(r.status().as_u16());
    }
    // Two wrong codes came before (the used app code, the used recovery code).
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

async fn dangerous_changes_need_the_password_or_a_code_again(app: TestApp) {
    let email = "ada@example.se";
    let id = app.staff_member(email, &[Role::Admin]).await;
    let (client, csrf) = app.signed_in(email).await;
    let add = |address: &'static str, step_up: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("email", address.to_string()),
            ("role", "support".to_string()),
            ("step_up", step_up.to_string()),
        ]
    };
    let send = |form: Vec<(&'static str, String)>| {
        let client = client.clone();
        let url = app.url("/staff/accounts");
        async move { client.post(url).form(&form).send().await.expect("POST") }
    };
    let r = send(add("new1@example.se", "")).await;
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("Confirm it is you first"));
    let r = send(add("new1@example.se", "not my password")).await;
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("neither your password nor"));
    assert!(
        app.store
            .staff_for_sign_in("new1@example.se")
            .await
            .expect("q")
            .is_none(),
        "nothing added"
    );
    // The accounts page offers the confirmation box.
    let html = client
        .get(app.url("/staff/accounts"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert!(html.contains("data-testid=\"step-up\""));
    // The password confirms, and then counts for a while.
    let r = send(add("new1@example.se", PASSWORD)).await;
    assert_eq!(r.status(), 200);
    let r = send(add("new2@example.se", "")).await;
    assert_eq!(r.status(), 200, "confirmed a moment ago");
    let html = client
        .get(app.url("/staff/accounts"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert!(html.contains("data-testid=\"confirmed\""));

    // A fresh session confirms with a code from the app too, through the box.
    let (other, other_csrf) = app.signed_in(email).await;
    let r = other
        .post(app.url("/staff/webhooks"))
        .form(&[
            ("csrf", other_csrf.as_str()),
            ("url", "http://127.0.0.1:9/hook"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403, "adding a webhook needs a step-up");
    let code = app.next_code(&id).await;
    let r = other
        .post(app.url("/staff/step-up?next=/staff/webhooks"))
        .form(&[("csrf", other_csrf.as_str()), ("step_up", code.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(
        (r.status().as_u16(), location(&r).as_str()),
        (303, "/staff/webhooks")
    );
    let r = other
        .post(app.url("/staff/webhooks"))
        .form(&[
            ("csrf", other_csrf.as_str()),
            ("url", "http://127.0.0.1:9/hook"),
        ])
        .send()
        .await
        .expect("POST");
    // Added: the page shows the new webhook's secret once.
    assert_eq!(r.status(), 200, "confirmed by code");
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("data-testid=\"webhook-secret\""));

    // Wrong confirmations are limited.
    let (third, third_csrf) = app.signed_in(email).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = third
            .post(app.url("/staff/step-up"))
            .form(&[("csrf", third_csrf.as_str()), ("step_up", "guess")])
            .send()
            .await
            .expect("POST");
        let html = r.text().await.expect("html");
        statuses.push(html.contains("Too many wrong confirmations"));
    }
    // One wrong confirmation came before ("not my password").
    assert_eq!(statuses, [false, false, false, false, true, true]);
}

async fn one_time_passwords_expire_after_72_hours_and_an_admin_issues_new_ones(app: TestApp) {
    let (_, one_time) = plaster_server::staff::accounts::create_account(
        &app.store,
        &plaster_server::kernel::audit::Actor::Cli,
        "olle@example.se",
        &plaster_server::staff::roles::Roles::new(vec![Role::Support]),
    )
    .await
    .expect("account");
    let expires: i64 = sqlx::query_scalar("SELECT password_expires_at - created_at FROM staff_accounts WHERE email = 'olle@example.se'")
        .fetch_one(app.store.pool())
        .await
        .expect("expiry");
    assert_eq!(expires, 72 * 3_600_000);
    sqlx::query(
        "UPDATE staff_accounts SET password_expires_at = $1 WHERE email = 'olle@example.se'",
    )
    .bind(chrono::Utc::now().timestamp_millis() - 1)
    .execute(app.store.pool())
    .await
    .expect("age it");
    let r = app
        .try_sign_in(&cookie_client(), "olle@example.se", &one_time)
        .await;
    assert_eq!(r.status(), 401);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("one-time password has expired"));
    // An admin gives a new one; it opens the password page.
    let admin = app.staff(&[Role::Admin]).await;
    let olle = app
        .store
        .staff_for_sign_in("olle@example.se")
        .await
        .expect("q")
        .expect("olle")
        .0;
    let r = admin
        .post(
            &format!("/staff/accounts/{}", olle.id),
            &[("action", "reset-password")],
        )
        .await;
    assert_eq!(r.status(), 200);
    // It went to Olle by e-mail, never onto the admin's page.
    let mail =
        crate::fixtures::mail_with(&app, "olle@example.se", &["A new one-time password"]).await;
    let fresh = mail
        .lines()
        .filter_map(|l| l.strip_prefix("One-time password: "))
        .next_back()
        .expect("the password line")
        .trim()
        .to_string();
    assert!(!r.text().await.expect("html").contains(&fresh));
    assert_ne!(fresh, one_time);
    let client = cookie_client();
    let r = app.try_sign_in(&client, "olle@example.se", &fresh).await;
    assert_eq!(location(&r), "/staff");
    let r = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(
        location(&r),
        "/staff/password",
        "a one-time password opens only the password page"
    );
    // The old one does not.
    let r = app
        .try_sign_in(&cookie_client(), "olle@example.se", &one_time)
        .await;
    assert_eq!(r.status(), 401);
}

async fn over_https_cookies_carry_the_host_prefix_and_every_answer_hsts(app: TestApp) {
    let https = spawn_app_with_env(
        app.backend(),
        &[("PLASTER_PUBLIC_URL", "https://status.example.se")],
    )
    .await
    .expect("app");
    let r = Client::new()
        .get(https.url("/staff/login"))
        .send()
        .await
        .expect("GET");
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().expect("ascii").to_string())
        .collect();
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(c.starts_with("__Host-plaster_"), "{c}");
        assert!(
            c.contains("Secure") && (c.contains("Path=/;") || c.ends_with("Path=/")),
            "{c}"
        );
        assert!(!c.contains("Domain"), "{c}");
    }
    // Every answer names HSTS, the snapshot's too (the front door answers
    // those before any middleware), with the other headers of every response.
    for path in ["/sv", "/api/v2/summary.json", "/staff/login", "/healthz"] {
        for encoding in ["gzip", "identity"] {
            let r = Client::new()
                .get(https.url(path))
                .header("Accept-Encoding", encoding)
                .send()
                .await
                .expect("GET");
            let h = r.headers();
            assert!(
                h.contains_key("strict-transport-security"),
                "{path} ({encoding}): {h:?}"
            );
            assert_eq!(
                h.get("x-content-type-options").map(|v| v.as_bytes()),
                Some(&b"nosniff"[..]),
                "{path}"
            );
            assert!(
                h.contains_key("referrer-policy"),
                "{path} ({encoding}): {h:?}"
            );
        }
    }
    // Plain HTTP (the test app): the unprefixed names, scoped to the console.
    let r = Client::new()
        .get(app.url("/staff/login"))
        .send()
        .await
        .expect("GET");
    let c = r
        .headers()
        .get("set-cookie")
        .expect("cookie")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        c.starts_with("plaster_login_csrf=") && c.contains("Path=/staff"),
        "{c}"
    );
}
