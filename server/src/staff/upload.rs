//! File uploads to the console: multipart bodies that are streamed, never
//! held whole in memory, and still carry their CSRF token.
//!
//! The guard checks an ordinary form's token by reading its (small) body.
//! An upload may be gigabytes, so on the routes that take uploads (and only
//! there, [`crate::staff::route::StaffRoute::uploads`]) the guard leaves the
//! body alone and the [`Upload`] extractor checks the token instead: it must
//! be the first field, `csrf`, which the console's upload forms put first.
//! A handler cannot forget the check: `Upload` is the only way to the body,
//! and it refuses to run on a route the guard did not mark.

use std::io::Read;

use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::kernel::ids::same_secret;
use crate::staff::error::StaffError;

/// The largest upload a console route takes: event logs run to several GB.
pub const MAX_UPLOAD_BYTES: usize = 16 << 30;

/// Set by the guard on upload routes: the session's token, and whether the
/// `X-CSRF-Token` header already proved it.
#[derive(Debug, Clone)]
pub struct UploadCsrf {
    pub expected: String,
    pub checked_by_header: bool,
}

/// A multipart body whose CSRF token has been checked.
pub struct Upload {
    multipart: Multipart,
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Some(csrf) = request.extensions().get::<UploadCsrf>().cloned() else {
            return Err(StaffError::Internal(
                "an upload handler on a route the guard does not treat as an upload".into(),
            )
            .into_response());
        };
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| StaffError::BadInput(e.body_text()).into_response())?;
        if !csrf.checked_by_header {
            let token = match multipart.next_field().await {
                Ok(Some(field)) if field.name() == Some("csrf") => field.text().await.ok(),
                _ => None,
            };
            if !token.is_some_and(|t| same_secret(&t, &csrf.expected)) {
                return Err(StaffError::Csrf.into_response());
            }
        }
        Ok(Upload { multipart })
    }
}

impl Upload {
    pub async fn next_field(&mut self) -> Result<Option<Field<'_>>, StaffError> {
        self.multipart
            .next_field()
            .await
            .map_err(|e| StaffError::BadInput(format!("the upload broke off: {}", e.body_text())))
    }
}

/// Hands `field` to `consume` as a blocking [`Read`] (for parsers that run on
/// a blocking thread) while its chunks arrive; at most a few chunks are in
/// memory at once. Returns what `consume` returns once both are done.
pub async fn stream_field<T, Fut>(
    mut field: Field<'_>,
    consume: impl FnOnce(FieldReader) -> Fut,
) -> T
where
    Fut: std::future::Future<Output = T>,
{
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let reader = FieldReader {
        rx,
        current: Bytes::new(),
    };
    let feed = async move {
        loop {
            let next = match field.chunk().await {
                Ok(Some(chunk)) => Ok(chunk),
                Ok(None) => break,
                Err(e) => Err(std::io::Error::other(format!(
                    "the upload broke off: {}",
                    e.body_text()
                ))),
            };
            let failed = next.is_err();
            // A closed channel: the consumer has stopped reading (it refused
            // the file); the rest of the field is not needed.
            if tx.send(next).await.is_err() || failed {
                break;
            }
        }
    };
    let (_, out) = tokio::join!(feed, consume(reader));
    out
}

/// The blocking side of [`stream_field`].
pub struct FieldReader {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for FieldReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
