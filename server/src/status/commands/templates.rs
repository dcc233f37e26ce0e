//! Message templates: the texts communications staff start updates from.

use app::dto::IncidentStage;
use serde_json::json;

use crate::kernel::audit::Actor;
use crate::kernel::ids::new_id;
use crate::status::commands::common::{now_ms, texts_json, WriteError};
use crate::store::status::{self, TemplateRecord, Texts};
use crate::store::{audit, Store};

/// Adds a template; a name that is taken is refused at the name field.
pub async fn add_template(
    store: &Store,
    actor: &Actor,
    name: &str,
    stage: IncidentStage,
    bodies: &Texts,
) -> Result<(), WriteError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(WriteError::invalid("name", "give the template a name"));
    }
    if bodies.is_empty() {
        return Err(WriteError::invalid(
            "body",
            "write it in at least one language",
        ));
    }
    let template = TemplateRecord {
        id: new_id(),
        name: name.to_string(),
        stage,
        bodies: bodies.clone(),
    };
    let mut tx = store.begin_write().await?;
    if !status::insert_template(&mut tx, &template, now_ms()).await? {
        return Err(WriteError::invalid(
            "name",
            format!("a template called {name:?} exists already"),
        ));
    }
    audit::append(
        &mut tx,
        actor,
        "template.add",
        name,
        None,
        Some(&json!({ "stage": stage.as_str(), "bodies": texts_json(bodies) })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
