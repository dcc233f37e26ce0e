//! The Statuspage-compatible API, the feeds and the badge, over HTTP.

use std::io::Read;

use app::dto::ComponentStatus;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    every_api_document_uses_the_statuspage_vocabulary,
    the_demo_is_visible_through_the_api,
    each_language_has_its_own_api,
    a_matching_etag_answers_304,
    compressed_bodies_decode_to_the_identity_body,
    feeds_are_xml_with_one_item_per_incident,
    badge_is_an_accessible_svg,
    openapi_describes_the_api,
    everything_is_served_from_memory_when_the_database_is_gone,
    a_component_change_shows_after_the_snapshot_is_rebuilt,
);

const API: [&str; 8] = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
];

const COMPONENT_STATUSES: [&str; 5] = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];

/// Every path the snapshot serves, in every language variant.
fn all_paths() -> Vec<String> {
    let mut out = vec!["/api/v2/openapi.json".to_string()];
    for prefix in ["", "/sv", "/nb", "/en"] {
        out.extend(API.iter().map(|p| format!("{prefix}/api/v2/{p}")));
        for file in ["history.rss", "history.atom", "badge.svg"] {
            out.push(format!("{prefix}/{file}"));
        }
    }
    out
}

async fn json(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"),
        "{path}"
    );
    assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
    response.json().await.expect("JSON body")
}

fn has_keys(value: &Value, keys: &[&str], what: &str) {
    for key in keys {
        assert!(value.get(key).is_some(), "{what} lacks {key}: {value}");
    }
}

fn is_time(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.contains('.'))
}

fn check_page(page: &Value) {
    has_keys(
        page,
        &["id", "name", "url", "time_zone", "updated_at"],
        "page",
    );
    assert_eq!(page["time_zone"], "Europe/Stockholm");
    assert!(is_time(&page["updated_at"]), "{page}");
}

fn check_component(c: &Value) {
    has_keys(
        c,
        &[
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "description",
            "showcase",
            "start_date",
            "group_id",
            "page_id",
            "group",
            "only_show_if_degraded",
        ],
        "component",
    );
    let status = c["status"].as_str().expect("status");
    assert!(COMPONENT_STATUSES.contains(&status), "{status}");
    assert!(
        is_time(&c["created_at"]) && is_time(&c["updated_at"]),
        "{c}"
    );
    if c["group"] == true {
        assert!(
            c["components"].as_array().is_some_and(|a| !a.is_empty()),
            "{c}"
        );
    }
}

fn check_update(u: &Value, incident_id: &Value, statuses: &[&str]) {
    has_keys(
        u,
        &[
            "id",
            "status",
            "body",
            "incident_id",
            "created_at",
            "updated_at",
            "display_at",
            "affected_components",
        ],
        "incident update",
    );
    assert_eq!(&u["incident_id"], incident_id);
    assert!(
        statuses.contains(&u["status"].as_str().expect("status")),
        "{u}"
    );
    for a in u["affected_components"].as_array().expect("array") {
        has_keys(
            a,
            &["code", "name", "old_status", "new_status"],
            "affected component",
        );
        for key in ["old_status", "new_status"] {
            assert!(
                COMPONENT_STATUSES.contains(&a[key].as_str().expect("status")),
                "{a}"
            );
        }
    }
}

const STAGES: [&str; 5] = [
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
];
const MAINTENANCE_STATUSES: [&str; 4] = ["scheduled", "in_progress", "verifying", "completed"];

fn check_incident(i: &Value) {
    has_keys(
        i,
        &[
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "monitoring_at",
            "resolved_at",
            "impact",
            "shortlink",
            "started_at",
            "page_id",
            "incident_updates",
            "components",
        ],
        "incident",
    );
    assert!(
        STAGES.contains(&i["status"].as_str().expect("status")),
        "{i}"
    );
    let impact = i["impact"].as_str().expect("impact");
    assert!(
        ["none", "minor", "major", "critical"].contains(&impact),
        "{impact}"
    );
    assert!(i["shortlink"]
        .as_str()
        .expect("link")
        .ends_with(&format!("/incidents/{}", i["id"].as_str().expect("id"))));
    let updates = i["incident_updates"].as_array().expect("updates");
    assert!(!updates.is_empty());
    for u in updates {
        check_update(u, &i["id"], &STAGES);
    }
    i["components"]
        .as_array()
        .expect("components")
        .iter()
        .for_each(check_component);
}

