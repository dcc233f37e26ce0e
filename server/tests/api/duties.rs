//! What a session is owed and what it may not do: staff sessions end when
//! the password changes or the account is disabled; session cookies are
//! HttpOnly and SameSite, and over HTTPS `__Host-` (Secure, `Path=/`, no
//! `Domain`); one TOTP code sent twice at once signs in once; customer
//! sign-in links are limited per client address and per e-mail address; a
//! claims decision that waits for finance is approved by someone else.

use plaster_server::customers::sign_in::{PER_ADDRESS_PER_HOUR, PER_CLIENT_PER_HOUR};
use plaster_server::staff::roles::Role;
use plaster_server::staff::REFUSED_HEADER;
use reqwest::Client;
use sqlx::Row;

use crate::fixtures::{
    ask_link, client_from, cookie_client, csrf_in, ledger_count, link_token, PASSWORD,
};
use crate::helpers::{spawn_app_with_env, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_password_change_ends_every_other_session_of_the_account,
    an_admins_password_reset_ends_every_session_of_the_account,
    disabling_an_account_ends_its_sessions_and_its_sign_ins,
    session_cookies_are_http_only_same_site_and_host_only_over_https,
    one_code_sent_twice_at_once_signs_in_once,
    customer_links_are_limited_per_client_address,
    customer_links_are_limited_per_e_mail_address,
    one_address_asked_for_many_times_at_once_gets_one_link,
    a_decision_waiting_for_finance_is_approved_by_someone_who_did_not_make_it,
    a_customer_session_ends_when_idle_and_when_the_address_changes,
);

const NEW_PASSWORD: &str = "another long enough password";

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Why the guard turned a request away ("" when it did not).
fn refused_why(r: &reqwest::Response) -> String {
    r.headers()
        .get(REFUSED_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// `GET path` with `client`: the status and the `Location`.
async fn get(app: &TestApp, client: &Client, path: &str) -> (u16, String) {
    let r = client
        .get(app.url(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
    (r.status().as_u16(), location(&r))
}

/// Asserts that `client`'s session no longer opens the console.
async fn signed_out(app: &TestApp, client: &Client, what: &str) {
    let (status, to) = get(app, client, "/staff").await;
    assert_eq!(status, 303, "{what}: the console still opens");
    assert!(to.starts_with("/staff/login"), "{what}: sent to {to}");
}

async fn sessions_of(app: &TestApp, account_id: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff_sessions WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(app.store.pool())
        .await
        .expect("sessions")
}

/// The password form, as `client` sends it with its session's token.
async fn change_password(client: &Client, app: &TestApp, csrf: &str) -> reqwest::Response {
    client
        .post(app.url("/staff/password"))
        .form(&[
            ("csrf", csrf),
            ("current", PASSWORD),
            ("new", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ])
        .send()
        .await
        .expect("POST /staff/password")
}

async fn a_password_change_ends_every_other_session_of_the_account(app: TestApp) {
    let email = "pia@example.se";
    let id = app.staff_member(email, &[Role::Support]).await;
    let (a, csrf_a) = app.signed_in(email).await;
    let (b, csrf_b) = app.signed_in(email).await;
    assert_eq!(get(&app, &a, "/staff").await.0, 200);
    assert_eq!(get(&app, &b, "/staff").await.0, 200);
    assert_eq!(sessions_of(&app, &id).await, 2);

    let r = change_password(&a, &app, &csrf_a).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/staff?password=changed".to_string())
    );
    // The other session (a stolen one, say) is over: no page, no form.
    signed_out(&app, &b, "the other session").await;
    let r = change_password(&b, &app, &csrf_b).await;
    assert_eq!(r.status(), 401, "the other session's form");
    assert_eq!(refused_why(&r), "sign-in");
    // The session that changed it goes on.
    assert_eq!(get(&app, &a, "/staff").await.0, 200);
    assert_eq!(sessions_of(&app, &id).await, 1);
    // The old password opens nothing; the new one does.
    let r = app.try_sign_in(&cookie_client(), email, PASSWORD).await;
    assert_eq!(r.status(), 401, "the old password");
    let r = app.try_sign_in(&cookie_client(), email, NEW_PASSWORD).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/staff".to_string())
    );
}

async fn an_admins_password_reset_ends_every_session_of_the_account(app: TestApp) {
    let admin = app.staff(&[Role::Admin]).await;
    let email = "rut@example.se";
    let id = app.staff_member(email, &[Role::Support]).await;
    let (one, _) = app.signed_in(email).await;
    let (two, _) = app.signed_in(email).await;
    let r = admin
        .post(
            &format!("/staff/accounts/{id}"),
            &[("action", "reset-password")],
        )
        .await;
    assert_eq!(r.status(), 200, "the page says the password went by e-mail");
    signed_out(&app, &one, "the first session").await;
    signed_out(&app, &two, "the second session").await;
    assert_eq!(sessions_of(&app, &id).await, 0);
    assert_eq!(admin.get("/staff").await.status(), 200, "the admin's own");
}

async fn disabling_an_account_ends_its_sessions_and_its_sign_ins(app: TestApp) {
    let admin = app.staff(&[Role::Admin]).await;
    let email = "dag@example.se";
    let id = app.staff_member(email, &[Role::Support]).await;
    let (victim, csrf) = app.signed_in(email).await;
    assert_eq!(get(&app, &victim, "/staff").await.0, 200);

    let r = admin
        .post(&format!("/staff/accounts/{id}"), &[("action", "disable")])
        .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/staff/accounts".to_string())
    );
    signed_out(&app, &victim, "a disabled member's session").await;
    // Its forms are refused, with its own valid token.
    let r = change_password(&victim, &app, &csrf).await;
    assert_eq!(r.status(), 401);
    assert_eq!(refused_why(&r), "sign-in");
    assert_eq!(sessions_of(&app, &id).await, 0);
    // The right password signs in no more, in the words of a wrong one.
    let r = app.try_sign_in(&cookie_client(), email, PASSWORD).await;
    assert_eq!(r.status(), 401);
    assert!(r
        .text()
        .await
        .expect("html")
        .contains("Wrong e-mail address or password."));

    // A session the disabling did not delete (the flag written around it)
    // is refused all the same, and deleted.
    let email = "eva@example.se";
    let id = app.staff_member(email, &[Role::Support]).await;
    let (other, _) = app.signed_in(email).await;
    sqlx::query("UPDATE staff_accounts SET disabled = 1 WHERE id = $1")
        .bind(id.as_str())
        .execute(app.store.pool())
        .await
        .expect("disable");
    let (status, to) = get(&app, &other, "/staff").await;
    assert_eq!(status, 303, "a disabled account's surviving session");
    assert!(to.starts_with("/staff/login"), "{to}");
    assert_eq!(sessions_of(&app, &id).await, 0);
}

/// A client that keeps no cookies: every cookie is sent by hand.
fn plain_client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The whole `Set-Cookie` for `name` in a response.
fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    let prefix = format!("{name}=");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(prefix.as_str()))
        .unwrap_or_else(|| panic!("a Set-Cookie for {name} in {:?}", r.headers()))
        .to_string()
}

