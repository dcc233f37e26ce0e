//! Signing in and out, the overview page and changing one's password.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::kernel::client::ClientAddr;
use crate::staff::error::StaffError;
use crate::staff::page::Words as _;
use crate::staff::page::{form_page, page, safe_next, see_other, Frame};
use crate::staff::password::{argon2_work, hash_password, verify_password};
use crate::staff::session::{self, StaffSession, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::state::CookiePolicy;
use crate::store::audit;
use crate::store::Store;

/// Failed sign-ins for one e-mail address from one client address within
/// [`FAILURE_WINDOW_MS`] before that pair is locked for the rest of the
/// window. The lock is per pair, so an attacker guessing a named staff
/// member's password locks only themselves out, never the staff member.
pub const MAX_FAILURES: i64 = 5;
/// Failed sign-ins from one client address, whatever e-mail addresses
/// they name (password spraying), before that address is turned away.
pub const MAX_CLIENT_FAILURES: i64 = 20;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60_000;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// One message for a wrong password, an unknown address and a disabled
/// account, so the form never tells which accounts exist.
const WRONG: &str = "Wrong e-mail address or password.";
const LOCKED: &str =
    "Too many failed sign-ins for this address. Wait 15 minutes, or ask an admin to help.";
/// Only said when the one-time password itself was right.
const EXPIRED: &str =
    "This one-time password has expired (they last 72 hours). Ask an admin for a new one.";
const CLIENT_LOCKED: &str =
    "Too many failed sign-ins from your network address. Wait 15 minutes, or ask an admin to help.";

#[derive(Template)]
#[template(path = "staff/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
}

fn login_page(
    cookies: CookiePolicy,
    email: &str,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
    status: axum::http::StatusCode,
) -> Response {
    let csrf = crate::kernel::ids::random_token();
    let mut response = page(&LoginPage {
        csrf: &csrf,
        next: safe_next(next),
        email,
        error,
        notice,
    });
    *response.status_mut() = status;
    session::append_cookie(
        response.headers_mut(),
        session::set_cookie(LOGIN_CSRF_COOKIE, Some(&csrf), cookies.secure),
    );
    response
}