fn check_maintenance(m: &Value) {
    has_keys(
        m,
        &[
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "impact",
            "shortlink",
            "scheduled_for",
            "scheduled_until",
            "incident_updates",
            "components",
        ],
        "maintenance",
    );
    assert!(
        MAINTENANCE_STATUSES.contains(&m["status"].as_str().expect("status")),
        "{m}"
    );
    assert!(is_time(&m["scheduled_for"]) && is_time(&m["scheduled_until"]));
    for u in m["incident_updates"].as_array().expect("updates") {
        check_update(u, &m["id"], &MAINTENANCE_STATUSES);
    }
    m["components"]
        .as_array()
        .expect("components")
        .iter()
        .for_each(check_component);
}

fn check_status(s: &Value) {
    let indicator = s["indicator"].as_str().expect("indicator");
    assert!(
        ["none", "minor", "major", "critical"].contains(&indicator),
        "{indicator}"
    );
    assert!(s["description"].as_str().is_some_and(|d| !d.is_empty()));
}

async fn every_api_document_uses_the_statuspage_vocabulary(app: TestApp) {
    for prefix in ["", "/sv", "/nb", "/en"] {
        for name in API {
            let doc = json(&app, &format!("{prefix}/api/v2/{name}")).await;
            check_page(&doc["page"]);
            if let Some(status) = doc.get("status") {
                check_status(status);
            }
            if let Some(list) = doc.get("components") {
                list.as_array()
                    .expect("components")
                    .iter()
                    .for_each(check_component);
            }
            if let Some(list) = doc.get("incidents") {
                list.as_array()
                    .expect("incidents")
                    .iter()
                    .for_each(check_incident);
            }
            if let Some(list) = doc.get("scheduled_maintenances") {
                list.as_array()
                    .expect("maintenances")
                    .iter()
                    .for_each(check_maintenance);
            }
        }
    }
    // The summary has every part Statuspage's has.
    let summary = json(&app, "/api/v2/summary.json").await;
    has_keys(
        &summary,
        &[
            "page",
            "components",
            "incidents",
            "scheduled_maintenances",
            "status",
        ],
        "summary",
    );
}