/// `name=value` of a `Set-Cookie`, as a browser sends it back.
fn pair(c: &str) -> &str {
    c.split(';').next().unwrap_or(c).trim()
}

/// HttpOnly, SameSite Lax (or Strict), Secure exactly when `secure`, the
/// given path, no `Domain`, and a value (not a deletion).
fn assert_cookie_flags(c: &str, secure: bool, path: &str) {
    let attrs: Vec<String> = c
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    let has = |want: &str| attrs.iter().any(|a| a.as_str() == want);
    assert!(has("httponly"), "not HttpOnly: {c}");
    assert!(
        has("samesite=lax") || has("samesite=strict"),
        "no SameSite=Lax or Strict: {c}"
    );
    assert_eq!(has("secure"), secure, "Secure: {c}");
    assert!(has(&format!("path={path}")), "not Path={path}: {c}");
    assert!(
        !attrs.iter().any(|a| a.starts_with("domain")),
        "a Domain: {c}"
    );
    assert!(!has("max-age=0"), "a deletion: {c}");
    assert!(
        pair(c).split_once('=').is_some_and(|(_, v)| !v.is_empty()),
        "no value: {c}"
    );
}

/// Signs `email` in through the form by hand; the session's `Set-Cookie`
/// (the login form's own cookie checked on the way).
async fn sign_in_by_hand(
    app: &TestApp,
    client: &Client,
    email: &str,
    prefix: &str,
    path: &str,
    secure: bool,
) -> String {
    let page = client
        .get(app.url("/staff/login"))
        .send()
        .await
        .expect("GET /staff/login");
    assert_eq!(page.status(), 200);
    let login = set_cookie(&page, &format!("{prefix}plaster_login_csrf"));
    assert_cookie_flags(&login, secure, path);
    let csrf = csrf_in(&page.text().await.expect("html"));
    let r = client
        .post(app.url("/staff/login"))
        .header("cookie", pair(&login))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", "/staff"),
        ])
        .send()
        .await
        .expect("POST /staff/login");
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/staff".to_string()),
        "sign-in of {email}"
    );
    set_cookie(&r, &format!("{prefix}plaster_session"))
}

