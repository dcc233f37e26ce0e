//! A run's page (state, inputs, revisions, history) and the moves made
//! from it: log uploads, plan changes, what-if, preview and cancel.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Extension, Form};

use super::revision_view::{line_rows, revision_view, LineRow, RevisionView};
use super::shared::{connection, english_title, totals_text};
use crate::compensation::charts::{self};
use crate::compensation::logs::{self, CheckedLog};
use crate::compensation::revision::parse_report;
use crate::compensation::runs::{self, RunError};
use crate::compensation::state::RunState;
use crate::compensation::what_if::{self, WhatIfCache};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::roles::{RUNS_APPROVE, RUNS_EDIT};
use crate::staff::session::StaffSession;
use crate::staff::upload::{Spooled, Upload};
use crate::store::compensation::{self as table, LineFilter, RevisionRecord, RunRecord};
use crate::store::status::incident_outline;
use crate::store::Store;

pub(crate) struct LogRow {
    pub(crate) name: String,
    pub(crate) size: String,
    sha256: String,
    pub(crate) added_by: String,
    pub(crate) added_at: String,
}

pub(crate) struct RevisionRow {
    pub(crate) revision: i64,
    pub(crate) digest: String,
    pub(crate) lines: i64,
    pub(crate) customers: i64,
    pub(crate) totals: String,
    pub(crate) created_by: String,
    pub(crate) created_at: String,
    pub(crate) current: bool,
}

pub(crate) struct HistoryRow {
    pub(crate) at: String,
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) detail: String,
}

pub(crate) struct JobView {
    pub(crate) state: String,
    pub(crate) percent: i64,
    pub(crate) done: String,
    pub(crate) total: String,
    pub(crate) records: i64,
    pub(crate) error: Option<String>,
    pub(crate) active: bool,
}

/// The newest execution, with its progress.
pub(crate) struct ExecutionView {
    pub(crate) e: crate::store::executions::Execution,
    pub(crate) percent: i64,
    pub(crate) done: i64,
    pub(crate) active: bool,
}

#[derive(Template)]
#[template(path = "staff/compensation/run.html")]
pub(crate) struct RunPage {
    pub(crate) frame: Frame,
    pub(crate) run: RunRecord,
    pub(crate) incident_title: String,
    pub(crate) logs: Vec<LogRow>,
    pub(crate) log_bytes: String,
    pub(crate) revisions: Vec<RevisionRow>,
    pub(crate) shown: Option<RevisionView>,
    pub(crate) job: Option<JobView>,
    pub(crate) execution: Option<ExecutionView>,
    pub(crate) history: Vec<HistoryRow>,
    pub(crate) may_edit: bool,
    pub(crate) may_approve: bool,
    pub(crate) customer_query: String,
    pub(crate) customer_lines: Option<Vec<LineRow>>,
    pub(crate) error: Option<String>,
    pub(crate) created_at: String,
    /// The plan as typed (what-if) or as saved.
    pub(crate) plan_text: String,
    pub(crate) what_if: Option<WhatIfView>,
}

/// What a changed plan would cost, against the newest revision.
pub(crate) struct WhatIfView {
    pub(crate) millis: u128,
    pub(crate) full_pass: bool,
    pub(crate) why_full: Option<String>,
    pub(crate) lines: usize,
    pub(crate) customers: usize,
    /// (rule, lines before, lines after, totals before, totals after)
    pub(crate) rules: Vec<(String, String, u64, String, String)>,
    /// (currency, before, after)
    pub(crate) totals: Vec<(String, String, String)>,
}

