//! Running incidents (communications): open one, post updates through the
//! stages with text per language, see which languages are missing, reuse
//! message templates. Every public change goes through a preview that
//! shows exactly what will be published, then a second, explicit "Publish".

use std::collections::BTreeMap;

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use crate::kernel::forms::{field, texts_field, Fields};
use crate::kernel::ids::{ComponentId, IncidentId};
use crate::kernel::markdown::to_safe_html;
use crate::staff::error::StaffError;
use crate::staff::page::Words as _;
use crate::staff::page::{page, see_other, utc, Frame};
use crate::staff::session::StaffSession;
use crate::status::commands::{self, ComponentChange, OpenIncident, PostUpdate};
use crate::status::live::LiveHandle;
use crate::status::view::localize;
use crate::store::status::{StatusData, Texts};
use crate::store::{Store, StoreError};

/// One component line of the form.
pub struct ComponentChoice {
    pub id: String,
    pub name: String,
    pub status: ComponentStatus,
    /// What the form asks for it ("" = leave as is).
    pub chosen: String,
}

/// What the staff member typed, kept whole so an error or a preview never
/// loses a word of it.
#[derive(Default)]
pub struct Draft {
    pub titles: BTreeMap<&'static str, String>,
    pub bodies: BTreeMap<&'static str, String>,
    pub impact: String,
    pub stage: String,
    pub components: Vec<(String, String)>,
}

impl Draft {
    fn from_fields(body: &Fields) -> Draft {
        let per_lang = |prefix: &str| {
            Lang::ALL
                .into_iter()
                .map(|l| {
                    (
                        l.code(),
                        field(body, &format!("{prefix}_{}", l.code())).to_string(),
                    )
                })
                .collect()
        };
        Draft {
            titles: per_lang("title"),
            bodies: per_lang("body"),
            impact: field(body, "impact").to_string(),
            stage: field(body, "stage").to_string(),
            components: body
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("comp_")
                        .filter(|_| !v.is_empty())
                        .map(|id| (id.to_string(), v.clone()))
                })
                .collect(),
        }
    }

    pub fn title(&self, lang: &str) -> &str {
        self.titles.get(lang).map_or("", String::as_str)
    }

    pub fn body(&self, lang: &str) -> &str {
        self.bodies.get(lang).map_or("", String::as_str)
    }

    fn changes(&self) -> Result<Vec<ComponentChange>, StaffError> {
        self.components
            .iter()
            .map(|(id, status)| {
                Ok(ComponentChange {
                    component_id: ComponentId::from(id.as_str()),
                    status: commands::parse_value("component status", status)?,
                })
            })
            .collect()
    }
}

/// A language's rendered preview: what readers will see.
pub struct LangPreview {
    pub lang: &'static str,
    pub name: &'static str,
    pub title: String,
    pub body_html: String,
    pub missing: bool,
}

fn previews(titles: Option<&Texts>, bodies: &Texts) -> Vec<LangPreview> {
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let body = localize(bodies, lang);
            LangPreview {
                lang: lang.code(),
                name: lang.native_name(),
                title: titles
                    .and_then(|t| localize(t, lang))
                    .map(|t| t.text)
                    .unwrap_or_default(),
                body_html: body
                    .as_ref()
                    .map(|b| to_safe_html(&b.text))
                    .unwrap_or_default(),
                missing: !bodies.contains_key(&lang)
                    || titles.is_some_and(|t| !t.contains_key(&lang)),
            }
        })
        .collect()
}

async fn status_data(store: &Store) -> Result<StatusData, StoreError> {
    store
        .load_status_data(chrono::Utc::now().timestamp_millis())
        .await
}

fn component_choices(data: &StatusData, draft: &Draft) -> Vec<ComponentChoice> {
    data.components
        .iter()
        .map(|c| ComponentChoice {
            name: localize(&c.names, Lang::En).map_or_else(|| c.id.clone(), |t| t.text),
            status: c.status,
            chosen: draft
                .components
                .iter()
                .find(|(id, _)| *id == c.id)
                .map(|(_, s)| s.clone())
                .unwrap_or_default(),
            id: c.id.clone(),
        })
        .collect()
}

pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub impact: Impact,
    pub stage: IncidentStage,
    pub started: String,
    pub missing: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "staff/incidents.html")]
struct ListPage {
    frame: Frame,
    active: Vec<IncidentRow>,
    closed: Vec<IncidentRow>,
}

/// Languages an incident's title or any of its updates lacks.
fn missing_langs(titles: &Texts, updates: &[&Texts]) -> Vec<&'static str> {
    Lang::ALL
        .into_iter()
        .filter(|l| !titles.contains_key(l) || updates.iter().any(|b| !b.contains_key(l)))
        .map(|l| l.code())
        .collect()
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    let data = status_data(&store).await?;
    let (mut active, mut closed) = (Vec::new(), Vec::new());
    for i in &data.incidents {
        let row = IncidentRow {
            id: i.id.clone(),
            title: localize(&i.titles, Lang::En)
                .map(|t| t.text)
                .unwrap_or_default(),
            impact: i.impact,
            stage: i.status,
            started: utc(i.started_at),
            missing: missing_langs(
                &i.titles,
                &i.updates.iter().map(|u| &u.bodies).collect::<Vec<_>>(),
            ),
        };
        if i.status.is_closed() {
            closed.push(row);
        } else {
            active.push(row);
        }
    }
    closed.truncate(20);
    Ok(page(&ListPage {
        frame: Frame::new(&session, "/staff/incidents"),
        active,
        closed,
    }))
}

#[derive(Template)]
#[template(path = "staff/incident_form.html")]
struct FormPage {
    frame: Frame,
    /// None: opening a new incident; Some: posting an update to it.
    incident: Option<IncidentDetail>,
    draft: Draft,
    components: Vec<ComponentChoice>,
    impacts: [Impact; 5],
    stages: [IncidentStage; 5],
    statuses: [ComponentStatus; 5],
    langs: [Lang; 3],
    templates: Vec<TemplateRow>,
    error: Option<String>,
}

pub struct TimelineRow {
    pub stage: IncidentStage,
    pub at: String,
    pub previews: Vec<LangPreview>,
}

pub struct IncidentDetail {
    pub id: String,
    pub title: String,
    pub impact: Impact,
    pub stage: IncidentStage,
    pub titles: Vec<LangPreview>,
    pub timeline: Vec<TimelineRow>,
    pub missing: Vec<&'static str>,
}

fn detail(data: &StatusData, id: &str) -> Option<IncidentDetail> {
    let i = data.incidents.iter().find(|i| i.id == id)?;
    Some(IncidentDetail {
        id: i.id.clone(),
        title: localize(&i.titles, Lang::En)
            .map(|t| t.text)
            .unwrap_or_default(),
        impact: i.impact,
        stage: i.status,
        titles: previews(Some(&i.titles), &i.titles),
        timeline: i
            .updates
            .iter()
            .rev()
            .map(|u| TimelineRow {
                stage: u.status,
                at: utc(u.display_at),
                previews: previews(None, &u.bodies),
            })
            .collect(),
        missing: missing_langs(
            &i.titles,
            &i.updates.iter().map(|u| &u.bodies).collect::<Vec<_>>(),
        ),
    })
}

#[derive(Deserialize, Default)]
pub struct FormQuery {
    #[serde(default)]
    template: String,
}

/// Fills the bodies (and stage) of a draft from a saved template.
async fn apply_template(store: &Store, id: &str, draft: &mut Draft) -> Result<(), StaffError> {
    if id.is_empty() {
        return Ok(());
    }
    if let Some(t) = load_templates(store)
        .await?
        .into_iter()
        .find(|t| t.id == id)
    {
        draft.stage = t.stage.as_str().to_string();
        for (lang, body) in t.bodies {
            draft.bodies.insert(lang, body);
        }
    }
    Ok(())
}

async fn form_page(
    store: &Store,
    session: &StaffSession,
    data: &StatusData,
    incident: Option<IncidentDetail>,
    draft: Draft,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let failed = error.is_some();
    Ok(crate::staff::page::form_page(
        &FormPage {
            frame: Frame::new(session, "/staff/incidents"),
            components: component_choices(data, &draft),
            incident,
            draft,
            impacts: Impact::ALL,
            stages: IncidentStage::ALL,
            statuses: ComponentStatus::ALL,
            langs: Lang::ALL,
            templates: load_templates(store).await?,
            error,
        },
        failed,
    ))
}

