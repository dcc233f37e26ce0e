//! The finance pages of compensation runs: the list, a new run prefilled
//! from its incident, a run's page (state, inputs, revisions, charts,
//! history), log uploads, previews and four-eyes approval.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form};
use plaster_engine::PlanError;

use crate::compensation::charts::{self, Chart};
use crate::compensation::logs::{self, CheckedLog};
use crate::compensation::revision::{self, parse_report, RevisionDiff, StoredReport};
use crate::compensation::runs::{self, RunError};
use crate::compensation::state::RunState;
use crate::compensation::what_if::{self, WhatIfCache};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, page, see_other, utc, Frame};
use crate::staff::roles::{RUNS_APPROVE, RUNS_EDIT, RUNS_VIEW};
use crate::staff::route::{route, StaffRoute};
use crate::staff::session::StaffSession;
use crate::staff::upload::{Spooled, Upload};
use crate::store::compensation::{
    self as table, LineFilter, RevisionRecord, RunRecord, StoredLine,
};
use crate::store::status::{incident_outline, IncidentOutline};
use crate::store::Store;

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

// ------------------------------------------------------------------ list

struct RunRow {
    id: String,
    incident_id: String,
    state: String,
    created_by: String,
    created_at: String,
    totals: String,
}

struct IncidentChoice {
    id: String,
    title: String,
    has_run: bool,
}

#[derive(Template)]
#[template(path = "staff/compensation/runs.html")]
struct RunsPage {
    frame: Frame,
    runs: Vec<RunRow>,
    incidents: Vec<IncidentChoice>,
    may_edit: bool,
}

/// "24 000 SEK, 5 000 NOK": totals as staff read them, in minor units' major form.
fn totals_text(totals: &BTreeMap<String, i64>) -> String {
    if totals.is_empty() {
        return "nothing".into();
    }
    totals
        .iter()
        .map(|(c, v)| charts::money(*v, c))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    let records = table::runs(&store).await?;
    let mut runs = Vec::with_capacity(records.len());
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
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

// -------------------------------------------------------------- new run

/// The plan form's fields, as typed (or prefilled from the incident).
#[derive(Debug, Clone, Default)]
struct PlanDraft {
    incident: String,
    id: String,
    started_at: String,
    resolved_at: String,
    login: bool,
    betting: bool,
    streaming: bool,
    title_sv: String,
    title_nb: String,
    title_en: String,
    rules: String,
    /// A whole plan pasted or uploaded; used instead of the fields when given.
    toml: String,
}

const DEFAULT_RULES: &str = r#"# Rules run in order; see compensation.md §3.
[[rules]]
kind = "refund_failed_debits"

# [[rules]]
# kind = "goodwill_credit"
# amount_minor = { SEK = 5000, NOK = 5000, EUR = 500 }
"#;

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A run id from the incident's: lower case, `[a-z0-9-]`, at most 64.
fn plan_id_for(incident: &str) -> String {
    let id: String = incident
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    id.trim_matches('-').chars().take(64).collect()
}

impl PlanDraft {
    /// The plan an incident suggests: its window (open end: now), the engine
    /// components its status components stand for, its titles.
    fn from_incident(i: &IncidentOutline) -> PlanDraft {
        // A status component stands for an engine component when it, or
        // its group, has that name (the demo's `login`; `bet-placement` in
        // the `betting` group); others are left for finance to tick.
        let stands_for = |name: &str| {
            i.components
                .iter()
                .any(|(c, g)| c == name || g.as_deref() == Some(name))
        };
        let title = |lang: app::dto::Lang| i.titles.get(&lang).cloned().unwrap_or_default();
        PlanDraft {
            incident: i.id.clone(),
            id: plan_id_for(&i.id),
            started_at: rfc3339(i.started_at),
            resolved_at: i
                .resolved_at
                .map(rfc3339)
                .unwrap_or_else(|| rfc3339(chrono::Utc::now().timestamp_millis())),
            login: stands_for("login"),
            betting: stands_for("betting"),
            streaming: stands_for("streaming"),
            title_sv: title(app::dto::Lang::Sv),
            title_nb: title(app::dto::Lang::Nb),
            title_en: title(app::dto::Lang::En),
            rules: DEFAULT_RULES.to_string(),
            toml: String::new(),
        }
    }

    /// The plan's TOML: the pasted plan, or one composed from the fields.
    /// A rules block that is not TOML is named at its field.
    fn to_toml(&self) -> Result<String, PlanError> {
        if !self.toml.trim().is_empty() {
            return Ok(self.toml.clone());
        }
        let mut plan = toml::Table::new();
        plan.insert("id".into(), self.id.trim().into());
        let components: Vec<toml::Value> = [
            ("login", self.login),
            ("betting", self.betting),
            ("streaming", self.streaming),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(c, _)| c.into())
        .collect();
        plan.insert("components".into(), toml::Value::Array(components));
        plan.insert("started_at".into(), self.started_at.trim().into());
        plan.insert("resolved_at".into(), self.resolved_at.trim().into());
        let mut title = toml::Table::new();
        for (lang, t) in [
            ("sv", &self.title_sv),
            ("nb", &self.title_nb),
            ("en", &self.title_en),
        ] {
            if !t.trim().is_empty() {
                title.insert(lang.into(), t.trim().into());
            }
        }
        if !title.is_empty() {
            plan.insert("title".into(), toml::Value::Table(title));
        }
        let rules: toml::Table = self.rules.parse().map_err(|e: toml::de::Error| PlanError {
            field: "rules".into(),
            message: format!("not TOML: {}", e.message()),
        })?;
        for (key, value) in rules {
            if key != "rules" {
                return Err(PlanError {
                    field: "rules".into(),
                    message: format!("only [[rules]] tables belong here, not {key:?}"),
                });
            }
            plan.insert(key, value);
        }
        toml::to_string(&plan).map_err(|e| PlanError {
            field: String::new(),
            message: e.to_string(),
        })
    }
}

/// Which form field a plan error belongs at.
fn field_of(e: &PlanError, pasted: bool) -> &'static str {
    if pasted {
        return "toml";
    }
    let f = e.field.as_str();
    for name in ["id", "started_at", "resolved_at", "components"] {
        if f == name {
            return name;
        }
    }
    if f.starts_with("title") {
        "title"
    } else if f.starts_with("rules") {
        "rules"
    } else {
        "form"
    }
}

