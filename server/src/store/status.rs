//! Rows of the status side and the queries that read and write them.

use std::collections::BTreeMap;

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Backend, Store, StoreError};

pub type Texts = BTreeMap<Lang, String>;

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
