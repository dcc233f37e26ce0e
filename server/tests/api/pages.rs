//! The public pages beyond the front page: incidents, history, and the
//! language chosen from `Accept-Language`.

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    incident_page_shows_the_full_timeline,
    unknown_incident_is_a_404_page,
    history_lists_past_incidents_by_month,
    accept_language_picks_the_language,
    uptime_days_name_their_incidents,
    pages_are_served_from_a_compressed_cache_with_etags,
    a_write_replaces_the_cached_pages,
    every_response_carries_the_security_headers,
);

async fn get_with_language(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("Accept-Language", accept)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
}

async fn incident_page_shows_the_full_timeline(app: TestApp) {
    let (status, html) = app.get_text("/en/incidents/atg-2024-08-24-v75").await;
    assert_eq!(status, 200);
    for text in [
        "Betting stopped before the V75 dream jackpot deadline",
        // Every stage of the timeline, oldest first, with zone-named times.
        "Investigating",
        "Identified",
        "Monitoring",
        "Postmortem",
        "2024-08-24 16:06 CEST",
        "2024-08-24 20:41 CEST",
        "A false close signal from Svensk Travsport",
        // 16:06 to 20:41.
        "4 h 35 min",
        "Critical",
        "Affected services",
        "Casino",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    // Status changes per update, old → new.
    assert!(html.contains("→"), "status changes");
    assert!(html.contains("Major outage") && html.contains("Operational"));
    let timeline = &html[html.find("data-testid=\"timeline\"").expect("timeline")..];
    let order = ["16:06", "16:31", "19:15", "20:41", "2024-08-26 10:00"]
        .map(|t| timeline.find(t).unwrap_or(usize::MAX));
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "oldest update first: {order:?}"
    );

    let (status, sv) = app.get_text("/sv/incidents/atg-2024-08-24-v75").await;
    assert_eq!(status, 200);
    assert!(sv.contains("Spelstopp före V75 med drömjackpot"));
    assert!(sv.contains("4 tim 35 min"));
    assert!(sv.contains("lang=\"sv\""));
}

async fn unknown_incident_is_a_404_page(app: TestApp) {
    let (status, html) = app.get_text("/en/incidents/no-such-incident").await;
    assert_eq!(status, 404);
    assert!(html.contains("Incident not found"), "a helpful page");
    let (status, _) = app.get_text("/incidents/no-such-incident").await;
    assert_eq!(status, 404);
}

async fn history_lists_past_incidents_by_month(app: TestApp) {
    let (status, html) = app.get_text("/sv/history").await;
    assert_eq!(status, 200);
    for text in [
        "Störningshistorik",
        "augusti 2024",
        "september 2023",
        "augusti 2018",
        "Spelstopp före V75 med drömjackpot",
        "/sv/incidents/atg-2024-08-24-v75",
        "/sv/incidents/tv2-2018-08-20-sumo",
        "Sida 1 av 1",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    let (pos_2024, pos_2023) = (html.find("augusti 2024"), html.find("september 2023"));
    assert!(pos_2024 < pos_2023, "newest month first");

    let (_, en) = app.get_text("/en/history?page=7").await;
    assert!(
        en.contains("August 2024") && en.contains("Page 1 of 1"),
        "clamped page"
    );
}

async fn accept_language_picks_the_language(app: TestApp) {
    let response = get_with_language(&app, "/", "nb-NO,nb;q=0.9,en;q=0.5").await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    let html = response.text().await.expect("body");
    assert!(html.contains("Alle systemer fungerer"), "Norwegian page");
    assert!(html.contains("lang=\"nb\""));
    assert_eq!(
        headers
            .get("content-language")
            .and_then(|v| v.to_str().ok()),
        Some("nb")
    );
    let vary = headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        vary.to_ascii_lowercase().contains("accept-language"),
        "{vary}"
    );

    // q-values decide, not order.
    let html = get_with_language(&app, "/", "sv;q=0.2, en;q=0.8")
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("All systems operational"));

    // Nynorsk readers get bokmål; an unknown language gets the default (sv).
    let html = get_with_language(&app, "/history", "nn")
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("Hendelseshistorikk"));
    let html = get_with_language(&app, "/", "de-DE")
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("Alla system fungerar"));

    // A language in the path wins over the header.
    let html = get_with_language(&app, "/en/incidents/recent-casino-loading", "sv-SE")
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("Casino games fail to start"));
}

async fn uptime_days_name_their_incidents(app: TestApp) {
    let (_, html) = app.get_text("/en").await;
    // The demo's casino incident 37 days ago shows on that day's cell.
    assert!(html.contains("tabindex=\"0\""), "days are focusable");
    assert!(
        html.contains("class=\"tip-incident\">Casino games fail to start"),
        "the day names its incident"
    );
    // Ninety day cells per component, but quiet runs are one span each: far
    // fewer tab stops (and bytes) than one per day.
    let bars = html.matches("class=\"uptime-bar\"").count();
    assert!(bars > 0);
    assert_eq!(html.matches("<i></i>").count(), 90 * bars);
    let spans = html.matches("<li class=\"day ").count();
    assert!(spans < 10 * bars, "{spans} spans in {bars} bars");
    // One whole document: Leptos' data scripts sit inside the body.
    assert!(
        html.trim_end().ends_with("</body></html>"),
        "{}",
        &html[html.len() - 200..]
    );
}

