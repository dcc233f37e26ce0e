//! The HTTP surface: probes, metrics, the Leptos app and its static files.

use std::sync::Arc;
use std::time::Duration;

use app::ports::SharedStatusSource;
use app::{shell, App};
use axum::extract::{FromRef, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, RETRY_AFTER,
};
use axum::http::{HeaderMap, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

use crate::metrics::{self, Metrics};
use crate::snapshot::SnapshotHolder;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub snapshot: Arc<SnapshotHolder>,
    pub metrics: Metrics,
    pub leptos_options: LeptosOptions,
    pub live: crate::live::LiveHandle,
    /// Staff cookies get `Secure` when Plaster is reached over HTTPS.
    pub secure_cookies: bool,
    /// The domain of Message-IDs (the sender's).
    pub mail_domain: String,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Metrics {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers; a load balancer may still send public traffic
/// to a node that is not ready, since the public pages come from memory.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
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

/// The API, feeds and badge: a lookup in the current snapshot, nothing more.
async fn public_asset(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    match state.snapshot.asset(uri.path()) {
        Some(asset) => asset.respond(&headers, chrono::Utc::now().timestamp_millis()),
        // Only before the first snapshot exists.
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(RETRY_AFTER, "5"), (ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
            "The status is not available yet.",
        )
            .into_response(),
    }
}

/// Widgets on other sites may revalidate with If-None-Match, which makes
/// the browser ask first.
async fn public_preflight() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS"),
            (ACCESS_CONTROL_ALLOW_HEADERS, "If-None-Match"),
            (ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
}

/// A GET or HEAD outside the staff console and the server functions.
fn is_public_read<B>(req: &Request<B>) -> bool {
    let path = req.uri().path();
    matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && !path.starts_with("/staff")
        && !path.starts_with("/_sf")
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let source: SharedStatusSource = state.snapshot.clone();
    let options = state.leptos_options.clone();
    let mut public = Router::new();
    for path in crate::public::asset_paths() {
        public = public.route(&path, get(public_asset).options(public_preflight));
    }
    Router::new()
        .merge(public)
        .route("/api/live", get(crate::live::sse))
        .route("/api/live/state.json", get(crate::live::state_json))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::handler))
        .merge(crate::staff::router(&state))
        .route(
            "/subscribe",
            get(crate::public::subscribe::form).post(crate::public::subscribe::submit),
        )
        .route(
            "/subscribe/confirm",
            get(crate::public::subscribe::confirm_page).post(crate::public::subscribe::confirm),
        )
        .route(
            "/unsubscribe",
            get(crate::public::subscribe::unsubscribe_page)
                .post(crate::public::subscribe::unsubscribe),
        )
        .route(
            "/subscriptions",
            get(crate::public::subscribe::manage_page).post(crate::public::subscribe::manage),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(source.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Public pages from the snapshot's rendered copies (see page_cache).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::public::page_cache::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                // Public reads are the herd: tens of thousands a second, all
                // from memory. Their spans are at debug level (RUST_LOG=debug
                // shows them) so that recording them costs nothing by default;
                // staff pages, writes and everything else get an info span.
                if is_public_read(req) {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                } else {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                }
            }),
        )
        .with_state(state)
}
