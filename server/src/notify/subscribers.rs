//! E-mail subscribers: double opt-in, a choice of components and language,
//! one-click unsubscribe and a manage link, all keyed by a random token.

use app::dto::Lang;

use crate::store::outbox::{self, NewMessage};
use crate::store::status::component_exists;
use crate::store::subscribers;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("email: {0:?} is not an e-mail address")]
    Email(String),
    #[error("component: unknown component {0:?}")]
    Component(String),
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
}

/// Records a pending subscription and queues the confirmation, in one
/// transaction. Asking again re-sends the confirmation with a fresh token;
/// a confirmed address is left as it is (its owner gets the link again).
pub async fn subscribe(
    store: &Store,
    email: &str,
    lang: Lang,
    components: &[String],
    links: &Links<'_>,
) -> Result<(), SubscribeError> {
    let email = crate::notify::email::parse_address(email)
        .ok_or_else(|| SubscribeError::Email(email.to_string()))?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    for c in components {
        if !component_exists(&mut tx, c).await? {
            return Err(SubscribeError::Component(c.clone()));
        }
    }
    let existing = subscribers::by_email(&mut tx, &email).await?;
    let token = crate::kernel::ids::random_token();
    let id = match existing {
        Some(s) if s.state == "confirmed" => {
            subscribers::set_choices_by_id(&mut tx, &s.id, lang, components).await?;
            tx.commit().await.map_err(StoreError::from)?;
            return Ok(());
        }
        Some(s) => {
            subscribers::renew_pending(&mut tx, &s.id, lang, components, &token).await?;
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
            // One confirmation per token: asking twice sends twice, on purpose.
            id: format!("confirm-{id}-{}", &token[..12]),
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
