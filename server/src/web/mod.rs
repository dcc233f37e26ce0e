//! The HTTP edge: the router that merges every area's routes, probes,
//! metrics, the Leptos app and its static files, and the front door.

pub mod front_door;
pub mod html;
pub mod page_cache;
pub mod probes;
pub mod security_headers;
pub mod serve;
pub mod whole_page;

use std::sync::Arc;

use app::ports::{SharedCustomerSource, SharedStatusSource};
use app::{shell, App};
use axum::http::Request;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

use crate::metrics::{self};
use crate::state::AppState;

/// A GET or HEAD outside the staff console and the server functions.
fn is_public_read<B>(req: &Request<B>) -> bool {
    let path = req.uri().path();
    matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && !path.starts_with("/staff")
        && !path.starts_with("/_sf")
}

/// Every route on the main listener; `/metrics` among them unless it has
/// a listener of its own (`metrics_here` false), when it answers 404 here.
pub fn router(state: AppState, metrics_here: bool) -> Router {
    let routes = generate_route_list(App);
    let source: SharedStatusSource = state.snapshot.clone();
    let customers: SharedCustomerSource = Arc::new(crate::customers::me::CustomerPages {
        store: state.store.clone(),
        snapshot: state.snapshot.clone(),
        secure_cookies: state.cookies.secure,
    });
    let options = state.leptos_options.clone();
    Router::new()
        .merge(probes::routes(metrics_here))
        .merge(crate::status::routes())
        .merge(crate::notify::routes())
        .merge(crate::customers::pages::routes())
        .merge(crate::staff::router(&state))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(source.clone());
                provide_context(customers.clone());
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Leptos' trailing data scripts moved inside the body (see whole_page).
        .layer(axum::middleware::from_fn(whole_page::serve))
        // Public pages from the snapshot's rendered copies (see page_cache).
        .layer(axum::middleware::from_fn_with_state(
            state.snapshot.clone(),
            page_cache::serve,
        ))
        .layer(axum::middleware::from_fn(serve::request_timeout))
        // A flood of public posts stops here, before the database.
        .layer(axum::middleware::from_fn_with_state(
            state.public_writes.clone(),
            crate::kernel::public_writes::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.trusted_proxy,
            crate::kernel::client::resolve,
        ))
        // Outside the page cache, so cached pages get the headers too.
        .layer(axum::middleware::from_fn_with_state(
            state.security,
            security_headers::serve,
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
