//! Step-up: before the changes that hand out power (adding staff, changing
//! roles, adding webhooks and the payout endpoint, turning off or renewing
//! one's second factor) the member proves again that it is them, with
//! their password or a code from their authenticator app. A session that
//! just did so counts as confirmed for [`crate::staff::session::STEP_UP_COUNTS_MS`], so an admin adding
//! three accounts types it once, while a session left open on someone's
//! desk (or a stolen cookie) cannot.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use crate::staff::code_check::{verify_code, CodeKind};
use crate::staff::error::StaffError;
use crate::staff::page::safe_next;
use crate::staff::page::see_other;
use crate::staff::password::{argon2_work, verify_password};
use crate::staff::session::StaffSession;
use crate::store::Store;

/// The form field that carries the password or code.
pub const FIELD: &str = "step_up";
/// Wrong confirmations per member before the form waits out the window.
const MAX_WRONG: i64 = 5;
const WINDOW_MS: i64 = 15 * 60_000;

const NEEDED: &str = "Confirm it is you first: type your password or a code from your authenticator app in “Your password or code”, then send the form again. What you typed was not saved.";
const WRONG: &str = "Confirm it is you: that is neither your password nor a current code from your authenticator app. Nothing was changed.";
const TOO_MANY: &str =
    "Too many wrong confirmations. Wait 15 minutes, or ask another admin to make the change.";

/// Passes when the session confirmed recently, or `typed` is the member's
/// password or a current TOTP code (then the session counts as confirmed
/// from now). Wrong answers are throttled per member.
pub async fn confirm(
    store: &Store,
    session: &StaffSession,
    typed: &str,
    now: i64,
) -> Result<(), StaffError> {
    if session.is_confirmed(now) {
        return Ok(());
    }
    if typed.is_empty() {
        return Err(StaffError::StepUp(NEEDED));
    }
    let key = format!("step-up:{}", session.account.id);
    let Ok(attempt) = store
        .take_attempt(&[(&key, MAX_WRONG)], now - WINDOW_MS, now)
        .await?
    else {
        tracing::warn!(account = %session.account.email, "step-up throttled");
        return Err(StaffError::StepUp(TOO_MANY));
    };
    let by_code = session.account.totp_enabled
        && verify_code(store, &session.account.id, typed, now, CodeKind::AppOnly)
            .await?
            .is_some();
    let right = by_code || {
        let hash = store
            .staff_for_sign_in(&session.account.email)
            .await?
            .map(|(_, hash)| hash);
        match hash {
            Some(hash) => {
                let typed = typed.to_string();
                argon2_work(store.password_work(), move || {
                    verify_password(&typed, &hash)
                })
                .await?
            }
            None => false,
        }
    };
    if !right {
        tracing::warn!(account = %session.account.email, "wrong step-up confirmation");
        return Err(StaffError::StepUp(WRONG));
    }
    store.forget_attempts(&attempt).await?;
    store.step_up_session(session.token_hash(), now).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct StepUpForm {
    #[serde(default)]
    step_up: String,
}

#[derive(Deserialize, Default)]
pub struct Back {
    #[serde(default)]
    next: String,
}

/// `POST /staff/step-up?next=/staff/accounts`: the confirmation box on the
/// pages with dangerous forms; back to the page, confirmed.
pub async fn submit(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(back): Query<Back>,
    Form(form): Form<StepUpForm>,
) -> Result<Response, StaffError> {
    let now = chrono::Utc::now().timestamp_millis();
    confirm(&store, &session, &form.step_up, now).await?;
    Ok(see_other(safe_next(&back.next)))
}
