//! Writes to the public status: typed commands, each one transaction that
//! validates, writes, and appends a `status_changes` row. That row is what
//! every node's live task watches (see `status::live`), so a write from
//! anywhere — this process, the CLI, another node — ends in a rebuilt
//! snapshot. The SQL itself is in `store::status`.

pub mod common;
pub mod components;
pub mod incidents;
pub mod maintenance;
pub mod parse;
pub mod templates;

pub use common::{latest_change_id, texts_json, ComponentChange, WriteError, Written, CHANNEL};
pub use components::{
    add_component, edit_component, set_component_status, AddComponent, EditComponent,
};
pub use incidents::{
    list_incidents, open_incident, post_incident_update, publish_apology, IncidentSummary,
    OpenIncident, PostUpdate,
};
pub use maintenance::{schedule_maintenance, ScheduleMaintenance};
pub use parse::{parse_component_changes, parse_texts, parse_value};
pub use templates::add_template;
