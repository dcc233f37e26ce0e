//! Customer sign-in by e-mail link.
//!
//! `/me` asks for an address and always answers the same, known or not;
//! a known customer is mailed a link valid for [`LINK_MS`], once. Only the
//! link's SHA-256 is stored. Opening the link shows a button (mail
//! scanners open links; only the POST signs in), which starts a customer
//! session: a cookie of its own, apart from staff sessions.
//!
//! Limits count every request, known address or not, so they reveal
//! nothing either: per address ([`PER_ADDRESS_INTERVAL_MS`],
//! [`PER_ADDRESS_PER_HOUR`]) and per client address ([`PER_CLIENT_PER_HOUR`]).

use sha2::{Digest, Sha256};

use crate::kernel::ids::{hex, random_token};
use crate::kernel::texts::lang_for_locale;
use crate::store::customer_access as table;
use crate::store::outbox::{self, NewMessage};
use crate::store::{Store, StoreError};

/// A link works for 15 minutes.
pub const LINK_MS: i64 = 15 * 60 * 1000;
/// A customer session lasts a week at most...
pub const SESSION_MS: i64 = 7 * 24 * 3_600_000;
/// ...and ends after this long unused (a shared or lost device).
pub const SESSION_IDLE_MS: i64 = 4 * 3_600_000;
/// `last_seen_at` is written at most this often, not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;
/// One link per address per minute...
pub const PER_ADDRESS_INTERVAL_MS: i64 = 60 * 1000;
/// ...and five an hour...
pub const PER_ADDRESS_PER_HOUR: usize = 5;
/// ...and twenty an hour from one client address (someone trying many addresses).
pub const PER_CLIENT_PER_HOUR: i64 = 20;
const HOUR_MS: i64 = 3_600_000;
/// Several customer accounts may share an address; each gets its link, up to this many.
const ACCOUNTS_PER_ADDRESS: i64 = 5;
/// The outbox kind of sign-in mail.
pub const KIND: &str = "customer_sign_in";
pub const COOKIE: &str = "plaster_customer";

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("email: {0:?} is not an e-mail address")]
    Email(String),
    #[error(
        "email: a link was sent to this address a moment ago; try again in {wait_seconds} seconds"
    )]
    TooSoon { wait_seconds: i64 },
    #[error("email: this address has had {PER_ADDRESS_PER_HOUR} links in the last hour; try again later")]
    TooManyForAddress,
    #[error("too many sign-in requests from your network; try again in an hour")]
    TooManyFromClient,
    #[error("rendering the sign-in mail: {0}")]
    Render(#[from] askama::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Refuses a request over the limits (`sent`: this address's requests of
/// the last hour, oldest first; `from_client`: the client's in the hour).
fn check_limits(sent: &[i64], from_client: i64, now: i64) -> Result<(), SignInError> {
    if from_client >= PER_CLIENT_PER_HOUR {
        return Err(SignInError::TooManyFromClient);
    }
    if sent.len() >= PER_ADDRESS_PER_HOUR {
        return Err(SignInError::TooManyForAddress);
    }
    match sent.last() {
        Some(&last) if now - last < PER_ADDRESS_INTERVAL_MS => Err(SignInError::TooSoon {
            wait_seconds: (PER_ADDRESS_INTERVAL_MS - (now - last) + 999) / 1000,
        }),
        _ => Ok(()),
    }
}

/// Where sign-in links point and what they are signed with.
pub struct LinkSettings<'a> {
    pub public_url: &'a str,
    pub mail_domain: &'a str,
    pub page_name: &'a str,
}

