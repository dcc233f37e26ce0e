//! The public subscription form cannot be turned against anyone: an address
//! gets at most one message per 10 minutes from it, a confirmed subscription
//! is never changed by it (its owner is mailed the manage link), hidden
//! components are refused like unknown ones, and pending subscriptions
//! that were never confirmed are forgotten.

use sqlx::Row;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    the_form_mails_an_address_once_per_ten_minutes,
    a_confirmed_subscription_is_left_alone_and_its_owner_gets_the_manage_link,
    hidden_components_are_refused_and_stale_pending_subscriptions_forgotten,
    the_forms_bound_their_lists_and_bodies,
    one_client_address_is_limited_across_every_address_it_names,
);

async fn subscribe(app: &TestApp, form: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .client
        .post(app.url("/subscribe"))
        .form(form)
        .send()
        .await
        .expect("POST /subscribe");
    let status = r.status().as_u16();
    (status, r.text().await.expect("html"))
}

async fn queued_to(app: &TestApp, email: &str) -> Vec<(String, String)> {
    sqlx::query("SELECT kind, body_text FROM outbox WHERE recipient = $1 ORDER BY created_at")
        .bind(email)
        .fetch_all(app.store.pool())
        .await
        .expect("outbox")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Moves everything the outbox holds `minutes` into the past.
async fn age_outbox(app: &TestApp, minutes: i64) {
    sqlx::query("UPDATE outbox SET created_at = created_at - $1")
        .bind(minutes * 60_000)
        .execute(app.store.pool())
        .await
        .expect("age the outbox");
}

async fn the_form_mails_an_address_once_per_ten_minutes(app: TestApp) {
    let form = [("email", "reader@example.se"), ("lang", "en")];
    assert_eq!(subscribe(&app, &form).await.0, 200);
    let (status, html) = subscribe(&app, &form).await;
    assert_eq!(status, 429, "{html}");
    assert!(html.contains("try again in 10 minutes"), "{html}");
    assert_eq!(queued_to(&app, "reader@example.se").await.len(), 1);
    // Another address is not held up by this one.
    assert_eq!(
        subscribe(&app, &[("email", "other@example.se"), ("lang", "en")])
            .await
            .0,
        200
    );
    // Ten minutes later the confirmation may be sent again.
    age_outbox(&app, 11).await;
    assert_eq!(subscribe(&app, &form).await.0, 200);
    assert_eq!(queued_to(&app, "reader@example.se").await.len(), 2);
}

async fn a_confirmed_subscription_is_left_alone_and_its_owner_gets_the_manage_link(app: TestApp) {
    let email = "owner@example.se";
    assert_eq!(
        subscribe(
            &app,
            &[("email", email), ("lang", "en"), ("component", "login")]
        )
        .await
        .0,
        200
    );
    let token: String = sqlx::query("SELECT token FROM subscribers WHERE email = $1")
        .bind(email)
        .fetch_one(app.store.pool())
        .await
        .expect("subscriber")
        .get(0);
    let r = app
        .client
        .post(app.url(&format!("/subscribe/confirm?token={token}")))
        .send()
        .await
        .expect("confirm");
    assert_eq!(r.status(), 200);
    age_outbox(&app, 11).await;

    // Someone else enters the address with other choices: same answer as
    // for a new address, nothing changed, a manage link to the owner.
    let (status, html) = subscribe(
        &app,
        &[("email", email), ("lang", "sv"), ("component", "payments")],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Kolla din inkorg"), "{html}");
    let row = sqlx::query("SELECT lang, components, state FROM subscribers WHERE email = $1")
        .bind(email)
        .fetch_one(app.store.pool())
        .await
        .expect("subscriber");
    assert_eq!(row.get::<String, _>(0), "en");
    assert_eq!(row.get::<String, _>(1), "login");
    assert_eq!(row.get::<String, _>(2), "confirmed");
    let mail = queued_to(&app, email).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    assert_eq!(mail[1].0, "subscribe_manage");
    assert!(
        mail[1].1.contains(&format!("/subscriptions?token={token}")),
        "{}",
        mail[1].1
    );
    assert!(
        mail[1].1.contains("nothing has changed"),
        "in the owner's language: {}",
        mail[1].1
    );
}

async fn hidden_components_are_refused_and_stale_pending_subscriptions_forgotten(app: TestApp) {
    sqlx::query("UPDATE components SET hidden = 1 WHERE id = 'casino'")
        .execute(app.store.pool())
        .await
        .expect("hide casino");
    let (status, html) = subscribe(
        &app,
        &[
            ("email", "a@example.se"),
            ("lang", "en"),
            ("component", "casino"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("unknown component"), "{html}");

    assert_eq!(
        subscribe(&app, &[("email", "stale@example.se"), ("lang", "en")])
            .await
            .0,
        200
    );
    sqlx::query("UPDATE subscribers SET created_at = created_at - $1")
        .bind(8 * 24 * 3_600_000_i64)
        .execute(app.store.pool())
        .await
        .expect("age the subscription");
    assert_eq!(
        subscribe(&app, &[("email", "fresh@example.se"), ("lang", "en")])
            .await
            .0,
        200
    );
    let left: Vec<String> = sqlx::query("SELECT email FROM subscribers ORDER BY email")
        .fetch_all(app.store.pool())
        .await
        .expect("subscribers")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, vec!["fresh@example.se".to_string()]);
}

/// #15.7: a list of components longer than any page lists is refused before
/// a single one is looked up, and a body beyond 64 KiB is not read at all.
async fn the_forms_bound_their_lists_and_bodies(app: TestApp) {
    let mut form = vec![("email", "list@example.se"), ("lang", "en")];
    form.extend(std::iter::repeat_n(("component", "login"), 101));
    let (status, html) = subscribe(&app, &form).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("101 chosen, but a subscription lists at most 100"),
        "{html}"
    );
    assert!(queued_to(&app, "list@example.se").await.is_empty());
    let big = "x".repeat(plaster_server::notify::PUBLIC_FORM_BYTES + 1);
    let (status, _) = subscribe(&app, &[("email", "big@example.se"), ("note", &big)]).await;
    assert_eq!(status, 413, "the body is refused unread");
    let r = app
        .client
        .post(app.url("/subscriptions?token=nope"))
        .form(&form)
        .send()
        .await
        .expect("POST /subscriptions");
    assert_eq!(r.status().as_u16(), 422);
}

/// #15.1: the per-address limits stop one inbox being bombed; one client
/// working through many addresses is stopped by its own limit, and other
/// clients are not.
async fn one_client_address_is_limited_across_every_address_it_names(app: TestApp) {
    use plaster_server::notify::subscribe_pages::POSTS_PER_CLIENT_PER_HOUR;
    let post = |client: reqwest::Client, email: String| {
        let app = &app;
        async move {
            let r = client
                .post(app.url("/subscribe"))
                .form(&[("email", email.as_str()), ("lang", "en")])
                .send()
                .await
                .expect("POST /subscribe");
            (r.status().as_u16(), r.text().await.expect("html"))
        }
    };
    let sender = crate::fixtures::client_from([127, 0, 0, 7]);
    for n in 0..POSTS_PER_CLIENT_PER_HOUR {
        let (status, _) = post(sender.clone(), format!("victim{n}@example.se")).await;
        assert_eq!(status, 200, "post {n} is within the limit");
    }
    let (status, html) = post(sender, "one-more@example.se".into()).await;
    assert_eq!(status, 429);
    assert!(html.contains("from your network"), "{html}");
    assert!(queued_to(&app, "one-more@example.se").await.is_empty());
    let (status, _) = post(
        crate::fixtures::client_from([127, 0, 0, 8]),
        "neighbour@example.se".into(),
    )
    .await;
    assert_eq!(status, 200, "another client is not affected");
}