/// A demo customer's address that no other customer shares.
async fn lone_customer_email(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT email FROM customers GROUP BY email HAVING COUNT(*) = 1 ORDER BY email LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("a demo customer")
}

async fn session_cookies_are_http_only_same_site_and_host_only_over_https(app: TestApp) {
    let https = spawn_app_with_env(
        app.backend(),
        &[("PLASTER_PUBLIC_URL", "https://status.example.se")],
    )
    .await
    .expect("app");
    let client = plain_client();
    for (server, secure) in [(&https, true), (&app, false)] {
        let prefix = if secure { "__Host-" } else { "" };
        // Over plain HTTP the staff cookies are scoped to the console.
        let staff_path = if secure { "/" } else { "/staff" };
        let scheme = if secure { "https" } else { "http" };

        // Staff.
        let email = "sam@example.se";
        server.staff_member(email, &[Role::Support]).await;
        let session = sign_in_by_hand(server, &client, email, prefix, staff_path, secure).await;
        assert_cookie_flags(&session, secure, staff_path);
        let r = client
            .get(server.url("/staff"))
            .header("cookie", pair(&session))
            .send()
            .await
            .expect("GET /staff");
        assert_eq!(r.status(), 200, "{scheme}: the cookie opens the console");
        if secure {
            // Without the prefix (as a plain-HTTP attacker could plant it)
            // the same token counts for nothing.
            let unprefixed = pair(&session).trim_start_matches("__Host-").to_string();
            let r = client
                .get(server.url("/staff"))
                .header("cookie", unprefixed.as_str())
                .send()
                .await
                .expect("GET /staff");
            assert_eq!(r.status(), 303, "an unprefixed staff cookie over HTTPS");
        }

        // Customers.
        let customer = lone_customer_email(server).await;
        assert_eq!(ask_link(server, &client, &customer).await, "sent");
        let token = link_token(server, &customer, "").await;
        let r = client
            .post(server.url("/me/link"))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .expect("POST /me/link");
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/me".to_string()),
            "{scheme}: the link signs in"
        );
        let cookie = set_cookie(&r, &format!("{prefix}plaster_customer"));
        assert_cookie_flags(&cookie, secure, "/");
        let r = client
            .get(server.url("/me/export.json"))
            .header("cookie", pair(&cookie))
            .send()
            .await
            .expect("GET /me/export.json");
        assert_eq!(r.status(), 200, "{scheme}: the cookie opens the data");
        if secure {
            let unprefixed = pair(&cookie).trim_start_matches("__Host-").to_string();
            let r = client
                .get(server.url("/me/export.json"))
                .header("cookie", unprefixed.as_str())
                .send()
                .await
                .expect("GET /me/export.json");
            assert_eq!(r.status(), 401, "an unprefixed customer cookie over HTTPS");
        }
    }
}

async fn one_code_sent_twice_at_once_signs_in_once(app: TestApp) {
    let email = "tove@example.se";
    let id = app.staff_member(email, &[Role::Finance]).await;
    let (first, second) = (cookie_client(), cookie_client());
    let mut csrf = Vec::new();
    for client in [&first, &second] {
        let r = app.try_sign_in(client, email, PASSWORD).await;
        assert_eq!(r.status(), 303);
        assert!(
            location(&r).starts_with("/staff/login/code"),
            "the code comes next: {}",
            location(&r)
        );
        let page = client
            .get(app.url("/staff/login/code"))
            .send()
            .await
            .expect("GET /staff/login/code");
        assert_eq!(page.status(), 200);
        csrf.push(csrf_in(&page.text().await.expect("html")));
    }
    let code = app.next_code(&id).await;
    let one = first.post(app.url("/staff/login/code")).form(&[
        ("code", code.as_str()),
        ("csrf", csrf[0].as_str()),
        ("next", "/staff"),
    ]);
    let two = second.post(app.url("/staff/login/code")).form(&[
        ("code", code.as_str()),
        ("csrf", csrf[1].as_str()),
        ("next", "/staff"),
    ]);
    let (one, two) = tokio::join!(one.send(), two.send());
    let (one, two) = (one.expect("POST"), two.expect("POST"));
    let first_won = one.status() == 303;
    let mut outcomes = vec![
        (one.status().as_u16(), location(&one)),
        (two.status().as_u16(), location(&two)),
    ];
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![(303_u16, "/staff".to_string()), (401_u16, String::new())],
        "one code, two sign-ins at once"
    );
    let (winner, loser) = if first_won {
        (&first, &second)
    } else {
        (&second, &first)
    };
    assert_eq!(get(&app, winner, "/staff").await.0, 200);
    let (status, to) = get(&app, loser, "/staff").await;
    assert_eq!(status, 303, "the other still waits for a code");
    assert!(to.starts_with("/staff/login/code"), "{to}");
    // Sent again later, the used code opens nothing either.
    let r = loser
        .post(app.url("/staff/login/code"))
        .form(&[
            ("code", code.as_str()),
            ("csrf", csrf[if first_won { 1 } else { 0 }].as_str()),
            ("next", "/staff"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 401, "a used code");
}

/// Sign-in links mailed to the customers at `email`.
async fn links_for(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM customer_sign_in_links l
         JOIN customers c ON c.customer_id = l.customer_id WHERE c.email = $1",
    )
    .bind(email)
    .fetch_one(app.store.pool())
    .await
    .expect("links")
}

