//! Opening incidents, posting their updates, publishing apologies.

use app::dto::{Impact, IncidentStage, Lang};
use serde_json::json;

use crate::kernel::audit::Actor;
use crate::kernel::change::ChangeKind;
use crate::kernel::ids::{new_id, IncidentId};
use crate::status::commands::common::{
    affected, append_change, changes_json, commit_and_announce, now_ms, require_text, texts_json,
    ComponentChange, WriteError, Written,
};
use crate::store::audit;
use crate::store::status::{self, IncidentRecord, Texts, UpdateRecord};
use crate::store::status::{insert_incident, insert_incident_update};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct OpenIncident {
    pub impact: Impact,
    pub stage: IncidentStage,
    pub titles: Texts,
    pub bodies: Texts,
    pub components: Vec<ComponentChange>,
}

#[derive(Debug, Clone)]
pub struct PostUpdate {
    pub incident_id: IncidentId,
    pub stage: IncidentStage,
    pub bodies: Texts,
    pub components: Vec<ComponentChange>,
}

pub async fn open_incident(
    store: &Store,
    actor: &Actor,
    cmd: &OpenIncident,
) -> Result<Written, WriteError> {
    require_text("title", &cmd.titles)?;
    require_text("body", &cmd.bodies)?;
    let now = now_ms();
    let incident_id = new_id();
    let mut tx = store.begin_write().await?;
    let change_id = append_change(&mut tx, now, ChangeKind::IncidentOpened, &incident_id).await?;
    let components = affected(&mut tx, &cmd.components).await?;
    let incident = IncidentRecord {
        id: incident_id.clone(),
        impact: cmd.impact,
        status: cmd.stage,
        started_at: now,
        resolved_at: cmd.stage.is_closed().then_some(now),
        created_at: now,
        updated_at: now,
        titles: cmd.titles.clone(),
        updates: vec![UpdateRecord {
            id: new_id(),
            status: cmd.stage,
            display_at: now,
            created_at: now,
            bodies: cmd.bodies.clone(),
            components: components.clone(),
        }],
        apology: Texts::new(),
        apology_published_at: None,
    };
    insert_incident(&mut tx, &incident).await?;
    audit::append(
        &mut tx,
        actor,
        "incident.open",
        &incident_id,
        None,
        Some(&json!({
            "impact": cmd.impact.as_str(),
            "stage": cmd.stage.as_str(),
            "titles": texts_json(&cmd.titles),
            "bodies": texts_json(&cmd.bodies),
            "components": changes_json(&components),
        })),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: incident_id,
            components,
        },
    )
    .await
}

pub async fn post_incident_update(
    store: &Store,
    actor: &Actor,
    cmd: &PostUpdate,
) -> Result<Written, WriteError> {
    require_text("body", &cmd.bodies)?;
    let now = now_ms();
    let mut tx = store.begin_write().await?;
    let change_id =
        append_change(&mut tx, now, ChangeKind::IncidentUpdated, &cmd.incident_id).await?;
    let Some(old_stage) = status::incident_stage(&mut tx, &cmd.incident_id).await? else {
        return Err(WriteError::UnknownIncident(cmd.incident_id.to_string()));
    };
    let components = affected(&mut tx, &cmd.components).await?;
    let update = UpdateRecord {
        id: new_id(),
        status: cmd.stage,
        display_at: now,
        created_at: now,
        bodies: cmd.bodies.clone(),
        components: components.clone(),
    };
    insert_incident_update(&mut tx, &cmd.incident_id, &update).await?;
    status::set_incident_stage(&mut tx, &cmd.incident_id, cmd.stage, now).await?;
    audit::append(
        &mut tx,
        actor,
        "incident.update",
        &cmd.incident_id,
        Some(&json!({ "stage": old_stage })),
        Some(&json!({
            "stage": cmd.stage.as_str(),
            "bodies": texts_json(&cmd.bodies),
            "components": changes_json(&components),
        })),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: cmd.incident_id.to_string(),
            components,
        },
    )
    .await
}

/// One line of `plaster incident list`.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentSummary {
    pub id: String,
    pub impact: Impact,
    pub stage: IncidentStage,
    pub started_at: i64,
    pub title: String,
}

/// Incidents, newest first, titled in `lang` (or any language there is).
pub async fn list_incidents(store: &Store, lang: Lang) -> Result<Vec<IncidentSummary>, StoreError> {
    let data = store.load_status_data(now_ms()).await?;
    Ok(data
        .incidents
        .into_iter()
        .map(|i| IncidentSummary {
            title: i
                .titles
                .get(&lang)
                .or_else(|| i.titles.values().next())
                .cloned()
                .unwrap_or_default(),
            id: i.id,
            impact: i.impact,
            stage: i.status,
            started_at: i.started_at,
        })
        .collect())
}

/// Publishes (or replaces) an incident's apology in every language given.
pub async fn publish_apology(
    store: &Store,
    actor: &Actor,
    incident_id: &IncidentId,
    texts: &Texts,
) -> Result<Written, WriteError> {
    require_text("apology", texts)?;
    let now = now_ms();
    let mut tx = store.begin_write().await?;
    let change_id = append_change(&mut tx, now, ChangeKind::ApologyPublished, incident_id).await?;
    let Some(before) = status::incident_apology(&mut tx, incident_id).await? else {
        return Err(WriteError::UnknownIncident(incident_id.to_string()));
    };
    status::replace_apology(&mut tx, incident_id, texts, now).await?;
    audit::append(
        &mut tx,
        actor,
        "incident.apology",
        incident_id,
        (!before.is_empty()).then(|| texts_json(&before)).as_ref(),
        Some(&texts_json(texts)),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: incident_id.to_string(),
            components: Vec::new(),
        },
    )
    .await
}
