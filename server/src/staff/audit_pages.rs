//! The audit log for admins: filter on screen, export as CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::kernel::audit::{to_csv, AuditEntry, AuditFilter};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, utc, Frame};
use crate::staff::session::StaffSession;
use crate::store::audit::AuditQueryError;
use crate::store::Store;

/// Rows on screen; the CSV has everything that matches.
const SHOWN: i64 = 500;
const EXPORTED: i64 = 1_000_000;

pub struct Row {
    pub entry: AuditEntry,
    pub at: String,
}

#[derive(Template)]
#[template(path = "staff/audit.html")]
struct AuditPage {
    frame: Frame,
    filter: AuditFilter,
    actions: Vec<String>,
    rows: Vec<Row>,
    csv_query: String,
    error: Option<String>,
}

fn query_string(filter: &AuditFilter) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &filter.actor)
        .append_pair("action", &filter.action)
        .append_pair("from", &filter.from)
        .append_pair("to", &filter.to)
        .finish()
}

async fn entries(
    store: &Store,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Result<Vec<AuditEntry>, String>, StaffError> {
    match store.audit_entries(filter, limit).await {
        Ok(entries) => Ok(Ok(entries)),
        Err(AuditQueryError::Filter(e)) => Ok(Err(e.to_string())),
        Err(AuditQueryError::Store(e)) => Err(e.into()),
    }
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, StaffError> {
    let (rows, error) = match entries(&store, &filter, SHOWN).await? {
        Ok(entries) => (
            entries
                .into_iter()
                .map(|entry| Row {
                    at: utc(entry.at),
                    entry,
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    let failed = error.is_some();
    Ok(form_page(
        &AuditPage {
            frame: Frame::new(&session, "/staff/audit"),
            actions: store.audit_actions().await?,
            csv_query: query_string(&filter),
            filter,
            rows,
            error,
        },
        failed,
    ))
}

pub async fn csv(
    State(store): State<Store>,
    Query(filter): Query<AuditFilter>,
) -> Result<Response, StaffError> {
    let entries = match entries(&store, &filter, EXPORTED).await? {
        Ok(entries) => entries,
        Err(e) => return Err(StaffError::BadInput(e)),
    };
    let body = to_csv(&entries).map_err(|e| StaffError::Internal(e.to_string()))?;
    let name = format!(
        "attachment; filename=\"plaster-audit-{}.csv\"",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