/// Moves the requests for `email` `ms` into the past.
async fn age_requests(app: &TestApp, email: &str, ms: i64) {
    sqlx::query(
        "UPDATE customer_sign_in_requests SET created_at = created_at - $2 WHERE email = $1",
    )
    .bind(email)
    .bind(ms)
    .execute(app.store.pool())
    .await
    .expect("age the requests");
}

async fn customer_links_are_limited_per_client_address(app: TestApp) {
    let sender = client_from([127, 0, 0, 21]);
    for n in 0..PER_CLIENT_PER_HOUR {
        assert_eq!(
            ask_link(&app, &sender, &format!("someone{n}@example.se")).await,
            "sent",
            "request {n} is within the limit"
        );
    }
    assert_eq!(
        ask_link(&app, &sender, "one-more@example.se").await,
        "too_many"
    );
    // A known customer's address from it: refused, nothing mailed.
    let known = lone_customer_email(&app).await;
    assert_eq!(ask_link(&app, &sender, &known).await, "too_many");
    assert_eq!(links_for(&app, &known).await, 0);
    // Another client is served, the same customer too: what the refused
    // client asked did not use up their address's turn.
    let neighbour = client_from([127, 0, 0, 22]);
    assert_eq!(
        ask_link(&app, &neighbour, "neighbour@example.se").await,
        "sent"
    );
    assert_eq!(ask_link(&app, &neighbour, &known).await, "sent");
    assert_eq!(links_for(&app, &known).await, 1);
}

async fn customer_links_are_limited_per_e_mail_address(app: TestApp) {
    let email = lone_customer_email(&app).await;
    for n in 0..PER_ADDRESS_PER_HOUR {
        let from = client_from([127, 0, 0, 30 + n as u8]);
        assert_eq!(
            ask_link(&app, &from, &email).await,
            "sent",
            "link {n} is within the limit"
        );
        if n == 0 {
            // One a minute, from whichever client.
            let other = client_from([127, 0, 0, 29]);
            assert_eq!(ask_link(&app, &other, &email).await, "too_soon");
        }
        age_requests(&app, &email, 61_000).await;
    }
    assert_eq!(links_for(&app, &email).await, PER_ADDRESS_PER_HOUR as i64);
    let from = client_from([127, 0, 0, 40]);
    assert_eq!(ask_link(&app, &from, &email).await, "too_many");
    assert_eq!(
        ask_link(&app, &from, &email.to_uppercase()).await,
        "too_many",
        "the address however it is written"
    );
    assert_eq!(links_for(&app, &email).await, PER_ADDRESS_PER_HOUR as i64);
    // That client may ask for another address.
    assert_eq!(
        ask_link(&app, &from, "someone-else@example.se").await,
        "sent"
    );
    // An hour on, the address may have a link again.
    age_requests(&app, &email, 3_600_000).await;
    assert_eq!(ask_link(&app, &from, &email).await, "sent");
    assert_eq!(
        links_for(&app, &email).await,
        PER_ADDRESS_PER_HOUR as i64 + 1
    );
}

/// The limits hold for requests that arrive together, too: of several at
/// once for one address, one is sent and the rest are too soon.
async fn one_address_asked_for_many_times_at_once_gets_one_link(app: TestApp) {
    let email = lone_customer_email(&app).await;
    let asks = (0..8u8).map(|n| {
        let (app, email) = (&app, email.clone());
        async move { ask_link(app, &client_from([127, 0, 0, 50 + n]), &email).await }
    });
    let notices = futures_util::future::join_all(asks).await;
    let sent = notices.iter().filter(|n| n.as_str() == "sent").count();
    assert_eq!(sent, 1, "one link a minute, asked at once: {notices:?}");
    assert_eq!(links_for(&app, &email).await, 1);
}

