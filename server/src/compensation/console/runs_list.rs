//! `/staff/compensation`: every run with its newest totals, and where a
//! new one starts.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Extension;

use super::shared::{connection, totals_text};
use crate::compensation::revision::parse_report;
use crate::staff::error::StaffError;
use crate::staff::page::{page, utc, Frame};
use crate::staff::roles::RUNS_EDIT;
use crate::staff::session::StaffSession;
use crate::store::compensation::{self as table};
use crate::store::Store;

pub(crate) struct RunRow {
    pub(crate) id: String,
    pub(crate) incident_id: String,
    pub(crate) state: String,
    pub(crate) created_by: String,
    pub(crate) created_at: String,
    pub(crate) totals: String,
}

pub(crate) struct IncidentChoice {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) has_run: bool,
}

#[derive(Template)]
#[template(path = "staff/compensation/runs.html")]
pub(crate) struct RunsPage {
    pub(crate) frame: Frame,
    pub(crate) runs: Vec<RunRow>,
    pub(crate) incidents: Vec<IncidentChoice>,
    pub(crate) may_edit: bool,
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    let records = table::runs(&store).await?;
    let mut runs = Vec::with_capacity(records.len());
    let mut conn = connection(&store).await?;
    for r in &records {
        let newest = table::revisions(&mut conn, &r.id).await?.into_iter().next();
        let totals = newest
            .and_then(|n| parse_report(&n.report_json).ok())
            .map_or_else(
                || "not previewed".to_string(),
                |rep| totals_text(&rep.total_minor),
            );
        runs.push(RunRow {
            id: r.id.clone(),
            incident_id: r.incident_id.clone(),
            state: r.state.clone(),
            created_by: r.created_by_email.clone(),
            created_at: utc(r.created_at),
            totals,
        });
    }
    drop(conn);
    let incidents = crate::status::commands::list_incidents(&store, app::dto::Lang::En)
        .await
        .map_err(StaffError::from)?
        .into_iter()
        .map(|i| IncidentChoice {
            has_run: records.iter().any(|r| r.incident_id == i.id),
            id: i.id,
            title: i.title,
        })
        .collect();
    Ok(page(&RunsPage {
        frame: Frame::new(&session, "/staff/compensation"),
        runs,
        incidents,
        may_edit: RUNS_EDIT.allows(&session.roles),
    }))
}