async fn the_demo_is_visible_through_the_api(app: TestApp) {
    let components = json(&app, "/api/v2/components.json").await;
    let list = components["components"].as_array().expect("components");
    let (groups, leaves): (Vec<&Value>, Vec<&Value>) =
        list.iter().partition(|c| c["group"] == true);
    assert_eq!(leaves.len(), 8);
    assert_eq!(groups.len(), 3);
    for g in &groups {
        for id in g["components"].as_array().expect("ids") {
            let member = leaves
                .iter()
                .find(|c| &c["id"] == id)
                .expect("member listed");
            assert_eq!(member["group_id"], g["id"]);
        }
    }
    let members: usize = groups
        .iter()
        .map(|g| g["components"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(members, 8);

    let incidents = json(&app, "/api/v2/incidents.json").await;
    let incidents = incidents["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 5);
    let v75 = incidents
        .iter()
        .find(|i| {
            i["name"].as_str().is_some_and(|n| n.contains("V75")) && i["impact"] == "critical"
        })
        .expect("the V75 incident, in English");
    // Statuspage style: milliseconds and the page's offset.
    assert!(
        v75["incident_updates"]
            .as_array()
            .expect("updates")
            .iter()
            .any(|u| u["display_at"] == "2024-08-24T16:06:00.000+02:00"),
        "{v75}"
    );

    let status = json(&app, "/api/v2/status.json").await;
    assert_eq!(status["status"]["indicator"], "none");
    assert_eq!(status["status"]["description"], "All Systems Operational");
    let unresolved = json(&app, "/api/v2/incidents/unresolved.json").await;
    assert_eq!(unresolved["incidents"].as_array().map(Vec::len), Some(0));

    let upcoming = json(&app, "/api/v2/scheduled-maintenances/upcoming.json").await;
    let upcoming = upcoming["scheduled_maintenances"].as_array().expect("list");
    assert_eq!(upcoming.len(), 1);
    assert_eq!(upcoming[0]["status"], "scheduled");
    assert_eq!(upcoming[0]["name"], "Payment system upgrade");
    assert_eq!(upcoming[0]["components"][0]["id"], "payments");
    let active = json(&app, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(
        active["scheduled_maintenances"].as_array().map(Vec::len),
        Some(0)
    );
    let summary = json(&app, "/api/v2/summary.json").await;
    assert_eq!(
        summary["scheduled_maintenances"].as_array().map(Vec::len),
        Some(1)
    );
}

async fn each_language_has_its_own_api(app: TestApp) {
    let name_of = |doc: &Value, id: &str| {
        doc["components"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["id"] == id))
            .map(|c| c["name"].clone())
    };
    for (prefix, login, all_ok) in [
        ("", "Login", "All Systems Operational"),
        ("/en", "Login", "All Systems Operational"),
        ("/sv", "Inloggning", "Alla system fungerar"),
        ("/nb", "Innlogging", "Alle systemer fungerer"),
    ] {
        let summary = json(&app, &format!("{prefix}/api/v2/summary.json")).await;
        assert_eq!(
            name_of(&summary, "login"),
            Some(Value::from(login)),
            "{prefix}"
        );
        assert_eq!(summary["status"]["description"], all_ok, "{prefix}");
    }
    let sv = json(&app, "/sv/api/v2/incidents.json").await;
    assert!(sv["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .any(|i| i["name"] == "Spelstopp före V75 med drömjackpot"));
    assert!(sv["page"]["url"].as_str().expect("url").ends_with("/sv"));
}

async fn a_matching_etag_answers_304(app: TestApp) {
    for path in all_paths() {
        let first = app.get(&path).await;
        assert_eq!(first.status().as_u16(), 200, "{path}");
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=5, stale-while-revalidate=30"
        );
        assert_eq!(first.headers()["vary"], "Accept-Encoding");
        assert!(first.headers().contains_key("x-snapshot-age"), "{path}");
        assert!(first.headers().contains_key("last-modified"), "{path}");
        let etag = first.headers()["etag"].clone();
        let again = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", etag.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag);
        assert!(again.bytes().await.expect("body").is_empty());
        let other = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", "\"something-else\"")
            .send()
            .await
            .expect("request");
        assert_eq!(other.status().as_u16(), 200, "{path}");
    }
}

async fn fetch_encoded(app: &TestApp, path: &str, encoding: &str) -> (Option<String>, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .header("Accept-Encoding", encoding)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let used = response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().expect("ascii").to_string());
    (used, response.bytes().await.expect("body").to_vec())
}

async fn compressed_bodies_decode_to_the_identity_body(app: TestApp) {
    for path in all_paths() {
        let (none, identity) = fetch_encoded(&app, &path, "identity").await;
        assert_eq!(none, None);
        let (br, brotli_body) = fetch_encoded(&app, &path, "gzip, deflate, br").await;
        assert_eq!(br.as_deref(), Some("br"), "{path}");
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&brotli_body[..], 4096)
            .read_to_end(&mut decoded)
            .expect("brotli");
        assert_eq!(decoded, identity, "{path}");
        let (gz, gzip_body) = fetch_encoded(&app, &path, "gzip").await;
        assert_eq!(gz.as_deref(), Some("gzip"), "{path}");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gzip_body[..])
            .read_to_end(&mut decoded)
            .expect("gzip");
        assert_eq!(decoded, identity, "{path}");
    }
}

