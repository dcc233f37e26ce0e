//! The staff console: server-rendered pages with plain HTML forms.
//!
//! Why not Leptos components like the public page: staff use the console
//! during an outage, often on a phone on a poor connection. Plain forms work
//! the moment the HTML arrives (no wasm bundle to wait for), every action is
//! a POST that carries its CSRF token, and every route is registered once,
//! with its access rule, in [`routes`]. The router and the role-matrix test
//! are both built from that list, so no route can be added without a rule.

pub mod accounts;
pub mod apology;
pub mod audit_pages;
pub mod components;
pub mod incidents;
pub mod login;
pub mod mail;
pub mod maintenance;
pub mod roles;
pub mod session;
pub mod webhooks;

use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, LOCATION, ORIGIN};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use crate::http::AppState;
use crate::status_writes::WriteError;
use crate::store::StoreError;
use roles::{Access, ADMIN, COMMUNICATIONS, COMPONENTS_VIEW};
use session::{SessionState, StaffSession};

/// Form bodies are small; a bigger one is refused before it is parsed.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// One staff route: method, path (axum syntax), who may use it, handler.
pub struct StaffRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> StaffRoute {
    StaffRoute {
        method,
        path,
        access,
        handler,
    }
}

/// Every staff route. Add new ones here and nowhere else.
#[rustfmt::skip]
pub fn routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        route(M::GET, "/staff/login", Access::Public, get(login::form)),
        route(M::POST, "/staff/login", Access::Public, post(login::submit)),
        route(M::POST, "/staff/logout", Access::AnyStaff, post(login::logout)),
        route(M::GET, "/staff", Access::AnyStaff, get(login::dashboard)),
        route(M::GET, "/staff/password", Access::AnyStaff, get(login::password_form)),
        route(M::POST, "/staff/password", Access::AnyStaff, post(login::password_submit)),
        // Incidents, apologies, maintenance, templates: communications.
        route(M::GET, "/staff/incidents", COMMUNICATIONS, get(incidents::list)),
        route(M::GET, "/staff/incidents/new", COMMUNICATIONS, get(incidents::new_form)),
        route(M::POST, "/staff/incidents", COMMUNICATIONS, post(incidents::open)),
        route(M::GET, "/staff/incidents/{id}", COMMUNICATIONS, get(incidents::show)),
        route(M::POST, "/staff/incidents/{id}/updates", COMMUNICATIONS, post(incidents::post_update)),
        route(M::GET, "/staff/incidents/{id}/apology", COMMUNICATIONS, get(apology::form)),
        route(M::POST, "/staff/incidents/{id}/apology", COMMUNICATIONS, post(apology::submit)),
        route(M::GET, "/staff/maintenance", COMMUNICATIONS, get(maintenance::list)),
        route(M::POST, "/staff/maintenance", COMMUNICATIONS, post(maintenance::submit)),
        route(M::GET, "/staff/templates", COMMUNICATIONS, get(incidents::templates)),
        route(M::POST, "/staff/templates", COMMUNICATIONS, post(incidents::save_template)),
        // Components: statuses for communications, the rest for admins.
        route(M::GET, "/staff/components", COMPONENTS_VIEW, get(components::list)),
        route(M::POST, "/staff/components", ADMIN, post(components::add)),
        route(M::POST, "/staff/components/{id}/status", COMMUNICATIONS, post(components::set_status)),
        route(M::POST, "/staff/components/{id}", ADMIN, post(components::edit)),
        // Accounts and the audit log: admins.
        route(M::GET, "/staff/accounts", ADMIN, get(accounts::list)),
        route(M::POST, "/staff/accounts", ADMIN, post(accounts::add)),
        route(M::POST, "/staff/accounts/{id}", ADMIN, post(accounts::edit)),
        route(M::GET, "/staff/audit", ADMIN, get(audit_pages::list)),
        route(M::GET, "/staff/audit.csv", ADMIN, get(audit_pages::csv)),
        route(M::GET, "/staff/webhooks", ADMIN, get(webhooks::list)),
        route(M::POST, "/staff/webhooks", ADMIN, post(webhooks::add)),
        route(M::POST, "/staff/webhooks/{id}", ADMIN, post(webhooks::edit)),
        // Sent mail: whoever publishes or administers.
        route(M::GET, "/staff/mail", COMPONENTS_VIEW, get(mail::list)),
        route(M::GET, "/staff/mail/templates", COMPONENTS_VIEW, get(mail::templates)),
        route(M::GET, "/staff/mail/{id}", COMPONENTS_VIEW, get(mail::show)),
    ]
}

/// The staff routes, each behind its access rule.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for r in routes() {
        let guarded = r.handler.route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), r.access),
            guard,
        ));
        router = router.route(r.path, guarded);
    }
    router
}

