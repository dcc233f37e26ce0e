//! Request metrics in Prometheus' text format: a counter and a latency
//! histogram per route, method and status class. Kept per application (not
//! in a global registry) so several servers in one test process stay apart.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Route pattern → (method, status code) → series. Nested so that a
/// request for a known series allocates nothing while holding the lock.
type SeriesMap = HashMap<String, HashMap<(&'static str, u16), Series>>;

#[derive(Clone, Default)]
pub struct Metrics {
    series: Arc<Mutex<SeriesMap>>,
    snapshot: Arc<SnapshotResponses>,
}

/// Public reads answered by the front door straight from the snapshot
/// (see `public::front_door`): counters only, since each is a lookup and
/// a copy of headers, and a lock per request would cost more than that.
#[derive(Default)]
struct SnapshotResponses {
    ok: AtomicU64,
    not_modified: AtomicU64,
    other: AtomicU64,
}

/// The method's name without allocating; rare methods share one label.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    pub fn count_snapshot_response(&self, status: StatusCode) {
        let counter = match status {
            StatusCode::OK => &self.snapshot.ok,
            StatusCode::NOT_MODIFIED => &self.snapshot.not_modified,
            _ => &self.snapshot.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn observe(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        // A poisoned lock only means another request panicked mid-update;
        // the counters are still usable.
        let mut map = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !map.contains_key(route) {
            map.insert(route.to_string(), HashMap::new());
        }
        let Some(by_route) = map.get_mut(route) else {
            return;
        };
        let s = by_route.entry((method, status)).or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let guard = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Sorted, so the output is stable between scrapes.
        let map: BTreeMap<(&str, &str, u16), &Series> = guard
            .iter()
            .flat_map(|(route, inner)| {
                inner
                    .iter()
                    .map(move |((method, status), s)| ((route.as_str(), *method, *status), s))
            })
            .collect();
        let mut out = String::new();
        out.push_str("# HELP plaster_http_requests_total HTTP requests served.\n");
        out.push_str("# TYPE plaster_http_requests_total counter\n");
        for ((route, method, status), s) in map.iter() {
            let _ = writeln!(
                out,
                "plaster_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}",
                escape(route),
                method,
                status,
                s.count
            );
        }
        out.push_str(
            "# HELP plaster_http_snapshot_responses_total Public reads answered from the in-memory snapshot before routing.\n",
        );
        out.push_str("# TYPE plaster_http_snapshot_responses_total counter\n");
        for (status, counter) in [
            ("200", &self.snapshot.ok),
            ("304", &self.snapshot.not_modified),
            ("other", &self.snapshot.other),
        ] {
            let _ = writeln!(
                out,
                "plaster_http_snapshot_responses_total{{status=\"{status}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP plaster_http_request_duration_seconds Time to produce a response.\n");
        out.push_str("# TYPE plaster_http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in map.iter() {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{}\"",
                escape(route),
                method,
                status
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "plaster_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "plaster_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "plaster_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "plaster_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: records every request under its route pattern (never the raw
/// path, so ids in URLs cannot blow up the number of series).
pub async fn record(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.observe(
        route.as_ref().map_or("unmatched", |p| p.as_str()),
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub async fn handler(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("/healthz", "GET", 200, 0.0007);
        m.observe("/healthz", "GET", 200, 0.3);
        let text = m.render();
        assert!(text.contains(
            "plaster_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.001\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
