//! What the compensation pages share: a connection for several reads,
//! the error conversion, totals as staff read them, incident titles.

use std::collections::BTreeMap;

use crate::compensation::charts::{self};
use crate::compensation::logs::{self};
use crate::compensation::runs::RunError;
use crate::staff::error::StaffError;
use crate::store::status::{incident_outline, IncidentOutline};
use crate::store::Store;

/// A connection for a page's several reads.
pub(crate) async fn connection(
    store: &Store,
) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StaffError> {
    Ok(store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?)
}

impl From<RunError> for StaffError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Store(e) => StaffError::Store(e),
            RunError::Log(logs::LogError::Store(e)) => StaffError::Store(e),
            RunError::Log(e @ logs::LogError::Read { .. }) => StaffError::Internal(e.to_string()),
            e @ RunError::NotFound(_) => StaffError::NotFound(e.to_string()),
            other => StaffError::BadInput(other.to_string()),
        }
    }
}

/// "240.00 SEK, 50.00 NOK": totals as staff read them.
pub(crate) fn totals_text(totals: &BTreeMap<String, i64>) -> String {
    if totals.is_empty() {
        return "nothing".into();
    }
    totals
        .iter()
        .map(|(c, v)| charts::money(*v, c))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn outline(store: &Store, incident: &str) -> Result<IncidentOutline, StaffError> {
    let mut conn = connection(store).await?;
    incident_outline(&mut conn, incident)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("incident {incident:?} does not exist")))
}

pub(crate) fn english_title(i: &IncidentOutline) -> String {
    i.titles
        .get(&app::dto::Lang::En)
        .or_else(|| i.titles.values().next())
        .cloned()
        .unwrap_or_else(|| i.id.clone())
}
