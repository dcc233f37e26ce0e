//! Forged requests, generated from the route table as the role matrix is
//! (issue #28): every state-changing staff route refuses a missing or wrong
//! CSRF token and a request from another site; so do the staff sign-in
//! forms, the customers' pages and the subscription forms, and nothing
//! happens. RFC 8058's one-click unsubscribe still works from a mail
//! provider, which is another site by design.

use plaster_server::customers::import::Import;
use plaster_server::kernel::audit::Actor;
use plaster_server::staff::roles::{Access, Role, Roles};
use plaster_server::staff::{routes, REFUSED_HEADER};
use reqwest::Client;
use sqlx::Row;

use crate::fixtures::{ask_link, concrete_path, cookie_client, csrf_in, link_token, PASSWORD};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    every_state_changing_staff_route_refuses_forged_requests,
    every_state_changing_customer_route_refuses_forged_requests,
);

const EVIL: &str = "https://evil.example";

/// How a browser marks a request from another site: a foreign `Origin`, or
/// `Sec-Fetch-Site` (which decides where it is sent; same-site is not
/// same-origin).
const CROSS_SITE: [(&str, &str); 3] = [
    ("Origin", EVIL),
    ("Sec-Fetch-Site", "cross-site"),
    ("Sec-Fetch-Site", "same-site"),
];

/// A refusal by the staff guard (or the sign-in forms, which use its rule):
/// 403, marked `csrf`.
fn assert_refused(response: &reqwest::Response, what: &str) {
    assert_eq!(response.status(), 403, "{what}");
    assert_eq!(
        response
            .headers()
            .get(REFUSED_HEADER)
            .and_then(|v| v.to_str().ok()),
        Some("csrf"),
        "{what}"
    );
}

