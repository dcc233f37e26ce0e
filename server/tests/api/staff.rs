//! The staff console over HTTP: sign-in, lockout, CSRF, expiry, the role
//! matrix built from the route list, XSS in texts, and the audit log.

use plaster_server::kernel::audit::Actor;
use plaster_server::staff::accounts::create_account;
use plaster_server::staff::login::MAX_CLIENT_FAILURES;
use plaster_server::staff::roles::{Access, Role, Roles};
use plaster_server::staff::{routes, REFUSED_HEADER};
use reqwest::Client;
use serde_json::Value;
use sqlx::Row;

use crate::fixtures::{client_from, concrete_path, cookie_client, eventually, post_form, PASSWORD};
use crate::helpers::TestApp;
use crate::on_both_backends;

async fn wrong_passwords_and_unknown_accounts_get_the_same_answer(app: TestApp) {
    app.staff_member("ada@example.se", &[Role::Communications])
        .await;
    let client = cookie_client();
    let wrong = app
        .try_sign_in(&client, "ada@example.se", "not the password")
        .await;
    let unknown = app
        .try_sign_in(&client, "nobody@example.se", "not the password")
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let message = |html: String| {
        let at = html.find("data-testid=\"error\">").expect("error shown");
        html[at..].split('<').next().unwrap_or_default().to_string()
    };
    assert_eq!(
        message(wrong.text().await.expect("html")),
        message(unknown.text().await.expect("html"))
    );
    // No session was created.
    let page = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(page.status(), 303);
}

async fn repeated_failures_lock_the_address_for_a_while(app: TestApp) {
    app.staff_member("bo@example.se", &[Role::Support]).await;
    let attacker = client_from([127, 0, 0, 1]);
    // Twelve guesses at once (each with its own form and cookies): the count
    // and the record are one step, so no more than five are ever checked.
    let guesses = (0..12).map(|_| {
        let (app, client) = (&app, client_from([127, 0, 0, 1]));
        async move { app.try_sign_in(&client, "bo@example.se", "guess").await }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "five guesses checked, the rest throttled: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 7);
    // Now even the right password is turned away from there, with a lockout message...
    let r = app.try_sign_in(&attacker, "bo@example.se", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("Too many failed sign-ins for this address"));
    // ...but Bo, signing in from elsewhere during the attack, gets in.
    let bo = client_from([127, 0, 0, 2]);
    let r = app.try_sign_in(&bo, "bo@example.se", PASSWORD).await;
    assert_eq!(
        r.status(),
        303,
        "the attacker cannot lock a staff member out"
    );
    // An unknown address behaves the same, so nothing is revealed.
    for _ in 0..5 {
        app.try_sign_in(&attacker, "ghost@example.se", "guess")
            .await;
    }
    let r = app
        .try_sign_in(&attacker, "ghost@example.se", "guess")
        .await;
    assert_eq!(r.status(), 429);
    // Password spraying: one address trying many accounts is turned away
    // after twenty failures, for every account.
    let sprayer = client_from([127, 0, 0, 3]);
    for n in 0..20 {
        let r = app
            .try_sign_in(&sprayer, &format!("user{n}@example.se"), "Summer2026!")
            .await;
        assert_eq!(r.status(), 401, "failure {n} is checked");
    }
    let r = app.try_sign_in(&sprayer, "bo@example.se", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("from your network address"));
    // Once the window has passed, the right password works again.
    sqlx::query("UPDATE login_failures SET failed_at = failed_at - 3600000")
        .execute(app.store.pool())
        .await
        .expect("age the failures");
    let r = app.try_sign_in(&attacker, "bo@example.se", PASSWORD).await;
    assert_eq!(r.status(), 303);
    // A successful sign-in takes its own attempt back: Bo's many sign-ins
    // from the office never lock the office out.
    let office = client_from([127, 0, 0, 4]);
    for _ in 0..(MAX_CLIENT_FAILURES + 2) {
        let r = app.try_sign_in(&office, "bo@example.se", PASSWORD).await;
        assert_eq!(r.status(), 303);
    }
}

/// The password-change form checks the current password at most five
/// times in the window, so a stolen session is no guessing oracle.
async fn the_password_form_limits_wrong_current_passwords(app: TestApp) {
    app.staff_member("di@example.se", &[Role::Support]).await;
    let (client, csrf) = app.signed_in("di@example.se").await;
    let attempt = |current: &'static str| {
        let (client, csrf) = (&client, csrf.clone());
        let app = &app;
        async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("current", current),
                ("new", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ];
            post_form(app, client, "/staff/password", &form)
                .await
                .text()
                .await
                .expect("html")
        }
    };
    for _ in 0..5 {
        assert!(attempt("wrong guess")
            .await
            .contains("not your current password"));
    }
    let page = attempt(PASSWORD).await;
    assert!(page.contains("too many wrong tries"), "{page}");
}

