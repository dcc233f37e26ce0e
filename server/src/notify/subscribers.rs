//! E-mail subscribers: double opt-in, a choice of components and language,
//! one-click unsubscribe and a manage link, all keyed by a random token.

use app::dto::Lang;
use sqlx::Row;

use super::outbox::{self, NewMessage};
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

#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    pub id: String,
    pub email: String,
    pub lang: Lang,
    /// Empty: every component.
    pub components: Vec<String>,
    pub state: String,
    pub token: String,
}

fn subscriber(row: &sqlx::any::AnyRow) -> Result<Subscriber, StoreError> {
    let lang: String = row.try_get("lang")?;
    let components: String = row.try_get("components")?;
    Ok(Subscriber {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        lang: lang
            .parse()
            .map_err(|e: app::dto::UnknownValue| StoreError::Corrupt(e.to_string()))?,
        components: components
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        state: row.try_get("state")?,
        token: row.try_get("token")?,
    })
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
        let known = sqlx::query("SELECT id FROM components WHERE id = $1")
            .bind(c)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .is_some();
        if !known {
            return Err(SubscribeError::Component(c.clone()));
        }
    }
    let existing = sqlx::query(
        "SELECT id, email, lang, components, state, token FROM subscribers WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .map(|row| subscriber(&row))
    .transpose()?;
    let token = crate::kernel::ids::random_token();
    let id = match existing {
        Some(s) if s.state == "confirmed" => {
            sqlx::query("UPDATE subscribers SET lang = $2, components = $3 WHERE id = $1")
                .bind(&s.id)
                .bind(lang.code())
                .bind(components.join(","))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            return Ok(());
        }
        Some(s) => {
            sqlx::query("UPDATE subscribers SET lang = $2, components = $3, state = 'pending', token = $4 WHERE id = $1")
                .bind(&s.id)
                .bind(lang.code())
                .bind(components.join(","))
                .bind(&token)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            s.id
        }
        None => {
            let id = crate::kernel::ids::new_id();
            sqlx::query(
                "INSERT INTO subscribers (id, email, lang, components, state, token, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6)",
            )
            .bind(&id)
            .bind(&email)
            .bind(lang.code())
            .bind(components.join(","))
            .bind(&token)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
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

pub async fn by_token(store: &Store, token: &str) -> Result<Option<Subscriber>, StoreError> {
    sqlx::query(
        "SELECT id, email, lang, components, state, token FROM subscribers WHERE token = $1",
    )
    .bind(token)
    .fetch_optional(store.pool())
    .await?
    .map(|row| subscriber(&row))
    .transpose()
}

/// Sets the state of the subscriber with `token`; false for an unknown token.
pub async fn set_state(store: &Store, token: &str, state: &str) -> Result<bool, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let done = sqlx::query(
        "UPDATE subscribers SET state = $2,
                confirmed_at = CASE WHEN $2 = 'confirmed' THEN COALESCE(confirmed_at, $3) ELSE confirmed_at END
         WHERE token = $1",
    )
    .bind(token)
    .bind(state)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update_choices(
    store: &Store,
    token: &str,
    lang: Lang,
    components: &[String],
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE subscribers SET lang = $2, components = $3 WHERE token = $1")
        .bind(token)
        .bind(lang.code())
        .bind(components.join(","))
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirmed subscribers who want news about any of `components` (or all).
pub async fn audience(
    conn: &mut sqlx::AnyConnection,
    components: &[String],
) -> Result<Vec<Subscriber>, StoreError> {
    let all = sqlx::query(
        "SELECT id, email, lang, components, state, token FROM subscribers WHERE state = 'confirmed' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    all.iter()
        .map(subscriber)
        .filter(|s| {
            s.as_ref().map_or(true, |s| {
                s.components.is_empty()
                    || components.is_empty()
                    || s.components.iter().any(|c| components.contains(c))
            })
        })
        .collect()
}
