//! A revision's lines (CSV, its cells made inert for a spreadsheet) and
//! report (JSON) as downloads.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::shared::connection;
use crate::compensation::revision::{self};
use crate::staff::error::StaffError;
use crate::store::compensation::{self as table, LineFilter, RevisionRecord};
use crate::store::Store;

pub(crate) async fn stored_revision(
    store: &Store,
    run_id: &str,
    n: i64,
) -> Result<RevisionRecord, StaffError> {
    let mut conn = connection(store).await?;
    table::revisions(&mut conn, run_id)
        .await?
        .into_iter()
        .find(|r| r.revision == n)
        .ok_or_else(|| StaffError::NotFound(format!("run {run_id:?} has no revision {n}")))
}

pub(crate) fn download(body: Vec<u8>, content_type: &'static str, file: String) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

pub async fn lines_csv(
    State(store): State<Store>,
    Path((id, n)): Path<(String, i64)>,
) -> Result<Response, StaffError> {
    let record = stored_revision(&store, &id, n).await?;
    let lines = table::lines(&store, &id, record.revision, LineFilter::All).await?;
    let mut body = Vec::with_capacity(lines.len() * 48);
    // Inert cells for the spreadsheet; `run preview --details` keeps the
    // engine's bytes, which the digest is over.
    revision::write_lines_download(&lines, &mut body)
        .map_err(|e| StaffError::Internal(format!("writing the lines: {e}")))?;
    Ok(download(
        body,
        "text/csv; charset=utf-8",
        format!("{id}-r{n}-lines.csv"),
    ))
}

pub async fn report_json(
    State(store): State<Store>,
    Path((id, n)): Path<(String, i64)>,
) -> Result<Response, StaffError> {
    let record = stored_revision(&store, &id, n).await?;
    let mut report: serde_json::Value = serde_json::from_str(&record.report_json)
        .map_err(|e| StaffError::Internal(format!("revision {n}: {e}")))?;
    if let serde_json::Value::Object(map) = &mut report {
        map.insert("revision".into(), n.into());
        map.insert("digest".into(), record.digest.clone().into());
    }
    let body = serde_json::to_vec_pretty(&report)
        .map_err(|e| StaffError::Internal(format!("revision {n}: {e}")))?;
    Ok(download(
        body,
        "application/json",
        format!("{id}-r{n}-report.json"),
    ))
}
