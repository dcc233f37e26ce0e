//! Two-step sign-in: a TOTP code from any authenticator app after the
//! password (required for admins and finance, see
//! [`crate::staff::roles::Roles::need_second_factor`]), recovery codes for
//! a lost phone, the enrolment page with its QR code, and the code page
//! between the password and the console.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;

use crate::kernel::client::ClientAddr;
use crate::staff::code_check::{verify_code, CodeKind, Used};
use crate::staff::error::StaffError;
use crate::staff::page::safe_next;
use crate::staff::page::{form_page, page, see_other, utc, Frame};
use crate::staff::session::{self, SessionState, StaffSession, SESSION_COOKIE};
use crate::staff::totp;
use crate::state::CookiePolicy;
use crate::store::{audit, Store, StoreError};

/// What the authenticator app shows as the account's issuer.
const ISSUER: &str = "Plaster";
/// Wrong codes per account on the code page before it waits out the window
/// (a six-digit code is one in a million; five tries in 15 minutes keep it so).
const MAX_WRONG_CODES: i64 = 5;
const WINDOW_MS: i64 = 15 * 60_000;

// --- the code page, between the password and the console ------------------

#[derive(Template)]
#[template(path = "staff/code.html")]
struct CodePage<'a> {
    csrf: &'a str,
    next: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The session a request carries if it is waiting for its code.
async fn awaiting(
    store: &Store,
    headers: &HeaderMap,
    cookies: CookiePolicy,
    now: i64,
) -> Result<Option<StaffSession>, StaffError> {
    Ok(
        match session::from_headers(store, headers, cookies.secure, now).await? {
            Some((s, SessionState::AwaitingCode)) => Some(s),
            _ => None,
        },
    )
}

