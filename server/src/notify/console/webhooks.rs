//! Webhook subscribers (admins): add one (its signing secret is shown
//! once), pause or resume it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use serde_json::json;

use crate::kernel::forms::{field, Fields};
use crate::notify::webhooks::{self, WebhookError};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::session::StaffSession;
use crate::store::audit;
use crate::store::webhooks::Webhook;
use crate::store::Store;
use crate::store::StoreError;

pub struct Row {
    pub hook: Webhook,
    pub created: String,
}

#[derive(Template)]
#[template(path = "staff/webhooks.html")]
struct WebhooksPage {
    frame: Frame,
    rows: Vec<Row>,
    created: Option<(String, String)>,
    error: Option<String>,
    url: String,
}

async fn render(
    store: &Store,
    session: &StaffSession,
    created: Option<(String, String)>,
    error: Option<String>,
    url: String,
) -> Result<Response, StaffError> {
    let failed = error.is_some();
    let rows = crate::store::webhooks::list(store)
        .await?
        .into_iter()
        .map(|hook| Row {
            created: utc(hook.created_at),
            hook,
        })
        .collect();
    Ok(form_page(
        &WebhooksPage {
            frame: Frame::new(session, "/staff/webhooks"),
            rows,
            created,
            error,
            url,
        },
        failed,
    ))
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    render(&store, &session, None, None, String::new()).await
}

pub async fn add(
    State(store): State<Store>,
    State(outgoing): State<crate::kernel::outgoing::OutgoingPolicy>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let url = field(&body, "url").trim().to_string();
    let components: Vec<String> = body
        .iter()
        .filter(|(k, v)| k == "component" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    match webhooks::add(&mut tx, &outgoing, &url, &components).await {
        Ok((id, secret)) => {
            audit::append(
                &mut tx,
                &session.actor(),
                "webhook.add",
                &id,
                None,
                Some(&json!({ "url": url, "components": components })),
            )
            .await?;
            tx.commit().await.map_err(StoreError::from)?;
            render(&store, &session, Some((url, secret)), None, String::new()).await
        }
        Err(WebhookError::Store(e)) => Err(e.into()),
        Err(e) => render(&store, &session, None, Some(e.to_string()), url).await,
    }
}

/// `action=disable` or `action=enable`.
pub async fn edit(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let action = field(&body, "action");
    if matches!(action, "enable" | "rotate") {
        // A new secret or a resumed receiver hands out what Plaster signs;
        // pausing takes nothing away from anyone, so it needs no step-up.
        let now = chrono::Utc::now().timestamp_millis();
        crate::staff::step_up::confirm(&store, &session, field(&body, "step_up"), now).await?;
    }
    let disable = match action {
        "disable" => true,
        "enable" => false,
        "rotate" => return rotate(&store, &session, &id).await,
        other => {
            return Err(StaffError::BadInput(format!(
                "action: {other:?} is not one of disable, enable, rotate"
            )))
        }
    };
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    if !crate::store::webhooks::set_disabled(&mut tx, &id, disable).await? {
        return Err(StaffError::NotFound(format!("webhook {id}")));
    }
    audit::append(
        &mut tx,
        &session.actor(),
        if disable {
            "webhook.disable"
        } else {
            "webhook.enable"
        },
        &id,
        Some(&json!({ "disabled": !disable })),
        Some(&json!({ "disabled": disable })),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(see_other("/staff/webhooks"))
}

/// A new signing secret, shown once; the old one keeps signing too for
/// [`webhooks::ROTATION_OVERLAP_MS`], so receivers can switch in their time.
async fn rotate(store: &Store, session: &StaffSession, id: &str) -> Result<Response, StaffError> {
    let secret = webhooks::new_secret();
    let until = chrono::Utc::now().timestamp_millis() + webhooks::ROTATION_OVERLAP_MS;
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    if !crate::store::webhooks::rotate(&mut tx, id, &secret, until).await? {
        return Err(StaffError::NotFound(format!("webhook {id}")));
    }
    audit::append(
        &mut tx,
        &session.actor(),
        "webhook.rotate_secret",
        id,
        None,
        Some(&json!({ "old_secret_signs_until": utc(until) })),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let url = crate::store::webhooks::list(store)
        .await?
        .into_iter()
        .find(|h| h.id == id)
        .map(|h| h.url)
        .unwrap_or_default();
    render(store, session, Some((url, secret)), None, String::new()).await
}
