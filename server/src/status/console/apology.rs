//! Writing and publishing an incident's apology, with a preview of the web
//! version and of the e-mail (HTML and plain text) in every language.

use std::sync::Arc;

use app::dto::Lang;
use app::ports::StatusSource;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};

use crate::kernel::forms::{field, texts_field, Fields};
use crate::kernel::ids::IncidentId;
use crate::kernel::markdown::to_safe_html;
use crate::notify::email::{self, RenderedEmail};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, page, see_other, Frame};
use crate::staff::session::StaffSession;
use crate::status::commands;
use crate::status::live::LiveHandle;
use crate::status::snapshot::SnapshotHolder;
use crate::status::view::localize;
use crate::store::status::{IncidentRecord, Texts};
use crate::store::Store;

pub struct LangDraft {
    pub lang: &'static str,
    pub name: &'static str,
    pub body: String,
}

pub struct LangPreview {
    pub lang: &'static str,
    pub name: &'static str,
    pub missing: bool,
    pub web_html: String,
    pub email: RenderedEmail,
}

#[derive(Template)]
#[template(path = "staff/apology.html")]
struct ApologyPage {
    frame: Frame,
    incident_id: String,
    title: String,
    published: bool,
    drafts: Vec<LangDraft>,
    previews: Vec<LangPreview>,
    error: Option<String>,
}

async fn incident(store: &Store, id: &str) -> Result<IncidentRecord, StaffError> {
    store
        .load_status_data(chrono::Utc::now().timestamp_millis())
        .await?
        .incidents
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| StaffError::NotFound(format!("incident {id}")))
}

fn drafts(texts: &Texts) -> Vec<LangDraft> {
    Lang::ALL
        .into_iter()
        .map(|l| LangDraft {
            lang: l.code(),
            name: l.native_name(),
            body: texts.get(&l).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The web and e-mail versions each reader would get (a missing language
/// falls back the same way the page does).
fn previews(
    snapshot: &SnapshotHolder,
    incident: &IncidentRecord,
    texts: &Texts,
) -> Result<Vec<LangPreview>, StaffError> {
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let body = localize(texts, lang).map(|t| t.text).unwrap_or_default();
            let title = localize(&incident.titles, lang)
                .map(|t| t.text)
                .unwrap_or_default();
            let page_name = snapshot
                .status_page(lang)
                .map(|p| p.page_name.clone())
                .unwrap_or_else(|| "Status".into());
            let url = format!(
                "{}/{}/incidents/{}",
                snapshot.public_url(),
                lang.code(),
                incident.id
            );
            let email = email::apology(&email::Apology {
                lang,
                page_name: &page_name,
                incident_title: &title,
                body_markdown: &body,
                incident_url: &url,
                unsubscribe_url: Some(
                    "https://status.example/unsubscribe (each reader gets their own link)",
                ),
            })?;
            Ok(LangPreview {
                lang: lang.code(),
                name: lang.native_name(),
                missing: !texts.contains_key(&lang),
                web_html: to_safe_html(&body),
                email,
            })
        })
        .collect()
}

pub async fn form(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let incident = incident(&store, &id).await?;
    Ok(page(&ApologyPage {
        frame: Frame::new(&session, "/staff/incidents"),
        title: localize(&incident.titles, Lang::En)
            .map(|t| t.text)
            .unwrap_or_default(),
        published: incident.apology_published_at.is_some(),
        drafts: drafts(&incident.apology),
        previews: Vec::new(),
        incident_id: incident.id,
        error: None,
    }))
}

/// `intent=preview` shows both versions; `intent=publish` puts it on the
/// incident page (and, once notifications exist, queues the e-mails).
pub async fn submit(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let incident = incident(&store, &id).await?;
    let texts = texts_field(&body, "body");
    let render = |previews: Vec<LangPreview>, error: Option<String>| {
        let failed = error.is_some();
        form_page(
            &ApologyPage {
                frame: Frame::new(&session, "/staff/incidents"),
                title: localize(&incident.titles, Lang::En)
                    .map(|t| t.text)
                    .unwrap_or_default(),
                published: incident.apology_published_at.is_some(),
                drafts: drafts(&texts),
                previews,
                incident_id: incident.id.clone(),
                error,
            },
            failed,
        )
    };
    if texts.is_empty() {
        return Ok(render(
            Vec::new(),
            Some("apology: write it in at least one language".into()),
        ));
    }
    match field(&body, "intent") {
        "publish" => {
            match commands::publish_apology(
                &store,
                &session.actor(),
                &IncidentId::from(id.as_str()),
                &texts,
            )
            .await
            {
                Ok(_) => {
                    live.changed();
                    Ok(see_other(&format!(
                        "/staff/incidents/{id}?apology=published"
                    )))
                }
                Err(e) if e.is_bad_input() => Ok(render(Vec::new(), Some(e.to_string()))),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(render(previews(&snapshot, &incident, &texts)?, None)),
    }
}
