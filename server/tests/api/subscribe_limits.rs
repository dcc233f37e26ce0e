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
