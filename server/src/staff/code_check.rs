//! Checking a typed second-factor answer: a TOTP code (each time step
//! once) or, where allowed, a recovery code (each once). Used by the code
//! page at sign-in and by step-up.

use crate::staff::totp;
use crate::store::{Store, StoreError};

/// Which answers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// A code from the app or, at sign-in, a recovery code.
    AppOrRecovery,
    /// Only the app's code (step-up: a recovery code is for a lost phone).
    AppOnly,
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    App,
    RecoveryCode,
}

/// Checks a typed code against the account's TOTP secret (each step once)
/// or, when allowed, its unused recovery codes (each once).
pub async fn verify_code(
    store: &Store,
    account_id: &str,
    typed: &str,
    now_ms: i64,
    kind: CodeKind,
) -> Result<Option<Used>, StoreError> {
    let record = store.totp(account_id).await?;
    let Some(secret) = record.secret else {
        return Ok(None);
    };
    if totp::looks_like_code(typed) {
        let step = totp::accepted_step(&secret, typed, now_ms / 1000, record.last_step);
        return Ok(match step {
            Some(step) if store.use_totp_step(account_id, step).await? => Some(Used::App),
            _ => None,
        });
    }
    if kind == CodeKind::AppOrRecovery
        && store
            .use_recovery_code(account_id, &totp::recovery_code_hash(typed), now_ms)
            .await?
    {
        return Ok(Some(Used::RecoveryCode));
    }
    Ok(None)
}
