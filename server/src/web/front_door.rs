//! The first thing every request meets. A public GET that the current
//! snapshot can already answer (the API, feeds and badge, and every page
//! rendered since the last rebuild) is answered here, before routing,
//! the middleware stack and per-route metrics; everything else goes on to
//! the router unchanged.
//!
//! Why a separate door: when a herd arrives, nearly every request is one
//! of a handful of prebuilt responses, and each layer it would pass
//! through (routing, the tracing span, the latency histogram behind a
//! lock, boxed middleware futures) costs more than the answer itself.
//! These answers are counted in `plaster_http_snapshot_responses_total`
//! instead of the per-route series.
//!
//! A page not yet rendered since the last rebuild, HEAD, OPTIONS, the time
//! before the first snapshot and anything unknown take the normal path,
//! where `page_cache` renders once and `public_asset` answers 503.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use app::ports::StatusSource;
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use axum::Router;
use futures_util::future::Either;
use tower::Service;

use crate::metrics::Metrics;
use crate::status::snapshot::SnapshotHolder;
use crate::web::page_cache;
use crate::web::security_headers::{insert_common, SecurityPolicy};

#[derive(Clone)]
pub struct FrontDoor {
    snapshot: Arc<SnapshotHolder>,
    metrics: Metrics,
    /// The headers every response gets (the router's middleware never sees
    /// the answers given here).
    security: SecurityPolicy,
    router: Router,
}

impl FrontDoor {
    pub fn new(
        snapshot: Arc<SnapshotHolder>,
        metrics: Metrics,
        security: SecurityPolicy,
        router: Router,
    ) -> Self {
        FrontDoor {
            snapshot,
            metrics,
            security,
            router,
        }
    }

    /// The stored answer to `request`, if the snapshot in place holds one.
    fn answer_from_snapshot(&self, request: &Request) -> Option<Response> {
        if request.method() != Method::GET {
            return None;
        }
        let default_lang = self.snapshot.default_lang();
        self.snapshot.with_current(|snapshot| {
            let asset = match snapshot.assets.get(request.uri().path()) {
                Some(asset) => asset.clone(),
                None => {
                    let key = page_cache::key_for(request, snapshot, default_lang)?;
                    snapshot.pages_html.rendered(&key)?
                }
            };
            Some(asset.respond(request.headers(), chrono::Utc::now().timestamp_millis()))
        })?
    }
}

type RouterFuture = <Router as Service<Request>>::Future;

impl Service<Request> for FrontDoor {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, RouterFuture>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.answer_from_snapshot(&request) {
            Some(mut response) => {
                insert_common(response.headers_mut(), self.security);
                self.metrics.count_snapshot_response(response.status());
                Either::Left(ready(Ok(response)))
            }
            None => Either::Right(self.router.call(request)),
        }
    }
}