async fn every_state_changing_staff_route_refuses_forged_requests(app: TestApp) {
    // One signed-in member per role (admins and finance with their second
    // factor); each route is tried by a role it allows, so the guard gets
    // as far as the token.
    let mut members: Vec<(Role, Client, String)> = Vec::new();
    let mut account_id = String::new();
    for role in Role::ALL {
        let email = format!("csrf-{role}@example.se");
        account_id = app.staff_member(&email, &[role]).await;
        let (client, csrf) = app.signed_in(&email).await;
        members.push((role, client, csrf));
    }
    let mut routes: Vec<_> = routes()
        .into_iter()
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD" | "OPTIONS"))
        .filter(|r| r.access != Access::Public)
        .collect();
    // Signing out last, so the other requests still have a session.
    routes.sort_by_key(|r| r.path == "/staff/logout");
    let mut checked = 0;
    for route in &routes {
        let path = concrete_path(route.path, &account_id);
        let (role, client, csrf) = members
            .iter()
            .find(|(role, _, _)| route.access.allows(&Roles::new(vec![*role])))
            .unwrap_or_else(|| panic!("no role may use {} {}", route.method, route.path));
        let what = |case: &str| format!("{} {path} as {role:?}: {case}", route.method);
        let request = || client.request(route.method.clone(), app.url(&path));

        if route.uploads {
            // No token at all: the guard leaves the multipart body to the
            // `Upload` extractor, whose first field must be the token.
            let body = reqwest::multipart::Form::new().text("note", "no token");
            let r = request().multipart(body).send().await.expect("request");
            assert_eq!(r.status(), 403, "{}", what("no token"));
            let r = request()
                .header("X-CSRF-Token", "forged")
                .form(&[("csrf", "forged")])
                .send()
                .await
                .expect("request");
            assert_refused(&r, &what("a forged X-CSRF-Token"));
        } else {
            let r = request()
                .form(&[("note", "no token")])
                .send()
                .await
                .expect("request");
            assert_refused(&r, &what("no token"));
            let r = request()
                .form(&[("csrf", "forged")])
                .send()
                .await
                .expect("request");
            assert_refused(&r, &what("a forged token"));
        }
        // The right token from another site is refused all the same.
        for (name, value) in CROSS_SITE {
            let r = request()
                .header(name, value)
                .header("X-CSRF-Token", csrf.as_str())
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .expect("request");
            assert_refused(&r, &what(&format!("the right token with {name}: {value}")));
        }
        // The control: the right token from this site passes the check (a
        // form error, a 404 or a step-up request is fine; a `csrf` refusal
        // is not), so the refusals above are the token's and the site's.
        let r = request()
            .header("Origin", app.address.as_str())
            .header("X-CSRF-Token", csrf.as_str())
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .expect("request");
        let why = r
            .headers()
            .get(REFUSED_HEADER)
            .map(|v| v.to_str().unwrap_or("?").to_string());
        assert_ne!(
            why.as_deref(),
            Some("csrf"),
            "{}: {}",
            what("the right token from this site"),
            r.status()
        );
        checked += 1;
    }
    assert!(
        checked > 20,
        "only {checked} state-changing staff routes were tried: is the filter right?"
    );

    // The sign-in forms are public, so not behind the guard: the same rule
    // there, even with a valid form token (and the right password and code).
    let email = "csrf-sign-in@example.se";
    let id = app.staff_member(email, &[Role::Admin]).await;
    let client = cookie_client();
    let page = client
        .get(app.url("/staff/login"))
        .send()
        .await
        .expect("login page");
    let token = csrf_in(&page.text().await.expect("html"));
    let form = [
        ("email", email),
        ("password", PASSWORD),
        ("csrf", token.as_str()),
        ("next", "/staff"),
    ];
    for (name, value) in CROSS_SITE {
        let r = client
            .post(app.url("/staff/login"))
            .header(name, value)
            .form(&form)
            .send()
            .await
            .expect("POST");
        assert_refused(&r, &format!("POST /staff/login with {name}: {value}"));
    }
    let r = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(r.status(), 303, "no session came of it");
    // The same cookie and field from this site sign in (to the code page).
    let r = client
        .post(app.url("/staff/login"))
        .header("Origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 303, "the sign-in from this site");
    assert!(
        r.headers()["location"]
            .to_str()
            .is_ok_and(|l| l.starts_with("/staff/login/code")),
        "{:?}",
        r.headers()["location"]
    );
    let page = client
        .get(app.url("/staff/login/code"))
        .send()
        .await
        .expect("code page");
    assert_eq!(page.status(), 200);
    let token = csrf_in(&page.text().await.expect("html"));
    let code = app.next_code(&id).await;
    for (name, value) in CROSS_SITE {
        let r = client
            .post(app.url("/staff/login/code"))
            .header(name, value)
            .form(&[
                ("code", code.as_str()),
                ("csrf", token.as_str()),
                ("next", "/staff"),
            ])
            .send()
            .await
            .expect("POST");
        assert_refused(&r, &format!("POST /staff/login/code with {name}: {value}"));
    }
    // Nothing was used up: the code from this site completes the sign-in.
    let r = app.enter_code(&client, email).await;
    assert_eq!(r.status(), 303, "the code from this site");
    let r = client.get(app.url("/staff")).send().await.expect("GET");
    assert_eq!(r.status(), 200, "signed in");
}

/// Every POST route of the customers' and the subscription routers. Both
/// routers refuse another site in one layer over all their routes (see
/// `kernel::origin::refuse_cross_site`), so a route added there is covered
/// even if this list is not updated; `/unsubscribe` is added after that
/// layer on purpose (RFC 8058) and is tried at the end.
const CUSTOMER_FORMS: [&str; 7] = [
    "/me/sign-in",
    "/me/link",
    "/me/sign-out",
    "/me/claims",
    "/subscribe",
    "/subscribe/confirm",
    "/subscriptions",
];

/// s-004 in the V75 example's customers.
const JOHAN: &str = "johan.nilsson@example.se";
/// An incident of the demo content.
const INCIDENT: &str = "atg-2024-08-24-v75";

/// A form POST from `client` with extra headers.
async fn post(
    app: &TestApp,
    client: &Client,
    path: &str,
    headers: &[(&str, &str)],
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client.post(app.url(path)).form(form);
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

async fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind.to_string())
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn claims(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM claims")
        .fetch_one(app.store.pool())
        .await
        .expect("claims")
}

/// (state, token, lang, components) of the subscription of `email`.
async fn subscription(app: &TestApp, email: &str) -> (String, String, String, String) {
    let row =
        sqlx::query("SELECT state, token, lang, components FROM subscribers WHERE email = $1")
            .bind(email.to_string())
            .fetch_one(app.store.pool())
            .await
            .unwrap_or_else(|e| panic!("the subscription of {email}: {e}"));
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

/// A claim as the form sends it, with `csrf` if given.
fn claim(csrf: Option<&str>) -> reqwest::multipart::Form {
    let form = reqwest::multipart::Form::new()
        .text("incident", INCIDENT)
        .text("kind", "sign_in")
        .text("description", "The sign-in page would not load.");
    match csrf {
        Some(token) => form.text("csrf", token.to_string()),
        None => form,
    }
}

/// Whether `client` holds a customer session (the data download needs one).
async fn signed_in(app: &TestApp, client: &Client) -> bool {
    let r = client
        .get(app.url("/me/export.json"))
        .send()
        .await
        .expect("GET /me/export.json");
    r.status() == 200
}

async fn every_state_changing_customer_route_refuses_forged_requests(app: TestApp) {
    let customers = std::fs::File::open(crate::helpers::examples_dir("v75").join("customers.csv"))
        .expect("the example's customers.csv");
    let mut import = Import::begin(&app.store).await.expect("import");
    import
        .customers("customers.csv", customers)
        .await
        .expect("customers read");
    import
        .finish(&Actor::Cli)
        .await
        .expect("customers imported");

    // From another site every form is refused before its handler: no
    // sign-in link asked for, no subscription made.
    let stranger = cookie_client();
    for path in CUSTOMER_FORMS {
        for (name, value) in CROSS_SITE {
            let r = post(
                &app,
                &stranger,
                path,
                &[(name, value)],
                &[("email", JOHAN), ("token", "any"), ("lang", "en")],
            )
            .await;
            assert_eq!(r.status(), 403, "POST {path} with {name}: {value}");
        }
    }
    let asked = "SELECT COUNT(*) FROM customer_sign_in_requests WHERE email = $1";
    assert_eq!(
        count(&app, asked, JOHAN).await,
        0,
        "no sign-in link asked for"
    );
    let subscribed = "SELECT COUNT(*) FROM subscribers WHERE email = $1";
    assert_eq!(count(&app, subscribed, JOHAN).await, 0, "no subscription");

    // A real sign-in link, posted from another site: refused, and unused.
    assert_eq!(ask_link(&app, &stranger, JOHAN).await, "sent");
    let token = link_token(&app, JOHAN, "").await;
    let johan = cookie_client();
    for (name, value) in CROSS_SITE {
        let r = post(
            &app,
            &johan,
            "/me/link",
            &[(name, value)],
            &[("token", token.as_str())],
        )
        .await;
        assert_eq!(r.status(), 403, "POST /me/link with {name}: {value}");
        assert!(!signed_in(&app, &johan).await);
    }
    // The link's own page has no referrer, so its form says `Origin: null`.
    let r = post(
        &app,
        &johan,
        "/me/link",
        &[("Origin", "null")],
        &[("token", token.as_str())],
    )
    .await;
    assert_eq!(r.status(), 303, "the link from its own page");
    assert_eq!(r.headers()["location"], "/me");
    assert!(signed_in(&app, &johan).await);
    let page = johan.get(app.url("/me")).send().await.expect("GET /me");
    let csrf = csrf_in(&page.text().await.expect("html"));

    // Signing out: another site, or no or a wrong token, is refused.
    for (name, value) in CROSS_SITE {
        let r = post(
            &app,
            &johan,
            "/me/sign-out",
            &[(name, value)],
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(r.status(), 403, "POST /me/sign-out with {name}: {value}");
    }
    for (what, form) in [
        ("no token", &[("lang", "en")][..]),
        ("a forged token", &[("csrf", "forged")][..]),
    ] {
        let r = post(&app, &johan, "/me/sign-out", &[], form).await;
        assert_eq!(r.status(), 403, "POST /me/sign-out with {what}");
    }
    assert!(signed_in(&app, &johan).await, "still signed in");

    // A claim: the same, and no claim is filed.
    let claims_before = claims(&app).await;
    for (name, value) in CROSS_SITE {
        let r = johan
            .post(app.url("/me/claims"))
            .header(name, value)
            .multipart(claim(Some(csrf.as_str())))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 403, "POST /me/claims with {name}: {value}");
    }
    for (what, token) in [("no token", None), ("a forged token", Some("forged"))] {
        let r = johan
            .post(app.url("/me/claims"))
            .multipart(claim(token))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 403, "POST /me/claims with {what}");
    }
    assert_eq!(claims(&app).await, claims_before, "no claim filed");
    // The control: from this site with the token, the claim form answers
    // (filed, or a field to fix), not the refusal.
    let r = johan
        .post(app.url("/me/claims"))
        .header("Origin", app.address.as_str())
        .multipart(claim(Some(csrf.as_str())))
        .send()
        .await
        .expect("POST");
    assert_ne!(r.status(), 403, "a claim from this site");
    let r = post(
        &app,
        &johan,
        "/me/sign-out",
        &[("Origin", app.address.as_str())],
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), 303, "signing out from this site");
    assert!(!signed_in(&app, &johan).await);

    // A subscription: confirming and changing it from another site are
    // refused; from its own page (no referrer, so `Origin: null`) they work.
    let reader = "csrf.reader@example.se";
    let r = post(
        &app,
        &app.client,
        "/subscribe",
        &[],
        &[("email", reader), ("lang", "en")],
    )
    .await;
    assert_eq!(r.status(), 200, "subscribing from this site");
    let (state, token, _, _) = subscription(&app, reader).await;
    assert_eq!(state, "pending");
    let confirm = format!("/subscribe/confirm?token={token}");
    let manage = format!("/subscriptions?token={token}");
    for (name, value) in CROSS_SITE {
        let r = post(&app, &app.client, &confirm, &[(name, value)], &[]).await;
        assert_eq!(
            r.status(),
            403,
            "POST /subscribe/confirm with {name}: {value}"
        );
        let choices = [("lang", "sv"), ("component", "login")];
        let r = post(&app, &app.client, &manage, &[(name, value)], &choices).await;
        assert_eq!(r.status(), 403, "POST /subscriptions with {name}: {value}");
    }
    let (state, _, lang, components) = subscription(&app, reader).await;
    assert_eq!(state, "pending", "not confirmed");
    assert_eq!(
        (lang.as_str(), components.as_str()),
        ("en", ""),
        "choices unchanged"
    );
    let r = post(&app, &app.client, &confirm, &[("Origin", "null")], &[]).await;
    assert_eq!(r.status(), 200, "confirming from the link's page");
    assert_eq!(subscription(&app, reader).await.0, "confirmed");

    // RFC 8058: the mail provider's server POSTs the one-click body, with
    // no Origin; a web mail page sends its own site's. Both unsubscribe.
    let r = app
        .client
        .post(app.url(&format!("/unsubscribe?token={token}")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 200, "one-click from the mail provider's server");
    assert_eq!(subscription(&app, reader).await.0, "unsubscribed");

    let webmail = "csrf.webmail@example.se";
    let r = post(
        &app,
        &app.client,
        "/subscribe",
        &[],
        &[("email", webmail), ("lang", "en")],
    )
    .await;
    assert_eq!(r.status(), 200, "subscribing from this site");
    let (_, token, _, _) = subscription(&app, webmail).await;
    let r = post(
        &app,
        &app.client,
        &format!("/subscribe/confirm?token={token}"),
        &[],
        &[],
    )
    .await;
    assert_eq!(r.status(), 200, "confirming");
    let r = app
        .client
        .post(app.url(&format!("/unsubscribe?token={token}")))
        .header("Origin", "https://mail.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 200, "one-click from a web mail page");
    assert_eq!(subscription(&app, webmail).await.0, "unsubscribed");
}