/// A claim's state, who decided it and who approved it.
async fn claim_row(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>) {
    let row = sqlx::query("SELECT state, decided_by, approved_by FROM claims WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .expect("claim");
    (row.get(0), row.get(1), row.get(2))
}

async fn a_decision_waiting_for_finance_is_approved_by_someone_who_did_not_make_it(app: TestApp) {
    // One of the demo's waiting claims.
    let row = sqlx::query(
        "SELECT c.id, c.incident_id, u.currency FROM claims c
         JOIN customers u ON u.customer_id = c.customer_id
         WHERE c.state = 'open'
         ORDER BY CASE WHEN c.incident_id = 'atg-2024-08-24-v75' THEN 0 ELSE 1 END, c.id
         LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("the demo files waiting claims");
    let (claim, incident, currency): (String, String, String) =
        (row.get(0), row.get(1), row.get(2));
    let approver = app.staff(&[Role::Finance]).await;
    // Support and finance are never one account, so the agent who decided
    // cannot approve; the approver's own check stays as a second wall.
    let both = app.staff(&[Role::Support]).await;
    let r = approver
        .post(
            "/staff/claims/limits",
            &[
                ("incident", incident.as_str()),
                ("currency", currency.as_str()),
                ("cap", "500"),
                ("above", "100"),
                ("customer_max", "1000"),
                ("agent_day", "1000"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "limits for {incident} in {currency}");
    let r = both
        .post(
            &format!("/staff/claims/{claim}/decide"),
            &[("remedy", "own_goodwill"), ("amount", "150")],
        )
        .await;
    assert_eq!(r.status(), 303, "the decision");
    let key = format!(r#"["claim","{claim}"]"#);
    assert_eq!(
        claim_row(&app, &claim).await,
        (
            "awaiting_finance".to_string(),
            Some(both.account_id.clone()),
            None
        ),
        "above the approval amount: waits for finance"
    );
    assert_eq!(ledger_count(&app, &key).await, 0);

    let r = both
        .post(&format!("/staff/claims/{claim}/approve"), &[])
        .await;
    assert_eq!(r.status(), 403, "the decision's maker approves it");
    assert_eq!(
        claim_row(&app, &claim).await,
        (
            "awaiting_finance".to_string(),
            Some(both.account_id.clone()),
            None
        ),
        "still waiting"
    );
    assert_eq!(ledger_count(&app, &key).await, 0, "nothing posted");

    let r = approver
        .post(&format!("/staff/claims/{claim}/approve"), &[])
        .await;
    assert_eq!(r.status(), 303, "another finance member approves");
    assert_eq!(
        claim_row(&app, &claim).await,
        (
            "approved".to_string(),
            Some(both.account_id.clone()),
            Some(approver.account_id.clone())
        )
    );
    assert_eq!(ledger_count(&app, &key).await, 1);
}

/// A customer signed in through the mailed link, as a browser does.
async fn customer_signed_in(app: &TestApp, email: &str, old_token: &str) -> (Client, String) {
    let client = cookie_client();
    assert_eq!(ask_link(app, &client, email).await, "sent");
    let token = link_token(app, email, old_token).await;
    let r = client
        .post(app.url("/me/link"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 303, "signed in");
    (client, token)
}

async fn export_status(app: &TestApp, client: &Client) -> u16 {
    client
        .get(app.url("/me/export.json"))
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

async fn a_customer_session_ends_when_idle_and_when_the_address_changes(app: TestApp) {
    let email = lone_customer_email(&app).await;
    let (client, token) = customer_signed_in(&app, &email, "").await;
    assert_eq!(export_status(&app, &client).await, 200);
    // Unused for five hours (the idle limit is four): over.
    let five_hours_ago = chrono::Utc::now().timestamp_millis() - 5 * 3_600_000;
    sqlx::query("UPDATE customer_sessions SET last_seen_at = $1")
        .bind(five_hours_ago)
        .execute(app.store.pool())
        .await
        .expect("age");
    assert_ne!(export_status(&app, &client).await, 200, "an idle session");

    // Signed in again, then an import gives the customer another address:
    // the session was the old address's, and ends.
    age_requests(&app, &email, 61_000).await;
    let (client, _) = customer_signed_in(&app, &email, &token).await;
    assert_eq!(export_status(&app, &client).await, 200);
    sqlx::query("UPDATE customers SET email = $1 WHERE email = $2")
        .bind("moved-away@example.se")
        .bind(&email)
        .execute(app.store.pool())
        .await
        .expect("a new address");
    assert_ne!(
        export_status(&app, &client).await,
        200,
        "the address changed"
    );
}