#[derive(Template)]
#[template(path = "staff/compensation/new.html")]
struct NewRunPage {
    frame: Frame,
    incident_title: String,
    draft: PlanDraft,
    /// Field name → what is wrong there.
    errors: BTreeMap<&'static str, String>,
}

impl NewRunPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct IncidentQuery {
    #[serde(default)]
    incident: String,
}

async fn outline(store: &Store, incident: &str) -> Result<IncidentOutline, StaffError> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    incident_outline(&mut conn, incident)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("incident {incident:?} does not exist")))
}

fn english_title(i: &IncidentOutline) -> String {
    i.titles
        .get(&app::dto::Lang::En)
        .or_else(|| i.titles.values().next())
        .cloned()
        .unwrap_or_else(|| i.id.clone())
}

pub async fn new_form(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<IncidentQuery>,
) -> Result<Response, StaffError> {
    let incident = outline(&store, q.incident.trim()).await?;
    Ok(page(&NewRunPage {
        frame: Frame::new(&session, "/staff/compensation"),
        incident_title: english_title(&incident),
        draft: PlanDraft::from_incident(&incident),
        errors: BTreeMap::new(),
    }))
}

/// The largest text field the plan form takes (a pasted or uploaded plan).
const MAX_FIELD_BYTES: usize = 1 << 20;

