//! E-mail subscribers: double opt-in, a choice of components and language,
//! one-click unsubscribe and a manage link, all keyed by a random token.
//!
//! A token lives as long as the subscription it opens (#15.8): a
//! confirmation link for a week, a confirmed subscription's links until it
//! ends (every notification carries them, so they cannot expire sooner
//! without breaking the unsubscribe link of the last mail), and none at all
//! once unsubscribed. Subscribing again issues a new one.

use app::dto::Lang;
use sha2::{Digest, Sha256};

use crate::store::outbox::{self, NewMessage};
use crate::store::status::component_is_public;
use crate::store::subscribers::{self, Subscriber};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("email: {0:?} is not an e-mail address")]
    Email(String),
    #[error("component: unknown component {0:?}")]
    Component(String),
    #[error("component: {0} chosen, but a subscription lists at most {MAX_CHOSEN}")]
    TooManyComponents(usize),
    /// A mail went to this address less than [`MAIL_INTERVAL_MS`] ago.
    #[error("email: a message was sent to this address {ago_minutes} minutes ago; try again in {wait_minutes} minutes")]
    TooSoon { ago_minutes: i64, wait_minutes: i64 },
    /// [`MAILS_PER_DAY`] mails went to this address in the last 24 hours.
    #[error("email: this address has had {MAILS_PER_DAY} messages from this form today; try again tomorrow")]
    TooMany,
    #[error("rendering the confirmation: {0}")]
    Render(#[from] askama::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the links in subscriber mail point.
pub struct Links<'a> {
    pub public_url: &'a str,
    pub mail_domain: &'a str,
    pub page_name: &'a str,
}

impl Links<'_> {
    pub fn confirm(&self, token: &str) -> String {
        format!("{}/subscribe/confirm?token={token}", self.public_url)
    }
    pub fn unsubscribe(&self, token: &str) -> String {
        format!("{}/unsubscribe?token={token}", self.public_url)
    }
    pub fn manage(&self, token: &str) -> String {
        format!("{}/subscriptions?token={token}", self.public_url)
    }
}

/// The form mails an address at most once per 10 minutes...
pub const MAIL_INTERVAL_MS: i64 = 10 * 60 * 1000;
/// ...and at most this many times a day, so nobody can use it to flood an
/// inbox from the operator's domain.
pub const MAILS_PER_DAY: usize = 5;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A subscription never confirmed is forgotten after a week.
pub const UNCONFIRMED_KEPT_MS: i64 = 7 * DAY_MS;
/// What the form sends: a confirmation, or a confirmed owner's manage link.
const FORM_MAIL_KINDS: [&str; 2] = ["subscribe_confirm", "subscribe_manage"];

/// Whether a link carrying `s`'s token still opens it at `now`. A pending
/// subscription's row is forgotten after [`UNCONFIRMED_KEPT_MS`], but only
/// when the form is next used; its link stops at that age regardless.
pub fn link_works(s: &Subscriber, now: i64) -> bool {
    match s.state.as_str() {
        "confirmed" => true,
        "pending" => now - s.created_at < UNCONFIRMED_KEPT_MS,
        // Unsubscribed rows hold a token nobody was given; one unsubscribed
        // before tokens rotated still holds the mailed one, and opens nothing.
        _ => false,
    }
}

/// A new token for a subscription that ended: stored in place of the one
/// its links carried, and given to nobody.
pub fn retired_token() -> String {
    crate::kernel::ids::random_token()
}

/// Refuses a mail to an address that had one from the form just now, or
/// too many today (`sent`: when, oldest first, within the last day).
fn check_limits(sent: &[i64], now: i64) -> Result<(), SubscribeError> {
    if sent.len() >= MAILS_PER_DAY {
        return Err(SubscribeError::TooMany);
    }
    match sent.last() {
        Some(&last) if now - last < MAIL_INTERVAL_MS => {
            let minute = 60 * 1000;
            Err(SubscribeError::TooSoon {
                ago_minutes: (now - last) / minute,
                wait_minutes: (MAIL_INTERVAL_MS - (now - last) + minute - 1) / minute,
            })
        }
        _ => Ok(()),
    }
}

/// More components than any status page lists: a longer list is refused
/// before a single one is looked up (#15.7).
pub const MAX_CHOSEN: usize = 100;

/// Refuses a list of chosen components longer than [`MAX_CHOSEN`].
pub fn check_chosen(components: &[String]) -> Result<(), SubscribeError> {
    if components.len() > MAX_CHOSEN {
        return Err(SubscribeError::TooManyComponents(components.len()));
    }
    Ok(())
}

