//! The finance pages of compensation runs: the list, a new run prefilled
//! from its incident, a run's page (state, inputs, revisions, charts,
//! history), log uploads, previews, four-eyes approval, execution, the
//! ledger and payouts. This file holds
//! only the routes; each page lives in its own module.

mod approval;
mod downloads;
mod ledger_pages;
mod markets_page;
mod payout_pages;
mod plan_form;
mod revision_view;
mod run_page;
mod runs_list;
mod shared;

use axum::http::Method;
use axum::routing::{get, post};

use crate::staff::roles::{ADMIN, LEDGER_VIEW, RUNS_APPROVE, RUNS_EDIT, RUNS_VIEW};
use crate::staff::route::{route, StaffRoute};
use approval::{approval, approve, reject};
use downloads::{lines_csv, report_json};
use ledger_pages::{
    approve_adjustment, balance_csv, discrepancies_csv, lines_csv as ledger_lines_csv, payouts_csv,
    request_adjustment, run_ledger, statement, trial_balance,
};
use plan_form::{create, new_form};
use run_page::{add_logs, cancel, change_plan, execute, preview, show, what_if};
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
        route(M::POST, "/staff/compensation/runs/{id}/approve", RUNS_APPROVE, post(approve)).step_up(),
        route(M::POST, "/staff/compensation/runs/{id}/reject", RUNS_APPROVE, post(reject)),
        route(M::GET, "/staff/compensation/runs/{id}/revisions/{n}/lines.csv", RUNS_VIEW, get(lines_csv)),
        route(M::GET, "/staff/compensation/runs/{id}/revisions/{n}/report.json", RUNS_VIEW, get(report_json)),
        route(M::POST, "/staff/compensation/runs/{id}/execute", RUNS_APPROVE, post(execute)).step_up(),
        route(M::GET, "/staff/compensation/runs/{id}/ledger", LEDGER_VIEW, get(run_ledger)),
        route(M::GET, "/staff/compensation/runs/{id}/ledger/lines.csv", LEDGER_VIEW, get(ledger_lines_csv)),
        route(M::GET, "/staff/compensation/runs/{id}/ledger/discrepancies.csv", LEDGER_VIEW, get(discrepancies_csv)),
        route(M::GET, "/staff/compensation/runs/{id}/ledger/payouts.csv", LEDGER_VIEW, get(payouts_csv)),
        route(M::POST, "/staff/compensation/runs/{id}/discrepancies/request", RUNS_APPROVE, post(request_adjustment)),
        route(M::POST, "/staff/compensation/runs/{id}/discrepancies/approve", RUNS_APPROVE, post(approve_adjustment)).step_up(),
        route(M::GET, "/staff/ledger", LEDGER_VIEW, get(trial_balance)).in_menu("Ledger"),
        route(M::GET, "/staff/ledger/balance.csv", LEDGER_VIEW, get(balance_csv)),
        route(M::GET, "/staff/ledger/account", LEDGER_VIEW, get(statement)),
        route(M::GET, "/staff/payouts", LEDGER_VIEW, get(payout_pages::show)).in_menu("Payouts"),
        route(M::GET, "/staff/markets", RUNS_VIEW, get(markets_page::show)),
        route(M::POST, "/staff/markets", RUNS_APPROVE, post(markets_page::set)).step_up(),
        route(M::POST, "/staff/payouts/{id}/send-again", RUNS_APPROVE, post(payout_pages::send_again)),
        route(M::POST, "/staff/payouts/inbox/{batch}/paid", RUNS_APPROVE, post(payout_pages::inbox_paid)).step_up(),
        route(M::POST, "/staff/payouts/endpoint", ADMIN, post(payout_pages::set_endpoint)).step_up(),
        route(M::POST, "/staff/payouts/endpoint/clear", ADMIN, post(payout_pages::clear_endpoint)).step_up(),
    ]
}