async fn pages_are_served_from_a_compressed_cache_with_etags(app: TestApp) {
    let get = |path: &'static str, encoding: &'static str, lang: &'static str| {
        app.client
            .get(app.url(path))
            .header("Accept-Encoding", encoding)
            .header("Accept-Language", lang)
            .send()
    };
    let plain = get("/", "identity", "sv").await.expect("GET");
    assert_eq!(plain.status(), 200);
    let etag = plain.headers()["etag"].clone();
    assert_eq!(plain.headers()["content-language"], "sv");
    assert!(plain.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .contains("stale-while-revalidate"));
    let body = plain.text().await.expect("body");
    assert!(body.contains("Alla system fungerar"));

    // The same page, brotli-compressed once; it decodes to the same bytes.
    let br = get("/", "br", "sv").await.expect("GET");
    assert_eq!(br.headers()["content-encoding"], "br");
    let compressed = br.bytes().await.expect("bytes");
    let mut decoded = String::new();
    std::io::Read::read_to_string(
        &mut brotli::Decompressor::new(&compressed[..], 4096),
        &mut decoded,
    )
    .expect("brotli");
    assert_eq!(decoded, body);

    // A revalidation costs nothing.
    let again = app
        .client
        .get(app.url("/"))
        .header("Accept-Language", "sv")
        .header("If-None-Match", etag.clone())
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), 304);
    // Another language is another document with another tag.
    let en = get("/", "identity", "en").await.expect("GET");
    assert_eq!(en.headers()["content-language"], "en");
    assert_ne!(en.headers()["etag"], etag);
    // The explicit /sv page is cached too, and keeps its own links.
    let sv = get("/sv", "identity", "en").await.expect("GET");
    assert_eq!(sv.headers()["content-language"], "sv");
    assert!(sv.headers().contains_key("etag"));
}

async fn a_write_replaces_the_cached_pages(app: TestApp) {
    let (_, before) = app.get_text("/en").await;
    assert!(before.contains("All systems operational"));
    plaster_server::status::commands::set_component_status(
        &app.store,
        &plaster_server::kernel::audit::Actor::Cli,
        &"casino".into(),
        app::dto::ComponentStatus::MajorOutage,
    )
    .await
    .expect("write");
    app.snapshot.rebuild(&app.store).await.expect("rebuild");
    let (_, after) = app.get_text("/en").await;
    assert!(
        !after.contains("All systems operational"),
        "the cached page was replaced"
    );
    // An unknown incident is never cached, and is still a helpful 404.
    let (status, _) = app.get_text("/en/incidents/no-such-thing").await;
    assert_eq!(status, 404);
    assert!(app.snapshot.current().expect("snapshot").pages_html.len() <= 8);
}

/// #15.6: a script policy on every page that names its inline scripts by
/// hash and never allows inline script wholesale; no framing of the console
/// or the customer's page; nosniff everywhere; token URLs neither cached nor
/// sent on as referrers. (Playwright checks that browsers run the pages
/// under these policies without a single violation.)
async fn every_response_carries_the_security_headers(app: TestApp) {
    let get = |path: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .get(app.url(path))
                .header("Accept-Encoding", "br")
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            let header = |name: &str| {
                r.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap_or_default().to_string())
            };
            (
                header("content-security-policy"),
                header("x-content-type-options"),
                header("referrer-policy"),
                header("cache-control"),
                header("strict-transport-security"),
            )
        }
    };
    for path in [
        "/",
        "/sv",
        "/en/incidents/atg-2024-08-24-v75",
        "/en/history",
        "/me",
        "/staff/login",
        "/subscribe",
    ] {
        let (csp, nosniff, referrer, _, hsts) = get(path).await;
        let csp = csp.unwrap_or_else(|| panic!("{path} has no Content-Security-Policy"));
        let scripts = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src "))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp}"));
        assert!(!scripts.contains("unsafe-inline"), "{path}: {scripts}");
        assert!(scripts.contains("'self'"), "{path}: {scripts}");
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"));
        let framed = !csp.contains("frame-ancestors 'none'");
        assert_eq!(
            framed,
            !(path.starts_with("/staff") || path == "/me"),
            "{path}: {csp}"
        );
        assert_eq!(nosniff.as_deref(), Some("nosniff"), "{path}");
        assert!(referrer.is_some(), "{path} has no Referrer-Policy");
        assert_eq!(hsts, None, "{path}: no HSTS on a plain-HTTP public URL");
    }
    // The Leptos pages name their boot script and data by hash.
    let (csp, ..) = get("/sv").await;
    assert!(
        csp.unwrap_or_default().contains("'sha256-"),
        "the boot script's hash"
    );
    // Not pages, still nosniff.
    let (csp, nosniff, ..) = get("/api/v2/summary.json").await;
    assert_eq!(nosniff.as_deref(), Some("nosniff"));
    assert_eq!(csp, None, "JSON needs no page policy");
    // A token in the URL: never cached, never sent on.
    for path in [
        "/subscriptions?token=not-a-real-token",
        "/me/link?token=nope",
    ] {
        let (_, _, referrer, cache, _) = get(path).await;
        assert_eq!(referrer.as_deref(), Some("no-referrer"), "{path}");
        assert!(cache.unwrap_or_default().contains("no-store"), "{path}");
    }
}