/// Records a pending subscription and queues the confirmation, in one
/// transaction. Asking again re-sends the confirmation with a fresh token,
/// within the limits above. A confirmed subscription is left exactly as it
/// is: only its owner may change it, so the owner is mailed the manage
/// link instead (and the page answers the same, revealing nothing).
/// Hidden components are refused like unknown ones.
pub async fn subscribe(
    store: &Store,
    email: &str,
    lang: Lang,
    components: &[String],
    links: &Links<'_>,
) -> Result<(), SubscribeError> {
    let email = crate::notify::email::parse_address(email)
        .ok_or_else(|| SubscribeError::Email(email.to_string()))?;
    check_chosen(components)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    for c in components {
        if !component_is_public(&mut tx, c).await? {
            return Err(SubscribeError::Component(c.clone()));
        }
    }
    subscribers::purge_unconfirmed(&mut tx, now - UNCONFIRMED_KEPT_MS).await?;
    let sent = outbox::queued_to_since(&mut tx, &email, &FORM_MAIL_KINDS, now - DAY_MS).await?;
    check_limits(&sent, now)?;
    let existing = subscribers::by_email(&mut tx, &email).await?;
    let token = crate::kernel::ids::random_token();
    let id = match existing {
        Some(s) if s.state == "confirmed" => {
            let mail = crate::notify::email::manage_subscription(
                s.lang,
                links.page_name,
                &links.manage(&s.token),
            )?;
            outbox::enqueue(
                &mut tx,
                &NewMessage {
                    id: format!("manage-{}-{now}", s.id),
                    kind: "subscribe_manage".into(),
                    recipient: email,
                    subject: mail.subject,
                    body_text: mail.text,
                    body_html: mail.html,
                    unsubscribe_url: Some(links.unsubscribe(&s.token)),
                },
                links.mail_domain,
                now,
            )
            .await?;
            tx.commit().await.map_err(StoreError::from)?;
            return Ok(());
        }
        Some(s) => {
            subscribers::renew_pending(&mut tx, &s.id, lang, components, &token, now).await?;
            s.id
        }
        None => {
            let id = crate::kernel::ids::new_id();
            subscribers::insert_pending(&mut tx, &id, &email, lang, components, &token, now)
                .await?;
            id
        }
    };
    let mail =
        crate::notify::email::confirm_subscription(lang, links.page_name, &links.confirm(&token))?;
    outbox::enqueue(
        &mut tx,
        &NewMessage {
            // One confirmation per token: asking twice sends twice, on
            // purpose. By the token's hash: the id is shown in Sent mail.
            id: format!("confirm-{id}-{}", token_tag(&token)),
            kind: "subscribe_confirm".into(),
            recipient: email,
            subject: mail.subject,
            body_text: mail.text,
            body_html: mail.html,
            unsubscribe_url: None,
        },
        links.mail_domain,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Twelve hex digits of the token's SHA-256: tells its messages apart
/// without telling anything of the token.
fn token_tag(token: &str) -> String {
    let mut tag = crate::kernel::ids::hex(&Sha256::digest(token.as_bytes()));
    tag.truncate(12);
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn links_live_as_long_as_their_subscription() {
        let now = 100 * UNCONFIRMED_KEPT_MS;
        let s = |state: &str, asked: i64| Subscriber {
            id: "s".into(),
            email: "a@example.se".into(),
            lang: Lang::En,
            components: vec![],
            state: state.into(),
            token: "t".into(),
            created_at: asked,
        };
        assert!(link_works(
            &s("pending", now - UNCONFIRMED_KEPT_MS + 1),
            now
        ));
        assert!(!link_works(&s("pending", now - UNCONFIRMED_KEPT_MS), now));
        assert!(link_works(&s("confirmed", 0), now));
        assert!(!link_works(&s("unsubscribed", now), now));
        assert_ne!(retired_token(), retired_token());
        assert_eq!(token_tag("abc").len(), 12);
    }

    #[test]
    fn one_mail_per_ten_minutes_and_five_a_day() {
        let now = 1_000 * MINUTE;
        assert!(check_limits(&[], now).is_ok());
        assert!(matches!(
            check_limits(&[now - 3 * MINUTE], now),
            Err(SubscribeError::TooSoon {
                ago_minutes: 3,
                wait_minutes: 7
            })
        ));
        assert!(check_limits(&[now - 10 * MINUTE], now).is_ok());
        let four: Vec<i64> = (1..=4).rev().map(|h| now - h * 60 * MINUTE).collect();
        assert!(check_limits(&four, now).is_ok());
        let five: Vec<i64> = (1..=5).rev().map(|h| now - h * 60 * MINUTE).collect();
        assert!(matches!(
            check_limits(&five, now),
            Err(SubscribeError::TooMany)
        ));
    }
}
