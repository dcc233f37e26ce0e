//! Live updates: learning of new status changes and pushing them to open pages.
//!
//! One path for every kind of change: something wakes the follower (a write
//! in this process, a PostgreSQL notification, a poll that finds a larger
//! `MAX(status_changes.id)`, the periodic refresh), the follower rebuilds
//! the snapshot, and the snapshot publishes its [`LiveState`] on a `watch`
//! channel that every SSE client reads. A client therefore costs one
//! receiver, and a slow one skips straight to the newest state.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::kernel::client::ClientAddr;
use crate::status::commands::{latest_change_id, CHANNEL};
use crate::status::live_state::LiveState;
use crate::status::live_streams::{Full, OpenStreams, StreamLimits};
use crate::status::snapshot::SnapshotHolder;
use crate::store::{Backend, DatabaseUrl, Store};

/// How often the snapshot is rebuilt even without writes, so "today" in the
/// uptime bars moves on.
const SNAPSHOT_REFRESH: Duration = Duration::from_secs(60);
/// SQLite has no notifications, and the CLI writes from another process.
const SQLITE_POLL: Duration = Duration::from_millis(250);
/// On PostgreSQL notifications do the work; the poll only covers a listener
/// that is down or reconnecting.
const POSTGRES_POLL: Duration = Duration::from_secs(5);
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const MAX_LISTEN_BACKOFF: Duration = Duration::from_secs(30);

/// Wakes this node's follower, for writes made inside the process: they need
/// not wait for a poll or a notification.
#[derive(Clone)]
pub struct LiveHandle {
    wake: Arc<Notify>,
    /// Set on shutdown: open event streams end, or a graceful shutdown
    /// would wait for them forever.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// The event streams open on this node, within their caps.
    streams: OpenStreams,
}

impl Default for LiveHandle {
    fn default() -> Self {
        LiveHandle::new(StreamLimits::default())
    }
}

impl LiveHandle {
    pub fn new(limits: StreamLimits) -> Self {
        LiveHandle {
            wake: Arc::default(),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
            streams: OpenStreams::new(limits),
        }
    }

    /// Event streams open on this node now.
    pub fn open_streams(&self) -> usize {
        self.streams.total()
    }

    /// Ends every open event stream of this node.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.closing.subscribe();
        async move {
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }

    /// Something was written: rebuild soon. Bursts coalesce into one rebuild.
    pub fn changed(&self) {
        self.wake.notify_one();
    }
}

/// The background tasks of one node; they stop when this is dropped.
pub struct LiveTasks {
    tasks: Vec<JoinHandle<()>>,
}

impl LiveTasks {
    /// Ties another background task of the node to the same lifetime.
    pub fn also(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }
}

