//! The console's error policy.
//!
//! - Bad input (a form field, an unknown id in the path) is the user's to fix:
//!   the page says what was wrong and where, with 422 (or 404 for something
//!   that does not exist), and nothing was written.
//! - Sign-in, role and CSRF refusals say what to do next (401, 403).
//! - Everything else (the database, a template) is ours: the cause goes to
//!   the log, the page says only that nothing was changed (500). Domain
//!   errors convert here, in one place, so each cause keeps its status.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::status::commands::WriteError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("Your roles do not allow this page. Ask an admin if you need it.")]
    Forbidden,
    #[error("The form had expired or did not come from this console (missing or wrong CSRF token). Reload the page and try again.")]
    Csrf,
    #[error("Not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rendering a page: {0}")]
    Render(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
    /// Busy for now (password work queued too long): try again shortly.
    #[error("{0}")]
    Busy(String),
    /// A dangerous change needs the member's password or code again.
    #[error("{0}")]
    StepUp(&'static str),
}

impl From<crate::staff::password::AuthError> for StaffError {
    fn from(e: crate::staff::password::AuthError) -> Self {
        match e {
            crate::staff::password::AuthError::Busy => StaffError::Busy(e.to_string()),
            crate::staff::password::AuthError::Store(e) => StaffError::Store(e),
            other => StaffError::Internal(other.to_string()),
        }
    }
}

impl From<WriteError> for StaffError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) => StaffError::Store(e),
            // An incident is named by the path: the page does not exist.
            e @ WriteError::UnknownIncident(_) => StaffError::NotFound(e.to_string()),
            other => StaffError::BadInput(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for StaffError {
    fn into_response(self) -> Response {
        let status = match &self {
            StaffError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            StaffError::Forbidden | StaffError::Csrf | StaffError::StepUp(_) => {
                StatusCode::FORBIDDEN
            }
            StaffError::NotFound(_) => StatusCode::NOT_FOUND,
            StaffError::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StaffError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            StaffError::Store(_) | StaffError::Render(_) | StaffError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The cause goes to the log, not to the page.
            tracing::error!(error = %self, "staff console error");
            "Something went wrong on our side; nothing was changed. Try again in a moment."
                .to_string()
        } else {
            self.to_string()
        };
        let html = ErrorPage {
            status: status.as_u16(),
            message: &message,
        }
        .render()
        .unwrap_or(message);
        (
            status,
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response()
    }
}
