//! Scheduling maintenance (communications): a window in the page's time
//! zone, texts per language, the components it touches; preview, then publish.

use std::sync::Arc;

use app::dto::Lang;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Form};
use chrono::TimeZone;

use crate::kernel::forms::{field, texts_field, Fields};
use crate::kernel::ids::ComponentId;
use crate::kernel::markdown::to_safe_html;
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, Frame};
use crate::staff::session::StaffSession;
use crate::status::commands::{self, ScheduleMaintenance};
use crate::status::live::LiveHandle;
use crate::status::snapshot::SnapshotHolder;
use crate::status::view::{format_time, localize};
use crate::store::Store;

pub struct Row {
    pub title: String,
    pub window: String,
    pub status: String,
}

pub struct Choice {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

pub struct Preview {
    pub lang: &'static str,
    pub name: &'static str,
    pub title: String,
    pub body_html: String,
    pub missing: bool,
}

#[derive(Template)]
#[template(path = "staff/maintenance.html")]
struct MaintenancePage {
    frame: Frame,
    zone: String,
    rows: Vec<Row>,
    components: Vec<Choice>,
    langs: [Lang; 3],
    body: Fields,
    window: Option<String>,
    previews: Vec<Preview>,
    error: Option<String>,
}

impl MaintenancePage {
    /// What was typed in a field, so nothing is lost on an error or preview.
    pub fn value(&self, name: &str) -> &str {
        field(&self.body, name)
    }
}

async fn render(
    store: &Store,
    snapshot: &SnapshotHolder,
    session: &StaffSession,
    body: Fields,
    window: Option<String>,
    previews: Vec<Preview>,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let tz = snapshot.time_zone();
    let data = store
        .load_status_data(chrono::Utc::now().timestamp_millis())
        .await?;
    let chosen: Vec<&str> = body
        .iter()
        .filter(|(k, _)| k == "component")
        .map(|(_, v)| v.as_str())
        .collect();
    let failed = error.is_some();
    Ok(form_page(
        &MaintenancePage {
            frame: Frame::new(session, "/staff/incidents"),
            zone: tz.name().to_string(),
            rows: data
                .maintenances
                .iter()
                .rev()
                .map(|m| Row {
                    title: localize(&m.titles, Lang::En)
                        .map(|t| t.text)
                        .unwrap_or_default(),
                    window: format!(
                        "{} – {}",
                        format_time(m.scheduled_for, tz),
                        format_time(m.scheduled_until, tz)
                    ),
                    status: m.status.clone(),
                })
                .collect(),
            components: data
                .components
                .iter()
                .map(|c| Choice {
                    name: localize(&c.names, Lang::En).map_or_else(|| c.id.clone(), |t| t.text),
                    checked: chosen.contains(&c.id.as_str()),
                    id: c.id.clone(),
                })
                .collect(),
            langs: Lang::ALL,
            body,
            window,
            previews,
            error,
        },
        failed,
    ))
}

pub async fn list(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    render(
        &store,
        &snapshot,
        &session,
        Vec::new(),
        None,
        Vec::new(),
        None,
    )
    .await
}

/// `2026-11-24T02:00` from a `datetime-local` field, in the page's zone.
fn local_time(field_name: &str, raw: &str, tz: chrono_tz::Tz) -> Result<i64, String> {
    chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| {
            format!(
                "{field_name}: {raw:?} is not a date and time (YYYY-MM-DDTHH:MM, {})",
                tz.name()
            )
        })
}

pub async fn submit(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let tz = snapshot.time_zone();
    let window = local_time("from", field(&body, "from"), tz)
        .and_then(|from| local_time("until", field(&body, "until"), tz).map(|until| (from, until)));
    let (from_ms, until_ms) = match window {
        Ok(w) => w,
        Err(e) => {
            return render(&store, &snapshot, &session, body, None, Vec::new(), Some(e)).await
        }
    };
    let cmd = ScheduleMaintenance {
        titles: texts_field(&body, "title"),
        bodies: texts_field(&body, "body"),
        from_ms,
        until_ms,
        component_ids: body
            .iter()
            .filter(|(k, _)| k == "component")
            .map(|(_, v)| ComponentId::from(v.as_str()))
            .collect(),
    };
    if field(&body, "intent") == "publish" {
        return match commands::schedule_maintenance(&store, &session.actor(), &cmd).await {
            Ok(_) => {
                live.changed();
                Ok(see_other("/staff/maintenance"))
            }
            Err(e) if e.is_bad_input() => {
                render(
                    &store,
                    &snapshot,
                    &session,
                    body,
                    None,
                    Vec::new(),
                    Some(e.to_string()),
                )
                .await
            }
            Err(e) => Err(e.into()),
        };
    }
    if cmd.titles.is_empty() || cmd.bodies.is_empty() {
        let e = "title and text: write them in at least one language".to_string();
        return render(&store, &snapshot, &session, body, None, Vec::new(), Some(e)).await;
    }
    let previews = Lang::ALL
        .into_iter()
        .map(|lang| Preview {
            lang: lang.code(),
            name: lang.native_name(),
            title: localize(&cmd.titles, lang)
                .map(|t| t.text)
                .unwrap_or_default(),
            body_html: to_safe_html(
                &localize(&cmd.bodies, lang)
                    .map(|t| t.text)
                    .unwrap_or_default(),
            ),
            missing: !cmd.titles.contains_key(&lang) || !cmd.bodies.contains_key(&lang),
        })
        .collect();
    let window = format!(
        "{} – {}",
        format_time(from_ms, tz),
        format_time(until_ms, tz)
    );
    render(
        &store,
        &snapshot,
        &session,
        body,
        Some(window),
        previews,
        None,
    )
    .await
}