/// What the run page shows besides the run: a refusal, or a priced plan.
#[derive(Default)]
pub(crate) struct Notice {
    pub(crate) error: Option<String>,
    pub(crate) what_if: Option<WhatIfView>,
    pub(crate) plan_text: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct RunQuery {
    #[serde(default)]
    pub(crate) revision: Option<i64>,
    #[serde(default)]
    pub(crate) customer: String,
}

/// Bytes as staff read sizes.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub(crate) async fn history(store: &Store, run_id: &str) -> Result<Vec<HistoryRow>, StaffError> {
    Ok(store
        .audit_for_target(run_id, 200)
        .await?
        .into_iter()
        .filter(|e| e.action.starts_with("compensation.run."))
        .map(|e| {
            let after: serde_json::Value = e
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_default();
            let mut detail = Vec::new();
            for key in [
                "state",
                "revision",
                "digest",
                "reason",
                "error",
                "voided_approval",
            ] {
                match after.get(key) {
                    Some(serde_json::Value::Null) | None => {}
                    Some(serde_json::Value::String(s)) => detail.push(format!("{key}: {s}")),
                    Some(v) => detail.push(format!("{key}: {v}")),
                }
            }
            if let Some(files) = after.get("files").and_then(|f| f.as_array()) {
                detail.push(format!("{} file(s)", files.len()));
            }
            HistoryRow {
                at: utc(e.at),
                actor: e.actor,
                action: e
                    .action
                    .trim_start_matches("compensation.run.")
                    .replace('_', " "),
                detail: detail.join(" · "),
            }
        })
        .collect())
}

pub(crate) async fn run_page(
    store: &Store,
    session: &StaffSession,
    run_id: &str,
    query: RunQuery,
    notice: Notice,
) -> Result<Response, StaffError> {
    let error = notice.error;
    let mut conn = connection(store).await?;
    let run = table::run(&mut conn, run_id)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("run {run_id:?} does not exist")))?;
    let files = table::run_logs(&mut conn, run_id).await?;
    let records = table::revisions(&mut conn, run_id).await?;
    let incident = incident_outline(&mut conn, &run.incident_id).await?;
    drop(conn);
    let shown_no = query
        .revision
        .or_else(|| records.first().map(|r| r.revision));
    let revisions = records
        .iter()
        .map(|r| RevisionRow {
            revision: r.revision,
            digest: r.digest.clone(),
            lines: r.lines,
            customers: r.customers,
            totals: parse_report(&r.report_json)
                .map(|rep| totals_text(&rep.total_minor))
                .unwrap_or_default(),
            created_by: r.created_by.clone(),
            created_at: utc(r.created_at),
            current: Some(r.revision) == shown_no,
        })
        .collect();
    let shown = match shown_no {
        Some(n) => {
            let at = records
                .iter()
                .position(|r| r.revision == n)
                .ok_or_else(|| StaffError::NotFound(format!("run {run_id} has no revision {n}")))?;
            Some(revision_view(store, run_id, records[at].clone(), records.get(at + 1)).await?)
        }
        None => None,
    };
    let customer_query = query.customer.trim().to_string();
    let customer_lines = match (&shown, customer_query.is_empty()) {
        (Some(v), false) => Some(line_rows(
            &table::lines(
                store,
                run_id,
                v.record.revision,
                LineFilter::Customer(&customer_query),
            )
            .await?,
        )),
        _ => None,
    };
    let job = table::latest_preview(store, run_id).await?.map(|j| {
        let active = j.state == "queued" || j.state == "running";
        JobView {
            percent: if j.bytes_total > 0 {
                (j.bytes_done * 100 / j.bytes_total).clamp(0, 100)
            } else {
                0
            },
            done: size(j.bytes_done),
            total: size(j.bytes_total),
            records: j.records_done,
            error: j
                .error
                .filter(|_| j.state == "failed" || j.state == "cancelled"),
            state: j.state,
            active,
        }
    });
    let execution = crate::store::executions::of_run(store, run_id)
        .await?
        .into_iter()
        .next()
        .map(|e| {
            let done = e.posted + e.already_posted + e.discrepancies;
            ExecutionView {
                percent: if e.stage != "posting" {
                    100
                } else if e.lines_total > 0 {
                    (done * 100 / e.lines_total).clamp(0, 100)
                } else {
                    0
                },
                done,
                active: e.state == "queued" || e.state == "running",
                e,
            }
        });
    Ok(form_page(
        &RunPage {
            frame: Frame::new(session, "/staff/compensation"),
            execution,
            incident_title: incident.as_ref().map(english_title).unwrap_or_default(),
            log_bytes: size(files.iter().map(|f| f.bytes).sum()),
            logs: files
                .into_iter()
                .map(|f| LogRow {
                    name: f.name,
                    size: size(f.bytes),
                    sha256: f.sha256,
                    added_by: f.added_by,
                    added_at: utc(f.added_at),
                })
                .collect(),
            revisions,
            shown,
            job,
            history: history(store, run_id).await?,
            may_edit: RUNS_EDIT.allows(&session.roles),
            may_approve: RUNS_APPROVE.allows(&session.roles),
            customer_query,
            customer_lines,
            created_at: utc(run.created_at),
            plan_text: notice.plan_text.unwrap_or_else(|| run.plan_toml.clone()),
            what_if: notice.what_if,
            run,
            error: error.clone(),
        },
        error.is_some(),
    ))
}

