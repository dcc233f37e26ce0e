//! Component statuses, and the components themselves (admins).

use app::dto::ComponentStatus;
use serde_json::json;

use crate::kernel::audit::Actor;
use crate::kernel::change::ChangeKind;
use crate::kernel::ids::ComponentId;
use crate::status::commands::common::{
    append_change, commit_and_announce, current_status, ensure_group, now_ms, require_text,
    texts_json, WriteError, Written,
};
use crate::store::audit;
use crate::store::status::record_component_status;
use crate::store::status::{self, AffectedComponent, ComponentSettings, Texts};
use crate::store::Store;

pub async fn set_component_status(
    store: &Store,
    actor: &Actor,
    component_id: &ComponentId,
    status: ComponentStatus,
) -> Result<Written, WriteError> {
    let now = now_ms();
    let mut tx = store.begin_write().await?;
    let change_id = append_change(&mut tx, now, ChangeKind::Component, component_id).await?;
    let old_status = current_status(&mut tx, component_id).await?;
    record_component_status(&mut tx, component_id, status, now, None).await?;
    audit::append(
        &mut tx,
        actor,
        "component.status",
        component_id,
        Some(&json!({ "status": old_status.as_str() })),
        Some(&json!({ "status": status.as_str() })),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: component_id.to_string(),
            components: vec![AffectedComponent {
                component_id: component_id.to_string(),
                old_status,
                new_status: status,
            }],
        },
    )
    .await
}

/// What an admin changes about a component (not its status).
#[derive(Debug, Clone, PartialEq)]
pub struct EditComponent {
    pub component_id: ComponentId,
    pub names: Texts,
    pub group_id: Option<String>,
    pub position: i64,
    pub hidden: bool,
}

/// Renames, regroups, reorders or hides a component; the public page follows.
pub async fn edit_component(
    store: &Store,
    actor: &Actor,
    cmd: &EditComponent,
) -> Result<Written, WriteError> {
    require_text("name", &cmd.names)?;
    let now = now_ms();
    let mut tx = store.begin_write().await?;
    let change_id =
        append_change(&mut tx, now, ChangeKind::ComponentEdited, &cmd.component_id).await?;
    let Some(before) = status::component_settings(&mut tx, &cmd.component_id).await? else {
        return Err(WriteError::UnknownComponent(cmd.component_id.to_string()));
    };
    ensure_group(&mut tx, cmd.group_id.as_deref()).await?;
    let after = ComponentSettings {
        names: cmd.names.clone(),
        group_id: cmd.group_id.clone(),
        position: cmd.position,
        hidden: cmd.hidden,
    };
    status::update_component_settings(&mut tx, &cmd.component_id, &after, now).await?;
    audit::append(
        &mut tx,
        actor,
        "component.edit",
        &cmd.component_id,
        Some(&json!({
            "names": texts_json(&before.names),
            "group": before.group_id,
            "position": before.position,
            "hidden": before.hidden,
        })),
        Some(&json!({
            "names": texts_json(&cmd.names),
            "group": cmd.group_id,
            "position": cmd.position,
            "hidden": cmd.hidden,
        })),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: cmd.component_id.to_string(),
            components: Vec::new(),
        },
    )
    .await
}

/// A new component, operational from now on.
#[derive(Debug, Clone, PartialEq)]
pub struct AddComponent {
    pub id: ComponentId,
    pub names: Texts,
    pub group_id: Option<String>,
    pub position: i64,
}

/// Component ids appear in URLs, the API and subscriptions: short,
/// lower-case letters, digits and dashes.
fn check_component_id(id: &str) -> Result<(), WriteError> {
    let ok = (1..=40).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(WriteError::invalid(
            "id",
            format!("{id:?}: use 1–40 lower-case letters, digits and dashes, e.g. live-casino"),
        ))
    }
}

pub async fn add_component(
    store: &Store,
    actor: &Actor,
    cmd: &AddComponent,
) -> Result<Written, WriteError> {
    check_component_id(&cmd.id)?;
    require_text("name", &cmd.names)?;
    let now = now_ms();
    let mut tx = store.begin_write().await?;
    let change_id = append_change(&mut tx, now, ChangeKind::ComponentAdded, &cmd.id).await?;
    let exists = status::component_exists(&mut tx, &cmd.id).await?;
    if exists {
        return Err(WriteError::invalid(
            "id",
            format!("a component {:?} exists already", cmd.id),
        ));
    }
    ensure_group(&mut tx, cmd.group_id.as_deref()).await?;
    crate::store::status::insert_component(
        &mut tx,
        &crate::store::status::ComponentRecord {
            id: cmd.id.to_string(),
            group_id: cmd.group_id.clone(),
            position: cmd.position,
            status: ComponentStatus::Operational,
            hidden: false,
            names: cmd.names.clone(),
            descriptions: Texts::new(),
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    record_component_status(&mut tx, &cmd.id, ComponentStatus::Operational, now, None).await?;
    audit::append(
        &mut tx,
        actor,
        "component.add",
        &cmd.id,
        None,
        Some(&json!({
            "names": texts_json(&cmd.names),
            "group": cmd.group_id,
            "position": cmd.position,
        })),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: cmd.id.to_string(),
            components: Vec::new(),
        },
    )
    .await
}
