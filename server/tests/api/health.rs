use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    healthz_says_ok,
    readyz_reports_the_database,
    metrics_count_requests_by_route
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
