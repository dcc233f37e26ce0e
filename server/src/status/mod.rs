//! The status page domain: incidents, components, maintenance and
//! apologies; their commands (the only writers), the read model, the
//! in-memory snapshot and its live followers, the public API, feeds and
//! badge, the console pages, and the demo content.

pub mod commands;
pub mod console;
pub mod demo;
pub mod live;
pub mod live_state;
pub mod live_streams;
pub mod public;
pub mod rendered_pages;
pub mod snapshot;
pub mod view;

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, RETRY_AFTER,
};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;
use snapshot::SnapshotHolder;

/// The public reads of the status page that are not Leptos pages: the API,
/// feeds and badge from the snapshot, and the live stream.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for path in public::asset_paths() {
        router = router.route(&path, get(public_asset).options(public_preflight));
    }
    router
        .route("/api/live", get(live::sse))
        .route("/api/live/state.json", get(live::state_json))
}

/// The API, feeds and badge: a lookup in the current snapshot, nothing more.
async fn public_asset(
    State(snapshot): State<Arc<SnapshotHolder>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match snapshot.asset(uri.path()) {
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
