//! Scheduling maintenance windows.

use serde_json::json;

use crate::kernel::audit::Actor;
use crate::kernel::change::ChangeKind;
use crate::kernel::ids::{new_id, ComponentId};
use crate::status::commands::common::{
    append_change, commit_and_announce, current_status, now_ms, require_text, texts_json,
    WriteError, Written,
};
use crate::store::audit;
use crate::store::status::{self, NewMaintenance, Texts};
use crate::store::Store;

/// A planned maintenance window.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleMaintenance {
    pub titles: Texts,
    pub bodies: Texts,
    pub from_ms: i64,
    pub until_ms: i64,
    pub component_ids: Vec<ComponentId>,
}

pub async fn schedule_maintenance(
    store: &Store,
    actor: &Actor,
    cmd: &ScheduleMaintenance,
) -> Result<Written, WriteError> {
    require_text("title", &cmd.titles)?;
    require_text("body", &cmd.bodies)?;
    if cmd.until_ms <= cmd.from_ms {
        return Err(WriteError::invalid(
            "until",
            "the window must end after it starts",
        ));
    }
    let now = now_ms();
    if cmd.until_ms <= now {
        return Err(WriteError::invalid("until", "the window is already over"));
    }
    let id = new_id();
    let mut tx = store.begin_write().await?;
    let change_id = append_change(&mut tx, now, ChangeKind::MaintenanceScheduled, &id).await?;
    for component in &cmd.component_ids {
        current_status(&mut tx, component).await?;
    }
    status::insert_maintenance(
        &mut tx,
        &NewMaintenance {
            id: &id,
            titles: &cmd.titles,
            bodies: &cmd.bodies,
            from_ms: cmd.from_ms,
            until_ms: cmd.until_ms,
            component_ids: &cmd.component_ids,
        },
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        actor,
        "maintenance.schedule",
        &id,
        None,
        Some(&json!({
            "titles": texts_json(&cmd.titles),
            "bodies": texts_json(&cmd.bodies),
            "from": cmd.from_ms,
            "until": cmd.until_ms,
            "components": cmd.component_ids,
        })),
    )
    .await?;
    commit_and_announce(
        tx,
        store.backend(),
        Written {
            change_id,
            subject_id: id,
            components: Vec::new(),
        },
    )
    .await
}