/// Asks for a link for `email` from `client`. The answer is the same for
/// an unknown address (nothing is sent); both are counted for the limits.
pub async fn request_link(
    store: &Store,
    email: &str,
    client: &str,
    settings: &LinkSettings<'_>,
) -> Result<(), SignInError> {
    let email = crate::notify::email::parse_address(email)
        .ok_or_else(|| SignInError::Email(email.to_string()))?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    // Requests for one address or from one client wait for each other, so
    // requests sent at once cannot all pass the limits counted below.
    store
        .lock_keys(
            &mut tx,
            &[&format!("link-to:{email}"), &format!("link-from:{client}")],
        )
        .await?;
    table::purge(&mut tx, now - 24 * HOUR_MS, now).await?;
    let sent = table::requests_for_email(&mut tx, &email, now - HOUR_MS).await?;
    let from_client = table::requests_from_client(&mut tx, client, now - HOUR_MS).await?;
    check_limits(&sent, from_client, now)?;
    table::record_request(&mut tx, &email, client, now).await?;
    let customers = sqlx::query_as::<_, (String, String)>(
        "SELECT customer_id, locale FROM customers WHERE email = $1 ORDER BY customer_id LIMIT $2",
    )
    .bind(&email)
    .bind(ACCOUNTS_PER_ADDRESS)
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    for (customer_id, locale) in customers {
        let token = random_token();
        let token_hash = hash_token(&token);
        table::insert_link(&mut tx, &token_hash, &customer_id, now, now + LINK_MS).await?;
        let lang = lang_for_locale(&locale);
        let url = format!(
            "{}/me/link?token={token}&lang={}",
            settings.public_url,
            lang.code()
        );
        let mail = crate::notify::email::sign_in_link(
            lang,
            settings.page_name,
            &url,
            (LINK_MS / 60_000) as u32,
        )?;
        outbox::enqueue(
            &mut tx,
            &NewMessage {
                id: format!("sign-in-{}", &token_hash[..24]),
                kind: KIND.into(),
                recipient: email.clone(),
                subject: mail.subject,
                body_text: mail.text,
                body_html: mail.html,
                unsubscribe_url: None,
            },
            settings.mail_domain,
            now,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// What a link's token is good for now.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkState {
    Usable,
    /// Unknown, used or expired: the page says so in the same words.
    Unusable,
}

pub async fn link_state(store: &Store, token: &str) -> Result<LinkState, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    Ok(match table::link(store, &hash_token(token)).await? {
        Some(l) if l.used_at.is_none() && l.expires_at > now => LinkState::Usable,
        _ => LinkState::Unusable,
    })
}

/// Uses the link and starts a session; returns the session's cookie
/// token, or `None` when the link is unknown, used or expired.
pub async fn sign_in(store: &Store, token: &str) -> Result<Option<String>, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let hash = hash_token(token);
    let Some(link) = table::link(store, &hash).await? else {
        return Ok(None);
    };
    let mut tx = store.begin_write().await?;
    if !table::use_link(&mut tx, &hash, now).await? {
        return Ok(None);
    }
    let session = random_token();
    table::insert_session(
        &mut tx,
        &hash_token(&session),
        &link.customer_id,
        &random_token(),
        now,
        now + SESSION_MS,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(session))
}

/// The signed-in customer behind a cookie token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSession {
    pub customer_id: String,
    pub csrf_token: String,
    token_hash: String,
}

impl CustomerSession {
    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }
}

pub async fn session(store: &Store, token: &str) -> Result<Option<CustomerSession>, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let token_hash = hash_token(token);
    let Some((customer_id, csrf_token, last_seen)) =
        table::session(store, &token_hash, now, now - SESSION_IDLE_MS).await?
    else {
        return Ok(None);
    };
    if now - last_seen >= TOUCH_EVERY_MS {
        table::touch_session(store, &token_hash, now).await?;
    }
    Ok(Some(CustomerSession {
        customer_id,
        csrf_token,
        token_hash,
    }))
}

pub async fn sign_out(store: &Store, session: &CustomerSession) -> Result<(), StoreError> {
    table::delete_session(store, &session.token_hash).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn limits_per_address_and_per_client() {
        let now = 100 * MINUTE;
        assert!(check_limits(&[], 0, now).is_ok());
        assert!(matches!(
            check_limits(&[now - 20_000], 0, now),
            Err(SignInError::TooSoon { wait_seconds: 40 })
        ));
        assert!(check_limits(&[now - MINUTE], 0, now).is_ok());
        let five: Vec<i64> = (1..=5).rev().map(|m| now - m * 5 * MINUTE).collect();
        assert!(matches!(
            check_limits(&five, 0, now),
            Err(SignInError::TooManyForAddress)
        ));
        assert!(matches!(
            check_limits(&[], PER_CLIENT_PER_HOUR, now),
            Err(SignInError::TooManyFromClient)
        ));
    }
}
