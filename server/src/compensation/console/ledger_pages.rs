//! The ledger as finance sees it: a run's transactions, discrepancies and
//! payouts (with CSV downloads), settling a discrepancy with four eyes,
//! the trial balance and an account's statement.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Extension, Form};

use super::downloads::download;
use super::shared::connection;
use crate::compensation::adjustments::{self, Which};
use crate::compensation::charts;
use crate::compensation::ledger_csv;
use crate::compensation::runs::{self, RunError};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, page, see_other, utc, Frame};
use crate::staff::roles::RUNS_APPROVE;
use crate::staff::session::StaffSession;
use crate::store::executions::{self, Discrepancy, Execution};
use crate::store::ledger::{self, BalanceRow, StatementRow};
use crate::store::payouts::{self, Payout};
use crate::store::Store;

pub(crate) struct DiscrepancyRow {
    pub(crate) d: Discrepancy,
    pub(crate) posted: String,
    pub(crate) newest: String,
    pub(crate) difference: String,
}

pub(crate) struct PayoutRow {
    pub(crate) p: Payout,
    pub(crate) amount: String,
    pub(crate) settled: String,
}

#[derive(Template)]
#[template(path = "staff/compensation/ledger.html")]
pub(crate) struct RunLedgerPage {
    pub(crate) frame: Frame,
    pub(crate) run_id: String,
    pub(crate) state: String,
    /// (kind, currency, transactions, total)
    pub(crate) totals: Vec<(String, String, i64, String)>,
    pub(crate) executions: Vec<Execution>,
    pub(crate) discrepancies: Vec<DiscrepancyRow>,
    pub(crate) open: usize,
    /// (state, currency, count, total)
    pub(crate) payout_counts: Vec<(String, String, i64, String)>,
    pub(crate) payouts: Vec<PayoutRow>,
    pub(crate) payouts_total: usize,
    pub(crate) may_settle: bool,
    pub(crate) me: String,
    pub(crate) error: Option<String>,
}

/// Payouts listed on the page; the CSV has them all.
const PAYOUTS_SHOWN: usize = 200;

pub(crate) async fn run_ledger_page(
    store: &Store,
    session: &StaffSession,
    run_id: &str,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let (run, _) = runs::show(store, run_id).await?;
    let mut conn = connection(store).await?;
    let found = executions::discrepancies(&mut conn, run_id).await?;
    drop(conn);
    let list = payouts::of_run(store, run_id, None).await?;
    let open = found.iter().filter(|d| d.settled_at.is_none()).count();
    let refused = error.is_some();
    let template = RunLedgerPage {
        frame: Frame::new(session, "/staff/compensation"),
        run_id: run.id.clone(),
        state: run.state.clone(),
        totals: ledger::run_totals(store, run_id)
            .await?
            .into_iter()
            .map(|(k, c, n, s)| (k, c.clone(), n, charts::money(s, &c)))
            .collect(),
        executions: executions::of_run(store, run_id).await?,
        discrepancies: found
            .into_iter()
            .map(|d| DiscrepancyRow {
                posted: charts::money(d.posted_minor, &d.currency),
                newest: d
                    .newest_minor
                    .map_or_else(|| "no line".to_string(), |n| charts::money(n, &d.currency)),
                difference: charts::money(d.difference(), &d.currency),
                d,
            })
            .collect(),
        open,
        payout_counts: payouts::counts(store, Some(run_id))
            .await?
            .into_iter()
            .map(|(s, c, n, t)| (s, c.clone(), n, charts::money(t, &c)))
            .collect(),
        payouts_total: list.len(),
        payouts: list
            .into_iter()
            .take(PAYOUTS_SHOWN)
            .map(|p| PayoutRow {
                amount: charts::money(p.amount_minor, &p.currency),
                settled: p.settled_at.map(utc).unwrap_or_default(),
                p,
            })
            .collect(),
        may_settle: RUNS_APPROVE.allows(&session.roles),
        me: session.account.id.clone(),
        error,
    };
    Ok(form_page(&template, refused))
}

