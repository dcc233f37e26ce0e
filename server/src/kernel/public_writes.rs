//! Public writes are limited per client in memory, in front of the
//! database: a flood of sign-in, subscribe or claim posts from one client
//! is answered 429 before it takes a connection or the write lock, so staff
//! writes go on (issue: the public side cannot stall the staff). The
//! database's own limits (per address per hour, per e-mail address) still
//! apply behind this one; this one only stops the flood.
//!
//! A token bucket per client key (see `kernel::client`): [`BURST`] at once,
//! then [`PER_SECOND`]. Staff requests after sign-in are not public writes
//! (an office behind one address must not share a budget with the world).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::kernel::client::ClientAddr;

/// Writes one client may send at once.
pub const BURST: f64 = 120.0;
/// Writes per second one client earns back.
pub const PER_SECOND: f64 = 2.0;
/// Buckets kept before full ones are dropped (a full bucket holds nothing
/// worth remembering).
const MAX_CLIENTS: usize = 100_000;

#[derive(Clone, Default)]
pub struct PublicWrites {
    buckets: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
}

impl PublicWrites {
    /// Takes one write for `client`; `Err(seconds)` until the next is due.
    pub fn take(&self, client: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(client) {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * PER_SECOND < BURST
            });
        }
        let (tokens, at) = buckets.entry(client.to_string()).or_insert((BURST, now));
        let earned = now.duration_since(*at).as_secs_f64() * PER_SECOND;
        *tokens = (*tokens + earned).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / PER_SECOND).ceil().max(1.0) as u64)
        }
    }
}

/// A write anyone can send: any method but GET, HEAD and OPTIONS outside
/// the console, plus the console's sign-in forms.
fn is_public_write(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    !path.starts_with("/staff") || path.starts_with("/staff/login")
}

pub async fn limit(State(writes): State<PublicWrites>, request: Request, next: Next) -> Response {
    if !is_public_write(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.clone());
    match writes.take(&client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            tracing::warn!(%client, path = %request.uri().path(), "public writes over the per-client limit");
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, wait.to_string()),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                "Too many requests from your network at once. Wait a moment and send the form again.\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_client_gets_its_burst_then_its_rate_and_others_are_untouched() {
        let writes = PublicWrites::default();
        let t0 = Instant::now();
        for _ in 0..BURST as usize {
            assert!(writes.take("198.51.100.9", t0).is_ok());
        }
        assert_eq!(writes.take("198.51.100.9", t0), Err(1));
        assert!(writes.take("203.0.113.7", t0).is_ok(), "another client");
        let later = t0 + Duration::from_secs(1);
        assert!(writes.take("198.51.100.9", later).is_ok());
        assert!(writes.take("198.51.100.9", later).is_ok());
        assert!(writes.take("198.51.100.9", later).is_err());
    }

    #[test]
    fn staff_work_after_sign_in_is_not_a_public_write() {
        assert!(is_public_write(&Method::POST, "/me/sign-in"));
        assert!(is_public_write(&Method::POST, "/subscribe"));
        assert!(is_public_write(&Method::POST, "/_sf/anything"));
        assert!(is_public_write(&Method::POST, "/staff/login"));
        assert!(is_public_write(&Method::POST, "/staff/login/code"));
        assert!(!is_public_write(&Method::POST, "/staff/incidents"));
        assert!(!is_public_write(&Method::GET, "/me"));
    }
}
