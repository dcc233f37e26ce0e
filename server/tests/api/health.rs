use plaster_server::startup::{Application, StartOptions};

use crate::helpers::{fresh_database, get_with, test_settings_with, TestApp, TestBackend};
use crate::on_both_backends;

on_both_backends!(
    healthz_says_ok,
    readyz_reports_the_database,
    metrics_count_requests_by_route,
    public_reads_are_answered_from_the_snapshot_at_the_front_door,
    a_client_that_trickles_its_headers_is_dropped,
);

async fn healthz_says_ok(app: TestApp) {
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body, "ok");
}

async fn readyz_reports_the_database(app: TestApp) {
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["database"], "reachable");

    // Take the database away: readiness fails, liveness does not.
    app.store.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 503);
    let (status, _) = app.get_text("/healthz").await;
    assert_eq!(status, 200);
}

async fn metrics_count_requests_by_route(app: TestApp) {
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    let (status, text) = app.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains(
            r#"plaster_http_requests_total{route="/healthz",method="GET",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE plaster_http_request_duration_seconds histogram"));
}

/// The reading of `plaster_http_snapshot_responses_total` for a status.
async fn snapshot_answers(app: &TestApp, status: &str) -> u64 {
    let (_, text) = app.get_text("/metrics").await;
    let line = format!("plaster_http_snapshot_responses_total{{status=\"{status}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {line} in\n{text}"))
}

async fn public_reads_are_answered_from_the_snapshot_at_the_front_door(app: TestApp) {
    assert_eq!(snapshot_answers(&app, "200").await, 0);

    // The API is prebuilt: the very first read is answered at the door.
    let response = app.get("/api/v2/summary.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let etag = response.headers()["etag"].clone();
    assert_eq!(snapshot_answers(&app, "200").await, 1);
    let response = app
        .client
        .get(app.url("/api/v2/summary.json"))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("conditional GET");
    assert_eq!(response.status().as_u16(), 304);
    assert_eq!(snapshot_answers(&app, "304").await, 1);

    // A page is rendered once through the router, then answered at the door
    // with the same bytes.
    let (status, first) = app.get_text("/en/history").await;
    assert_eq!(status, 200);
    let (status, second) = app.get_text("/en/history").await;
    assert_eq!(status, 200);
    assert_eq!(first, second);
    assert!(snapshot_answers(&app, "200").await >= 2);

    // HEAD, and what the door does not hold, take the router.
    let response = app
        .client
        .head(app.url("/api/v2/summary.json"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(app.get("/api/v2/nothing.json").await.status().as_u16(), 404);
    assert_eq!(
        app.get("/en/incidents/no-such").await.status().as_u16(),
        404
    );
    let (_, text) = app.get_text("/metrics").await;
    assert!(
        text.contains(r#"route="/api/v2/summary.json",method="HEAD",status="200""#),
        "{text}"
    );
}

/// #15.7 (slow-loris): a connection whose request never finishes its
/// headers is closed after the header-read timeout, while a normal client
/// is served meanwhile.
async fn a_client_that_trickles_its_headers_is_dropped(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = std::time::Instant::now();
    let (status, _) = app.get_text("/healthz").await;
    assert_eq!(status, 200, "others are served while the slow one waits");
    let mut buf = Vec::new();
    // Ok (an orderly close) or a reset: closed either way, and unanswered.
    let _closed = tokio::time::timeout(
        plaster_server::web::serve::HEADER_READ_TIMEOUT * 3,
        slow.read_to_end(&mut buf),
    )
    .await
    .expect("the server closes the connection");
    assert!(
        !String::from_utf8_lossy(&buf).contains(" 200 "),
        "the unfinished request was not served"
    );
    assert!(
        started.elapsed() >= plaster_server::web::serve::HEADER_READ_TIMEOUT / 2,
        "closed by the timeout, not at once"
    );
}

/// #15.8: with `PLASTER_METRICS_LISTEN`, `/metrics` is served on that
/// address alone: the main listener answers 404 for it, and the metrics
/// listener serves nothing else.
async fn metrics_are_served_only_on_their_own_address(backend: TestBackend) {
    plaster_server::telemetry::init();
    let Some((database_url, _database)) = fresh_database(backend).await else {
        return;
    };
    let settings = test_settings_with(&database_url, &[("PLASTER_METRICS_LISTEN", "127.0.0.1:0")]);
    let app = Application::build(settings, StartOptions { seed_demo: false })
        .await
        .expect("the application starts");
    let pages = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!(
        "http://127.0.0.1:{}",
        app.metrics_port().expect("a listener for /metrics")
    );
    assert_ne!(pages, metrics);
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("HTTP client");

    for _ in 0..3 {
        assert_eq!(get_with(&client, &pages, "/healthz").await.status(), 200);
    }
    assert_eq!(get_with(&client, &pages, "/metrics").await.status(), 404);
    let r = client
        .post(format!("{pages}/metrics"))
        .send()
        .await
        .expect("POST /metrics");
    assert_eq!(r.status(), 404, "whatever the method");

    let r = get_with(&client, &metrics, "/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let text = r.text().await.expect("metrics text");
    assert!(
        text.contains(
            r#"plaster_http_requests_total{route="/healthz",method="GET",status="200"} 3"#
        ),
        "the main listener's requests are counted: {text}"
    );
    assert!(
        text.contains("# TYPE plaster_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert_eq!(get_with(&client, &metrics, "/healthz").await.status(), 404);
    assert_eq!(
        get_with(&client, &metrics, "/staff/login").await.status(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_metrics_are_served_only_on_their_own_address() {
    metrics_are_served_only_on_their_own_address(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_metrics_are_served_only_on_their_own_address() {
    metrics_are_served_only_on_their_own_address(TestBackend::Postgres).await;
}