pub async fn code_form(
    State(store): State<Store>,
    State(cookies): State<CookiePolicy>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, StaffError> {
    let now = chrono::Utc::now().timestamp_millis();
    let Some(session) = awaiting(&store, &headers, cookies, now).await? else {
        return Ok(see_other("/staff/login?expired=1"));
    };
    Ok(page(&CodePage {
        csrf: &session.csrf_token,
        next: safe_next(&q.next),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn code_submit(
    State(store): State<Store>,
    State(cookies): State<CookiePolicy>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, StaffError> {
    // Public (the session is not yet a full one): the guard's cross-site rule here.
    if let Some(refusal) = crate::staff::guard::refuse_cross_site(&headers) {
        return Ok(refusal);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let Some(session) = awaiting(&store, &headers, cookies, now).await? else {
        return Err(StaffError::Unauthorized(
            "The sign-in waited too long for its code. Sign in again.",
        ));
    };
    if form.csrf.is_empty() || !crate::kernel::ids::same_secret(&form.csrf, &session.csrf_token) {
        return Err(StaffError::Csrf);
    }
    let refuse = |message: &'static str, status: StatusCode| {
        let mut response = page(&CodePage {
            csrf: &session.csrf_token,
            next: safe_next(&form.next),
            error: Some(message),
        });
        *response.status_mut() = status;
        response
    };
    let key = format!("second-factor:{}", session.account.id);
    let Ok(attempt) = store
        .take_attempt(&[(&key, MAX_WRONG_CODES)], now - WINDOW_MS, now)
        .await?
    else {
        tracing::warn!(account = %session.account.email, client = %client.0, "second factor throttled");
        return Ok(refuse(
            "Too many wrong codes. Wait 15 minutes, or ask an admin to help.",
            StatusCode::TOO_MANY_REQUESTS,
        ));
    };
    let used = verify_code(
        &store,
        &session.account.id,
        form.code.trim(),
        now,
        CodeKind::AppOrRecovery,
    )
    .await?;
    let Some(used) = used else {
        tracing::warn!(account = %session.account.email, client = %client.0, "wrong second-factor code");
        return Ok(refuse(
            "That code is not right, or was used already. Type the six digits your authenticator app shows now, or one of your recovery codes.",
            StatusCode::UNAUTHORIZED,
        ));
    };
    store.forget_attempts(&attempt).await?;
    // The waiting session is replaced by a full one with a new token.
    store.delete_session(session.token_hash()).await?;
    let token = session::start(&store, &session.account.id, now, false).await?;
    if used == Used::RecoveryCode {
        let mut tx = store.begin_write().await.map_err(StoreError::from)?;
        audit_own(&mut tx, &session, "account.recovery-code").await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    tracing::info!(account = %session.account.email, client = %client.0, ?used, "staff signed in");
    let next = if used == Used::RecoveryCode {
        "/staff/two-factor?recovered=1"
    } else {
        safe_next(&form.next)
    };
    let mut response = see_other(next);
    session::append_cookie(
        response.headers_mut(),
        session::set_cookie(SESSION_COOKIE, Some(&token), cookies.secure),
    );
    Ok(response)
}

/// New recovery codes (shown once) and what is stored of them.
fn recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes = totp::new_recovery_codes();
    let hashes = codes.iter().map(|c| totp::recovery_code_hash(c)).collect();
    (codes, hashes)
}

/// The audit entry of a change a member made to their own second factor.
async fn audit_own(
    tx: &mut sqlx::AnyConnection,
    session: &StaffSession,
    action: &str,
) -> Result<(), StoreError> {
    audit::append(
        tx,
        &session.actor(),
        action,
        &session.account.email,
        None,
        None,
    )
    .await
}

// --- the enrolment page ------------------------------------------------------

#[derive(Template)]
#[template(path = "staff/two_factor.html")]
struct TwoFactorPage {
    frame: Frame,
    enabled_at: Option<String>,
    codes_left: i64,
    required: bool,
    /// Not yet on: the secret being enrolled, grouped, and its QR code.
    secret: String,
    qr_svg: String,
    otpauth: String,
    /// Recovery codes, shown this once.
    new_codes: Vec<String>,
    recovered: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TwoFactorQuery {
    #[serde(default)]
    recovered: Option<String>,
}

async fn two_factor_page(
    store: &Store,
    session: &StaffSession,
    new_codes: Vec<String>,
    recovered: bool,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let mut record = store.totp(&session.account.id).await?;
    if record.secret.is_none() && record.pending_secret.is_none() {
        // The secret to enrol is made when the page is first shown and kept
        // until a code confirms it, so a reload shows the same QR code.
        let secret = totp::new_secret();
        store
            .set_totp_pending(&session.account.id, Some(&secret))
            .await?;
        record.pending_secret = Some(secret);
    }
    let (secret, qr_svg, otpauth) = match (&record.secret, &record.pending_secret) {
        (None, Some(pending)) => {
            let uri = totp::otpauth_uri(ISSUER, &session.account.email, pending);
            (
                totp::grouped(pending),
                totp::qr_svg(&uri).unwrap_or_default(),
                uri,
            )
        }
        _ => Default::default(),
    };
    let failed = error.is_some();
    Ok(form_page(
        &TwoFactorPage {
            frame: Frame::new(session, ""),
            enabled_at: record.enabled_at.map(utc),
            codes_left: record.recovery_codes_left,
            required: session.roles.need_second_factor(),
            secret,
            qr_svg,
            otpauth,
            new_codes,
            recovered,
            error,
        },
        failed,
    ))
}

pub async fn form(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<TwoFactorQuery>,
) -> Result<Response, StaffError> {
    two_factor_page(&store, &session, Vec::new(), q.recovered.is_some(), None).await
}

#[derive(Deserialize)]
pub struct TwoFactorForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    step_up: String,
}

/// `action=confirm` (with the first `code`) turns it on; `action=recovery`
/// makes new recovery codes; `action=off` turns it off where the roles
/// allow. The last two need a step-up.
pub async fn submit(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Form(form): Form<TwoFactorForm>,
) -> Result<Response, StaffError> {
    let now = chrono::Utc::now().timestamp_millis();
    let id = session.account.id.clone();
    match form.action.as_str() {
        "confirm" => {
            crate::staff::step_up::confirm(&store, &session, &form.step_up, now).await?;
            let record = store.totp(&id).await?;
            let Some(pending) = record.pending_secret.filter(|_| record.secret.is_none()) else {
                return two_factor_page(
                    &store,
                    &session,
                    Vec::new(),
                    false,
                    Some("Two-step sign-in is on already.".into()),
                )
                .await;
            };
            let Some(step) = totp::accepted_step(&pending, form.code.trim(), now / 1000, None)
            else {
                return two_factor_page(&store, &session, Vec::new(), false, Some(
                    "Code: that is not the code your app shows for this account now. Check that the phone's clock is right and type the six digits again.".into(),
                ))
                .await;
            };
            let (codes, hashes) = recovery_codes();
            let mut tx = store.begin_write().await.map_err(StoreError::from)?;
            crate::store::staff::enable_totp(&mut tx, &id, &pending, step, &hashes, now).await?;
            audit_own(&mut tx, &session, "account.second-factor.on").await?;
            tx.commit().await.map_err(StoreError::from)?;
            two_factor_page(&store, &session, codes, false, None).await
        }
        "recovery" => {
            crate::staff::step_up::confirm(&store, &session, &form.step_up, now).await?;
            if !session.account.totp_enabled {
                return Err(StaffError::BadInput(
                    "Two-step sign-in is off: turn it on first.".into(),
                ));
            }
            let (codes, hashes) = recovery_codes();
            let mut tx = store.begin_write().await.map_err(StoreError::from)?;
            crate::store::staff::set_recovery_codes(&mut tx, &id, &hashes).await?;
            audit_own(&mut tx, &session, "account.recovery-codes").await?;
            tx.commit().await.map_err(StoreError::from)?;
            two_factor_page(&store, &session, codes, false, None).await
        }
        "off" => {
            if session.roles.need_second_factor() {
                return Err(StaffError::BadInput(
                    "Admins and finance must sign in with two steps; it cannot be turned off for your roles.".into(),
                ));
            }
            crate::staff::step_up::confirm(&store, &session, &form.step_up, now).await?;
            let mut tx = store.begin_write().await.map_err(StoreError::from)?;
            crate::store::staff::disable_totp(&mut tx, &id, Some(session.token_hash())).await?;
            audit_own(&mut tx, &session, "account.second-factor.off").await?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(see_other("/staff/two-factor"))
        }
        other => Err(StaffError::BadInput(format!(
            "action: {other:?} is not one of confirm, recovery, off"
        ))),
    }
}

/// For an admin: a staff member lost their phone and recovery codes. Their
/// second factor is removed (they enrol again at their next sign-in) and
/// their sessions end.
pub async fn reset_for(
    tx: &mut sqlx::AnyConnection,
    actor: &crate::kernel::audit::Actor,
    account: &crate::store::staff::StaffAccountRecord,
) -> Result<(), StoreError> {
    crate::store::staff::disable_totp(tx, &account.id, None).await?;
    audit::append(
        tx,
        actor,
        "account.second-factor.reset",
        &account.email,
        Some(&json!({ "second_factor": account.totp_enabled })),
        Some(&json!({ "second_factor": false })),
    )
    .await?;
    Ok(())
}