impl Drop for LiveTasks {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts following changes: the follower, plus a PostgreSQL listener.
pub fn spawn(
    store: Store,
    snapshot: Arc<SnapshotHolder>,
    database_url: &DatabaseUrl,
    handle: &LiveHandle,
) -> LiveTasks {
    let mut tasks = Vec::new();
    let poll = match store.backend() {
        Backend::Sqlite => SQLITE_POLL,
        Backend::Postgres => POSTGRES_POLL,
    };
    if let DatabaseUrl::Postgres { url } = database_url {
        tasks.push(tokio::spawn(listen(
            url.clone(),
            database_url.to_string(),
            handle.wake.clone(),
        )));
    }
    tasks.push(tokio::spawn(follow(
        store,
        snapshot,
        handle.wake.clone(),
        poll,
    )));
    LiveTasks { tasks }
}

async fn follow(store: Store, snapshot: Arc<SnapshotHolder>, wake: Arc<Notify>, poll: Duration) {
    let mut refresh = tokio::time::interval(SNAPSHOT_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    refresh.tick().await;
    let mut poll = tokio::time::interval(poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut database_ok = true;
    loop {
        // A wake always rebuilds: on PostgreSQL a change may commit with a
        // smaller id than one already seen, so comparing ids is not enough.
        let must_rebuild = tokio::select! {
            () = wake.notified() => true,
            _ = refresh.tick() => true,
            _ = poll.tick() => false,
        };
        if !must_rebuild {
            match latest_change_id(&store).await {
                Ok(latest) => {
                    if !database_ok {
                        tracing::info!("the database answers again");
                        database_ok = true;
                    }
                    if latest <= snapshot.version() {
                        continue;
                    }
                }
                Err(e) => {
                    // Logged once per outage, not four times a second.
                    if database_ok {
                        tracing::warn!(error = %e, "cannot check for status changes; serving the last snapshot");
                        database_ok = false;
                    }
                    continue;
                }
            }
        }
        if let Err(e) = snapshot.rebuild(&store).await {
            tracing::warn!(error = %e, "snapshot rebuild failed; serving the last one");
        }
    }
}

/// Listens on the PostgreSQL channel, reconnecting with backoff. Each
/// (re)connection wakes the follower once, since notifications sent while
/// nobody listened are lost.
async fn listen(url: String, shown_url: String, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(500);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    tracing::debug!(database = %shown_url, "listening for status changes");
                    backoff = Duration::from_millis(500);
                    wake.notify_one();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => wake.notify_one(),
                            Ok(None) => {
                                tracing::warn!("lost the notification connection; reconnecting");
                                break;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "notification listener failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot LISTEN {CHANNEL}"),
            },
            Err(e) => {
                tracing::warn!(error = %e, database = %shown_url, "cannot connect the notification listener");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_LISTEN_BACKOFF);
    }
}

const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

fn event(state: &LiveState) -> Event {
    Event::default()
        .id(state.version.to_string())
        .event("status")
        .data(&state.json)
}

/// `GET /api/live`: server-sent events, the current state on connect and
/// each newer one after. Every connect gets the current state at once, so
/// a client reconnecting with an old `Last-Event-ID` catches up.
pub async fn sse(
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(live): State<LiveHandle>,
    client: ClientAddr,
    headers: HeaderMap,
) -> Response {
    let slot = match live.streams.open(&client.0) {
        Ok(slot) => slot,
        Err(full) => return streams_full(full),
    };
    let mut rx = snapshot.subscribe_live();
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let first = rx.borrow_and_update().clone();
    if let Some(last) = last_seen.filter(|last| *last < first.version) {
        tracing::debug!(
            last,
            current = first.version,
            "live client reconnected behind; catching up"
        );
    }
    // The slot travels with the stream and is freed when the reader leaves.
    let start = (rx, Some(first), slot);
    let stream = futures_util::stream::unfold(start, |(mut rx, pending, slot)| async move {
        let next = match pending {
            Some(state) => state,
            None => {
                // Err: the snapshot holder is gone, the server is stopping.
                rx.changed().await.ok()?;
                rx.borrow_and_update().clone()
            }
        };
        Some((Ok::<_, Infallible>(event(&next)), (rx, None, slot)))
    })
    .take_until(live.closed());
    (
        [
            (CACHE_CONTROL, "no-cache"),
            (X_ACCEL_BUFFERING, "no"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)),
    )
        .into_response()
}

/// A reader over a cap: a clear 503, after which the page's script polls.
fn streams_full(full: Full) -> Response {
    let why = match full {
        Full::Node => "This server holds as many live connections as it takes",
        Full::Client => "Your address holds as many live connections as one address may",
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (CACHE_CONTROL, "no-store"),
            (CONTENT_TYPE, "text/plain; charset=utf-8"),
            (axum::http::header::RETRY_AFTER, "30"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        format!("{why}. Poll /api/live/state.json for the same state instead.\n"),
    )
        .into_response()
}

/// `GET /api/live/state.json`: the same state for clients that cannot hold
/// a stream open, from memory.
pub async fn state_json(
    State(snapshot): State<Arc<SnapshotHolder>>,
    headers: HeaderMap,
) -> Response {
    let live = snapshot.live_state();
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == live.etag));
    let common = [
        (CACHE_CONTROL, "no-cache"),
        (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    ];
    if matches {
        return (
            StatusCode::NOT_MODIFIED,
            common,
            [(ETAG, live.etag.clone())],
        )
            .into_response();
    }
    (
        common,
        [
            (ETAG, live.etag.clone()),
            (CONTENT_TYPE, "application/json".to_string()),
        ],
        live.json.clone(),
    )
        .into_response()
}