pub async fn new_form(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<FormQuery>,
) -> Result<Response, StaffError> {
    let data = status_data(&store).await?;
    let mut draft = Draft {
        impact: "major".into(),
        stage: "investigating".into(),
        ..Draft::default()
    };
    apply_template(&store, &q.template, &mut draft).await?;
    form_page(&store, &session, &data, None, draft, None).await
}

pub async fn show(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Query(q): Query<FormQuery>,
) -> Result<Response, StaffError> {
    let data = status_data(&store).await?;
    let incident =
        detail(&data, &id).ok_or_else(|| StaffError::NotFound(format!("incident {id}")))?;
    let mut draft = Draft {
        stage: incident.stage.as_str().to_string(),
        ..Draft::default()
    };
    apply_template(&store, &q.template, &mut draft).await?;
    form_page(&store, &session, &data, Some(incident), draft, None).await
}

#[derive(Template)]
#[template(path = "staff/incident_preview.html")]
struct PreviewPage {
    frame: Frame,
    action: String,
    heading: String,
    previews: Vec<LangPreview>,
    impact: Option<Impact>,
    stage: IncidentStage,
    changes: Vec<(String, ComponentStatus, ComponentStatus)>,
    /// Every field of the form, carried to "Publish" and "Back to editing".
    hidden: Vec<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
fn preview_page(
    session: &StaffSession,
    data: &StatusData,
    action: String,
    heading: String,
    titles: Option<&Texts>,
    bodies: &Texts,
    impact: Option<Impact>,
    stage: IncidentStage,
    changes: &[ComponentChange],
    body: &Fields,
) -> Response {
    page(&PreviewPage {
        frame: Frame::new(session, "/staff/incidents"),
        action,
        heading,
        previews: previews(titles, bodies),
        impact,
        stage,
        changes: changes
            .iter()
            .filter_map(|c| {
                let comp = data
                    .components
                    .iter()
                    .find(|x| x.id == c.component_id.as_str())?;
                let name =
                    localize(&comp.names, Lang::En).map_or_else(|| comp.id.clone(), |t| t.text);
                Some((name, comp.status, c.status))
            })
            .collect(),
        hidden: body
            .iter()
            .filter(|(k, _)| k != "csrf" && k != "intent")
            .cloned()
            .collect(),
    })
}

/// `POST /staff/incidents`: `intent=preview` shows what will be published,
/// `intent=publish` opens the incident, `intent=edit` goes back to the form.
pub async fn open(
    State(store): State<Store>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let data = status_data(&store).await?;
    let draft = Draft::from_fields(&body);
    let parsed = (|| -> Result<OpenIncident, StaffError> {
        Ok(OpenIncident {
            impact: commands::parse_value("impact", &draft.impact)?,
            stage: commands::parse_value("stage", &draft.stage)?,
            titles: texts_field(&body, "title"),
            bodies: texts_field(&body, "body"),
            components: draft.changes()?,
        })
    })();
    let cmd = match parsed.and_then(|cmd| {
        check_texts(&cmd.titles, "title")
            .and(check_texts(&cmd.bodies, "body"))
            .map(|()| cmd)
    }) {
        Ok(cmd) => cmd,
        Err(StaffError::BadInput(e)) => {
            return form_page(&store, &session, &data, None, draft, Some(e)).await
        }
        Err(e) => return Err(e),
    };
    match field(&body, "intent") {
        "publish" => match commands::open_incident(&store, &session.actor(), &cmd).await {
            Ok(written) => {
                live.changed();
                Ok(see_other(&format!(
                    "/staff/incidents/{}?published=1",
                    written.subject_id
                )))
            }
            Err(e) if e.is_bad_input() => {
                form_page(&store, &session, &data, None, draft, Some(e.to_string())).await
            }
            Err(e) => Err(e.into()),
        },
        "edit" => form_page(&store, &session, &data, None, draft, None).await,
        _ => Ok(preview_page(
            &session,
            &data,
            "/staff/incidents".into(),
            "Open this incident?".into(),
            Some(&cmd.titles),
            &cmd.bodies,
            Some(cmd.impact),
            cmd.stage,
            &cmd.components,
            &body,
        )),
    }
}

fn check_texts(texts: &Texts, what: &str) -> Result<(), StaffError> {
    if texts.is_empty() {
        return Err(StaffError::BadInput(format!(
            "{what}: write it in at least one language"
        )));
    }
    Ok(())
}

/// `POST /staff/incidents/{id}/updates`, with the same preview step.
pub async fn post_update(
    State(store): State<Store>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let data = status_data(&store).await?;
    let incident =
        detail(&data, &id).ok_or_else(|| StaffError::NotFound(format!("incident {id}")))?;
    let draft = Draft::from_fields(&body);
    let parsed = (|| -> Result<PostUpdate, StaffError> {
        let bodies = texts_field(&body, "body");
        check_texts(&bodies, "body")?;
        Ok(PostUpdate {
            incident_id: IncidentId::from(id.as_str()),
            stage: commands::parse_value("stage", &draft.stage)?,
            bodies,
            components: draft.changes()?,
        })
    })();
    let cmd = match parsed {
        Ok(cmd) => cmd,
        Err(StaffError::BadInput(e)) => {
            return form_page(&store, &session, &data, Some(incident), draft, Some(e)).await
        }
        Err(e) => return Err(e),
    };
    match field(&body, "intent") {
        "publish" => match commands::post_incident_update(&store, &session.actor(), &cmd).await {
            Ok(_) => {
                live.changed();
                Ok(see_other(&format!("/staff/incidents/{id}?published=1")))
            }
            Err(e) if e.is_bad_input() => {
                form_page(
                    &store,
                    &session,
                    &data,
                    Some(incident),
                    draft,
                    Some(e.to_string()),
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
        "edit" => form_page(&store, &session, &data, Some(incident), draft, None).await,
        _ => Ok(preview_page(
            &session,
            &data,
            format!("/staff/incidents/{id}/updates"),
            format!("Post this update to “{}”?", incident.title),
            None,
            &cmd.bodies,
            None,
            cmd.stage,
            &cmd.components,
            &body,
        )),
    }
}

pub struct TemplateRow {
    pub id: String,
    pub name: String,
    pub stage: IncidentStage,
    pub bodies: Vec<(&'static str, String)>,
}

async fn load_templates(store: &Store) -> Result<Vec<TemplateRow>, StoreError> {
    Ok(crate::store::status::message_templates(store)
        .await?
        .into_iter()
        .map(|t| TemplateRow {
            id: t.id,
            name: t.name,
            stage: t.stage,
            bodies: t
                .bodies
                .into_iter()
                .map(|(lang, body)| (lang.code(), body))
                .collect(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "staff/templates.html")]
struct TemplatesPage {
    frame: Frame,
    templates: Vec<TemplateRow>,
    stages: [IncidentStage; 5],
    langs: [Lang; 3],
    error: Option<String>,
}

pub async fn templates(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    Ok(page(&TemplatesPage {
        frame: Frame::new(&session, "/staff/incidents"),
        templates: load_templates(&store).await?,
        stages: IncidentStage::ALL,
        langs: Lang::ALL,
        error: None,
    }))
}

pub async fn save_template(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let bodies = texts_field(&body, "body");
    let added = match commands::parse_value::<IncidentStage>("stage", field(&body, "stage")) {
        Ok(stage) => {
            commands::add_template(
                &store,
                &session.actor(),
                field(&body, "name"),
                stage,
                &bodies,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match added {
        Ok(()) => Ok(see_other("/staff/templates")),
        Err(e) if e.is_bad_input() => templates_error(&store, &session, e.to_string()).await,
        Err(e) => Err(e.into()),
    }
}

async fn templates_error(
    store: &Store,
    session: &StaffSession,
    error: String,
) -> Result<Response, StaffError> {
    Ok(crate::staff::page::form_page(
        &TemplatesPage {
            frame: Frame::new(session, "/staff/incidents"),
            templates: load_templates(store).await?,
            stages: IncidentStage::ALL,
            langs: Lang::ALL,
            error: Some(error),
        },
        true,
    ))
}
