//! What every status command shares: its errors, what it reports, and
//! the steps each one takes (the change row, the announcement, checks).

use std::collections::BTreeSet;

use app::dto::ComponentStatus;
use serde_json::json;
use sqlx::AnyConnection;

use crate::kernel::change::ChangeKind;
use crate::kernel::ids::ComponentId;
use crate::store::status::{self, AffectedComponent, Texts};
use crate::store::{Backend, StoreError};

pub use crate::store::status::{latest_change_id, CHANNEL};

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

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
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
    pub component_id: ComponentId,
    pub status: ComponentStatus,
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

/// Texts as `{"sv": "...", "en": "..."}` for the audit log.
pub fn texts_json(texts: &Texts) -> serde_json::Value {
    texts
        .iter()
        .map(|(lang, text)| (lang.code().to_string(), json!(text)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub(crate) fn changes_json(changes: &[AffectedComponent]) -> serde_json::Value {
    changes
        .iter()
        .map(|c| json!({ "component": c.component_id, "from": c.old_status.as_str(), "to": c.new_status.as_str() }))
        .collect()
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Appends the change row first: on SQLite the insert takes the write lock at
/// once, so the reads that follow cannot be overtaken by another writer.
pub(crate) async fn append_change(
    conn: &mut AnyConnection,
    at_ms: i64,
    kind: ChangeKind,
    subject_id: &str,
) -> Result<i64, WriteError> {
    Ok(status::append_change(conn, at_ms, kind, subject_id).await?)
}

/// Commits a write and, on PostgreSQL, tells the other nodes about it from
/// inside the transaction, so listeners never rebuild from a state without
/// the change.
pub(crate) async fn commit_and_announce(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    written: Written,
) -> Result<Written, WriteError> {
    status::announce(&mut tx, backend, written.change_id).await?;
    tx.commit().await?;
    Ok(written)
}

pub(crate) async fn current_status(
    conn: &mut AnyConnection,
    component_id: &str,
) -> Result<ComponentStatus, WriteError> {
    status::component_status(conn, component_id)
        .await?
        .ok_or_else(|| WriteError::UnknownComponent(component_id.to_string()))
}

/// Resolves each change against the component's current status; refuses
/// unknown and repeated components.
pub(crate) async fn affected(
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
            component_id: c.component_id.to_string(),
            new_status: c.status,
        });
    }
    Ok(out)
}

/// Refuses a group id that does not exist; `None` (no group) is fine.
pub(crate) async fn ensure_group(
    conn: &mut AnyConnection,
    group: Option<&str>,
) -> Result<(), WriteError> {
    let Some(group) = group else {
        return Ok(());
    };
    let known = status::group_exists(conn, group).await?;
    if known {
        Ok(())
    } else {
        Err(WriteError::invalid(
            "group",
            format!("unknown group {group:?}"),
        ))
    }
}

pub(crate) fn require_text(field: &'static str, texts: &Texts) -> Result<(), WriteError> {
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
