//! Writes, the change feed and live push: a write from this process, the CLI
//! or another node reaches the snapshot and the SSE clients.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::Duration;

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use futures_util::{Stream, StreamExt};
use plaster_server::kernel::audit::Actor;
use plaster_server::status::commands::{
    self, latest_change_id, ComponentChange, OpenIncident, PostUpdate, WriteError,
};
use serde_json::Value;
use tokio::time::Instant;

use crate::helpers::{
    plaster, run, spawn_app, spawn_app_on, spawn_bare_app_with_env, spawn_second_node,
    PrivatePostgres, TestApp, TestBackend,
};
use crate::on_both_backends;

on_both_backends!(
    a_component_write_shows_in_the_api_and_the_page,
    incident_writes_rebuild_the_snapshot,
    an_sse_client_receives_a_write,
    reconnecting_with_an_old_event_id_catches_up_at_once,
    a_cli_write_reaches_sse_clients,
    the_cli_refuses_bad_input_with_exit_2,
    an_unknown_component_is_refused_and_nothing_written,
    the_polling_fallback_has_the_same_state,
    live_streams_are_capped_per_client_address,
);

/// How long a test waits for a change to show before it fails. Tests check
/// that changes arrive without a reload, not how fast: speed is measured by
/// benchmarks, and a 2-core CI machine running debug builds in parallel can be
/// slow. PLASTER_TEST_LIVE_WITHIN_MS overrides it.
fn within() -> Duration {
    let ms = std::env::var("PLASTER_TEST_LIVE_WITHIN_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15_000);
    Duration::from_millis(ms)
}

fn texts(en: &str) -> BTreeMap<Lang, String> {
    [(Lang::En, en.to_string()), (Lang::Sv, format!("sv: {en}"))]
        .into_iter()
        .collect()
}

/// Polls `check` until it holds or `within()` has passed.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within();
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not within {:?}: {what}",
            within()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn component_status(app: &TestApp, id: &str) -> String {
    let v: Value = app
        .get("/api/v2/components.json")
        .await
        .json()
        .await
        .expect("json");
    v["components"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == id)
        .map(|c| c["status"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

async fn unresolved(app: &TestApp) -> usize {
    let v: Value = app
        .get("/api/v2/incidents/unresolved.json")
        .await
        .json()
        .await
        .expect("json");
    v["incidents"].as_array().map_or(0, Vec::len)
}

async fn a_component_write_shows_in_the_api_and_the_page(app: TestApp) {
    assert_eq!(component_status(&app, "login").await, "operational");
    let written = commands::set_component_status(
        &app.store,
        &Actor::Cli,
        &"login".into(),
        ComponentStatus::MajorOutage,
    )
    .await
    .expect("write");
    assert_eq!(
        written.components[0].old_status,
        ComponentStatus::Operational
    );
    app.live.changed();
    eventually("the API shows major_outage", || async {
        component_status(&app, "login").await == "major_outage"
    })
    .await;
    eventually("the page shows the outage banner", || async {
        app.get_text("/").await.1.contains("status-major_outage")
    })
    .await;
    // The version is read before the data, so it may trail it by a rebuild.
    eventually("the version includes the write", || async {
        app.snapshot.version() >= written.change_id
    })
    .await;
}

async fn incident_writes_rebuild_the_snapshot(app: TestApp) {
    let before = unresolved(&app).await;
    let opened = commands::open_incident(
        &app.store,
        &Actor::Cli,
        &OpenIncident {
            impact: Impact::Major,
            stage: IncidentStage::Investigating,
            titles: texts("Login fails, we are on it"),
            bodies: texts("Many cannot sign in."),
            components: vec![ComponentChange {
                component_id: "login".into(),
                status: ComponentStatus::PartialOutage,
            }],
        },
    )
    .await
    .expect("open");
    app.live.changed();
    // Both in one check: a rebuild racing the commit may see a part of it;
    // the rebuild the commit itself triggers sees all.
    eventually("the incident is unresolved", || async {
        unresolved(&app).await == before + 1
            && component_status(&app, "login").await == "partial_outage"
    })
    .await;
    let (_, en) = app.get_text("/en").await;
    assert!(
        en.contains("Login fails, we are on it"),
        "title on the page"
    );

    commands::post_incident_update(
        &app.store,
        &Actor::Cli,
        &PostUpdate {
            incident_id: opened.subject_id.as_str().into(),
            stage: IncidentStage::Resolved,
            bodies: texts("Fixed."),
            components: vec![ComponentChange {
                component_id: "login".into(),
                status: ComponentStatus::Operational,
            }],
        },
    )
    .await
    .expect("update");
    app.live.changed();
    eventually("the incident is resolved", || async {
        unresolved(&app).await == before && component_status(&app, "login").await == "operational"
    })
    .await;
    let v: Value = app
        .get("/api/v2/incidents.json")
        .await
        .json()
        .await
        .expect("json");
    let incident = v["incidents"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["id"] == opened.subject_id.as_str())
        .expect("the incident is listed")
        .clone();
    assert_eq!(incident["status"], "resolved");
    assert!(incident["resolved_at"].is_string(), "{incident}");
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// A minimal SSE reader over the raw byte stream.
struct SseClient {
    stream: ByteStream,
    buffer: String,
}

#[derive(Debug)]
struct StatusEvent {
    id: i64,
    data: Value,
}

impl SseClient {
    async fn connect(app: &TestApp, last_event_id: Option<i64>) -> Self {
        let mut request = app.client.get(app.url("/api/live"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("connect /api/live");
        assert_eq!(response.status().as_u16(), 200);
        let headers = response.headers();
        assert!(headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/event-stream"));
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["x-accel-buffering"], "no");
        SseClient {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next `status` event, or `None` when none came before `deadline`.
    async fn next_event(&mut self, deadline: Instant) -> Option<StatusEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse::<i64>().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                // Keep-alive comments carry no event.
                if event.as_deref() == Some("status") {
                    return Some(StatusEvent {
                        id: id.expect("every status event has an id"),
                        data: serde_json::from_str(&data).expect("event data is JSON"),
                    });
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .expect("stream chunk");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }

    /// Waits for an event at `version` or newer whose data satisfies
    /// `check`. (The version is read before the data, so an event may
    /// already show a change under the version before it.)
    async fn wait_for(
        &mut self,
        what: &str,
        version: i64,
        check: impl Fn(&Value) -> bool,
    ) -> StatusEvent {
        let deadline = Instant::now() + within();
        loop {
            match self.next_event(deadline).await {
                Some(e) if e.id >= version && check(&e.data) => return e,
                Some(_) => continue,
                None => panic!("no event within {:?}: {what}", within()),
            }
        }
    }
}

/// The public path with PostgreSQL really stopped, not a closed pool: a
/// private server of this test's own goes down while a live stream is open,
/// pages, incident, history, feeds and a new live stream are still served,
/// and once it is back a write reaches the stream that stayed open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_back_the_public_path_never_notices() {
    use sqlx::{Connection, Executor};
    let server = PrivatePostgres::start();
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", server.url))
        .await
        .expect("connect the private server");
    admin
        .execute("CREATE DATABASE plaster")
        .await
        .expect("create the database");
    drop(admin);
    let app = spawn_app_on(&format!("{}/plaster", server.url)).await;
    // Every page once while the database answers: the stored copies exist.
    let pages = [
        "/sv",
        "/nb",
        "/en",
        "/en/incidents/atg-2024-08-24-v75",
        "/sv/incidents/atg-2024-08-24-v75",
        "/en/history",
        "/sv/history",
        "/history.rss",
        "/en/history.atom",
        "/api/v2/summary.json",
        "/api/live/state.json",
        "/badge.svg",
    ];
    let mut open = SseClient::connect(&app, None).await;
    let first = open
        .next_event(Instant::now() + within())
        .await
        .expect("the current state on connect");

    server.stop();
    eventually("/readyz says the database is gone", || async {
        app.get("/readyz").await.status().as_u16() == 503
    })
    .await;
    for path in pages {
        let (status, body) = app.get_text(path).await;
        assert_eq!(status, 200, "{path} with the database stopped: {body}");
    }
    let (_, sv) = app.get_text("/sv").await;
    assert!(sv.contains("Inloggning"), "the Swedish page's components");
    let mut during = SseClient::connect(&app, None).await;
    let current = during
        .next_event(Instant::now() + within())
        .await
        .expect("a new live stream gets the current state with the database stopped");
    assert_eq!(current.id, first.id);

    server.restart();
    eventually("/readyz says the database is back", || async {
        app.get("/readyz").await.status().as_u16() == 200
    })
    .await;
    // The pool may hold connections the stop broke: the first write after the
    // restart may fail; one within the wait must succeed.
    let deadline = Instant::now() + within();
    let written = loop {
        match commands::set_component_status(
            &app.store,
            &Actor::Cli,
            &"login".into(),
            ComponentStatus::MajorOutage,
        )
        .await
        {
            Ok(written) => break written,
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(error = %e, "write after the restart; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no write succeeded after the database came back: {e}"),
        }
    };
    app.live.changed();
    open.wait_for(
        "a write after the restart reaches the stream opened before the stop",
        written.change_id,
        login_is("major_outage"),
    )
    .await;
    let summary: Value = app
        .get("/api/v2/summary.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        summary["status"]["indicator"], "critical",
        "the API shows the write"
    );
}

fn login_is(status: &'static str) -> impl Fn(&Value) -> bool {
    move |data| data["components"]["login"] == status
}

async fn an_sse_client_receives_a_write(app: TestApp) {
    let mut client = SseClient::connect(&app, None).await;
    let first = client
        .next_event(Instant::now() + within())
        .await
        .expect("the current state on connect");
    assert_eq!(first.data["components"]["login"], "operational");
    assert_eq!(first.data["version"], first.id);
    assert_eq!(first.data["overall"], "operational");
    assert!(first.data["active_incidents"].is_u64());

    let written = commands::set_component_status(
        &app.store,
        &Actor::Cli,
        &"login".into(),
        ComponentStatus::MajorOutage,
    )
    .await
    .expect("write");
    app.live.changed();
    let event = client
        .wait_for("login down", written.change_id, login_is("major_outage"))
        .await;
    assert_eq!(event.id, written.change_id);
    assert!(event.id > first.id, "versions grow");
    assert_eq!(event.data["overall"], "major_outage");
}

async fn reconnecting_with_an_old_event_id_catches_up_at_once(app: TestApp) {
    let mut client = SseClient::connect(&app, None).await;
    let old = client
        .next_event(Instant::now() + within())
        .await
        .expect("current state");
    drop(client);
    let mut last = 0;
    for status in [
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
    ] {
        last = commands::set_component_status(&app.store, &Actor::Cli, &"login".into(), status)
            .await
            .expect("write")
            .change_id;
    }
    app.live.changed();
    eventually("the server rebuilt", || async {
        app.snapshot.live_state().version >= last
    })
    .await;

    let mut again = SseClient::connect(&app, Some(old.id)).await;
    let caught_up = again
        .next_event(Instant::now() + within())
        .await
        .expect("the current state at once");
    assert!(caught_up.id > old.id);
    assert_eq!(caught_up.data["components"]["login"], "partial_outage");
}

/// The change id the CLI reports ("  change N").
fn change_id(stdout: &str) -> i64 {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("change ")?.parse().ok())
        .unwrap_or_else(|| panic!("no change id in {stdout}"))
}

async fn a_cli_write_reaches_sse_clients(app: TestApp) {
    let mut client = SseClient::connect(&app, None).await;
    client
        .next_event(Instant::now() + within())
        .await
        .expect("current state");

    let out = run(plaster(
        &app,
        &["component", "set-status", "login", "major_outage"],
    ))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("login: operational -> major_outage"),
        "{stdout}"
    );
    client
        .wait_for(
            "the CLI's change",
            change_id(&stdout),
            login_is("major_outage"),
        )
        .await;

    let out = run(plaster(
        &app,
        &[
            "incident",
            "open",
            "--impact",
            "major",
            "--title",
            "sv=Inloggningen strular,en=Login trouble, investigating",
            "--body",
            "en=We are looking into it.",
            "--component",
            "bet-placement=partial_outage",
        ],
    ))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened = change_id(&String::from_utf8_lossy(&out.stdout));
    let event = client
        .wait_for("the CLI's incident", opened, |d| {
            d["components"]["bet-placement"] == "partial_outage"
                && d["active_incidents"].as_u64().unwrap_or(0) >= 1
        })
        .await;
    // login is still down from the first write.
    assert_eq!(event.data["overall"], "major_outage");

    let list = run(plaster(&app, &["incident", "list"])).await;
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("Login trouble, investigating"),
        "list shows the title: {text}"
    );
}

async fn the_cli_refuses_bad_input_with_exit_2(app: TestApp) {
    let before = latest_change_id(&app.store).await.expect("max");
    for (args, named) in [
        (
            vec!["component", "set-status", "nope", "major_outage"],
            "nope",
        ),
        (vec!["component", "set-status", "login", "down"], "down"),
        (
            vec![
                "incident", "update", "missing1", "--stage", "resolved", "--body", "en=x",
            ],
            "missing1",
        ),
        (
            vec![
                "incident", "open", "--impact", "huge", "--title", "en=t", "--body", "en=b",
            ],
            "impact",
        ),
        (
            vec![
                "incident", "open", "--impact", "minor", "--title", "en=t", "--body", "hello",
            ],
            "body",
        ),
    ] {
        let out = run(plaster(&app, &args)).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} should name {named}: {err}");
    }
    assert_eq!(latest_change_id(&app.store).await.expect("max"), before);
}

async fn an_unknown_component_is_refused_and_nothing_written(app: TestApp) {
    let before = latest_change_id(&app.store).await.expect("max");
    let e = commands::set_component_status(
        &app.store,
        &Actor::Cli,
        &"nope".into(),
        ComponentStatus::MajorOutage,
    )
    .await
    .expect_err("unknown component");
    assert!(matches!(e, WriteError::UnknownComponent(ref id) if id == "nope"));
    assert!(e.to_string().contains("nope") && e.is_bad_input());

    // A later component is unknown: the whole incident is refused.
    let incidents_before = unresolved(&app).await;
    let e = commands::open_incident(
        &app.store,
        &Actor::Cli,
        &OpenIncident {
            impact: Impact::Minor,
            stage: IncidentStage::Investigating,
            titles: texts("t"),
            bodies: texts("b"),
            components: vec![
                ComponentChange {
                    component_id: "login".into(),
                    status: ComponentStatus::MajorOutage,
                },
                ComponentChange {
                    component_id: "nope".into(),
                    status: ComponentStatus::MajorOutage,
                },
            ],
        },
    )
    .await
    .expect_err("unknown component");
    assert!(e.to_string().contains("nope"), "{e}");

    let e = commands::post_incident_update(
        &app.store,
        &Actor::Cli,
        &PostUpdate {
            incident_id: "missing".into(),
            stage: IncidentStage::Resolved,
            bodies: texts("b"),
            components: vec![],
        },
    )
    .await
    .expect_err("unknown incident");
    assert!(matches!(e, WriteError::UnknownIncident(_)), "{e}");

    assert_eq!(latest_change_id(&app.store).await.expect("max"), before);
    app.snapshot.rebuild(&app.store).await.expect("rebuild");
    assert_eq!(unresolved(&app).await, incidents_before);
    assert_eq!(component_status(&app, "login").await, "operational");
}

async fn the_polling_fallback_has_the_same_state(app: TestApp) {
    let response = app.get("/api/live/state.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let etag = response.headers()["etag"].clone();
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let state: Value = response.json().await.expect("json");
    assert_eq!(state["version"], app.snapshot.version());
    assert_eq!(state["components"]["login"], "operational");

    let again = app
        .client
        .get(app.url("/api/live/state.json"))
        .header("If-None-Match", etag.clone())
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status().as_u16(), 304);

    commands::set_component_status(
        &app.store,
        &Actor::Cli,
        &"login".into(),
        ComponentStatus::PartialOutage,
    )
    .await
    .expect("write");
    app.live.changed();
    eventually("the state moves on", || async {
        let r = app
            .client
            .get(app.url("/api/live/state.json"))
            .header("If-None-Match", etag.clone())
            .send()
            .await
            .expect("GET");
        r.status().as_u16() == 200
            && r.json::<Value>().await.expect("json")["components"]["login"] == "partial_outage"
    })
    .await;
}

/// Two nodes on one PostgreSQL database: a write through node A's store
/// (no wake-up of either node) reaches node B's live clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_write_on_one_node_reaches_another_nodes_clients() {
    let Some(a) = spawn_app(TestBackend::Postgres).await else {
        return;
    };
    let b = spawn_second_node(&a).await;
    let mut client = SseClient::connect(&b, None).await;
    client
        .next_event(Instant::now() + within())
        .await
        .expect("current state");
    let written = commands::set_component_status(
        &a.store,
        &Actor::Cli,
        &"casino".into(),
        ComponentStatus::MajorOutage,
    )
    .await
    .expect("write");
    let event = client
        .wait_for("node B hears node A's write", written.change_id, |d| {
            d["components"]["casino"] == "major_outage"
        })
        .await;
    assert_eq!(event.id, written.change_id);
    eventually("node A rebuilt too", || async {
        component_status(&a, "casino").await == "major_outage"
    })
    .await;
}

/// #15.7: one address holds at most its share of live streams; the next is
/// a clear 503 that sends it to the poll, and other addresses still connect.
async fn live_streams_are_capped_per_client_address(app: TestApp) {
    let capped = spawn_bare_app_with_env(
        app.backend(),
        &[("PLASTER_LIVE_MAX_STREAMS_PER_CLIENT", "2")],
    )
    .await
    .expect("app");
    let from = |ip| crate::fixtures::client_from(ip);
    let (one, two) = (from([127, 0, 0, 1]), from([127, 0, 0, 2]));
    let open = |client: &reqwest::Client| client.get(capped.url("/api/live")).send();
    let a = open(&one).await.expect("first");
    let b = open(&one).await.expect("second");
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let refused = open(&one).await.expect("third");
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(refused.headers()["retry-after"], "30");
    let why = refused.text().await.expect("text");
    assert!(why.contains("/api/live/state.json"), "{why}");
    let other = open(&two).await.expect("another address");
    assert_eq!(other.status().as_u16(), 200);
    // The poll is never capped.
    let (status, _) = capped.get_text("/api/live/state.json").await;
    assert_eq!(status, 200);
}
