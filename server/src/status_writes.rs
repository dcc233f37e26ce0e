//! Writes to the public status: typed commands, each one transaction that
//! validates, writes, and appends a `status_changes` row. That row is what
//! every node's live task watches (see `live.rs`), so a write from anywhere —
//! this process, the CLI, another node — ends in a rebuilt snapshot.

use std::collections::BTreeSet;

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Actor};

use crate::ids::new_id;
use crate::store::status::{insert_incident, insert_incident_update, record_component_status};
use crate::store::status::{AffectedComponent, IncidentRecord, Texts, UpdateRecord};
use crate::store::{Backend, Store, StoreError};

/// The PostgreSQL channel a committed change is announced on.
pub const CHANNEL: &str = "plaster_status";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("unknown component {0:?}")]
    UnknownComponent(String),
    #[error("unknown incident {0:?}")]
    UnknownIncident(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WriteError {
    /// The caller's input was wrong (as opposed to the database failing).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, WriteError::Store(_))
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        WriteError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Store(StoreError::Query(e))
    }
}

/// A component and the status it is to have.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentChange {
    pub component_id: String,
    pub status: ComponentStatus,
}

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
    pub incident_id: String,
    pub stage: IncidentStage,
    pub bodies: Texts,
    pub components: Vec<ComponentChange>,
}

/// What a write did, for the caller to report.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The `status_changes` row: the snapshot version that includes this write.
    pub change_id: i64,
    pub subject_id: String,
    /// Old → new per component touched.
    pub components: Vec<AffectedComponent>,
}

/// The newest change in the database, 0 when there is none.
pub async fn latest_change_id(store: &Store) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM status_changes")
        .fetch_one(store.pool())
        .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Texts as `{"sv": "...", "en": "..."}` for the audit log.
