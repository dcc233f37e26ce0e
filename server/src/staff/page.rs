//! What every console page is made of: the frame around it (account,
//! CSRF token, menu, flash), rendering, redirects and staff-facing times.

use askama::Template;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::staff::error::StaffError;
use crate::staff::session::StaffSession;

/// What every console page shows around its content.
pub struct Frame {
    pub email: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub flash: Option<String>,
    /// The session confirmed it was them within the last minutes (see
    /// `StaffSession::is_confirmed`): dangerous forms need no password now.
    pub confirmed: bool,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Frame {
    pub fn new(session: &StaffSession, current: &str) -> Frame {
        Frame {
            email: session.account.email.clone(),
            csrf: session.csrf_token.clone(),
            nav: session
                .menu
                .for_roles(&session.roles)
                .map(|entry| NavItem {
                    href: entry.href,
                    label: entry.label,
                    current: entry.href == current,
                })
                .collect(),
            flash: None,
            confirmed: session.is_confirmed(chrono::Utc::now().timestamp_millis()),
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Frame {
        self.flash = flash;
        self
    }
}

/// Renders a page, or a plain error if the template fails.
pub fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => StaffError::Render(e).into_response(),
    }
}

/// A form page; when `refused` it shows the input back with what was
/// wrong, answered 422 so that scripts and tests can tell it from success.
pub fn form_page(template: &impl Template, refused: bool) -> Response {
    let mut response = page(template);
    if refused && response.status().is_success() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// Milliseconds as `2026-11-21 14:06 UTC` for staff pages.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The words staff read for a value, the same the public page uses (in
/// English, the console's language), instead of the code it is stored as.
pub trait Words {
    fn words(&self) -> &'static str;
}

impl Words for app::dto::ComponentStatus {
    fn words(&self) -> &'static str {
        app::i18n::status_label(app::dto::Lang::En, *self)
    }
}

impl Words for app::dto::IncidentStage {
    fn words(&self) -> &'static str {
        app::i18n::stage_label(app::dto::Lang::En, *self)
    }
}

impl Words for app::dto::Impact {
    fn words(&self) -> &'static str {
        app::i18n::impact_label(app::dto::Lang::En, *self)
    }
}

impl Words for crate::staff::roles::Role {
    fn words(&self) -> &'static str {
        use crate::staff::roles::Role;
        match self {
            Role::Communications => "Communications",
            Role::Support => "Support",
            Role::Finance => "Finance",
            Role::Admin => "Admin",
        }
    }
}

/// Only paths inside the console, so `next` cannot send anyone elsewhere.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with("/staff") && !next.starts_with("//") && !next.contains("://") {
        next
    } else {
        "/staff"
    }
}
