//! The guard in front of every staff handler: session, role, first
//! password change, CSRF.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::kernel::ids::same_secret;
use crate::staff::error::StaffError;
use crate::staff::page::see_other;
use crate::staff::roles::Access;
use crate::staff::route::Menu;
use crate::staff::session::{self, SessionState, StaffSession};
use crate::staff::upload::UploadCsrf;
use crate::store::Store;

/// Form bodies are small; a bigger one is refused before it is parsed.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// What the guard of one route needs: the store for sessions, the route's
/// rule, and the menu that pages show.
#[derive(Clone)]
pub struct GuardState {
    pub store: Store,
    pub access: Access,
    pub menu: Menu,
    /// The route takes file uploads: the body is left for [`crate::staff::upload::Upload`] to
    /// stream, and it checks the CSRF token.
    pub uploads: bool,
    /// The route hands out access: a step-up comes before the handler.
    pub step_up: bool,
    /// Served over HTTPS: cookie names carry the `__Host-` prefix.
    pub secure_cookies: bool,
}

/// Pages a member who must still set up two-step sign-in may open.
const BEFORE_SECOND_FACTOR: [&str; 3] = ["/staff/two-factor", "/staff/password", "/staff/logout"];

/// Runs before every staff handler: finds the session, checks the role,
/// forces a first password change, and checks CSRF on every POST.
pub async fn guard(State(guard): State<GuardState>, request: Request, next: Next) -> Response {
    if guard.access == Access::Public {
        return no_store(next.run(request).await);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let session =
        match session::from_headers(&guard.store, request.headers(), guard.secure_cookies, now)
            .await
        {
            Ok(Some((session, SessionState::Valid))) => session,
            Ok(Some((_, SessionState::Expired))) => {
                return refused(sign_in_first(&request, true), "sign-in")
            }
            Ok(Some((_, SessionState::AwaitingCode))) => {
                return refused(code_first(&request), "sign-in")
            }
            Ok(None) => return refused(sign_in_first(&request, false), "sign-in"),
            Err(e) => return StaffError::from(e).into_response(),
        };
    if !guard.access.allows(&session.roles) {
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
    if session.roles.need_second_factor()
        && !session.account.totp_enabled
        && !BEFORE_SECOND_FACTOR.contains(&path)
    {
        // Admins and finance reach nothing before their second factor is set up.
        return if request.method() == Method::GET {
            see_other("/staff/two-factor")
        } else {
            StaffError::BadInput(
                "Set up two-step sign-in first (Staff → Two-step sign-in); your roles require it."
                    .into(),
            )
            .into_response()
        };
    }
    let request = if request.method() == Method::POST && guard.uploads {
        match upload_csrf(request, &session) {
            Ok(request) => request,
            Err(e) => return refused(e.into_response(), "csrf"),
        }
    } else if request.method() == Method::POST {
        match check_csrf(request, &session).await {
            Ok((request, step_up)) if guard.step_up => {
                // Not an access refusal: the member may, once they confirm.
                if let Err(e) =
                    crate::staff::step_up::confirm(&guard.store, &session, &step_up, now).await
                {
                    return no_store(e.into_response());
                }
                request
            }
            Ok((request, _)) => request,
            Err(response) => return refused(response, "csrf"),
        }
    } else {
        request
    };
    let mut request = request;
    let mut session = session;
    session.menu = guard.menu.clone();
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

/// The password was right; the code page comes next.
fn code_first(request: &Request) -> Response {
    if request.method() == Method::GET {
        let next: String =
            form_urlencoded::byte_serialize(request.uri().path().as_bytes()).collect();
        return see_other(&format!("/staff/login/code?next={next}"));
    }
    StaffError::Unauthorized("Type the code from your authenticator app first.").into_response()
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

/// The token comes in the form field `csrf` or the `X-CSRF-Token` header; a
/// cross-site `Origin` is refused outright. The body is read here and put
/// back for the handler, with the step-up field it carried (if any).
async fn check_csrf(
    request: Request,
    session: &StaffSession,
) -> Result<(Request, String), Response> {
    same_origin(request.headers()).map_err(IntoResponse::into_response)?;
    let header_token = header_token(&request);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| StaffError::BadInput("the form is too large".into()).into_response())?;
    let field = |name: &str| {
        form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let form_token = field("csrf");
    let step_up = field(crate::staff::step_up::FIELD).unwrap_or_default();
    let ok = header_token
        .or(form_token)
        .is_some_and(|t| same_secret(&t, &session.csrf_token));
    if !ok {
        return Err(StaffError::Csrf.into_response());
    }
    Ok((Request::from_parts(parts, Body::from(bytes)), step_up))
}

/// On an upload route: the header token, when there is one, is checked
/// here; otherwise [`crate::staff::upload::Upload`] checks the body's first field.
fn upload_csrf(mut request: Request, session: &StaffSession) -> Result<Request, StaffError> {
    same_origin(request.headers())?;
    let checked_by_header = match header_token(&request) {
        Some(t) if same_secret(&t, &session.csrf_token) => true,
        Some(_) => return Err(StaffError::Csrf),
        None => false,
    };
    request.extensions_mut().insert(UploadCsrf {
        expected: session.csrf_token.clone(),
        checked_by_header,
    });
    Ok(request)
}

fn header_token(request: &Request) -> Option<String> {
    request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A request from another site is refused outright, token or not (the
/// rule is [`crate::kernel::origin::cross_site`], the same for every form).
fn same_origin(headers: &HeaderMap) -> Result<(), StaffError> {
    if crate::kernel::origin::cross_site(headers) {
        return Err(StaffError::Csrf);
    }
    Ok(())
}

/// The same refusal for the sign-in forms, which are public and so not
/// behind the guard: 403 marked `csrf`, as the guard marks it.
pub(crate) fn refuse_cross_site(headers: &HeaderMap) -> Option<Response> {
    same_origin(headers)
        .err()
        .map(|e| refused(e.into_response(), "csrf"))
}