async fn feeds_are_xml_with_one_item_per_incident(app: TestApp) {
    for prefix in ["", "/sv", "/nb", "/en"] {
        let (status, rss) = app.get_text(&format!("{prefix}/history.rss")).await;
        assert_eq!(status, 200);
        let doc = roxmltree::Document::parse(&rss).expect("RSS is XML");
        assert_eq!(doc.root_element().tag_name().name(), "rss");
        let items: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("item"))
            .collect();
        assert_eq!(items.len(), 5, "{prefix}");
        for item in items {
            let link = item
                .children()
                .find(|n| n.has_tag_name("link"))
                .and_then(|n| n.text())
                .expect("item link");
            assert!(link.contains(&format!("{prefix}/incidents/")), "{link}");
        }

        let (status, atom) = app.get_text(&format!("{prefix}/history.atom")).await;
        assert_eq!(status, 200);
        let doc = roxmltree::Document::parse(&atom).expect("Atom is XML");
        assert_eq!(doc.root_element().tag_name().name(), "feed");
        let entries = doc
            .descendants()
            .filter(|n| n.has_tag_name("entry"))
            .count();
        assert_eq!(entries, 5, "{prefix}");
    }
    // Without a prefix the feeds speak the page's default language (Swedish).
    let (_, rss) = app.get_text("/history.rss").await;
    assert!(rss.contains("Spelstopp före V75 med drömjackpot"));
    let (_, rss) = app.get_text("/en/history.rss").await;
    assert!(rss.contains("<language>en</language>"));
}

async fn badge_is_an_accessible_svg(app: TestApp) {
    for (path, text) in [
        ("/badge.svg", "Alla system fungerar"),
        ("/en/badge.svg", "All Systems Operational"),
        ("/nb/badge.svg", "Alle systemer fungerer"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let svg = response.text().await.expect("body");
        let doc = roxmltree::Document::parse(&svg).expect("SVG is XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .expect("a title");
        assert!(title.contains(text), "{title}");
    }
}

async fn openapi_describes_the_api(app: TestApp) {
    let doc = json(&app, "/api/v2/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    for name in API {
        assert!(
            doc["paths"][format!("/api/v2/{name}")]["get"].is_object(),
            "{name}"
        );
    }
}

async fn everything_is_served_from_memory_when_the_database_is_gone(app: TestApp) {
    app.store.close().await;
    for path in all_paths() {
        let response = app.get(&path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    let doc = json(&app, "/api/v2/components.json").await;
    assert_eq!(doc["components"].as_array().map(Vec::len), Some(11));
}

async fn a_component_change_shows_after_the_snapshot_is_rebuilt(app: TestApp) {
    let before = app.get("/api/v2/status.json").await;
    let etag_before = before.headers()["etag"].clone();

    let now = chrono::Utc::now().timestamp_millis();
    {
        let mut conn = app.store.pool().acquire().await.expect("connection");
        plaster_server::store::status::record_component_status(
            &mut conn,
            "login",
            ComponentStatus::MajorOutage,
            now,
            None,
        )
        .await
        .expect("write");
    }
    app.snapshot.rebuild(&app.store).await.expect("rebuild");

    let after = app.get("/api/v2/status.json").await;
    assert_ne!(after.headers()["etag"], etag_before);
    let status: Value = after.json().await.expect("json");
    assert_eq!(status["status"]["indicator"], "critical");
    assert_eq!(status["status"]["description"], "Major System Outage");

    let components = json(&app, "/api/v2/components.json").await;
    let list = components["components"].as_array().expect("list");
    let login = list.iter().find(|c| c["id"] == "login").expect("login");
    assert_eq!(login["status"], "major_outage");
    let account = list
        .iter()
        .find(|c| {
            c["group"] == true
                && c["components"]
                    .as_array()
                    .is_some_and(|m| m.contains(&Value::from("login")))
        })
        .expect("login's group");
    assert_eq!(account["status"], "major_outage");

    // The old ETag no longer matches.
    let revalidated = app
        .client
        .get(app.url("/api/v2/status.json"))
        .header("If-None-Match", etag_before)
        .send()
        .await
        .expect("request");
    assert_eq!(revalidated.status().as_u16(), 200);
    let (_, badge) = app.get_text("/en/badge.svg").await;
    assert!(badge.contains("Major System Outage"));
}
