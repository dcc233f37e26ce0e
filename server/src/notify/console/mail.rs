//! "Sent mail": what the outbox holds and what happened to it, including
//! messages given up on. The tokens in its links and webhooks' URLs are
//! masked on the way out ([`Reader`]): reading a message here must not let
//! anyone act as its recipient.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use crate::notify::console::masking::Reader;
use crate::notify::webhooks;
use crate::staff::error::StaffError;
use crate::staff::page::{page, utc, Frame};
use crate::staff::session::StaffSession;
use crate::store::outbox::{self, Counts, Listed};
use crate::store::Store;

pub struct Row {
    pub m: Listed,
    pub created: String,
    pub sent: String,
}

#[derive(Template)]
#[template(path = "staff/mail.html")]
struct MailPage {
    frame: Frame,
    counts: Counts,
    state: String,
    rows: Vec<Row>,
}

#[derive(Deserialize, Default)]
pub struct MailQuery {
    #[serde(default)]
    state: String,
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<MailQuery>,
) -> Result<Response, StaffError> {
    let filter = match q.state.as_str() {
        "" | "queued" | "sent" | "failed" => q.state.clone(),
        other => {
            return Err(StaffError::BadInput(format!(
                "state: {other:?} is not one of queued, sent, failed"
            )))
        }
    };
    let reader = Reader::of(&session.roles);
    let rows = outbox::list(&store, &filter, 200)
        .await?
        .into_iter()
        .map(|mut m| {
            // A webhook delivery's recipient is the receiver's URL.
            if m.kind == webhooks::KIND {
                m.recipient = reader.webhook_url(&m.recipient);
            }
            m.subject = reader.text(&m.subject);
            m.last_reply = m.last_reply.map(|reply| reader.text(&reply));
            Row {
                created: utc(m.created_at),
                sent: m.sent_at.map(utc).unwrap_or_default(),
                m,
            }
        })
        .collect();
    Ok(page(&MailPage {
        frame: Frame::new(&session, "/staff/mail"),
        counts: outbox::counts(&store).await?,
        state: filter,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "staff/mail_message.html")]
struct MessagePage {
    frame: Frame,
    subject: String,
    text: String,
    html: String,
    /// Says how much of the links' tokens is shown.
    admin: bool,
}

pub async fn show(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let (subject, text, html) = outbox::bodies(&store, &id)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("message {id}")))?;
    let reader = Reader::of(&session.roles);
    // A one-time password is its recipient's alone, admins included.
    let (text, html) = if id.starts_with(crate::staff::accounts::PASSWORD_MAIL_PREFIX) {
        let hidden = "This message carries a one-time password for a staff account; only its recipient reads it.".to_string();
        (hidden.clone(), format!("<p>{hidden}</p>"))
    } else {
        (text, html)
    };
    Ok(page(&MessagePage {
        frame: Frame::new(&session, "/staff/mail"),
        subject: reader.text(&subject),
        text: reader.text(&text),
        html: reader.text(&html),
        admin: reader == Reader::Admin,
    }))
}

#[derive(Template)]
#[template(path = "staff/mail_templates.html")]
struct TemplatesPage {
    frame: Frame,
    lang: &'static str,
    langs: Vec<(&'static str, &'static str)>,
    samples: Vec<(&'static str, crate::notify::email::RenderedEmail)>,
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

/// Every e-mail template with sample data, in the chosen language.
pub async fn templates(
    Extension(session): Extension<StaffSession>,
    Query(q): Query<LangQuery>,
) -> Result<Response, StaffError> {
    let lang: app::dto::Lang = if q.lang.is_empty() {
        app::dto::Lang::Sv
    } else {
        q.lang
            .parse()
            .map_err(|e: app::dto::UnknownValue| StaffError::BadInput(format!("lang: {e}")))?
    };
    Ok(page(&TemplatesPage {
        frame: Frame::new(&session, "/staff/mail"),
        lang: lang.code(),
        langs: app::dto::Lang::ALL
            .into_iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
        samples: crate::notify::email::samples(lang)?,
    }))
}
