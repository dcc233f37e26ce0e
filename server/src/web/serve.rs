//! Serving connections: hyper's HTTP/1 and HTTP/2 as `axum::serve` does,
//! plus what it cannot be told (#15.7): a header-read timeout, so a client
//! that trickles its request line and headers (slow-loris) is dropped
//! instead of holding a connection forever; the peer's address on every
//! request (limits per client); and a shutdown that waits for open
//! connections to finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// A request's line and headers must have arrived this long after the
/// connection opened (or after the previous request on it).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request (but an event stream or an upload) must be answered this
/// long after it arrived; the handler is then dropped mid-way, which rolls
/// back any transaction it had open.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Middleware: a 503 for a request not answered within [`REQUEST_TIMEOUT`].
/// Live event streams last as long as the reader stays, and an upload of a
/// multi-gigabyte log takes as long as the network needs; both are exempt.
pub async fn request_timeout(request: Request, next: axum::middleware::Next) -> Response {
    let streaming = request.uri().path() == "/api/live";
    let upload = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if streaming || upload {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%path, "request not answered in time; abandoned");
            axum::response::IntoResponse::into_response((
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "30")],
                "This took too long and was abandoned. Reload the page to see whether it was done.\n",
            ))
        }
    }
}

/// Serves `service` on `listener` until `shutdown` completes, then waits for
/// the connections still open.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little, the
                    // connections that end free some.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small responses go out at once, as axum::serve sends them.
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let per_request = hyper::service::service_fn(move |request: hyper::Request<_>| {
            let mut request = request.map(axum::body::Body::new);
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            service.clone().oneshot(request)
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), per_request)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Clients hang up mid-request all the time; not our fault.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
