//! Staff sessions: a random token in an HttpOnly cookie, its SHA-256 in the
//! database with a CSRF token, idle and absolute expiry.

use axum::http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use crate::kernel::audit::Actor;
use crate::kernel::ids::{random_token, AccountId};
use crate::staff::roles::Roles;
use crate::staff::route::Menu;
use crate::store::staff::StaffAccountRecord;
use crate::store::{Store, StoreError};

pub const SESSION_COOKIE: &str = "plaster_session";
/// Double-submit token for the sign-in form, before any session exists.
pub const LOGIN_CSRF_COOKIE: &str = "plaster_login_csrf";
/// An outage can keep someone on one page for a while; two hours without a
/// request ends the session.
pub const IDLE_MS: i64 = 2 * 3_600_000;
/// However active, a session ends after twelve hours (about one shift).
pub const ABSOLUTE_MS: i64 = 12 * 3_600_000;
/// How long one step-up confirmation counts.
pub const STEP_UP_COUNTS_MS: i64 = 10 * 60_000;
/// `last_seen_at` is written at most this often, not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Only the hash of a session token is stored.
fn hash_token(token: &str) -> String {
    crate::kernel::ids::hex(&Sha256::digest(token.as_bytes()))
}

/// The signed-in staff member behind a request.
#[derive(Debug, Clone)]
pub struct StaffSession {
    token_hash: String,
    pub account: StaffAccountRecord,
    pub roles: Roles,
    pub csrf_token: String,
    /// When the member last confirmed it was them (see `staff::step_up`).
    pub stepped_up_at: Option<i64>,
    /// The console menu, set by the guard from the route table.
    pub menu: Menu,
}

impl StaffSession {
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            id: AccountId::from(self.account.id.as_str()),
            email: self.account.email.clone(),
        }
    }

    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }

    /// Whether the member confirmed it was them recently enough for a
    /// change that hands out access (see `staff::step_up`).
    pub fn is_confirmed(&self, now: i64) -> bool {
        self.stepped_up_at
            .is_some_and(|at| now - at < STEP_UP_COUNTS_MS)
    }
}

/// The staff session cookie: scoped to `/staff` over plain HTTP, `__Host-`
/// over HTTPS (see [`crate::kernel::cookies`]).
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> Option<HeaderValue> {
    crate::kernel::cookies::set(name, value, secure, "/staff")
}

pub use crate::kernel::cookies::append as append_cookie;

#[derive(Debug, PartialEq, Eq)]
pub enum SessionState {
    Valid,
    /// Existed but timed out; the reader is told so rather than just "sign in".
    Expired,
    /// The password was right; the second factor's code has not come yet.
    AwaitingCode,
}

/// Looks up the session a request carries. Expired sessions are deleted.
pub async fn from_headers(
    store: &Store,
    headers: &HeaderMap,
    secure: bool,
    now: i64,
) -> Result<Option<(StaffSession, SessionState)>, StoreError> {
    let Some(token) = crate::kernel::cookies::value(headers, SESSION_COOKIE, secure) else {
        return Ok(None);
    };
    let token_hash = hash_token(&token);
    let Some(record) = store.session(&token_hash).await? else {
        return Ok(None);
    };
    let awaiting_code = record.awaiting_code;
    let expired = now >= record.expires_at
        || now - record.last_seen_at >= IDLE_MS
        || now - record.created_at >= ABSOLUTE_MS
        || record.account.disabled;
    let session = StaffSession {
        roles: Roles::from_stored(&record.account.roles),
        account: record.account,
        csrf_token: record.csrf_token,
        stepped_up_at: record.stepped_up_at,
        token_hash,
        menu: Menu::default(),
    };
    if expired {
        store.delete_session(&session.token_hash).await?;
        return Ok(Some((session, SessionState::Expired)));
    }
    if awaiting_code {
        return Ok(Some((session, SessionState::AwaitingCode)));
    }
    if now - record.last_seen_at >= TOUCH_EVERY_MS {
        store.touch_session(&session.token_hash, now).await?;
    }
    Ok(Some((session, SessionState::Valid)))
}

/// How long a right password waits for its second factor's code.
pub const CODE_WAIT_MS: i64 = 10 * 60_000;

/// Starts a session; returns the cookie token (shown to the browser only).
/// A session `awaiting_code` opens only the code page, for
/// [`CODE_WAIT_MS`]; the code replaces it with a full one (a new token, so
/// a token seen before the second factor is worth nothing after it).
pub async fn start(
    store: &Store,
    account_id: &str,
    now: i64,
    awaiting_code: bool,
) -> Result<String, StoreError> {
    let token = random_token();
    let expires_at = now
        + if awaiting_code {
            CODE_WAIT_MS
        } else {
            ABSOLUTE_MS
        };
    store
        .insert_session(
            &hash_token(&token),
            account_id,
            &random_token(),
            now,
            expires_at,
            awaiting_code,
        )
        .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_whole() {
        use crate::kernel::ids::same_secret;
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
    }
}
