//! Components: communications change statuses (with a confirmation that
//! shows the public effect); admins rename, regroup, reorder and hide.

use app::dto::{ComponentStatus, Lang};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};

use crate::kernel::forms::{field, texts_field, Fields};
use crate::kernel::ids::ComponentId;
use crate::staff::error::StaffError;
use crate::staff::page::Words as _;
use crate::staff::page::{form_page, see_other, Frame};
use crate::staff::roles::{ADMIN, COMMUNICATIONS};
use crate::staff::session::StaffSession;
use crate::status::commands::{self, AddComponent, EditComponent};
use crate::status::live::LiveHandle;
use crate::status::view::localize;
use crate::store::Store;

pub struct ComponentRow {
    pub id: String,
    pub names: Vec<(&'static str, String)>,
    pub display_name: String,
    pub group_id: String,
    pub position: i64,
    pub hidden: bool,
    pub status: ComponentStatus,
}

#[derive(Template)]
#[template(path = "staff/components.html")]
struct ComponentsPage {
    frame: Frame,
    components: Vec<ComponentRow>,
    groups: Vec<(String, String)>,
    statuses: [ComponentStatus; 5],
    can_set_status: bool,
    can_edit: bool,
    /// A status change waiting for confirmation: (id, name, from, to).
    confirm: Option<(String, String, ComponentStatus, ComponentStatus)>,
    error: Option<String>,
}

async fn components_page(
    store: &Store,
    session: &StaffSession,
    confirm: Option<(String, ComponentStatus)>,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let data = store
        .load_status_data(chrono::Utc::now().timestamp_millis())
        .await?;
    let components: Vec<ComponentRow> = data
        .components
        .iter()
        .map(|c| ComponentRow {
            id: c.id.clone(),
            names: Lang::ALL
                .into_iter()
                .map(|l| (l.code(), c.names.get(&l).cloned().unwrap_or_default()))
                .collect(),
            display_name: localize(&c.names, Lang::En).map_or_else(|| c.id.clone(), |t| t.text),
            group_id: c.group_id.clone().unwrap_or_default(),
            position: c.position,
            hidden: c.hidden,
            status: c.status,
        })
        .collect();
    let confirm = confirm.and_then(|(id, to)| {
        let c = components.iter().find(|c| c.id == id)?;
        Some((id, c.display_name.clone(), c.status, to))
    });
    let failed = error.is_some();
    Ok(form_page(
        &ComponentsPage {
            frame: Frame::new(session, "/staff/components"),
            groups: data
                .groups
                .iter()
                .map(|g| {
                    let name =
                        localize(&g.names, Lang::En).map_or_else(|| g.id.clone(), |t| t.text);
                    (g.id.clone(), name)
                })
                .collect(),
            components,
            statuses: ComponentStatus::ALL,
            can_set_status: COMMUNICATIONS.allows(&session.roles),
            can_edit: ADMIN.allows(&session.roles),
            confirm,
            error,
        },
        failed,
    ))
}

/// After a write: back to the list (and wake the live page), or the list
/// again with the refusal named.
async fn written(
    store: &Store,
    live: &LiveHandle,
    session: &StaffSession,
    result: Result<commands::Written, commands::WriteError>,
) -> Result<Response, StaffError> {
    match result {
        Ok(_) => {
            live.changed();
            Ok(see_other("/staff/components"))
        }
        Err(e) if e.is_bad_input() => {
            components_page(store, session, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    components_page(&store, &session, None, None).await
}

/// `status=...`; without `confirm=yes` it only asks.
pub async fn set_status(
    State(store): State<Store>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let status = match commands::parse_value::<ComponentStatus>("status", field(&body, "status")) {
        Ok(s) => s,
        Err(e) => return components_page(&store, &session, None, Some(e.to_string())).await,
    };
    if field(&body, "confirm") != "yes" {
        return components_page(&store, &session, Some((id, status)), None).await;
    }
    written(
        &store,
        &live,
        &session,
        commands::set_component_status(
            &store,
            &session.actor(),
            &ComponentId::from(id.as_str()),
            status,
        )
        .await,
    )
    .await
}

/// Admin: `name_sv`/`name_nb`/`name_en`, `group`, `position`, `hidden`.
pub async fn edit(
    State(store): State<Store>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let names = texts_field(&body, "name");
    let position = match field(&body, "position").trim().parse::<i64>() {
        Ok(p) if (0..=10_000).contains(&p) => p,
        _ => {
            return components_page(
                &store,
                &session,
                None,
                Some(format!(
                    "position: {:?} is not a whole number from 0 to 10000",
                    field(&body, "position")
                )),
            )
            .await
        }
    };
    let group = field(&body, "group").trim();
    let cmd = EditComponent {
        component_id: ComponentId::from(id),
        names,
        group_id: (!group.is_empty()).then(|| group.to_string()),
        position,
        hidden: field(&body, "hidden") == "on",
    };
    written(
        &store,
        &live,
        &session,
        commands::edit_component(&store, &session.actor(), &cmd).await,
    )
    .await
}

/// Admin: a new component (`id`, `name_sv`/`name_nb`/`name_en`, `group`, `position`).
pub async fn add(
    State(store): State<Store>,
    State(live): State<LiveHandle>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Fields>,
) -> Result<Response, StaffError> {
    let names = texts_field(&body, "name");
    let position = match field(&body, "position").trim() {
        "" => 100,
        raw => match raw.parse::<i64>() {
            Ok(p) if (0..=10_000).contains(&p) => p,
            _ => {
                let e = format!("position: {raw:?} is not a whole number from 0 to 10000");
                return components_page(&store, &session, None, Some(e)).await;
            }
        },
    };
    let group = field(&body, "group").trim();
    let cmd = AddComponent {
        id: ComponentId::from(field(&body, "id").trim()),
        names,
        group_id: (!group.is_empty()).then(|| group.to_string()),
        position,
    };
    written(
        &store,
        &live,
        &session,
        commands::add_component(&store, &session.actor(), &cmd).await,
    )
    .await
}
