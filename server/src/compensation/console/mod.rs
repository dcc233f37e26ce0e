//! The finance pages of compensation runs: the list, a new run prefilled
//! from its incident, a run's page (state, inputs, revisions, charts,
//! history), log uploads, previews and four-eyes approval. This file holds
//! only the routes; each page lives in its own module.

mod approval;
mod downloads;
mod plan_form;
mod revision_view;
mod run_page;
mod runs_list;
mod shared;

use axum::http::Method;
use axum::routing::{get, post};

use crate::staff::roles::{RUNS_APPROVE, RUNS_EDIT, RUNS_VIEW};
use crate::staff::route::{route, StaffRoute};
use approval::{approval, approve, reject};
use downloads::{lines_csv, report_json};
use plan_form::{create, new_form};
use run_page::{add_logs, cancel, change_plan, preview, show, what_if};
use runs_list::list;

#[rustfmt::skip]
pub fn routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        route(M::GET, "/staff/compensation", RUNS_VIEW, get(list)).in_menu("Compensation"),
        route(M::GET, "/staff/compensation/new", RUNS_EDIT, get(new_form)),
        route(M::POST, "/staff/compensation/runs", RUNS_EDIT, post(create)).uploads(),
        route(M::GET, "/staff/compensation/runs/{id}", RUNS_VIEW, get(show)),
        route(M::POST, "/staff/compensation/runs/{id}/logs", RUNS_EDIT, post(add_logs)).uploads(),
        route(M::POST, "/staff/compensation/runs/{id}/plan", RUNS_EDIT, post(change_plan)),
        route(M::POST, "/staff/compensation/runs/{id}/what-if", RUNS_EDIT, post(what_if)),
        route(M::POST, "/staff/compensation/runs/{id}/preview", RUNS_EDIT, post(preview)),
        route(M::POST, "/staff/compensation/runs/{id}/cancel", RUNS_EDIT, post(cancel)),
        route(M::GET, "/staff/compensation/runs/{id}/approve", RUNS_APPROVE, get(approval)),
        route(M::POST, "/staff/compensation/runs/{id}/approve", RUNS_APPROVE, post(approve)),
        route(M::POST, "/staff/compensation/runs/{id}/reject", RUNS_APPROVE, post(reject)),
        route(M::GET, "/staff/compensation/runs/{id}/revisions/{n}/lines.csv", RUNS_VIEW, get(lines_csv)),
        route(M::GET, "/staff/compensation/runs/{id}/revisions/{n}/report.json", RUNS_VIEW, get(report_json)),
    ]
}