/// Multipart: `csrf` first, then the plan's fields, or `toml` / `plan_file`.
pub async fn create(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    mut upload: Upload,
) -> Result<Response, StaffError> {
    let mut draft = PlanDraft::default();
    while let Some(mut field) = upload.next_field().await? {
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field.file_name().is_some_and(|f| !f.is_empty());
        // Read with a bound: this route takes uploads, so its body may be huge.
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| StaffError::BadInput(format!("the form broke off: {}", e.body_text())))?
        {
            if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
                return Err(StaffError::BadInput(format!(
                    "{name}: at most {MAX_FIELD_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| StaffError::BadInput(format!("{name}: not UTF-8 text")))?;
        match name.as_str() {
            "incident" => draft.incident = text,
            "id" => draft.id = text,
            "started_at" => draft.started_at = text,
            "resolved_at" => draft.resolved_at = text,
            "component" => match text.as_str() {
                "login" => draft.login = true,
                "betting" => draft.betting = true,
                "streaming" => draft.streaming = true,
                _ => {}
            },
            "title_sv" => draft.title_sv = text,
            "title_nb" => draft.title_nb = text,
            "title_en" => draft.title_en = text,
            "rules" => draft.rules = text,
            "toml" if !text.trim().is_empty() => draft.toml = text,
            "plan_file" if is_file && !text.trim().is_empty() => draft.toml = text,
            _ => {}
        }
    }
    let incident = outline(&store, draft.incident.trim()).await?;
    let pasted = !draft.toml.trim().is_empty();
    let refused = |e: PlanError, draft: PlanDraft| {
        let mut errors = BTreeMap::new();
        let message = if e.field.is_empty() {
            e.message.clone()
        } else {
            format!("{}: {}", e.field, e.message)
        };
        errors.insert(field_of(&e, pasted), message);
        form_page(
            &NewRunPage {
                frame: Frame::new(&session, "/staff/compensation"),
                incident_title: english_title(&incident),
                draft,
                errors,
            },
            true,
        )
    };
    let toml = match draft.to_toml() {
        Ok(t) => t,
        Err(e) => return Ok(refused(e, draft)),
    };
    match runs::create(&store, &session.actor(), &incident.id, &toml).await {
        Ok(run) => Ok(see_other(&format!("/staff/compensation/runs/{}", run.id))),
        Err(RunError::Plan(e)) => Ok(refused(e, draft)),
        Err(e @ RunError::Duplicate(_)) => Ok(refused(
            PlanError {
                field: "id".into(),
                message: e.to_string(),
            },
            draft,
        )),
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------- run page

struct LogRow {
    name: String,
    size: String,
    sha256: String,
    added_by: String,
    added_at: String,
}

struct RevisionRow {
    revision: i64,
    digest: String,
    lines: i64,
    customers: i64,
    totals: String,
    created_by: String,
    created_at: String,
    current: bool,
}

struct LineRow {
    rule: String,
    customer_id: String,
    reference: String,
    amount: String,
}

fn line_rows(lines: &[StoredLine]) -> Vec<LineRow> {
    lines
        .iter()
        .map(|l| LineRow {
            rule: l.rule.clone(),
            customer_id: if l.customer_id.is_empty() {
                "(the jackpot pool)".into()
            } else {
                l.customer_id.clone()
            },
            reference: l.reference.clone(),
            amount: charts::money(l.amount_minor, &l.currency),
        })
        .collect()
}

struct HistoryRow {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

struct JobView {
    state: String,
    percent: i64,
    done: String,
    total: String,
    records: i64,
    error: Option<String>,
    active: bool,
}

/// One revision shown in full.
struct RevisionView {
    record: RevisionRecord,
    report: StoredReport,
    rules: Vec<RuleRow>,
    totals: String,
    charts: Vec<Chart>,
    largest: Vec<LineRow>,
    diff: Option<DiffView>,
}

struct RuleRow {
    position: usize,
    kind: String,
    lines: u64,
    customers: u64,
    totals: String,
    unknown: u64,
    no_amount: u64,
}

struct DiffView {
    against: i64,
    diff: RevisionDiff,
    totals: Vec<(String, String, String)>,
    examples: Vec<(String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "staff/compensation/run.html")]
struct RunPage {
    frame: Frame,
    run: RunRecord,
    incident_title: String,
    logs: Vec<LogRow>,
    log_bytes: String,
    revisions: Vec<RevisionRow>,
    shown: Option<RevisionView>,
    job: Option<JobView>,
    history: Vec<HistoryRow>,
    may_edit: bool,
    may_approve: bool,
    customer_query: String,
    customer_lines: Option<Vec<LineRow>>,
    error: Option<String>,
    created_at: String,
    /// The plan as typed (what-if) or as saved.
    plan_text: String,
    what_if: Option<WhatIfView>,
}

/// What a changed plan would cost, against the newest revision.
struct WhatIfView {
    millis: u128,
    full_pass: bool,
    why_full: Option<String>,
    lines: usize,
    customers: usize,
    /// (rule, lines before, lines after, totals before, totals after)
    rules: Vec<(String, String, u64, String, String)>,
    /// (currency, before, after)
    totals: Vec<(String, String, String)>,
}

/// What the run page shows besides the run: a refusal, or a priced plan.
#[derive(Default)]
struct Notice {
    error: Option<String>,
    what_if: Option<WhatIfView>,
    plan_text: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct RunQuery {
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    customer: String,
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

async fn history(store: &Store, run_id: &str) -> Result<Vec<HistoryRow>, StaffError> {
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

async fn revision_view(
    store: &Store,
    run_id: &str,
    record: RevisionRecord,
    previous: Option<&RevisionRecord>,
) -> Result<RevisionView, StaffError> {
    let report = parse_report(&record.report_json)
        .map_err(|e| StaffError::Internal(format!("revision {}: {e}", record.revision)))?;
    let rules = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleRow {
            position: i + 1,
            kind: r.kind.clone(),
            lines: r.lines,
            customers: r.customers,
            totals: totals_text(&r.total_minor),
            unknown: r.skipped.unknown_customer,
            no_amount: r.skipped.no_amount_for_currency,
        })
        .collect();
    let amounts = table::amount_counts(store, run_id, record.revision).await?;
    let mut charts = Vec::new();
    if let Ok(plan) = plaster_engine::Plan::parse(&record.plan_toml) {
        let per_minute: Vec<(i64, u64)> =
            serde_json::from_str(&record.failures_json).unwrap_or_default();
        charts.push(charts::failures_over_time(
            &per_minute,
            &charts::Marks::of(&plan),
        ));
    }
    charts.push(charts::totals_by_rule(&report));
    charts.extend(charts::amount_distribution(&amounts));
    let largest =
        line_rows(&table::lines(store, run_id, record.revision, LineFilter::Largest(20)).await?);
    let diff = match previous {
        Some(p) => Some(diff_view(store, run_id, p.revision, record.revision).await?),
        None => None,
    };
    Ok(RevisionView {
        totals: totals_text(&report.total_minor),
        report,
        rules,
        charts,
        largest,
        diff,
        record,
    })
}

async fn diff_view(
    store: &Store,
    run_id: &str,
    before: i64,
    after: i64,
) -> Result<DiffView, StaffError> {
    let old = table::lines(store, run_id, before, LineFilter::All).await?;
    let new = table::lines(store, run_id, after, LineFilter::All).await?;
    let diff = revision::diff(&old, &new);
    let amount =
        |v: Option<i64>, c: &str| v.map_or_else(|| "—".to_string(), |v| charts::money(v, c));
    Ok(DiffView {
        against: before,
        totals: diff
            .totals
            .iter()
            .map(|(c, b, a)| (c.clone(), charts::money(*b, c), charts::money(*a, c)))
            .collect(),
        examples: diff
            .examples
            .iter()
            .map(|x| {
                (
                    x.rule.clone(),
                    x.customer_id.clone(),
                    x.reference.clone(),
                    amount(x.before, &x.currency),
                    amount(x.after, &x.currency),
                )
            })
            .collect(),
        diff,
    })
}

async fn run_page(
    store: &Store,
    session: &StaffSession,
    run_id: &str,
    query: RunQuery,
    notice: Notice,
) -> Result<Response, StaffError> {
    let error = notice.error;
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
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
    Ok(form_page(
        &RunPage {
            frame: Frame::new(session, "/staff/compensation"),
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
async fn refused_or(
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
    toml: String,
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
            let mut conn = store
                .pool()
                .acquire()
                .await
                .map_err(crate::store::StoreError::from)?;
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

fn what_if_view(
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

pub async fn cancel(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let result = runs::cancel_preview(&store, &session.actor(), &id).await;
    refused_or(&store, &session, &id, result).await
}

// ------------------------------------------------------------- approval

#[derive(Template)]
#[template(path = "staff/compensation/approve.html")]
struct ApprovalPage {
    frame: Frame,
    run: RunRecord,
    created_at: String,
    revision: RevisionView,
    /// Why this person may not approve, when they may not.
    barred: Option<String>,
    last_approved: Option<i64>,
    error: Option<String>,
}

/// The revision last approved before, from the audit log (an approval a
/// later input change voided is cleared from the run, not from history).
async fn last_approved(store: &Store, run_id: &str) -> Result<Option<i64>, StaffError> {
    Ok(store
        .audit_for_target(run_id, 200)
        .await?
        .into_iter()
        .filter(|e| e.action == "compensation.run.approve")
        .find_map(|e| {
            e.after
                .as_deref()
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                .and_then(|v| v.get("revision").and_then(|r| r.as_i64()))
        }))
}

async fn approval_page(
    store: &Store,
    session: &StaffSession,
    run_id: &str,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let (run, newest) = runs::show(store, run_id).await?;
    let Some(newest) = newest else {
        return Err(StaffError::BadInput(format!(
            "run {run_id} has no revision to approve yet"
        )));
    };
    let last = last_approved(store, run_id).await?;
    let previous = match last.filter(|l| *l != newest.revision) {
        Some(l) => {
            let mut conn = store
                .pool()
                .acquire()
                .await
                .map_err(crate::store::StoreError::from)?;
            table::revisions(&mut conn, run_id)
                .await?
                .into_iter()
                .find(|r| r.revision == l)
        }
        None => None,
    };
    let barred = if run.created_by == session.account.id {
        Some("You drafted this run, so another finance member must approve it.".to_string())
    } else {
        let mut conn = store
            .pool()
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?;
        table::is_editor(&mut conn, run_id, &session.account.id)
            .await?
            .then(|| {
                "You changed this run's inputs, so another finance member must approve it."
                    .to_string()
            })
    };
    let refused = error.is_some();
    Ok(form_page(
        &ApprovalPage {
            frame: Frame::new(session, "/staff/compensation"),
            created_at: utc(run.created_at),
            revision: revision_view(store, run_id, newest, previous.as_ref()).await?,
            run,
            barred,
            last_approved: last,
            error,
        },
        refused,
    ))
}

pub async fn approval(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    approval_page(&store, &session, &id, None).await
}

#[derive(Debug, serde::Deserialize)]
pub struct ApproveForm {
    digest: String,
}

pub async fn approve(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Result<Response, StaffError> {
    match runs::approve(&store, &session.actor(), &id, &form.digest).await {
        Ok(_) => Ok(see_other(&format!("/staff/compensation/runs/{id}"))),
        Err(e) if e.is_bad_input() && !matches!(e, RunError::NotFound(_)) => {
            approval_page(&store, &session, &id, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct RejectForm {
    reason: String,
}

pub async fn reject(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(form): Form<RejectForm>,
) -> Result<Response, StaffError> {
    match runs::reject(&store, &session.actor(), &id, &form.reason).await {
        Ok(()) => Ok(see_other(&format!("/staff/compensation/runs/{id}"))),
        Err(e) if e.is_bad_input() && !matches!(e, RunError::NotFound(_)) => {
            approval_page(&store, &session, &id, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------- downloads

async fn stored_revision(
    store: &Store,
    run_id: &str,
    n: i64,
) -> Result<RevisionRecord, StaffError> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    table::revisions(&mut conn, run_id)
        .await?
        .into_iter()
        .find(|r| r.revision == n)
        .ok_or_else(|| StaffError::NotFound(format!("run {run_id:?} has no revision {n}")))
}

fn download(body: Vec<u8>, content_type: &'static str, file: String) -> Response {
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
    revision::write_lines_csv(&lines, &mut body)
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
}
