//! Rows of the status side and the queries that read and write them.

use std::collections::BTreeMap;

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::kernel::change::ChangeKind;
use crate::kernel::ids::ComponentId;
use crate::store::{Backend, Store, StoreError};

pub use crate::kernel::texts::Texts;

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    pub id: String,
    pub position: i64,
    pub names: Texts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComponentRecord {
    pub id: String,
    pub group_id: Option<String>,
    pub position: i64,
    pub status: ComponentStatus,
    pub hidden: bool,
    pub names: Texts,
    pub descriptions: Texts,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One status a component held from `changed_at` until its next record.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord {
    pub component_id: String,
    pub status: ComponentStatus,
    pub changed_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AffectedComponent {
    pub component_id: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRecord {
    pub id: String,
    pub status: IncidentStage,
    pub display_at: i64,
    pub created_at: i64,
    pub bodies: Texts,
    pub components: Vec<AffectedComponent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    pub id: String,
    pub impact: Impact,
    pub status: IncidentStage,
    pub started_at: i64,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub titles: Texts,
    /// Oldest first.
    pub updates: Vec<UpdateRecord>,
    /// The published apology per language (Markdown); empty when none.
    pub apology: Texts,
    pub apology_published_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceRecord {
    pub id: String,
    pub status: String,
    pub scheduled_for: i64,
    pub scheduled_until: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub titles: Texts,
    pub bodies: Texts,
    pub component_ids: Vec<String>,
}

/// Everything the public side is built from, read in one go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusData {
    pub groups: Vec<GroupRecord>,
    pub components: Vec<ComponentRecord>,
    /// Ordered by component, then time; includes the last record before `since`
    /// so the state at the start of the range is known.
    pub history: Vec<HistoryRecord>,
    /// Newest first.
    pub incidents: Vec<IncidentRecord>,
    pub maintenances: Vec<MaintenanceRecord>,
    pub settings: BTreeMap<String, String>,
}

fn parse<T: std::str::FromStr>(value: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse::<T>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn lang_of(row: &AnyRow) -> Result<Lang, StoreError> {
    parse(&row.try_get::<String, _>("lang")?)
}

/// Reads `(owner, lang, text)` rows into per-owner text maps.
async fn texts_by_owner(
    conn: &mut AnyConnection,
    sql: &str,
) -> Result<BTreeMap<String, Texts>, StoreError> {
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await?;
    let mut out: BTreeMap<String, Texts> = BTreeMap::new();
    for row in rows {
        let owner: String = row.try_get(0)?;
        let text: String = row.try_get(2)?;
        out.entry(owner).or_default().insert(lang_of(&row)?, text);
    }
    Ok(out)
}

impl Store {
    /// Everything the public side shows, read in one transaction so a
    /// rebuild never sees half of a write (on PostgreSQL, REPEATABLE READ:
    /// every query sees the same committed state).
    pub async fn load_status_data(&self, history_since_ms: i64) -> Result<StatusData, StoreError> {
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let data = read_status_data(&mut tx, history_since_ms).await?;
        tx.commit().await?;
        Ok(data)
    }
}

async fn read_status_data(
    conn: &mut AnyConnection,
    history_since_ms: i64,
) -> Result<StatusData, StoreError> {
    let group_names = texts_by_owner(
        &mut *conn,
        "SELECT group_id, lang, name FROM component_group_translations",
    )
    .await?;
    let groups = sqlx::query("SELECT id, position FROM component_groups ORDER BY position, id")
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            Ok(GroupRecord {
                names: group_names.get(&id).cloned().unwrap_or_default(),
                position: row.try_get("position")?,
                id,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;

    let names = texts_by_owner(
        &mut *conn,
        "SELECT component_id, lang, name FROM component_translations",
    )
    .await?;
    let descriptions = texts_by_owner(
            &mut *conn,
            "SELECT component_id, lang, description FROM component_translations WHERE description IS NOT NULL",
        )
        .await?;
    let components = sqlx::query(
        "SELECT id, group_id, position, status, hidden, created_at, updated_at
             FROM components ORDER BY position, id",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        let id: String = row.try_get("id")?;
        Ok(ComponentRecord {
            names: names.get(&id).cloned().unwrap_or_default(),
            descriptions: descriptions.get(&id).cloned().unwrap_or_default(),
            group_id: row.try_get("group_id")?,
            position: row.try_get("position")?,
            status: parse(&row.try_get::<String, _>("status")?)?,
            hidden: row.try_get::<i64, _>("hidden")? != 0,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            id,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;

    // The records inside the range, plus each component's last one before it.
    let history = sqlx::query(
        "SELECT h.component_id, h.status, h.changed_at FROM component_status_history h
             WHERE h.changed_at >= $1
                OR h.id = (SELECT h2.id FROM component_status_history h2
                           WHERE h2.component_id = h.component_id AND h2.changed_at < $1
                           ORDER BY h2.changed_at DESC, h2.id DESC LIMIT 1)
             ORDER BY h.component_id, h.changed_at, h.id",
    )
    .bind(history_since_ms)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(HistoryRecord {
            component_id: row.try_get("component_id")?,
            status: parse(&row.try_get::<String, _>("status")?)?,
            changed_at: row.try_get("changed_at")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;

    let incidents = load_incidents(&mut *conn).await?;
    let maintenances = load_maintenances(&mut *conn).await?;

    let settings = sqlx::query("SELECT key, value FROM page_settings")
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("key")?, row.try_get("value")?)))
        .collect::<Result<BTreeMap<String, String>, StoreError>>()?;

    Ok(StatusData {
        groups,
        components,
        history,
        incidents,
        maintenances,
        settings,
    })
}

async fn load_incidents(conn: &mut AnyConnection) -> Result<Vec<IncidentRecord>, StoreError> {
    let titles = texts_by_owner(
        &mut *conn,
        "SELECT incident_id, lang, title FROM incident_translations",
    )
    .await?;
    let bodies = texts_by_owner(
        &mut *conn,
        "SELECT update_id, lang, body FROM incident_update_translations",
    )
    .await?;
    let mut affected: BTreeMap<String, Vec<AffectedComponent>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT update_id, component_id, old_status, new_status
             FROM incident_update_components ORDER BY update_id, component_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        affected
            .entry(row.try_get("update_id")?)
            .or_default()
            .push(AffectedComponent {
                component_id: row.try_get("component_id")?,
                old_status: parse(&row.try_get::<String, _>("old_status")?)?,
                new_status: parse(&row.try_get::<String, _>("new_status")?)?,
            });
    }
    let mut updates: BTreeMap<String, Vec<UpdateRecord>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT id, incident_id, status, display_at, created_at FROM incident_updates
             ORDER BY incident_id, display_at, created_at, id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let id: String = row.try_get("id")?;
        updates
            .entry(row.try_get("incident_id")?)
            .or_default()
            .push(UpdateRecord {
                bodies: bodies.get(&id).cloned().unwrap_or_default(),
                components: affected.remove(&id).unwrap_or_default(),
                status: parse(&row.try_get::<String, _>("status")?)?,
                display_at: row.try_get("display_at")?,
                created_at: row.try_get("created_at")?,
                id,
            });
    }
    let apologies = texts_by_owner(
        &mut *conn,
        "SELECT incident_id, lang, body FROM incident_apologies",
    )
    .await?;
    let mut apology_times: BTreeMap<String, i64> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT incident_id, MAX(published_at) FROM incident_apologies GROUP BY incident_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        apology_times.insert(row.try_get(0)?, row.try_get(1)?);
    }
    sqlx::query(
        "SELECT id, impact, status, started_at, resolved_at, created_at, updated_at
             FROM incidents ORDER BY started_at DESC, id",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        let id: String = row.try_get("id")?;
        Ok(IncidentRecord {
            titles: titles.get(&id).cloned().unwrap_or_default(),
            updates: updates.remove(&id).unwrap_or_default(),
            apology: apologies.get(&id).cloned().unwrap_or_default(),
            apology_published_at: apology_times.get(&id).copied(),
            impact: parse(&row.try_get::<String, _>("impact")?)?,
            status: parse(&row.try_get::<String, _>("status")?)?,
            started_at: row.try_get("started_at")?,
            resolved_at: row.try_get("resolved_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            id,
        })
    })
    .collect()
}

async fn load_maintenances(conn: &mut AnyConnection) -> Result<Vec<MaintenanceRecord>, StoreError> {
    let titles = texts_by_owner(
        &mut *conn,
        "SELECT maintenance_id, lang, title FROM scheduled_maintenance_translations",
    )
    .await?;
    let bodies = texts_by_owner(
        &mut *conn,
        "SELECT maintenance_id, lang, body FROM scheduled_maintenance_translations",
    )
    .await?;
    let mut components: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT maintenance_id, component_id FROM scheduled_maintenance_components
             ORDER BY maintenance_id, component_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        components
            .entry(row.try_get("maintenance_id")?)
            .or_default()
            .push(row.try_get("component_id")?);
    }
    sqlx::query(
        "SELECT id, status, scheduled_for, scheduled_until, created_at, updated_at
             FROM scheduled_maintenances ORDER BY scheduled_for, id",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|row| {
        let id: String = row.try_get("id")?;
        Ok(MaintenanceRecord {
            titles: titles.get(&id).cloned().unwrap_or_default(),
            bodies: bodies.get(&id).cloned().unwrap_or_default(),
            component_ids: components.remove(&id).unwrap_or_default(),
            status: row.try_get("status")?,
            scheduled_for: row.try_get("scheduled_for")?,
            scheduled_until: row.try_get("scheduled_until")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            id,
        })
    })
    .collect()
}

impl Store {
    /// Whether any component exists: the demo seeds only an empty database.
    pub async fn has_components(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM components")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(n > 0)
    }
}

// Writes take a connection so callers can group them in one transaction.

pub async fn insert_group(conn: &mut AnyConnection, group: &GroupRecord) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO component_groups (id, position) VALUES ($1, $2)")
        .bind(&group.id)
        .bind(group.position)
        .execute(&mut *conn)
        .await?;
    for (lang, name) in &group.names {
        sqlx::query(
            "INSERT INTO component_group_translations (group_id, lang, name) VALUES ($1, $2, $3)",
        )
        .bind(&group.id)
        .bind(lang.code())
        .bind(name)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn insert_component(
    conn: &mut AnyConnection,
    c: &ComponentRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO components (id, group_id, position, status, hidden, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(c.group_id.as_deref())
    .bind(c.position)
    .bind(c.status.as_str())
    .bind(i64::from(c.hidden))
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *conn)
    .await?;
    for (lang, name) in &c.names {
        sqlx::query(
            "INSERT INTO component_translations (component_id, lang, name, description)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&c.id)
        .bind(lang.code())
        .bind(name)
        .bind(c.descriptions.get(lang).map(String::as_str))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Appends to a component's history and sets its current status when the
/// record is the newest one.
pub async fn record_component_status(
    conn: &mut AnyConnection,
    component_id: &str,
    status: ComponentStatus,
    at_ms: i64,
    incident_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO component_status_history (component_id, status, changed_at, incident_id)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(component_id)
    .bind(status.as_str())
    .bind(at_ms)
    .bind(incident_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE components SET status = $1, updated_at = $2
         WHERE id = $3 AND updated_at <= $2",
    )
    .bind(status.as_str())
    .bind(at_ms)
    .bind(component_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_incident(
    conn: &mut AnyConnection,
    incident: &IncidentRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO incidents (id, impact, status, started_at, resolved_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&incident.id)
    .bind(incident.impact.as_str())
    .bind(incident.status.as_str())
    .bind(incident.started_at)
    .bind(incident.resolved_at)
    .bind(incident.created_at)
    .bind(incident.updated_at)
    .execute(&mut *conn)
    .await?;
    for (lang, title) in &incident.titles {
        sqlx::query(
            "INSERT INTO incident_translations (incident_id, lang, title) VALUES ($1, $2, $3)",
        )
        .bind(&incident.id)
        .bind(lang.code())
        .bind(title)
        .execute(&mut *conn)
        .await?;
    }
    for update in &incident.updates {
        insert_incident_update(conn, &incident.id, update).await?;
    }
    Ok(())
}

pub async fn insert_incident_update(
    conn: &mut AnyConnection,
    incident_id: &str,
    update: &UpdateRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO incident_updates (id, incident_id, status, display_at, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&update.id)
    .bind(incident_id)
    .bind(update.status.as_str())
    .bind(update.display_at)
    .bind(update.created_at)
    .execute(&mut *conn)
    .await?;
    for (lang, body) in &update.bodies {
        sqlx::query(
            "INSERT INTO incident_update_translations (update_id, lang, body) VALUES ($1, $2, $3)",
        )
        .bind(&update.id)
        .bind(lang.code())
        .bind(body)
        .execute(&mut *conn)
        .await?;
    }
    for c in &update.components {
        sqlx::query(
            "INSERT INTO incident_update_components (update_id, component_id, old_status, new_status)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&update.id)
        .bind(&c.component_id)
        .bind(c.old_status.as_str())
        .bind(c.new_status.as_str())
        .execute(&mut *conn)
        .await?;
        record_component_status(
            conn,
            &c.component_id,
            c.new_status,
            update.display_at,
            Some(incident_id),
        )
        .await?;
    }
    Ok(())
}

pub async fn set_setting(
    conn: &mut AnyConnection,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    // Portable upsert: both engines accept ON CONFLICT ... DO UPDATE.
    sqlx::query(
        "INSERT INTO page_settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes all status content (for `plaster demo reset`); staff accounts stay.
pub async fn clear_status_content(conn: &mut AnyConnection) -> Result<(), StoreError> {
    for table in [
        "incident_update_components",
        "incident_update_translations",
        "incident_updates",
        "incident_translations",
        "incident_apologies",
        "incidents",
        "scheduled_maintenance_components",
        "scheduled_maintenance_translations",
        "scheduled_maintenances",
        "component_status_history",
        "component_translations",
        "components",
        "component_group_translations",
        "component_groups",
        "page_settings",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// Writes of the status commands (`status::commands`), each inside the
// command's own transaction.

/// The PostgreSQL channel a committed change is announced on.
pub const CHANNEL: &str = "plaster_status";

/// The newest change in the database, 0 when there is none.
pub async fn latest_change_id(store: &Store) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM status_changes")
        .fetch_one(store.pool())
        .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Appends a `status_changes` row and returns its id.
pub async fn append_change(
    conn: &mut AnyConnection,
    at_ms: i64,
    kind: ChangeKind,
    subject_id: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO status_changes (changed_at, kind, subject_id) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(at_ms)
    .bind(kind.as_str())
    .bind(subject_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Tells the other nodes about a change, on PostgreSQL, from inside the
/// transaction: PostgreSQL delivers the notification only when the
/// transaction commits. SQLite has no notifications (nodes poll).
pub async fn announce(
    conn: &mut AnyConnection,
    backend: Backend,
    change_id: i64,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        // pg_notify takes bind parameters, unlike the NOTIFY statement.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(change_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A component's status, `None` when there is no such component.
pub async fn component_status(
    conn: &mut AnyConnection,
    component_id: &str,
) -> Result<Option<ComponentStatus>, StoreError> {
    let row = sqlx::query("SELECT status FROM components WHERE id = $1")
        .bind(component_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let status: String = row.try_get(0)?;
    status
        .parse()
        .map(Some)
        .map_err(|e: app::dto::UnknownValue| StoreError::Corrupt(e.to_string()))
}

pub async fn group_exists(conn: &mut AnyConnection, group_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT id FROM component_groups WHERE id = $1")
        .bind(group_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// What an admin may change about a component, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentSettings {
    pub names: Texts,
    pub group_id: Option<String>,
    pub position: i64,
    pub hidden: bool,
}

/// A component's settings, `None` when there is no such component.
pub async fn component_settings(
    conn: &mut AnyConnection,
    component_id: &str,
) -> Result<Option<ComponentSettings>, StoreError> {
    let Some(row) = sqlx::query("SELECT group_id, position, hidden FROM components WHERE id = $1")
        .bind(component_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut names = Texts::new();
    for name in sqlx::query("SELECT lang, name FROM component_translations WHERE component_id = $1")
        .bind(component_id)
        .fetch_all(&mut *conn)
        .await?
    {
        let lang: String = name.try_get(0)?;
        if let Ok(lang) = lang.parse::<Lang>() {
            names.insert(lang, name.try_get(1)?);
        }
    }
    Ok(Some(ComponentSettings {
        names,
        group_id: row.try_get("group_id")?,
        position: row.try_get("position")?,
        hidden: row.try_get::<i64, _>("hidden")? != 0,
    }))
}

/// Stores new settings; names in languages not given are removed, and a
/// name's description is kept.
pub async fn update_component_settings(
    conn: &mut AnyConnection,
    component_id: &str,
    settings: &ComponentSettings,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE components SET group_id = $2, position = $3, hidden = $4, updated_at = $5 WHERE id = $1")
        .bind(component_id)
        .bind(settings.group_id.as_deref())
        .bind(settings.position)
        .bind(i64::from(settings.hidden))
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    for lang in Lang::ALL {
        match settings.names.get(&lang) {
            Some(name) => {
                sqlx::query(
                    "INSERT INTO component_translations (component_id, lang, name) VALUES ($1, $2, $3)
                     ON CONFLICT (component_id, lang) DO UPDATE SET name = excluded.name",
                )
                .bind(component_id)
                .bind(lang.code())
                .bind(name)
                .execute(&mut *conn)
                .await?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM component_translations WHERE component_id = $1 AND lang = $2",
                )
                .bind(component_id)
                .bind(lang.code())
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

pub async fn component_exists(
    conn: &mut AnyConnection,
    component_id: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT id FROM components WHERE id = $1")
        .bind(component_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Whether a component exists and readers see it (not hidden).
pub async fn component_is_public(
    conn: &mut AnyConnection,
    component_id: &str,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT id FROM components WHERE id = $1 AND hidden = 0")
            .bind(component_id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

/// An incident's stage as stored, `None` when there is no such incident.
pub async fn incident_stage(
    conn: &mut AnyConnection,
    incident_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        match sqlx::query("SELECT status FROM incidents WHERE id = $1")
            .bind(incident_id)
            .fetch_optional(&mut *conn)
            .await?
        {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        },
    )
}

/// Moves an incident to `stage`. A closing stage keeps the first resolution
/// time (a postmortem after "resolved" does not move it); reopening clears it.
pub async fn set_incident_stage(
    conn: &mut AnyConnection,
    incident_id: &str,
    stage: IncidentStage,
    now_ms: i64,
) -> Result<(), StoreError> {
    let resolved_at = if stage.is_closed() {
        "COALESCE(resolved_at, $3)"
    } else {
        "NULL"
    };
    sqlx::query(&format!(
        "UPDATE incidents SET status = $1, updated_at = $3, resolved_at = {resolved_at}
         WHERE id = $2"
    ))
    .bind(stage.as_str())
    .bind(incident_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An incident's published apology, `None` when there is no such incident.
pub async fn incident_apology(
    conn: &mut AnyConnection,
    incident_id: &str,
) -> Result<Option<Texts>, StoreError> {
    let exists = sqlx::query("SELECT id FROM incidents WHERE id = $1")
        .bind(incident_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if !exists {
        return Ok(None);
    }
    let mut texts = Texts::new();
    for row in sqlx::query("SELECT lang, body FROM incident_apologies WHERE incident_id = $1")
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?
    {
        let lang: String = row.try_get(0)?;
        if let Ok(lang) = lang.parse::<Lang>() {
            texts.insert(lang, row.try_get(1)?);
        }
    }
    Ok(Some(texts))
}

/// Replaces an incident's apology with `texts`, published at `now_ms`.
pub async fn replace_apology(
    conn: &mut AnyConnection,
    incident_id: &str,
    texts: &Texts,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM incident_apologies WHERE incident_id = $1")
        .bind(incident_id)
        .execute(&mut *conn)
        .await?;
    for (lang, body) in texts {
        sqlx::query(
            "INSERT INTO incident_apologies (incident_id, lang, body, published_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(incident_id)
        .bind(lang.code())
        .bind(body)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A maintenance window to store, scheduled.
pub struct NewMaintenance<'a> {
    pub id: &'a str,
    pub titles: &'a Texts,
    pub bodies: &'a Texts,
    pub from_ms: i64,
    pub until_ms: i64,
    pub component_ids: &'a [ComponentId],
}

pub async fn insert_maintenance(
    conn: &mut AnyConnection,
    m: &NewMaintenance<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO scheduled_maintenances (id, status, scheduled_for, scheduled_until, created_at, updated_at)
         VALUES ($1, 'scheduled', $2, $3, $4, $4)",
    )
    .bind(m.id)
    .bind(m.from_ms)
    .bind(m.until_ms)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    for lang in Lang::ALL {
        let (Some(title), body) = (m.titles.get(&lang), m.bodies.get(&lang)) else {
            continue;
        };
        sqlx::query(
            "INSERT INTO scheduled_maintenance_translations (maintenance_id, lang, title, body)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(m.id)
        .bind(lang.code())
        .bind(title)
        .bind(body.map_or("", String::as_str))
        .execute(&mut *conn)
        .await?;
    }
    for component in m.component_ids {
        sqlx::query(
            "INSERT INTO scheduled_maintenance_components (maintenance_id, component_id) VALUES ($1, $2)",
        )
        .bind(m.id)
        .bind(component.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A message template for incident updates, with its text per language.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub id: String,
    pub name: String,
    pub stage: IncidentStage,
    pub bodies: Texts,
}

/// Every template, by name.
pub async fn message_templates(store: &Store) -> Result<Vec<TemplateRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.stage, tr.lang, tr.body FROM message_templates t
         LEFT JOIN message_template_translations tr ON tr.template_id = t.id
         ORDER BY t.name, tr.lang",
    )
    .fetch_all(store.pool())
    .await?;
    let mut out: Vec<TemplateRecord> = Vec::new();
    for row in rows {
        let id: String = row.try_get("id")?;
        if out.last().is_none_or(|t| t.id != id) {
            let stage: String = row.try_get("stage")?;
            out.push(TemplateRecord {
                id: id.clone(),
                name: row.try_get("name")?,
                stage: stage
                    .parse()
                    .map_err(|e: app::dto::UnknownValue| StoreError::Corrupt(e.to_string()))?,
                bodies: Texts::new(),
            });
        }
        let lang: Option<String> = row.try_get("lang")?;
        let body: Option<String> = row.try_get("body")?;
        if let (Some(lang), Some(body), Some(t)) = (lang, body, out.last_mut()) {
            if let Ok(lang) = lang.parse::<Lang>() {
                t.bodies.insert(lang, body);
            }
        }
    }
    Ok(out)
}

/// Stores a template; `false` when one of that name exists already (the
/// database's unique constraint decides, so two at once cannot both win).
pub async fn insert_template(
    conn: &mut AnyConnection,
    template: &TemplateRecord,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO message_templates (id, name, stage, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&template.id)
    .bind(&template.name)
    .bind(template.stage.as_str())
    .bind(now_ms)
    .execute(&mut *conn)
    .await;
    match inserted {
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => return Ok(false),
        other => {
            other?;
        }
    }
    for (lang, text) in &template.bodies {
        sqlx::query(
            "INSERT INTO message_template_translations (template_id, lang, body) VALUES ($1, $2, $3)",
        )
        .bind(&template.id)
        .bind(lang.code())
        .bind(text)
        .execute(&mut *conn)
        .await?;
    }
    Ok(true)
}

/// What a compensation run's plan is prefilled from: an incident's times,
/// titles, and every component any of its updates touched, with its group.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentOutline {
    pub id: String,
    pub started_at: i64,
    pub resolved_at: Option<i64>,
    pub titles: Texts,
    /// `(component id, group id)`, sorted.
    pub components: Vec<(String, Option<String>)>,
}

pub async fn incident_outline(
    conn: &mut AnyConnection,
    incident_id: &str,
) -> Result<Option<IncidentOutline>, StoreError> {
    let Some(row) = sqlx::query("SELECT id, started_at, resolved_at FROM incidents WHERE id = $1")
        .bind(incident_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut titles = Texts::new();
    for t in sqlx::query("SELECT lang, title FROM incident_translations WHERE incident_id = $1")
        .bind(incident_id)
        .fetch_all(&mut *conn)
        .await?
    {
        titles.insert(lang_of(&t)?, t.try_get("title")?);
    }
    let components = sqlx::query(
        "SELECT DISTINCT c.id, c.group_id FROM incident_update_components u
         JOIN incident_updates d ON d.id = u.update_id
         JOIN components c ON c.id = u.component_id
         WHERE d.incident_id = $1 ORDER BY c.id",
    )
    .bind(incident_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(IncidentOutline {
        id: row.try_get("id")?,
        started_at: row.try_get("started_at")?,
        resolved_at: row.try_get("resolved_at")?,
        titles,
        components,
    }))
}