pub fn texts_json(texts: &Texts) -> serde_json::Value {
    texts
        .iter()
        .map(|(lang, text)| (lang.code().to_string(), json!(text)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn changes_json(changes: &[AffectedComponent]) -> serde_json::Value {
    changes
        .iter()
        .map(|c| json!({ "component": c.component_id, "from": c.old_status.as_str(), "to": c.new_status.as_str() }))
        .collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Appends the change row first: on SQLite the insert takes the write lock at
/// once, so the reads that follow cannot be overtaken by another writer.
async fn append_change(
    conn: &mut AnyConnection,
    at_ms: i64,
    kind: &str,
    subject_id: &str,
) -> Result<i64, WriteError> {
    let row = sqlx::query(
        "INSERT INTO status_changes (changed_at, kind, subject_id) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(at_ms)
    .bind(kind)
    .bind(subject_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Commits a write and, on PostgreSQL, tells the other nodes about it from
/// inside the transaction: PostgreSQL delivers the notification only when
/// the transaction commits, so listeners never rebuild from a state without
/// the change.
async fn commit_and_announce(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    written: Written,
) -> Result<Written, WriteError> {
    if backend == Backend::Postgres {
        // pg_notify takes bind parameters, unlike the NOTIFY statement.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(written.change_id.to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(written)
}

async fn current_status(
    conn: &mut AnyConnection,
    component_id: &str,
) -> Result<ComponentStatus, WriteError> {
    let row = sqlx::query("SELECT status FROM components WHERE id = $1")
        .bind(component_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Err(WriteError::UnknownComponent(component_id.to_string()));
    };
    let status: String = row.try_get(0)?;
    status
        .parse()
        .map_err(|e: app::dto::UnknownValue| StoreError::Corrupt(e.to_string()).into())
}

/// Resolves each change against the component's current status; refuses
/// unknown and repeated components.
async fn affected(
    conn: &mut AnyConnection,
    changes: &[ComponentChange],
) -> Result<Vec<AffectedComponent>, WriteError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        if !seen.insert(c.component_id.as_str()) {
            return Err(WriteError::invalid(
                "component",
                format!("{:?} is listed more than once", c.component_id),
            ));
        }
        out.push(AffectedComponent {
            old_status: current_status(conn, &c.component_id).await?,
            component_id: c.component_id.clone(),
            new_status: c.status,
        });
    }
    Ok(out)
}

/// Refuses a group id that does not exist; `None` (no group) is fine.
async fn ensure_group(conn: &mut AnyConnection, group: Option<&str>) -> Result<(), WriteError> {
    let Some(group) = group else {
        return Ok(());
    };
    let known = sqlx::query("SELECT id FROM component_groups WHERE id = $1")
        .bind(group)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if known {
        Ok(())
    } else {
        Err(WriteError::invalid(
            "group",
            format!("unknown group {group:?}"),
        ))
    }
}

fn require_text(field: &'static str, texts: &Texts) -> Result<(), WriteError> {
    if texts.is_empty() {
        return Err(WriteError::invalid(
            field,
            "missing text: give at least one language, e.g. en=...",
        ));
    }
    match texts.iter().find(|(_, t)| t.trim().is_empty()) {
        Some((lang, _)) => Err(WriteError::invalid(
            field,
            format!("the {lang} text is empty"),
        )),
        None => Ok(()),
    }
}

pub async fn set_component_status(
    store: &Store,
    actor: &Actor,
    component_id: &str,
    status: ComponentStatus,
) -> Result<Written, WriteError> {
    let now = now_ms();
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "component", component_id).await?;
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

pub async fn open_incident(
    store: &Store,
    actor: &Actor,
    cmd: &OpenIncident,
) -> Result<Written, WriteError> {
    require_text("title", &cmd.titles)?;
    require_text("body", &cmd.bodies)?;
    let now = now_ms();
    let incident_id = new_id();
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "incident_opened", &incident_id).await?;
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
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "incident_updated", &cmd.incident_id).await?;
    let old_stage: String = match sqlx::query("SELECT status FROM incidents WHERE id = $1")
        .bind(&cmd.incident_id)
        .fetch_optional(&mut *tx)
        .await?
    {
        Some(row) => row.try_get(0)?,
        None => return Err(WriteError::UnknownIncident(cmd.incident_id.clone())),
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
    // A closing stage keeps the first resolution time (a postmortem after
    // "resolved" does not move it); reopening clears it.
    let resolved_at = if cmd.stage.is_closed() {
        "COALESCE(resolved_at, $3)"
    } else {
        "NULL"
    };
    sqlx::query(&format!(
        "UPDATE incidents SET status = $1, updated_at = $3, resolved_at = {resolved_at}
         WHERE id = $2"
    ))
    .bind(cmd.stage.as_str())
    .bind(&cmd.incident_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
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
            subject_id: cmd.incident_id.clone(),
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

// Parsing command-line input into the typed commands above.

fn lang_prefix(s: &str) -> Option<(Lang, &str)> {
    let (code, rest) = s.split_once('=')?;
    if code.len() > 3 || code.contains(' ') {
        return None;
    }
    Some((code.parse().ok()?, rest))
}

/// Texts per language from `sv=…,en=…` arguments (repeatable). A comma
/// starts a new language only when a language code and `=` follow it, so
/// the texts themselves may contain commas.
pub fn parse_texts(field: &'static str, args: &[String]) -> Result<Texts, WriteError> {
    let mut out = Texts::new();
    for arg in args {
        let mut current: Option<(Lang, String)> = None;
        for piece in arg.split(',') {
            match (lang_prefix(piece), current.as_mut()) {
                (Some((lang, text)), _) => {
                    if let Some((l, t)) = current.take() {
                        insert_text(field, &mut out, l, t)?;
                    }
                    current = Some((lang, text.to_string()));
                }
                (None, Some((_, text))) => {
                    text.push(',');
                    text.push_str(piece);
                }
                (None, None) => {
                    return Err(WriteError::invalid(
                        field,
                        format!("expected LANG=TEXT with LANG one of sv, nb, en, got {arg:?}"),
                    ))
                }
            }
        }
        if let Some((l, t)) = current {
            insert_text(field, &mut out, l, t)?;
        }
    }
    Ok(out)
}

fn insert_text(
    field: &'static str,
    out: &mut Texts,
    lang: Lang,
    text: String,
) -> Result<(), WriteError> {
    if out.insert(lang, text.trim().to_string()).is_some() {
        return Err(WriteError::invalid(
            field,
            format!("the {lang} text is given twice"),
        ));
    }
    Ok(())
}

/// `login=major_outage` pairs (comma-separated or repeated).
pub fn parse_component_changes(args: &[String]) -> Result<Vec<ComponentChange>, WriteError> {
    args.iter()
        .flat_map(|a| a.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(|pair| {
            let (id, status) = pair.split_once('=').ok_or_else(|| {
                WriteError::invalid(
                    "component",
                    format!("expected ID=STATUS, e.g. login=major_outage, got {pair:?}"),
                )
            })?;
            Ok(ComponentChange {
                component_id: id.trim().to_string(),
                status: parse_value("component", status.trim())?,
            })
        })
        .collect()
}

/// A status, impact or stage, with the field named in the error.
pub fn parse_value<T>(field: &'static str, s: &str) -> Result<T, WriteError>
where
    T: std::str::FromStr<Err = app::dto::UnknownValue>,
{
    s.parse()
        .map_err(|e: app::dto::UnknownValue| WriteError::invalid(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn texts_may_contain_commas() {
        let t = parse_texts("title", &s(&["sv=Inloggning, spel,en=Login, betting"])).expect("ok");
        assert_eq!(t[&Lang::Sv], "Inloggning, spel");
        assert_eq!(t[&Lang::En], "Login, betting");
        let t = parse_texts("body", &s(&["sv=A", "nb=B"])).expect("ok");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn bad_texts_name_the_field() {
        let e = parse_texts("title", &s(&["hello"])).expect_err("no lang");
        assert!(e.to_string().starts_with("title:"), "{e}");
        let e = parse_texts("body", &s(&["en=a", "en=b"])).expect_err("twice");
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn component_changes_parse_and_refuse_bad_statuses() {
        let c =
            parse_component_changes(&s(&["login=major_outage,betting=operational"])).expect("ok");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].status, ComponentStatus::MajorOutage);
        let e = parse_component_changes(&s(&["login=down"])).expect_err("bad");
        assert!(e.to_string().contains("component status"), "{e}");
    }
}

/// What an admin changes about a component (not its status).
#[derive(Debug, Clone, PartialEq)]
pub struct EditComponent {
    pub component_id: String,
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
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "component_edited", &cmd.component_id).await?;
    let Some(before) =
        sqlx::query("SELECT group_id, position, hidden FROM components WHERE id = $1")
            .bind(&cmd.component_id)
            .fetch_optional(&mut *tx)
            .await?
    else {
        return Err(WriteError::UnknownComponent(cmd.component_id.clone()));
    };
    ensure_group(&mut tx, cmd.group_id.as_deref()).await?;
    let mut old_names = Texts::new();
    for row in sqlx::query("SELECT lang, name FROM component_translations WHERE component_id = $1")
        .bind(&cmd.component_id)
        .fetch_all(&mut *tx)
        .await?
    {
        let lang: String = row.try_get(0)?;
        if let Ok(lang) = lang.parse::<Lang>() {
            old_names.insert(lang, row.try_get(1)?);
        }
    }
    sqlx::query("UPDATE components SET group_id = $2, position = $3, hidden = $4, updated_at = $5 WHERE id = $1")
        .bind(&cmd.component_id)
        .bind(cmd.group_id.as_deref())
        .bind(cmd.position)
        .bind(i64::from(cmd.hidden))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    for lang in Lang::ALL {
        match cmd.names.get(&lang) {
            Some(name) => {
                // Keeps the description; only the name is edited here.
                sqlx::query(
                    "INSERT INTO component_translations (component_id, lang, name) VALUES ($1, $2, $3)
                     ON CONFLICT (component_id, lang) DO UPDATE SET name = excluded.name",
                )
                .bind(&cmd.component_id)
                .bind(lang.code())
                .bind(name)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM component_translations WHERE component_id = $1 AND lang = $2",
                )
                .bind(&cmd.component_id)
                .bind(lang.code())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    audit::append(
        &mut tx,
        actor,
        "component.edit",
        &cmd.component_id,
        Some(&json!({
            "names": texts_json(&old_names),
            "group": before.try_get::<Option<String>, _>("group_id")?,
            "position": before.try_get::<i64, _>("position")?,
            "hidden": before.try_get::<i64, _>("hidden")? != 0,
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
            subject_id: cmd.component_id.clone(),
            components: Vec::new(),
        },
    )
    .await
}

/// Publishes (or replaces) an incident's apology in every language given.
pub async fn publish_apology(
    store: &Store,
    actor: &Actor,
    incident_id: &str,
    texts: &Texts,
) -> Result<Written, WriteError> {
    require_text("apology", texts)?;
    let now = now_ms();
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "apology_published", incident_id).await?;
    let exists = sqlx::query("SELECT id FROM incidents WHERE id = $1")
        .bind(incident_id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !exists {
        return Err(WriteError::UnknownIncident(incident_id.to_string()));
    }
    let mut before = Texts::new();
    for row in sqlx::query("SELECT lang, body FROM incident_apologies WHERE incident_id = $1")
        .bind(incident_id)
        .fetch_all(&mut *tx)
        .await?
    {
        let lang: String = row.try_get(0)?;
        if let Ok(lang) = lang.parse::<Lang>() {
            before.insert(lang, row.try_get(1)?);
        }
    }
    sqlx::query("DELETE FROM incident_apologies WHERE incident_id = $1")
        .bind(incident_id)
        .execute(&mut *tx)
        .await?;
    for (lang, body) in texts {
        sqlx::query(
            "INSERT INTO incident_apologies (incident_id, lang, body, published_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(incident_id)
        .bind(lang.code())
        .bind(body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
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

/// A planned maintenance window.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleMaintenance {
    pub titles: Texts,
    pub bodies: Texts,
    pub from_ms: i64,
    pub until_ms: i64,
    pub component_ids: Vec<String>,
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
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "maintenance_scheduled", &id).await?;
    for component in &cmd.component_ids {
        current_status(&mut tx, component).await?;
    }
    sqlx::query(
        "INSERT INTO scheduled_maintenances (id, status, scheduled_for, scheduled_until, created_at, updated_at)
         VALUES ($1, 'scheduled', $2, $3, $4, $4)",
    )
    .bind(&id)
    .bind(cmd.from_ms)
    .bind(cmd.until_ms)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for lang in Lang::ALL {
        let (Some(title), body) = (cmd.titles.get(&lang), cmd.bodies.get(&lang)) else {
            continue;
        };
        sqlx::query(
            "INSERT INTO scheduled_maintenance_translations (maintenance_id, lang, title, body)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(lang.code())
        .bind(title)
        .bind(body.map_or("", String::as_str))
        .execute(&mut *tx)
        .await?;
    }
    for component in &cmd.component_ids {
        sqlx::query(
            "INSERT INTO scheduled_maintenance_components (maintenance_id, component_id) VALUES ($1, $2)",
        )
        .bind(&id)
        .bind(component)
        .execute(&mut *tx)
        .await?;
    }
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

/// A new component, operational from now on.
#[derive(Debug, Clone, PartialEq)]
pub struct AddComponent {
    pub id: String,
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
    let mut tx = store.pool().begin().await?;
    let change_id = append_change(&mut tx, now, "component_added", &cmd.id).await?;
    let exists = sqlx::query("SELECT id FROM components WHERE id = $1")
        .bind(&cmd.id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
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
            id: cmd.id.clone(),
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
            subject_id: cmd.id.clone(),
            components: Vec::new(),
        },
    )
    .await
}
