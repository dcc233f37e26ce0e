//! Staff sessions: a random token in an HttpOnly cookie, its SHA-256 in the
//! database with a CSRF token, idle and absolute expiry.

use axum::http::header::{COOKIE, SET_COOKIE};
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
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| cookie::Cookie::parse(pair.trim().to_string()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` for a staff cookie: HttpOnly, SameSite=Lax, scoped to
/// `/staff`, `Secure` when Plaster is served over HTTPS. `None` deletes it.
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> Option<HeaderValue> {
    let mut c = cookie::Cookie::build((name, value.unwrap_or("").to_string()))
        .path("/staff")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure);
    if value.is_none() {
        c = c.max_age(cookie::time::Duration::ZERO);
    }
    HeaderValue::from_str(&c.build().to_string()).ok()
}

pub fn append_cookie(headers: &mut HeaderMap, cookie: Option<HeaderValue>) {
    if let Some(cookie) = cookie {
        headers.append(SET_COOKIE, cookie);
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SessionState {
    Valid,
    /// Existed but timed out; the reader is told so rather than just "sign in".
    Expired,
}

/// Looks up the session a request carries. Expired sessions are deleted.
pub async fn from_headers(
    store: &Store,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<(StaffSession, SessionState)>, StoreError> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let token_hash = hash_token(&token);
    let Some(record) = store.session(&token_hash).await? else {
        return Ok(None);
    };
    let expired = now >= record.expires_at
        || now - record.last_seen_at >= IDLE_MS
        || now - record.created_at >= ABSOLUTE_MS
        || record.account.disabled;
    let session = StaffSession {
        roles: Roles::from_stored(&record.account.roles),
        account: record.account,
        csrf_token: record.csrf_token,
        token_hash,
        menu: Menu::default(),
    };
    if expired {
        store.delete_session(&session.token_hash).await?;
        return Ok(Some((session, SessionState::Expired)));
    }
    if now - record.last_seen_at >= TOUCH_EVERY_MS {
        store.touch_session(&session.token_hash, now).await?;
    }
    Ok(Some((session, SessionState::Valid)))
}

/// Starts a session; returns the cookie token (shown to the browser only).
pub async fn start(store: &Store, account_id: &str, now: i64) -> Result<String, StoreError> {
    let token = random_token();
    store
        .insert_session(
            &hash_token(&token),
            account_id,
            &random_token(),
            now,
            now + ABSOLUTE_MS,
        )
        .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_on_https() {
        let c = set_cookie(SESSION_COOKIE, Some("abc"), true).expect("cookie");
        let c = c.to_str().expect("ascii");
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"),
            "{c}"
        );
        let c = set_cookie(SESSION_COOKIE, Some("abc"), false).expect("cookie");
        assert!(!c.to_str().expect("ascii").contains("Secure"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; plaster_session=tok; b=2"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        use crate::kernel::ids::same_secret;
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("a", "ab"));
    }
}