async fn state_changes_without_a_csrf_token_are_refused(app: TestApp) {
    app.staff_member("cy@example.se", &[Role::Communications])
        .await;
    let (client, csrf) = app.signed_in("cy@example.se").await;
    let form = [("status", "major_outage"), ("confirm", "yes")];
    let r = post_form(&app, &client, "/staff/components/casino/status", &form).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()[REFUSED_HEADER], "csrf");
    let r = post_form(
        &app,
        &client,
        "/staff/components/casino/status",
        &[
            ("status", "major_outage"),
            ("confirm", "yes"),
            ("csrf", "forged"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    // A cross-site form post carries a foreign Origin: refused even with the token.
    let r = client
        .post(app.url("/staff/components/casino/status"))
        .header("Origin", "https://evil.example")
        .form(&[
            ("status", "major_outage"),
            ("confirm", "yes"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);
    // Sign-in itself needs its token too.
    let r = cookie_client()
        .post(app.url("/staff/login"))
        .form(&[("email", "cy@example.se"), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 403);
    // Nothing changed.
    let (_, page) = app.get_text("/api/v2/components.json").await;
    let doc: Value = serde_json::from_str(&page).expect("json");
    let casino = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["id"] == "casino")
        .expect("casino");
    assert_eq!(casino["status"], "operational");
    // With the token it goes through.
    let r = post_form(
        &app,
        &client,
        "/staff/components/casino/status",
        &[
            ("status", "major_outage"),
            ("confirm", "yes"),
            ("csrf", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
}

async fn expired_and_signed_out_sessions_are_refused(app: TestApp) {
    app.staff_member("di@example.se", &[Role::Finance]).await;
    let (client, csrf) = app.signed_in("di@example.se").await;
    assert_eq!(
        client
            .get(app.url("/staff"))
            .send()
            .await
            .expect("GET")
            .status(),
        200
    );
    // Idle for three hours.
    sqlx::query("UPDATE staff_sessions SET last_seen_at = last_seen_at - 10800000")
        .execute(app.store.pool())
        .await
        .expect("age the session");
    let r = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        location.starts_with("/staff/login") && location.contains("expired=1"),
        "{location}"
    );

    let (client, csrf2) = app.signed_in("di@example.se").await;
    assert_ne!(csrf, csrf2, "each session has its own CSRF token");
    let r = post_form(&app, &client, "/staff/logout", &[("csrf", csrf2.as_str())]).await;
    assert_eq!(r.status(), 303);
    let r = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(r.status(), 303);
}

/// Who may use what, written out here independently of the code's rules:
/// path prefix → roles. Public and any-staff routes are listed by path.
fn expected_allowed(path: &str, method: &str, role: Option<Role>) -> bool {
    if path == "/staff/login" || path == "/staff/login/code" {
        return true;
    }
    let Some(role) = role else {
        return false;
    };
    if [
        "/staff",
        "/staff/password",
        "/staff/logout",
        "/staff/two-factor",
        "/staff/step-up",
    ]
    .contains(&path)
    {
        return true;
    }
    if path.starts_with("/staff/mail") {
        return matches!(role, Role::Communications | Role::Admin);
    }
    if path == "/staff/components" && method == "POST" {
        return role == Role::Admin;
    }
    if path == "/staff/components" && method == "GET" {
        return matches!(role, Role::Communications | Role::Admin);
    }
    if path.starts_with("/staff/components/") && path.ends_with("/status") {
        return role == Role::Communications;
    }
    if path.starts_with("/staff/components/") {
        return role == Role::Admin;
    }
    if path.starts_with("/staff/incidents")
        || path.starts_with("/staff/templates")
        || path.starts_with("/staff/maintenance")
    {
        return role == Role::Communications;
    }
    if path.starts_with("/staff/accounts")
        || path.starts_with("/staff/audit")
        || path.starts_with("/staff/webhooks")
    {
        return role == Role::Admin;
    }
    if path == "/staff/customers" && method == "GET" {
        return matches!(role, Role::Support | Role::Finance | Role::Admin);
    }
    if path == "/staff/customers/import" {
        // Finance keeps the table that decides who is paid; an admin, who
        // could make a finance account, does not also feed it.
        return role == Role::Finance;
    }
    if path.starts_with("/staff/compensation") {
        // Support and admins read runs; finance alone drafts, approves,
        // executes and settles discrepancies; the run's books are finance's
        // and admins may read them.
        if path.ends_with("/approve")
            || path.ends_with("/reject")
            || path.ends_with("/execute")
            || path.ends_with("/discrepancies/request")
        {
            return role == Role::Finance;
        }
        let reads = method == "GET"
            && (path == "/staff/compensation"
                || path == "/staff/compensation/runs/{id}"
                || path.contains("/revisions/"));
        if reads {
            return matches!(role, Role::Support | Role::Finance | Role::Admin);
        }
        if method == "GET" && path.contains("/ledger") {
            return matches!(role, Role::Finance | Role::Admin);
        }
        return role == Role::Finance;
    }
    if path.starts_with("/staff/payouts/inbox/") {
        return role == Role::Finance;
    }
    if path == "/staff/markets" {
        // Finance keeps which remedies each market may be paid; whoever
        // reads runs may read them.
        if method == "POST" {
            return role == Role::Finance;
        }
        return matches!(role, Role::Support | Role::Finance | Role::Admin);
    }
    if path.starts_with("/staff/payouts/endpoint") {
        return role == Role::Admin;
    }
    if path.ends_with("/send-again") {
        return role == Role::Finance;
    }
    if path.starts_with("/staff/ledger") || path == "/staff/payouts" {
        return matches!(role, Role::Finance | Role::Admin);
    }
    if path.starts_with("/staff/claims") {
        // Support decides claims; finance reads them, approves decisions
        // above its amount and sets the limits.
        if path.ends_with("/approve") || (path == "/staff/claims/limits" && method == "POST") {
            return role == Role::Finance;
        }
        if path.ends_with("/take") || path.ends_with("/decide") {
            return role == Role::Support;
        }
        return matches!(role, Role::Support | Role::Finance);
    }
    panic!("{method} {path} is not in the test's access table: add it, with who may use it");
}

async fn every_staff_route_checks_roles(app: TestApp) {
    let mut clients = vec![(None, cookie_client(), String::new())];
    let mut account_id = String::new();
    for role in Role::ALL {
        let email = format!("{role}@example.se");
        account_id = app.staff_member(&email, &[role]).await;
        let (client, csrf) = app.signed_in(&email).await;
        clients.push((Some(role), client, csrf));
    }
    let mut routes = routes();
    // Signing out last, so the other requests still have a session.
    routes.sort_by_key(|r| r.path == "/staff/logout");
    let mut checked = 0;
    for route in &routes {
        let path = concrete_path(route.path, &account_id);
        for (role, client, csrf) in &clients {
            let response = match route.method.as_str() {
                "GET" => client.get(app.url(&path)).send().await,
                // A valid token but no fields: an allowed request fails
                // validation (or does nothing harmful); a refused one never
                // reaches the handler.
                _ => {
                    client
                        .post(app.url(&path))
                        .form(&[("csrf", csrf.as_str())])
                        .send()
                        .await
                }
            }
            .expect("request");
            let refused = response
                .headers()
                .get(REFUSED_HEADER)
                .map(|v| v.to_str().unwrap_or("?").to_string());
            let expected = expected_allowed(route.path, route.method.as_str(), *role);
            assert_eq!(
                refused.is_none(),
                expected,
                "{} {path} as {:?}: got {} (refused: {refused:?})",
                route.method,
                role,
                response.status()
            );
            if let Some(why) = refused {
                assert_ne!(why, "csrf", "{} {path} as {role:?}", route.method);
                assert!(
                    response.status() == 303
                        || response.status() == 401
                        || response.status() == 403
                );
            } else {
                assert!(
                    response.status().as_u16() < 500,
                    "{} {path} as {role:?}: {}",
                    route.method,
                    response.status()
                );
            }
            checked += 1;
        }
        // The access rule in the code agrees with the table for every role.
        for role in Role::ALL {
            let code = route.access.allows(&Roles::new(vec![role]));
            let table = expected_allowed(route.path, route.method.as_str(), Some(role));
            assert_eq!(
                code || route.access == Access::Public,
                table,
                "{} {}",
                route.method,
                route.path
            );
        }
    }
    assert_eq!(checked, routes.len() * 5);
}

/// Opens an incident through the console (preview, then publish).
async fn open_incident(
    app: &TestApp,
    client: &Client,
    csrf: &str,
    fields: &[(&str, &str)],
) -> String {
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", csrf),
        ("impact", "major"),
        ("stage", "investigating"),
    ];
    form.extend_from_slice(fields);
    let preview = post_form(app, client, "/staff/incidents", &form).await;
    assert_eq!(preview.status(), 200, "preview");
    form.push(("intent", "publish"));
    let published = post_form(app, client, "/staff/incidents", &form).await;
    assert_eq!(published.status(), 303, "publish");
    let location = published.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    location
        .trim_start_matches("/staff/incidents/")
        .split('?')
        .next()
        .expect("id")
        .to_string()
}

async fn scripts_in_incident_texts_and_names_never_reach_the_page(app: TestApp) {
    app.staff_member("eve@example.se", &[Role::Communications, Role::Admin])
        .await;
    let (client, csrf) = app.signed_in("eve@example.se").await;
    let id = open_incident(
        &app,
        &client,
        &csrf,
        &[
            ("title_en", "Login <script>alert('t')</script> down"),
            ("body_en", "We **know**. <img src=x onerror=alert(1)> [faq](javascript:alert(2)) <script>alert(3)</script>"),
            ("comp_login", "major_outage"),
        ],
    )
    .await;
    let r = post_form(
        &app,
        &client,
        "/staff/components/casino",
        &[
            ("csrf", csrf.as_str()),
            ("name_en", "Casino<svg onload=alert(4)>"),
            ("position", "5"),
            ("group", "betting"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    app.snapshot.rebuild(&app.store).await.expect("rebuild");
    for path in ["/en".to_string(), format!("/en/incidents/{id}")] {
        let (status, html) = app.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains("<strong>know</strong>"),
            "{path}: the Markdown is rendered"
        );
        // As text ("&lt;img …") they are harmless; as markup or a link target they are not.
        for bad in [
            "<script>alert(",
            "<img",
            "<svg",
            "href=\"javascript:",
            "\\u003cimg",
        ] {
            if let Some(at) = html.find(bad) {
                panic!(
                    "{path} contains {bad}: …{}…",
                    html.get(at.saturating_sub(30)..(at + 300).min(html.len()))
                        .unwrap_or("")
                );
            }
        }
    }
    // The staff pages escape it too.
    let page = client
        .get(app.url(&format!("/staff/incidents/{id}")))
        .send()
        .await
        .expect("GET");
    let html = page.text().await.expect("html");
    assert!(!html.contains("<script>alert('t')"), "staff page");
    assert!(!html.contains("<img src=x"), "staff page");
}

async fn every_kind_of_action_leaves_an_audit_entry(app: TestApp) {
    app.staff_member("fay@example.se", &[Role::Communications, Role::Admin])
        .await;
    let (client, csrf) = app.signed_in("fay@example.se").await;
    let csrf = csrf.as_str();
    let id = open_incident(
        &app,
        &client,
        csrf,
        &[("title_en", "Slow bets"), ("body_en", "Looking into it.")],
    )
    .await;
    let mut update = vec![
        ("csrf", csrf),
        ("stage", "identified"),
        ("body_sv", "Vi vet."),
        ("body_en", "We know."),
        ("intent", "publish"),
    ];
    let r = post_form(
        &app,
        &client,
        &format!("/staff/incidents/{id}/updates"),
        &update,
    )
    .await;
    assert_eq!(r.status(), 303);
    update.pop();
    let r = post_form(
        &app,
        &client,
        "/staff/components/casino/status",
        &[
            ("csrf", csrf),
            ("status", "degraded_performance"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &client,
        "/staff/components/casino",
        &[
            ("csrf", csrf),
            ("name_en", "Casino games"),
            ("name_sv", "Kasinospel"),
            ("position", "3"),
            ("group", "betting"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &client,
        "/staff/components",
        &[
            ("csrf", csrf),
            ("id", "live-casino"),
            ("name_en", "Live casino"),
            ("group", "betting"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &client,
        "/staff/components",
        &[
            ("csrf", csrf),
            ("id", "Live Casino!"),
            ("name_en", "Bad id"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("html").contains("id: "));
    let r = post_form(
        &app,
        &client,
        "/staff/accounts",
        &[
            ("csrf", csrf),
            ("email", "new@example.se"),
            ("role", "support"),
            ("step_up", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("went to that address by e-mail"));
    let new_id = app
        .store
        .staff_accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == "new@example.se")
        .expect("new account")
        .id;
    let r = post_form(
        &app,
        &client,
        &format!("/staff/accounts/{new_id}"),
        &[
            ("csrf", csrf),
            ("action", "roles"),
            ("role", "support"),
            ("role", "communications"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &client,
        &format!("/staff/accounts/{new_id}"),
        &[("csrf", csrf), ("action", "disable")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &client,
        "/staff/templates",
        &[
            ("csrf", csrf),
            ("name", "Investigating"),
            ("stage", "investigating"),
            ("body_en", "We are looking into it."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(
        &app,
        &client,
        "/staff/password",
        &[
            ("csrf", csrf),
            ("current", PASSWORD),
            ("new", "another long password"),
            ("confirm", "another long password"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);

    let r = client
        .get(app.url("/staff/audit.csv?actor=fay"))
        .send()
        .await
        .expect("csv");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let csv = r.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let actions: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[3].to_string())
        .collect();
    for action in [
        "incident.open",
        "incident.update",
        "component.status",
        "component.edit",
        "component.add",
        "account.add",
        "account.roles",
        "account.disable",
        "template.add",
        "account.password",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
    // Before → after is kept.
    assert!(
        csv.contains("degraded_performance") && csv.contains("\"\"status\"\":\"\"operational\"\""),
        "{csv}"
    );
    // The filter works on screen, and a bad date is named.
    let page = client
        .get(app.url("/staff/audit?action=account.add&actor=fay"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("html");
    assert_eq!(page.matches("data-testid=\"audit-row\"").count(), 1);
    let r = client
        .get(app.url("/staff/audit?from=yesterday"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("from:") && html.contains("yesterday") && html.contains("is not a date"),
        "{html}"
    );
    // The table refuses to forget.
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(app.store.pool())
        .await
        .is_err());
    assert!(sqlx::query("UPDATE audit_log SET actor = 'someone else'")
        .execute(app.store.pool())
        .await
        .is_err());
}

async fn a_console_update_reaches_the_public_api_at_once(app: TestApp) {
    let gus = app.staff(&[Role::Communications]).await;
    let id = open_incident(
        &app,
        &gus.client,
        &gus.csrf,
        &[
            ("title_sv", "Inloggning nere"),
            ("body_sv", "Vi undersöker."),
            ("comp_login", "major_outage"),
        ],
    )
    .await;
    eventually(15, "the new incident in the API", || async {
        let (_, body) = app.get_text("/api/v2/incidents/unresolved.json").await;
        body.contains(&id)
    })
    .await;
    // Missing languages are pointed out in the console.
    let html = gus
        .get(&format!("/staff/incidents/{id}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Missing translations: nb, en"), "{html}");
    // The shared fixtures give each call a member of its own.
    let other = app.staff(&[Role::Communications]).await;
    assert_ne!(other.email, gus.email);
    assert_ne!(other.account_id, gus.account_id);
    let listed = other.get("/staff/incidents").await;
    assert_eq!(listed.status(), 200);
    assert_eq!(other.post("/staff/logout", &[]).await.status(), 303);
    assert_eq!(other.get("/staff/incidents").await.status(), 303);
    assert_eq!(gus.get("/staff/incidents").await.status(), 200);
}

async fn a_one_time_password_opens_only_the_password_page(app: TestApp) {
    let (_, password) = create_account(
        &app.store,
        &Actor::Cli,
        "hal@example.se",
        &Roles::new(vec![Role::Communications]),
    )
    .await
    .expect("account");
    let client = cookie_client();
    let r = app.try_sign_in(&client, "hal@example.se", &password).await;
    assert_eq!(r.status(), 303);
    let r = client
        .get(app.url("/staff/incidents"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff/password");
    let csrf = app.csrf_of(&client).await;
    let r = post_form(
        &app,
        &client,
        "/staff/password",
        &[
            ("csrf", csrf.as_str()),
            ("current", password.as_str()),
            ("new", "short"),
            ("confirm", "short"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("at least 12 characters"));
    let r = post_form(
        &app,
        &client,
        "/staff/password",
        &[
            ("csrf", csrf.as_str()),
            ("current", password.as_str()),
            ("new", PASSWORD),
            ("confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        client
            .get(app.url("/staff/incidents"))
            .send()
            .await
            .expect("GET")
            .status(),
        200
    );
}

on_both_backends!(
    wrong_passwords_and_unknown_accounts_get_the_same_answer,
    repeated_failures_lock_the_address_for_a_while,
    the_password_form_limits_wrong_current_passwords,
    old_sessions_attempts_and_mail_are_purged,
    state_changes_without_a_csrf_token_are_refused,
    expired_and_signed_out_sessions_are_refused,
    every_staff_route_checks_roles,
    scripts_in_incident_texts_and_names_never_reach_the_page,
    every_kind_of_action_leaves_an_audit_entry,
    a_console_update_reaches_the_public_api_at_once,
    a_one_time_password_opens_only_the_password_page,
    an_apology_is_previewed_as_page_and_e_mail_then_published,
    maintenance_is_previewed_then_scheduled,
);

async fn an_apology_is_previewed_as_page_and_e_mail_then_published(app: TestApp) {
    app.staff_member("ida@example.se", &[Role::Communications])
        .await;
    let (client, csrf) = app.signed_in("ida@example.se").await;
    let path = "/staff/incidents/atg-2024-08-24-v75/apology";
    let form = [
        ("csrf", csrf.as_str()),
        (
            "body_sv",
            "Vi ber **verkligen** om ursäkt. <script>alert(1)</script>",
        ),
        ("body_en", "We are **truly** sorry."),
    ];
    let preview = post_form(&app, &client, path, &form).await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.expect("html");
    // The web version, the e-mail's HTML (in a sandboxed frame) and its text part.
    assert!(
        html.contains("Vi ber <strong>verkligen</strong> om ursäkt."),
        "web preview"
    );
    assert!(
        html.contains("srcdoc=") && html.contains("sandbox"),
        "e-mail preview"
    );
    assert!(html.contains("Vi ber om ursäkt: "), "Swedish subject");
    assert!(
        html.contains("Vi ber **verkligen** om ursäkt."),
        "plain-text part keeps the Markdown"
    );
    assert!(
        html.contains("missing: readers get the fallback"),
        "Norwegian is missing"
    );
    assert!(!html.contains("<script>alert(1)"));
    // Nothing is public before Publish.
    let (_, page) = app.get_text("/sv/incidents/atg-2024-08-24-v75").await;
    assert!(!page.contains("verkligen"));

    let mut publish = form.to_vec();
    publish.push(("intent", "publish"));
    let r = post_form(&app, &client, path, &publish).await;
    assert_eq!(r.status(), 303);
    app.snapshot.rebuild(&app.store).await.expect("rebuild");
    let (_, page) = app.get_text("/sv/incidents/atg-2024-08-24-v75").await;
    assert!(page.contains("data-testid=\"apology\""), "apology section");
    assert!(page.contains("Vi ber <strong>verkligen</strong> om ursäkt."));
    assert!(!page.contains("<script>alert(1)"));
    // Norwegian readers get the English text, marked as such.
    let (_, page) = app.get_text("/nb/incidents/atg-2024-08-24-v75").await;
    assert!(page.contains("We are <strong>truly</strong> sorry."));
    let entries = app
        .store
        .audit_entries(
            &plaster_server::kernel::audit::AuditFilter {
                action: "incident.apology".into(),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);
    assert!(entries[0].after.as_deref().unwrap_or("").contains("truly"));
}

async fn maintenance_is_previewed_then_scheduled(app: TestApp) {
    app.staff_member("jo@example.se", &[Role::Communications])
        .await;
    let (client, csrf) = app.signed_in("jo@example.se").await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let from = format!("{tomorrow}T01:00");
    let until = format!("{tomorrow}T03:00");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("from", from.as_str()),
        ("until", until.as_str()),
        ("title_en", "Database upgrade"),
        ("body_en", "Betting pauses for two hours."),
        ("component", "bet-placement"),
    ];
    let preview = post_form(&app, &client, "/staff/maintenance", &form).await;
    assert_eq!(preview.status(), 200);
    assert!(preview
        .text()
        .await
        .expect("html")
        .contains("data-testid=\"confirm\""));
    // A window that ends before it starts is named as such, and what was typed stays.
    let bad = [
        ("csrf", csrf.as_str()),
        ("from", until.as_str()),
        ("until", from.as_str()),
        ("title_en", "Oops"),
        ("body_en", "x"),
        ("intent", "publish"),
    ];
    let r = post_form(&app, &client, "/staff/maintenance", &bad).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("until: the window must end after it starts"),
        "{html}"
    );
    assert!(html.contains("value=\"Oops\""));
    let r = post_form(
        &app,
        &client,
        "/staff/maintenance",
        &[
            ("csrf", csrf.as_str()),
            ("from", "tomorrow"),
            ("until", until.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("from:") && html.contains("is not a date and time"),
        "{html}"
    );

    form.push(("intent", "publish"));
    let r = post_form(&app, &client, "/staff/maintenance", &form).await;
    assert_eq!(r.status(), 303);
    app.snapshot.rebuild(&app.store).await.expect("rebuild");
    let (_, body) = app
        .get_text("/api/v2/scheduled-maintenances/upcoming.json")
        .await;
    assert!(body.contains("Database upgrade"), "{body}");
    let entries = app
        .store
        .audit_entries(
            &plaster_server::kernel::audit::AuditFilter {
                action: "maintenance.schedule".into(),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 1);
}

/// #15.7: expired sessions, old sign-in attempts and long-delivered mail
/// go; live sessions, fresh attempts and queued mail stay.
async fn old_sessions_attempts_and_mail_are_purged(app: TestApp) {
    use plaster_server::store::housekeeping::{purge, ATTEMPTS_KEPT_MS, SENT_MAIL_KEPT_MS};
    app.staff_member("eo@example.se", &[Role::Support]).await;
    let (client, _) = app.signed_in("eo@example.se").await;
    let now = chrono::Utc::now().timestamp_millis();
    let exec = |sql: String| {
        let app = &app;
        async move {
            sqlx::query(&sql)
                .execute(app.store.pool())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    };
    exec(format!(
        "INSERT INTO staff_sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, expires_at)
         SELECT 'old', id, 'c', 0, 0, {} FROM staff_accounts WHERE email = 'eo@example.se'",
        now - 1
    ))
    .await;
    exec(format!(
        "INSERT INTO login_failures (key, failed_at) VALUES ('old', {}), ('new', {now})",
        now - ATTEMPTS_KEPT_MS - 1
    ))
    .await;
    let old = now - SENT_MAIL_KEPT_MS - 1;
    // The queued one is not due for a day, so the running mail sender
    // leaves it queued (it would send it, and then it may be purged).
    for (id, state, due) in [
        ("purge-sent", "sent", old),
        ("purge-failed", "failed", old),
        ("purge-queued", "queued", now + 86_400_000),
    ] {
        exec(format!(
            "INSERT INTO outbox (id, message_id, kind, recipient, subject, body_text, body_html,
                                 state, attempts, next_attempt_at, created_at)
             VALUES ('{id}', '<{id}@test>', 'test', 'x@example.se', 's', 't', 'h', '{state}', 0, {due}, {old})"
        ))
        .await;
    }
    let count = |sql: String| {
        let app = &app;
        async move {
            sqlx::query(&sql)
                .fetch_one(app.store.pool())
                .await
                .expect("count")
                .get::<i64, _>(0)
        }
    };
    let purged = purge(&app.store, now).await.expect("purge");
    assert_eq!(purged.staff_sessions, 1, "the expired session");
    assert_eq!(purged.sign_in_attempts, 1, "the day-old attempt");
    assert!(
        purged.mail >= 2,
        "the old sent and given-up mail: {purged:?}"
    );
    let left = |id: &str| count(format!("SELECT COUNT(*) FROM outbox WHERE id = '{id}'"));
    assert_eq!(
        (
            left("purge-sent").await,
            left("purge-failed").await,
            left("purge-queued").await
        ),
        (0, 0, 1),
        "queued mail is never purged"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM login_failures WHERE key = 'new'".into()).await,
        1
    );
    // The live session still opens the console.
    let page = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(page.status(), 200);
}