/// Runs before every staff handler: finds the session, checks the role,
/// forces a first password change, and checks CSRF on every POST.
async fn guard(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        return no_store(next.run(request).await);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let session = match session::from_headers(&state.store, request.headers(), now).await {
        Ok(Some((session, SessionState::Valid))) => session,
        Ok(Some((_, SessionState::Expired))) => {
            return refused(sign_in_first(&request, true), "sign-in")
        }
        Ok(None) => return refused(sign_in_first(&request, false), "sign-in"),
        Err(e) => return StaffError::from(e).into_response(),
    };
    if !access.allows(&session.roles) {
        tracing::info!(account = %session.account.email, path = %request.uri().path(), "refused: role");
        return refused(StaffError::Forbidden.into_response(), "role");
    }
    let path = request.uri().path();
    if session.account.must_change_password && path != "/staff/password" && path != "/staff/logout"
    {
        // A one-time password opens only the page that replaces it.
        return if request.method() == Method::GET {
            see_other("/staff/password")
        } else {
            StaffError::BadInput("Choose your own password first (Staff → Password).".into())
                .into_response()
        };
    }
    let request = if request.method() == Method::POST {
        match check_csrf(request, &session).await {
            Ok(request) => request,
            Err(response) => return refused(response, "csrf"),
        }
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(session);
    no_store(next.run(request).await)
}

/// Says why the guard turned a request away (for logs, proxies and the
/// role-matrix test); the page itself says it in words.
pub const REFUSED_HEADER: &str = "x-plaster-refused";

fn refused(mut response: Response, why: &'static str) -> Response {
    response
        .headers_mut()
        .insert(REFUSED_HEADER, HeaderValue::from_static(why));
    no_store(response)
}

/// Staff pages hold private data: never cached anywhere.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn sign_in_first(request: &Request, expired: bool) -> Response {
    if request.method() == Method::GET {
        let next: String =
            form_urlencoded::byte_serialize(request.uri().path().as_bytes()).collect();
        let expired = if expired { "&expired=1" } else { "" };
        return see_other(&format!("/staff/login?next={next}{expired}"));
    }
    let message = if expired {
        "Your session has expired. Sign in again; what you typed was not saved."
    } else {
        "You are not signed in."
    };
    StaffError::Unauthorized(message).into_response()
}

pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// The token comes in the form field `csrf` or the `X-CSRF-Token` header; a
/// cross-site `Origin` is refused outright. The body is read here and put
/// back for the handler.
async fn check_csrf(request: Request, session: &StaffSession) -> Result<Request, Response> {
    if let Some(origin) = request.headers().get(ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = request.headers().get(HOST).and_then(|v| v.to_str().ok());
        let same = host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
        });
        if !same {
            return Err(StaffError::Csrf.into_response());
        }
    }
    let header_token = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| StaffError::BadInput("the form is too large".into()).into_response())?;
    let form_token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    let ok = header_token
        .or(form_token)
        .is_some_and(|t| session::same_secret(&t, &session.csrf_token));
    if !ok {
        return Err(StaffError::Csrf.into_response());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// A form as posted: every field in order, repeated names kept (roles).
pub type Fields = Vec<(String, String)>;

/// The first value of a form field, "" when absent.
pub fn field<'a>(body: &'a [(String, String)], name: &str) -> &'a str {
    body.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Texts per language from fields `{prefix}_sv`, `{prefix}_nb`, `{prefix}_en`:
/// trimmed, with browser line ends made plain; blank ones are left out.
pub fn texts_field(body: &[(String, String)], prefix: &str) -> crate::store::status::Texts {
    app::dto::Lang::ALL
        .into_iter()
        .filter_map(|lang| {
            let text = field(body, &format!("{prefix}_{}", lang.code())).trim();
            (!text.is_empty()).then(|| (lang, text.replace("\r\n", "\n")))
        })
        .collect()
}

/// What every console page shows around its content.
pub struct Frame {
    pub email: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub flash: Option<String>,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Frame {
    pub fn new(session: &StaffSession, current: &str) -> Frame {
        let items: [(&str, &str, Access); 7] = [
            ("/staff", "Overview", Access::AnyStaff),
            ("/staff/incidents", "Incidents", COMMUNICATIONS),
            ("/staff/components", "Components", COMPONENTS_VIEW),
            ("/staff/accounts", "Accounts", ADMIN),
            ("/staff/audit", "Audit log", ADMIN),
            ("/staff/mail", "Sent mail", COMPONENTS_VIEW),
            ("/staff/webhooks", "Webhooks", ADMIN),
        ];
        Frame {
            email: session.account.email.clone(),
            csrf: session.csrf_token.clone(),
            nav: items
                .into_iter()
                .filter(|(_, _, access)| access.allows(&session.roles))
                .map(|(href, label, _)| NavItem {
                    href,
                    label,
                    current: href == current,
                })
                .collect(),
            flash: None,
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
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

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
}

impl From<WriteError> for StaffError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) => StaffError::Store(e),
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
            StaffError::Forbidden | StaffError::Csrf => StatusCode::FORBIDDEN,
            StaffError::NotFound(_) => StatusCode::NOT_FOUND,
            StaffError::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
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

/// Milliseconds as `2026-11-21 14:06 UTC` for staff pages.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