pub async fn show(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Query(query): Query<RunQuery>,
) -> Result<Response, StaffError> {
    run_page(&store, &session, &id, query, Notice::default()).await
}

/// A refused move shows the run page with what was wrong (422); anything
/// else goes through the error policy.
pub(crate) async fn refused_or(
    store: &Store,
    session: &StaffSession,
    run_id: &str,
    result: Result<(), RunError>,
) -> Result<Response, StaffError> {
    match result {
        Ok(()) => Ok(see_other(&format!("/staff/compensation/runs/{run_id}"))),
        Err(e) if e.is_bad_input() && !matches!(e, RunError::NotFound(_)) => {
            let notice = Notice {
                error: Some(e.to_string()),
                ..Notice::default()
            };
            run_page(store, session, run_id, RunQuery::default(), notice).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Multipart: `csrf` first, then one or more `logs` files. Each is spooled
/// to disk as it arrives, checked, and stored in the database in chunks.
pub async fn add_logs(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    mut upload: Upload,
) -> Result<Response, StaffError> {
    runs::show(&store, &id).await?;
    let mut spooled: Vec<(String, Spooled)> = Vec::new();
    while let Some(field) = upload.next_field().await? {
        let file = field.file_name().unwrap_or_default().to_string();
        if field.name() != Some("logs") || file.is_empty() {
            continue;
        }
        spooled.push((file, Spooled::from_field(field).await?));
    }
    let result: Result<(), RunError> = async {
        if spooled.is_empty() {
            return Err(RunError::Refused(
                "choose at least one event log file".into(),
            ));
        }
        let mut checked: Vec<CheckedLog> = Vec::with_capacity(spooled.len());
        for (name, file) in &spooled {
            let (name, path) = (name.clone(), file.path().to_path_buf());
            let log = tokio::task::spawn_blocking(move || logs::check(&name, &path))
                .await
                .map_err(|e| RunError::Refused(format!("checking the file failed: {e}")))??;
            checked.push(log);
        }
        for (log, (_, file)) in checked.iter().zip(&spooled) {
            logs::store_content(&store, log, file.path()).await?;
        }
        runs::add_logs(&store, &session.actor(), &id, &checked).await?;
        Ok(())
    }
    .await;
    refused_or(&store, &session, &id, result).await
}

#[derive(Debug, serde::Deserialize)]
pub struct PlanForm {
    pub(crate) toml: String,
}

pub async fn change_plan(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> Result<Response, StaffError> {
    let result = runs::change_plan(&store, &session.actor(), &id, &form.toml)
        .await
        .map(|_| ());
    refused_or(&store, &session, &id, result).await
}

/// Prices the plan as typed, without saving it.
pub async fn what_if(
    State(store): State<Store>,
    State(cache): State<WhatIfCache>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> Result<Response, StaffError> {
    let notice = match what_if::price(&store, &cache, &id, &form.toml).await {
        Ok(priced) => {
            let mut conn = connection(&store).await?;
            let newest = table::revisions(&mut conn, &id).await?.into_iter().next();
            drop(conn);
            Notice {
                what_if: Some(what_if_view(&priced, newest.as_ref())?),
                plan_text: Some(form.toml),
                error: None,
            }
        }
        Err(e @ RunError::NotFound(_)) => return Err(e.into()),
        Err(e) if e.is_bad_input() => Notice {
            error: Some(e.to_string()),
            plan_text: Some(form.toml),
            what_if: None,
        },
        Err(e) => return Err(e.into()),
    };
    run_page(&store, &session, &id, RunQuery::default(), notice).await
}

pub(crate) fn what_if_view(
    priced: &what_if::Priced,
    newest: Option<&RevisionRecord>,
) -> Result<WhatIfView, StaffError> {
    let now = serde_json::to_string(&priced.preview.report)
        .ok()
        .and_then(|j| parse_report(&j).ok())
        .ok_or_else(|| StaffError::Internal("the priced report does not read back".into()))?;
    let before = newest.and_then(|r| parse_report(&r.report_json).ok());
    let rules = now
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let old = before.as_ref().and_then(|b| b.rules.get(i));
            (
                format!("{}. {}", i + 1, r.kind),
                old.map_or_else(|| "—".to_string(), |o| o.lines.to_string()),
                r.lines,
                old.map_or_else(|| "—".to_string(), |o| totals_text(&o.total_minor)),
                totals_text(&r.total_minor),
            )
        })
        .collect();
    let mut currencies: Vec<&String> = now.total_minor.keys().collect();
    if let Some(b) = &before {
        currencies.extend(b.total_minor.keys());
    }
    currencies.sort();
    currencies.dedup();
    let totals = currencies
        .into_iter()
        .map(|c| {
            let old = before
                .as_ref()
                .map(|b| b.total_minor.get(c).copied().unwrap_or(0));
            (
                c.clone(),
                old.map_or_else(|| "—".to_string(), |v| charts::money(v, c)),
                charts::money(now.total_minor.get(c).copied().unwrap_or(0), c),
            )
        })
        .collect();
    let mut customers: Vec<&str> = priced
        .preview
        .lines
        .iter()
        .map(|l| l.customer_id.as_str())
        .filter(|c| !c.is_empty())
        .collect();
    customers.sort_unstable();
    customers.dedup();
    Ok(WhatIfView {
        millis: priced.millis,
        full_pass: priced.full_pass,
        why_full: priced.why_full.clone(),
        lines: priced.preview.lines.len(),
        customers: customers.len(),
        rules,
        totals,
    })
}

pub async fn preview(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let result = runs::request_preview(&store, &session.actor(), &id)
        .await
        .map(|_| ());
    refused_or(&store, &session, &id, result).await
}

pub async fn execute(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let result = runs::execute(&store, &session.actor(), &id)
        .await
        .map(|_| ());
    refused_or(&store, &session, &id, result).await
}

pub async fn cancel(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let result = runs::cancel_preview(&store, &session.actor(), &id).await;
    refused_or(&store, &session, &id, result).await
}

impl RunPage {
    fn state(&self) -> Option<RunState> {
        self.run.state.parse().ok()
    }

    fn can_preview(&self) -> bool {
        self.may_edit
            && !self.logs.is_empty()
            && matches!(self.state(), Some(RunState::Draft | RunState::Previewed))
    }

    fn can_approve(&self) -> bool {
        self.may_approve && self.state() == Some(RunState::Previewed)
    }

    fn previewing(&self) -> bool {
        self.state() == Some(RunState::Previewing)
    }

    fn executing(&self) -> bool {
        self.state() == Some(RunState::Executing)
    }

    fn can_execute(&self) -> bool {
        self.may_approve && matches!(self.state(), Some(RunState::Approved | RunState::Executed))
    }

    fn has_ledger(&self) -> bool {
        self.execution.is_some()
    }
}
