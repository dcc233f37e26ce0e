//! Serving connections: hyper's HTTP/1 and HTTP/2 as `axum::serve` does,
//! plus what it cannot be told (#15.7): a header-read timeout, so a client
//! that trickles its request line and headers (slow-loris) is dropped
//! instead of holding a connection forever; the peer's address on every
//! request (limits per client); connections idle for [`IDLE_TIMEOUT`]
//! closed, HTTP/2 ones included (hyper's header timeout covers only
//! HTTP/1), and HTTP/2 peers pinged so dead ones are noticed; and a
//! shutdown that waits for open connections to finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// A request's line and headers must have arrived this long after the
/// connection opened (or after the previous request on it).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request (but an event stream or an upload) must be answered this
/// long after it arrived; the handler is then dropped mid-way, which rolls
/// back any transaction it had open.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A console upload of a multi-gigabyte log gets this long.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A connection with no request in flight for this long is closed
/// (gracefully: a request arriving meanwhile is still answered).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Middleware: a 503 for a request not answered within [`REQUEST_TIMEOUT`]
/// ([`UPLOAD_TIMEOUT`] for the console's uploads). Live event streams last
/// as long as the reader stays.
pub async fn request_timeout(request: Request, next: axum::middleware::Next) -> Response {
    let streaming = request.uri().path() == "/api/live";
    if streaming {
        return next.run(request).await;
    }
    // Staff uploads of large log files get longer, never forever; any
    // other multipart request (to a server function, say) gets the usual
    // bound, whatever its content type claims.
    let upload = request.uri().path().starts_with("/staff/")
        && request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bound = if upload {
        UPLOAD_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    };
    let path = request.uri().path().to_string();
    match tokio::time::timeout(bound, next.run(request)).await {
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
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    let open = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(tokio::sync::Notify::new());
    let (stopping, stop) = tokio::sync::watch::channel(false);
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
        let activity = Arc::new(Activity::default());
        let seen = activity.clone();
        let per_request = hyper::service::service_fn(move |request: hyper::Request<_>| {
            let mut request = request.map(axum::body::Body::new);
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            let guard = seen.begin();
            let answer = service.clone().oneshot(request);
            async move {
                let response = answer.await;
                drop(guard);
                response
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), per_request)
            .into_owned();
        let mut stop = stop.clone();
        let (open, closed) = (open.clone(), closed.clone());
        open.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            tokio::pin!(connection);
            let mut check = tokio::time::interval(IDLE_TIMEOUT / 4);
            let mut closing = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            // Clients hang up mid-request all the time; not our fault.
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = check.tick(), if !closing => {
                        if activity.idle_for() >= IDLE_TIMEOUT {
                            closing = true;
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            if open.fetch_sub(1, Ordering::SeqCst) == 1 {
                closed.notify_waiters();
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    while open.load(Ordering::SeqCst) > 0 {
        let wait = closed.notified();
        if open.load(Ordering::SeqCst) == 0 {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), wait).await;
    }
    Ok(())
}

/// When a connection last finished a request, and how many are in flight.
#[derive(Default)]
struct Activity {
    in_flight: AtomicUsize,
    last_ms: AtomicI64,
}

struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.last_ms.store(now_ms(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Activity {
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Zero while a request is in flight (a live stream is activity).
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        let last = match self.last_ms.load(Ordering::Relaxed) {
            0 => {
                // Nothing answered yet: idle since the connection opened.
                let _ = self.last_ms.compare_exchange(
                    0,
                    now_ms(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                self.last_ms.load(Ordering::Relaxed)
            }
            t => t,
        };
        Duration::from_millis((now_ms() - last).max(0) as u64)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