impl RunLedgerPage {
    /// Whoever asked for an adjustment may not approve it.
    fn asked_by_me(&self, r: &DiscrepancyRow) -> bool {
        r.d.requested_by.as_deref() == Some(self.me.as_str())
    }
}

pub async fn run_ledger(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    run_ledger_page(&store, &session, &id, None).await
}

/// A CSV written by `write` as a download named `file`.
fn csv_download(
    file: String,
    write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> Result<Response, StaffError> {
    let mut body = Vec::new();
    write(&mut body).map_err(|e| StaffError::Internal(format!("writing {file}: {e}")))?;
    Ok(download(body, "text/csv; charset=utf-8", file))
}

pub async fn lines_csv(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    runs::show(&store, &id).await?;
    let keys = ledger::run_keys(&mut *connection(&store).await?, &id).await?;
    csv_download(format!("{id}-ledger-lines.csv"), |out| {
        ledger_csv::posted_lines(&keys, out)
    })
}

pub async fn discrepancies_csv(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    runs::show(&store, &id).await?;
    let found = executions::discrepancies(&mut *connection(&store).await?, &id).await?;
    csv_download(format!("{id}-discrepancies.csv"), |out| {
        ledger_csv::discrepancies(&found, out)
    })
}

pub async fn payouts_csv(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    runs::show(&store, &id).await?;
    let list = payouts::of_run(&store, &id, None).await?;
    csv_download(format!("{id}-payouts.csv"), |out| {
        ledger_csv::payouts(&list, out)
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct WhichForm {
    #[serde(default)]
    position: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    reference: String,
}

impl WhichForm {
    fn which(&self) -> Result<Which, RunError> {
        let position =
            self.position.trim().parse().map_err(|_| {
                RunError::Refused("position: say which rule's line (a number)".into())
            })?;
        Ok(Which {
            position,
            customer_id: self.customer_id.clone(),
            reference: self.reference.clone(),
        })
    }
}

async fn settled_or_page(
    store: &Store,
    session: &StaffSession,
    run_id: &str,
    result: Result<(), RunError>,
) -> Result<Response, StaffError> {
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/staff/compensation/runs/{run_id}/ledger#discrepancies"
        ))),
        Err(e) if e.is_bad_input() && !matches!(e, RunError::NotFound(_)) => {
            run_ledger_page(store, session, run_id, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn request_adjustment(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(form): Form<WhichForm>,
) -> Result<Response, StaffError> {
    let result = async {
        adjustments::request(&store, &session.actor(), &id, &form.which()?).await?;
        Ok(())
    }
    .await;
    settled_or_page(&store, &session, &id, result).await
}

pub async fn approve_adjustment(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(form): Form<WhichForm>,
) -> Result<Response, StaffError> {
    let result = async {
        adjustments::approve(&store, &session.actor(), &id, &form.which()?).await?;
        Ok(())
    }
    .await;
    settled_or_page(&store, &session, &id, result).await
}

// ------------------------------------------------------------ trial balance

pub(crate) struct BalanceView {
    pub(crate) row: BalanceRow,
    pub(crate) debit: String,
    pub(crate) credit: String,
    pub(crate) net: String,
    /// Credit − debit: what a customer account is still owed.
    pub(crate) owed: String,
    /// The account's name as a query value.
    pub(crate) query: String,
}

impl BalanceView {
    fn of(row: BalanceRow) -> Self {
        BalanceView {
            debit: charts::money(row.debit_minor, &row.currency),
            credit: charts::money(row.credit_minor, &row.currency),
            net: charts::money(row.debit_minor - row.credit_minor, &row.currency),
            owed: charts::money(row.credit_minor - row.debit_minor, &row.currency),
            query: url::form_urlencoded::byte_serialize(row.account.as_bytes()).collect(),
            row,
        }
    }
}

/// Customer accounts still owed that the page lists by name.
pub(crate) const OPEN_CUSTOMERS_SHOWN: i64 = 100;

#[derive(Template)]
#[template(path = "staff/ledger.html")]
pub(crate) struct TrialBalancePage {
    pub(crate) frame: Frame,
    pub(crate) rows: Vec<BalanceView>,
    /// The customer accounts, one row per currency, with how many.
    pub(crate) customers: Vec<(BalanceView, i64)>,
    /// Customer accounts owed and not (yet) paid, the first few.
    pub(crate) open: Vec<BalanceView>,
    pub(crate) open_shown: i64,
    /// (currency, debits, credits, balances)
    pub(crate) totals: Vec<(String, String, String, bool)>,
}

pub async fn trial_balance(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    let summary = ledger::trial_balance_summary(&store).await?;
    let open = ledger::open_customer_balances(&store, OPEN_CUSTOMERS_SHOWN).await?;
    let mut per: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    let every = summary
        .accounts
        .iter()
        .chain(summary.customers.iter().map(|(r, _)| r));
    for r in every {
        let e = per.entry(r.currency.clone()).or_default();
        e.0 += r.debit_minor;
        e.1 += r.credit_minor;
    }
    Ok(page(&TrialBalancePage {
        frame: Frame::new(&session, "/staff/ledger"),
        totals: per
            .into_iter()
            .map(|(c, (d, k))| {
                (
                    c.clone(),
                    charts::money(d, &c),
                    charts::money(k, &c),
                    d == k,
                )
            })
            .collect(),
        rows: summary.accounts.into_iter().map(BalanceView::of).collect(),
        customers: summary
            .customers
            .into_iter()
            .map(|(r, n)| (BalanceView::of(r), n))
            .collect(),
        open: open.into_iter().map(BalanceView::of).collect(),
        open_shown: OPEN_CUSTOMERS_SHOWN,
    }))
}

pub async fn balance_csv(State(store): State<Store>) -> Result<Response, StaffError> {
    let rows = ledger::trial_balance(&store).await?;
    csv_download("trial-balance.csv".into(), |out| {
        ledger_csv::balance(&rows, out)
    })
}

#[derive(Template)]
#[template(path = "staff/ledger_account.html")]
pub(crate) struct StatementPage {
    pub(crate) frame: Frame,
    pub(crate) account: String,
    /// (row, debit, credit, running balance, when)
    pub(crate) rows: Vec<(StatementRow, String, String, String, String)>,
    pub(crate) truncated: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct AccountQuery {
    #[serde(default)]
    name: String,
}

/// Postings shown on a statement.
const STATEMENT_ROWS: i64 = 1_000;

pub async fn statement(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<AccountQuery>,
) -> Result<Response, StaffError> {
    let account = q.name.trim().to_string();
    if account.is_empty() {
        return Err(StaffError::BadInput(
            "name: say which account (from the trial balance)".into(),
        ));
    }
    let rows = ledger::statement(&store, &account, STATEMENT_ROWS + 1).await?;
    let truncated = rows.len() as i64 > STATEMENT_ROWS;
    let mut running: std::collections::BTreeMap<String, i64> = Default::default();
    let rows = rows
        .into_iter()
        .take(STATEMENT_ROWS as usize)
        .map(|r| {
            let bal = running.entry(r.currency.clone()).or_default();
            *bal += r.debit_minor - r.credit_minor;
            let balance = charts::money(*bal, &r.currency);
            (
                charts::money(r.debit_minor, &r.currency),
                charts::money(r.credit_minor, &r.currency),
                balance,
                utc(r.created_at),
                r,
            )
        })
        .map(|(d, c, b, w, r)| (r, d, c, b, w))
        .collect();
    Ok(page(&StatementPage {
        frame: Frame::new(&session, "/staff/ledger"),
        account,
        rows,
        truncated,
    }))
}
