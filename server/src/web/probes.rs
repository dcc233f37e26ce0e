//! Probes for load balancers and monitoring: liveness, readiness, metrics.
//!
//! `/metrics` tells whoever reads it which routes are used how often; with
//! `PLASTER_METRICS_LISTEN` it is served on that address only (one a
//! firewall keeps to the monitoring network), by [`metrics_router`].

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use axum::{Json, Router};

use crate::metrics::{self, Metrics};
use crate::state::AppState;
use crate::store::Store;

/// The probes of the main listener; `/metrics` among them when
/// `metrics_here`, else a 404 for it whatever the method (answered here, so
/// that the pages' fallback does not answer it with a page).
pub fn routes(metrics_here: bool) -> Router<AppState> {
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if metrics_here {
        routes.route("/metrics", get(metrics::handler))
    } else {
        routes.route("/metrics", any(not_here))
    }
}

/// `/metrics` alone, for the listener of `PLASTER_METRICS_LISTEN`.
pub fn metrics_router(series: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(metrics::handler))
        .with_state(series)
}

async fn not_here() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers; a load balancer may still send public traffic
/// to a node that is not ready, since the public pages come from memory.
async fn readyz(State(store): State<Store>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready", "database": "reachable" })),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: database error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "not ready", "database": "unreachable" })),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not ready", "database": "timed out" })),
        ),
    }
}
