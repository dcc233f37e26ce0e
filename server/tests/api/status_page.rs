use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    front_page_shows_the_demo_components_in_swedish,
    each_language_has_its_own_page,
    front_page_is_served_from_memory_when_the_database_is_gone,
    first_start_creates_one_admin_with_a_one_time_password,
    demo_reset_reseeds_the_same_content
);

async fn front_page_shows_the_demo_components_in_swedish(app: TestApp) {
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    for name in [
        "Inloggning",
        "Spelinlämning",
        "Kasino",
        "Sumo direktsändning",
    ] {
        assert!(html.contains(name), "missing component {name}");
    }
    assert!(
        html.contains("Spelstopp före V75 med drömjackpot"),
        "incident title"
    );
    assert!(html.contains("Alla system fungerar"), "overall banner");
    assert!(html.contains("Europe/Stockholm"), "time zone named");
    // Times carry their zone; the V75 stop was at 16:06 summer time.
    assert!(html.contains("2024-08-24 16:06 CEST"), "zone-named times");
    // The page hydrates: the wasm bundle is referenced.
    assert!(html.contains("/pkg/plaster"), "hydration scripts");
}

async fn each_language_has_its_own_page(app: TestApp) {
    let (_, en) = app.get_text("/en").await;
    assert!(en.contains("lang=\"en\""));
    assert!(en.contains("Bet placement") && en.contains("All systems operational"));
    let (_, nb) = app.get_text("/nb").await;
    assert!(nb.contains("Spillinnlevering") && nb.contains("Alle systemer fungerer"));
    // The demo leaves one Norwegian text out on purpose: it falls back and says so.
    assert!(nb.contains("Teksten finnes ikke på norsk"), "fallback note");
}

async fn front_page_is_served_from_memory_when_the_database_is_gone(app: TestApp) {
    app.store.close().await;
    for _ in 0..5 {
        let (status, html) = app.get_text("/sv").await;
        assert_eq!(status, 200);
        assert!(html.contains("Inloggning"));
    }
}

async fn first_start_creates_one_admin_with_a_one_time_password(app: TestApp) {
    let admin = app
        .first_admin
        .clone()
        .expect("first start creates the admin");
    assert_eq!(admin.one_time_password.len(), 20);
    assert!(!format!("{admin:?}").contains(&admin.one_time_password));
    let hash = app
        .store
        .staff_password_hash(&admin.email)
        .await
        .expect("query")
        .expect("admin stored");
    assert!(hash.starts_with("$argon2id$"));
    assert!(plaster_server::staff::password::verify_password(
        &admin.one_time_password,
        &hash
    ));
    // The admin, the demo's two finance members (compensation runs) and its support agent (claims).
    assert_eq!(app.store.count_staff().await.expect("count"), 4);

    // A second start on the same database creates no second admin.
    let again = plaster_server::startup::Application::build(
        crate::helpers::test_settings(&app.database_url),
        plaster_server::startup::StartOptions { seed_demo: true },
    )
    .await
    .expect("second start");
    assert!(again.first_admin().is_none());
}

async fn demo_reset_reseeds_the_same_content(app: TestApp) {
    let since = 0;
    let before = app.store.load_status_data(since).await.expect("load");
    assert_eq!(before.components.len(), 8);
    assert_eq!(before.incidents.len(), 5);
    plaster_server::status::demo::seed(&app.store, true)
        .await
        .expect("reset");
    plaster_server::status::demo::seed(&app.store, true)
        .await
        .expect("reset twice");
    let after = app.store.load_status_data(since).await.expect("load");
    assert_eq!(after.components, before.components);
    assert_eq!(after.incidents.len(), before.incidents.len());
    assert_eq!(after.history.len(), before.history.len());
    // Seeding without reset leaves existing content alone.
    assert!(!plaster_server::status::demo::seed(&app.store, false)
        .await
        .expect("seed"));
}