pub async fn form(State(cookies): State<CookiePolicy>, Query(q): Query<LoginQuery>) -> Response {
    let notice = if q.expired.is_some() {
        Some("Your session has expired; please sign in again.")
    } else if q.signed_out.is_some() {
        Some("You are signed out.")
    } else {
        None
    };
    login_page(
        cookies,
        "",
        &q.next,
        None,
        notice,
        axum::http::StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(store): State<Store>,
    State(cookies): State<CookiePolicy>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    // Public, so not behind the guard: the same cross-site rule here (a
    // forged sign-in would sign the victim in as the attacker).
    if let Some(refusal) = crate::staff::guard::refuse_cross_site(&headers) {
        return refusal;
    }
    let cookie = crate::kernel::cookies::value(&headers, LOGIN_CSRF_COOKIE, cookies.secure);
    if !cookie
        .is_some_and(|c| !form.csrf.is_empty() && crate::kernel::ids::same_secret(&c, &form.csrf))
    {
        return StaffError::Csrf.into_response();
    }
    match sign_in(&store, &form, &client).await {
        Ok(Ok(SignedIn {
            token,
            awaiting_code,
        })) => {
            let mut response = if awaiting_code {
                let next: String =
                    form_urlencoded::byte_serialize(safe_next(&form.next).as_bytes()).collect();
                see_other(&format!("/staff/login/code?next={next}"))
            } else {
                see_other(safe_next(&form.next))
            };
            session::append_cookie(
                response.headers_mut(),
                session::set_cookie(SESSION_COOKIE, Some(&token), cookies.secure),
            );
            session::append_cookie(
                response.headers_mut(),
                session::set_cookie(LOGIN_CSRF_COOKIE, None, cookies.secure),
            );
            response
        }
        Ok(Err(refusal)) => login_page(
            cookies,
            &form.email,
            &form.next,
            Some(refusal.message),
            None,
            refusal.status,
        ),
        Err(e) => e.into_response(),
    }
}

/// A right password: the session's token, and whether it still waits for
/// the second factor's code.
struct SignedIn {
    token: String,
    awaiting_code: bool,
}

/// Why a sign-in was turned away, and with what status.
struct Refusal {
    message: &'static str,
    status: axum::http::StatusCode,
}

impl Refusal {
    const WRONG: Refusal = Refusal {
        message: WRONG,
        status: axum::http::StatusCode::UNAUTHORIZED,
    };
    const EXPIRED: Refusal = Refusal {
        message: EXPIRED,
        status: axum::http::StatusCode::UNAUTHORIZED,
    };
    const fn throttled(message: &'static str) -> Refusal {
        Refusal {
            message,
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// Ok(Ok(signed_in)) the password was right; Ok(Err(refusal)) refused.
/// Every attempt is recorded before the password is checked (one atomic
/// step with the count), and taken back when it succeeds.
async fn sign_in(
    store: &Store,
    form: &LoginForm,
    client: &ClientAddr,
) -> Result<Result<SignedIn, Refusal>, StaffError> {
    let email = form.email.trim().to_lowercase();
    let pair = format!("signin:{email}|{}", client.0);
    let from_client = format!("signin-client:{}", client.0);
    let now = chrono::Utc::now().timestamp_millis();
    let keys = [
        (pair.as_str(), MAX_FAILURES),
        (from_client.as_str(), MAX_CLIENT_FAILURES),
    ];
    let attempt = match store
        .take_attempt(&keys, now - FAILURE_WINDOW_MS, now)
        .await?
    {
        Ok(ids) => ids,
        Err(which) => {
            tracing::warn!(tried = %email, client = %client.0, "staff sign-in throttled");
            return Ok(Err(Refusal::throttled(if which == 0 {
                LOCKED
            } else {
                CLIENT_LOCKED
            })));
        }
    };
    let found = store.staff_for_sign_in(&email).await?;
    let password = form.password.clone();
    // An unknown address costs the same hashing work as a known one.
    let (account, hash) = match found {
        Some((account, hash)) => (Some(account), hash),
        None => (None, DUMMY_HASH.to_string()),
    };
    let verified = argon2_work(store.password_work(), move || {
        verify_password(&password, &hash)
    })
    .await?;
    match account {
        Some(account) if verified && !account.disabled => {
            if account.must_change_password
                && account.password_expires_at.is_some_and(|at| now >= at)
            {
                tracing::warn!(account = %account.email, client = %client.0, "expired one-time password");
                return Ok(Err(Refusal::EXPIRED));
            }
            store.forget_attempts(&attempt).await?;
            let awaiting_code = account.totp_enabled;
            let token = session::start(store, &account.id, now, awaiting_code).await?;
            if awaiting_code {
                tracing::info!(account = %account.email, client = %client.0, "staff password right; code next");
            } else {
                tracing::info!(account = %account.email, client = %client.0, "staff signed in");
            }
            Ok(Ok(SignedIn {
                token,
                awaiting_code,
            }))
        }
        _ => {
            // The address tried is not a secret; the password never appears.
            tracing::warn!(tried = %email, client = %client.0, "failed staff sign-in");
            Ok(Err(Refusal::WRONG))
        }
    }
}

/// An argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Q3m9Zb0cZr3o9mO8qfXb0l3Yd5oW8b1c2o8kq9e0n7w";

pub async fn logout(
    State(store): State<Store>,
    State(cookies): State<CookiePolicy>,
    Extension(session): Extension<StaffSession>,
) -> Response {
    if let Err(e) = store.delete_session(session.token_hash()).await {
        return StaffError::from(e).into_response();
    }
    let mut response = see_other("/staff/login?signed_out=1");
    session::append_cookie(
        response.headers_mut(),
        session::set_cookie(SESSION_COOKIE, None, cookies.secure),
    );
    response
}

#[derive(Template)]
#[template(path = "staff/dashboard.html")]
struct Dashboard {
    frame: Frame,
    roles: String,
    active: Vec<crate::status::commands::IncidentSummary>,
    can_run_incidents: bool,
}

pub async fn dashboard(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    let can_run_incidents = crate::staff::roles::COMMUNICATIONS.allows(&session.roles);
    let active = crate::status::commands::list_incidents(&store, app::dto::Lang::En)
        .await?
        .into_iter()
        .filter(|i| !i.stage.is_closed())
        .collect();
    Ok(page(&Dashboard {
        frame: Frame::new(&session, "/staff"),
        roles: session
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        active,
        can_run_incidents,
    }))
}

#[derive(Template)]
#[template(path = "staff/password.html")]
struct PasswordPage<'a> {
    frame: Frame,
    must_change: bool,
    error: Option<&'a str>,
    min: usize,
}

pub async fn password_form(Extension(session): Extension<StaffSession>) -> Response {
    page(&PasswordPage {
        must_change: session.account.must_change_password,
        frame: Frame::new(&session, ""),
        error: None,
        min: MIN_PASSWORD_CHARS,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn password_submit(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, StaffError> {
    let refuse = |message: &str| {
        form_page(
            &PasswordPage {
                must_change: session.account.must_change_password,
                frame: Frame::new(&session, ""),
                error: Some(message),
                min: MIN_PASSWORD_CHARS,
            },
            true,
        )
    };
    if form.new.chars().count() < MIN_PASSWORD_CHARS {
        return Ok(refuse(&format!(
            "New password: use at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if form.new != form.confirm {
        return Ok(refuse("Confirm: the two new passwords differ."));
    }
    if form.new == form.current {
        return Ok(refuse(
            "New password: choose one that differs from the current one.",
        ));
    }
    // A stolen session must not become a free password-guessing oracle.
    let key = format!("password-change:{}", session.account.id);
    let now = chrono::Utc::now().timestamp_millis();
    let Ok(attempt) = store
        .take_attempt(&[(&key, MAX_FAILURES)], now - FAILURE_WINDOW_MS, now)
        .await?
    else {
        tracing::warn!(account = %session.account.email, "password change throttled");
        return Ok(refuse(
            "Current password: too many wrong tries. Wait 15 minutes, or ask an admin to help.",
        ));
    };
    let stored = store
        .staff_for_sign_in(&session.account.email)
        .await?
        .map(|(_, hash)| hash)
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let (current, new) = (form.current.clone(), form.new.clone());
    let hashed = argon2_work(store.password_work(), move || {
        verify_password(&current, &stored).then(|| hash_password(&new))
    })
    .await?;
    let Some(hashed) = hashed else {
        tracing::warn!(account = %session.account.email, "wrong current password on a password change");
        return Ok(refuse(
            "Current password: this is not your current password.",
        ));
    };
    store.forget_attempts(&attempt).await?;
    let hashed = hashed.map_err(|e| StaffError::Internal(e.to_string()))?;
    let mut tx = store
        .begin_write()
        .await
        .map_err(crate::store::StoreError::from)?;
    crate::store::staff::set_password(
        &mut tx,
        &session.account.id,
        &hashed,
        false,
        Some(session.token_hash()),
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        &session.actor(),
        "account.password",
        &session.account.email,
        None,
        None,
    )
    .await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    // The member just typed their current password: that is the step-up,
    // so the two-step set-up that follows a first password asks nothing more.
    store.step_up_session(session.token_hash(), now).await?;
    Ok(see_other("/staff?password=changed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(safe_next("/staff/incidents"), "/staff/incidents");
        assert_eq!(safe_next("https://evil.example/staff"), "/staff");
        assert_eq!(safe_next("//evil.example"), "/staff");
        assert_eq!(safe_next("/"), "/staff");
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_that_matches_nothing_typed() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
        assert!(!verify_password("password", DUMMY_HASH));
    }
}
