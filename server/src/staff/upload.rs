//! File uploads to the console: multipart bodies that are streamed (to
//! disk, [`Spooled`]), never held whole in memory, and still carry their
//! CSRF token.
//!
//! The guard checks an ordinary form's token by reading its (small) body.
//! An upload may be gigabytes, so on the routes that take uploads (and only
//! there, [`crate::staff::route::StaffRoute::uploads`]) the guard leaves the
//! body alone and the [`Upload`] extractor checks the token instead: it must
//! be the first field, `csrf`, which the console's upload forms put first.
//! A handler cannot forget the check: `Upload` is the only way to the body,
//! and it refuses to run on a route the guard did not mark.

use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

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

/// An uploaded file written to local disk as it arrived, removed when
/// dropped. Why spool rather than parse while the bytes come: the upload's
/// speed is the client's, and a consumer that writes (an import holds the
/// database's write lock on SQLite) must not wait on a slow connection.
pub struct Spooled {
    path: std::path::PathBuf,
}

impl Spooled {
    /// Streams `field` to a new file in the temporary folder, a chunk at a time.
    pub async fn from_field(mut field: Field<'_>) -> Result<Spooled, StaffError> {
        use tokio::io::AsyncWriteExt;
        let path = std::env::temp_dir().join(format!(
            "plaster-upload-{}",
            crate::kernel::ids::random_token()
        ));
        let spooled = Spooled { path };
        let disk = |e: std::io::Error| StaffError::Internal(format!("spooling the upload: {e}"));
        let mut out = tokio::fs::File::create(&spooled.path).await.map_err(disk)?;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| StaffError::BadInput(format!("the upload broke off: {}", e.body_text())))?
        {
            out.write_all(&chunk).await.map_err(disk)?;
        }
        out.flush().await.map_err(disk)?;
        Ok(spooled)
    }

    /// Where the bytes are, for a consumer that reads the file itself.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The spooled bytes, for a reader on a blocking thread.
    pub fn open(&self) -> Result<std::fs::File, StaffError> {
        std::fs::File::open(&self.path)
            .map_err(|e| StaffError::Internal(format!("reading the spooled upload: {e}")))
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        // Best effort: a file left behind is in the temporary folder.
        let _ = std::fs::remove_file(&self.path);
    }
}
