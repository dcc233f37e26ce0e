//! The commands on a run (runs.md §1). Each is one transaction holding the
//! state move, its audit entry and, where there is one, the queued job; the
//! run's row is locked first (PostgreSQL) so two moves on one run serialise.
//!
//! Roles are the caller's to check (the console's route table, the command
//! line's `--by`); what depends on the run itself is checked here: its
//! state, the four-eyes rule, and the digest the approver saw.

use plaster_engine::{Plan, PlanError};
use serde_json::json;
use sqlx::AnyConnection;

use crate::compensation::logs::{CheckedLog, LogError};
use crate::compensation::state::RunState;
use crate::kernel::audit::Actor;
use crate::kernel::ids::new_id;
use crate::store::audit::append;
use crate::store::compensation::{self as table, RevisionRecord, RunLog, RunRecord, RunUpdate};
use crate::store::executions;
use crate::store::status::incident_outline;
use crate::store::{Store, StoreError};

/// The longest reason a rejection takes.
pub const MAX_REASON_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plan's TOML is not a valid plan (compensation.md §3); the field
    /// is the plan's path to it (`rules[1].amount_minor`), empty for syntax.
    #[error("the plan is not valid: {0}")]
    Plan(PlanError),
    #[error("incident {0:?} does not exist")]
    NoIncident(String),
    #[error("a run with plan id {0:?} exists already: plan ids are unique across runs")]
    Duplicate(String),
    #[error("run {0:?} does not exist")]
    NotFound(String),
    /// A move the run's state, the four-eyes rule or the digest forbids.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        RunError::Store(e.into())
    }
}

impl RunError {
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunError::Log(e) => e.is_bad_input(),
            RunError::Store(_) => false,
            _ => true,
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn state_of(run: &RunRecord) -> Result<RunState, RunError> {
    run.state
        .parse()
        .map_err(|e: String| RunError::Store(StoreError::Corrupt(e)))
}

/// Only people act on runs: the four-eyes rule needs to know who.
fn staff_id(actor: &Actor) -> Result<&str, RunError> {
    actor.id().ok_or_else(|| {
        RunError::Refused("name the staff member acting on the run (--by EMAIL)".into())
    })
}

async fn locked_run(
    conn: &mut AnyConnection,
    store: &Store,
    id: &str,
) -> Result<RunRecord, RunError> {
    table::run_for_update(conn, store.backend(), id)
        .await?
        .ok_or_else(|| RunError::NotFound(id.to_string()))
}

/// Parses a plan as the engine will read it.
pub fn parse_plan(toml: &str) -> Result<Plan, RunError> {
    Plan::parse(toml).map_err(RunError::Plan)
}

/// `— → draft`: a run for an existing incident with a valid plan.
pub async fn create(
    store: &Store,
    actor: &Actor,
    incident_id: &str,
    plan_toml: &str,
) -> Result<RunRecord, RunError> {
    let account = staff_id(actor)?;
    let plan = parse_plan(plan_toml)?;
    let mut tx = store.begin_write().await?;
    if incident_outline(&mut tx, incident_id).await?.is_none() {
        return Err(RunError::NoIncident(incident_id.to_string()));
    }
    if table::run_exists(&mut tx, &plan.id).await? {
        return Err(RunError::Duplicate(plan.id));
    }
    let now = now_ms();
    let run = RunRecord {
        id: plan.id.clone(),
        incident_id: incident_id.to_string(),
        plan_toml: plan_toml.to_string(),
        state: RunState::Draft.as_str().to_string(),
        inputs_version: 1,
        created_by: account.to_string(),
        created_by_email: actor.email().unwrap_or_default().to_string(),
        created_at: now,
        updated_at: now,
        approved_revision: None,
        approved_by: None,
        approved_at: None,
    };
    table::insert_run(&mut tx, &run).await?;
    table::add_editor(&mut tx, &run.id, account).await?;
    append(
        &mut tx,
        actor,
        "compensation.run.create",
        &run.id,
        None,
        Some(&json!({"incident": incident_id, "state": run.state, "plan": plan_toml})),
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// What an input change did to the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputChange {
    pub run: RunRecord,
    pub previous_state: RunState,
    /// An approval that the change voided, by its revision.
    pub voided_approval: Option<i64>,
}

/// Applies an input change inside `tx`: back to draft, the approval voided,
/// any preview cancelled, the actor recorded as an editor.
async fn input_changed(
    tx: &mut AnyConnection,
    run: &RunRecord,
    actor: &Actor,
    plan_toml: &str,
) -> Result<InputChange, RunError> {
    let previous_state = state_of(run)?;
    if !previous_state.allows_input_change() {
        return Err(RunError::Refused(format!(
            "run {} is executing: its inputs can change once the execution is done",
            run.id
        )));
    }
    let now = now_ms();
    table::cancel_previews(tx, &run.id, "the run's inputs changed", now).await?;
    let update = RunUpdate {
        state: RunState::Draft.as_str(),
        inputs_version: run.inputs_version + 1,
        plan_toml,
        approved_revision: None,
        approved_by: None,
        approved_at: None,
        now,
    };
    table::update_run(tx, &run.id, &update).await?;
    table::add_editor(tx, &run.id, staff_id(actor)?).await?;
    let voided_approval = if previous_state == RunState::Approved {
        run.approved_revision
    } else {
        None
    };
    let mut changed = run.clone();
    changed.state = update.state.to_string();
    changed.inputs_version = update.inputs_version;
    changed.plan_toml = plan_toml.to_string();
    changed.approved_revision = None;
    changed.approved_by = None;
    changed.approved_at = None;
    changed.updated_at = now;
    Ok(InputChange {
        run: changed,
        previous_state,
        voided_approval,
    })
}

/// One file as `add-logs` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddedLog {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    /// The run had this content already; nothing changed for it.
    #[serde(skip)]
    pub already_attached: bool,
}

/// Attaches stored contents (see [`crate::compensation::logs::store_content`])
/// to a run. A content the run has already is reported and changes nothing;
/// any new one is an input change.
pub async fn add_logs(
    store: &Store,
    actor: &Actor,
    run_id: &str,
    files: &[CheckedLog],
) -> Result<Vec<AddedLog>, RunError> {
    if files.is_empty() {
        return Err(RunError::Refused("give at least one event log file".into()));
    }
    let added_by = actor.label().to_string();
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    if !state_of(&run)?.allows_input_change() {
        return Err(RunError::Refused(format!(
            "run {run_id} is executing: add the files once the execution is done"
        )));
    }
    let now = now_ms();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let attached = table::attach_log(
            &mut tx,
            run_id,
            &RunLog {
                name: f.name.clone(),
                bytes: f.bytes as i64,
                sha256: f.sha256.clone(),
                added_by: added_by.clone(),
                added_at: now,
            },
        )
        .await?;
        out.push(AddedLog {
            name: f.name.clone(),
            bytes: f.bytes,
            sha256: f.sha256.clone(),
            already_attached: !attached,
        });
    }
    if out.iter().any(|f| !f.already_attached) {
        let change = input_changed(&mut tx, &run, actor, &run.plan_toml).await?;
        let new: Vec<_> = out.iter().filter(|f| !f.already_attached).collect();
        append(
            &mut tx,
            actor,
            "compensation.run.add_logs",
            run_id,
            Some(&json!({"state": run.state, "approved_revision": run.approved_revision})),
            Some(&json!({"state": change.run.state, "files": new,
                         "voided_approval": change.voided_approval})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// Replaces the plan; its id may not change (it names the run). An input change.
pub async fn change_plan(
    store: &Store,
    actor: &Actor,
    run_id: &str,
    plan_toml: &str,
) -> Result<InputChange, RunError> {
    let plan = parse_plan(plan_toml)?;
    if plan.id != run_id {
        return Err(RunError::Plan(PlanError {
            field: "id".into(),
            message: format!("must stay {run_id:?}: the plan id names the run"),
        }));
    }
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    if crate::store::ledger::run_has_lines(&mut tx, run_id).await? {
        keeps_rule_positions(&parse_plan(&run.plan_toml)?, &plan)?;
    }
    if run.plan_toml == plan_toml {
        return Ok(InputChange {
            previous_state: state_of(&run)?,
            run,
            voided_approval: None,
        });
    }
    let change = input_changed(&mut tx, &run, actor, plan_toml).await?;
    append(
        &mut tx,
        actor,
        "compensation.run.change_plan",
        run_id,
        Some(&json!({"state": run.state, "plan": run.plan_toml})),
        Some(&json!({"state": change.run.state, "plan": plan_toml,
                     "voided_approval": change.voided_approval})),
    )
    .await?;
    tx.commit().await?;
    Ok(change)
}

/// Once a run has lines in the ledger, rule positions are part of their
/// keys: a new plan may change parameters and add rules at the end, but
/// not remove or reorder them.
fn keeps_rule_positions(old: &Plan, new: &Plan) -> Result<(), RunError> {
    if new.rules.len() < old.rules.len() {
        return Err(RunError::Plan(PlanError {
            field: "rules".into(),
            message: format!(
                "the run has lines in the ledger: its {} rules stay, in their order (add new ones at the end)",
                old.rules.len()
            ),
        }));
    }
    for (i, (a, b)) in old.rules.iter().zip(&new.rules).enumerate() {
        if a.kind() != b.kind() {
            return Err(RunError::Plan(PlanError {
                field: format!("rules[{i}].kind"),
                message: format!(
                    "the run has lines in the ledger: rule {} must stay {:?} (rules cannot be removed or reordered)",
                    i + 1,
                    a.kind()
                ),
            }));
        }
    }
    Ok(())
}

/// `draft → previewing` (and again from `previewed`: the customer tables
/// are read when a preview starts, so a new import is a reason to look
/// again). Queues the preview job in the same transaction; returns its id.
pub async fn request_preview(
    store: &Store,
    actor: &Actor,
    run_id: &str,
) -> Result<String, RunError> {
    let account = staff_id(actor)?;
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    // Whoever asks for a revision chooses when its inputs are read: they
    // approve none of this run's revisions.
    table::add_editor(&mut tx, run_id, account).await?;
    let state = state_of(&run)?;
    if !matches!(state, RunState::Draft | RunState::Previewed) {
        return Err(RunError::Refused(format!(
            "run {run_id} is {state}: a preview starts from draft or previewed"
        )));
    }
    let logs = table::run_logs(&mut tx, run_id).await?;
    if logs.is_empty() {
        return Err(RunError::Refused(format!(
            "run {run_id} has no event log files: add at least one before previewing"
        )));
    }
    let now = now_ms();
    let job = new_id();
    let bytes: i64 = logs.iter().map(|l| l.bytes).sum();
    table::insert_preview(
        &mut tx,
        &job,
        run_id,
        run.inputs_version,
        actor.label(),
        bytes,
        now,
    )
    .await?;
    table::move_run(&mut tx, run_id, RunState::Previewing.as_str(), now).await?;
    append(
        &mut tx,
        actor,
        "compensation.run.preview",
        run_id,
        Some(&json!({"state": run.state})),
        Some(&json!({"state": "previewing", "job": job, "files": logs.len(), "bytes": bytes})),
    )
    .await?;
    tx.commit().await?;
    Ok(job)
}

/// Stops a queued or running preview: `previewing → draft`.
pub async fn cancel_preview(store: &Store, actor: &Actor, run_id: &str) -> Result<(), RunError> {
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    if state_of(&run)? != RunState::Previewing {
        return Err(RunError::Refused(format!(
            "run {run_id} is {}: there is no preview to cancel",
            run.state
        )));
    }
    let now = now_ms();
    table::cancel_previews(
        &mut tx,
        run_id,
        &format!("cancelled by {}", actor.label()),
        now,
    )
    .await?;
    table::move_run(&mut tx, run_id, RunState::Draft.as_str(), now).await?;
    append(
        &mut tx,
        actor,
        "compensation.run.cancel_preview",
        run_id,
        Some(&json!({"state": "previewing"})),
        Some(&json!({"state": "draft"})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whoever drafted the run or changed its inputs may not approve or reject it.
async fn four_eyes(
    tx: &mut AnyConnection,
    run: &RunRecord,
    actor: &Actor,
    verb: &str,
) -> Result<(), RunError> {
    let account = staff_id(actor)?;
    if run.created_by == account {
        return Err(RunError::Refused(format!(
            "four eyes: {} drafted run {}, so another finance member must {verb} it",
            actor.email().unwrap_or_default(),
            run.id
        )));
    }
    if table::is_editor(tx, &run.id, account).await? {
        return Err(RunError::Refused(format!(
            "four eyes: {} changed the inputs of run {}, so another finance member must {verb} it",
            actor.email().unwrap_or_default(),
            run.id
        )));
    }
    Ok(())
}

/// The run's newest revision, which must be of its current inputs.
async fn current_revision(
    tx: &mut AnyConnection,
    run: &RunRecord,
) -> Result<RevisionRecord, RunError> {
    let newest = table::revisions(tx, &run.id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| RunError::Refused(format!("run {} has no revision yet", run.id)))?;
    if newest.inputs_version != run.inputs_version {
        return Err(RunError::Refused(format!(
            "the inputs of run {} changed after revision {}: preview it again",
            run.id, newest.revision
        )));
    }
    Ok(newest)
}

/// `previewed → approved` by a finance member (the caller checks the role)
/// who neither drafted the run nor changed its inputs, naming the digest
/// of the revision they saw, which must be the newest.
pub async fn approve(
    store: &Store,
    actor: &Actor,
    run_id: &str,
    digest: &str,
) -> Result<RunRecord, RunError> {
    let digest = digest.trim().to_ascii_lowercase();
    let policy = crate::compensation::markets::MarketPolicy::load(store).await?;
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    let state = state_of(&run)?;
    if state != RunState::Previewed {
        return Err(RunError::Refused(format!(
            "run {run_id} is {state}: only a previewed run can be approved"
        )));
    }
    four_eyes(&mut tx, &run, actor, "approve").await?;
    let newest = current_revision(&mut tx, &run).await?;
    if newest.digest != digest {
        return Err(RunError::Refused(format!(
            "digest {digest} is not that of the newest revision ({} has {}): look at it and approve that",
            newest.revision, newest.digest
        )));
    }
    let blocked =
        crate::compensation::markets::blocked(&mut tx, &policy, run_id, newest.revision).await?;
    if !blocked.is_empty() {
        return Err(RunError::Refused(format!(
            "revision {} pays what a market does not allow: {}. Change the plan (or finance changes the market's remedies on /staff/markets) and preview again",
            newest.revision,
            crate::compensation::markets::describe(&blocked)
        )));
    }
    let now = now_ms();
    let email = actor.email().unwrap_or_default();
    table::update_run(
        &mut tx,
        run_id,
        &RunUpdate {
            state: RunState::Approved.as_str(),
            inputs_version: run.inputs_version,
            plan_toml: &run.plan_toml,
            approved_revision: Some(newest.revision),
            approved_by: Some(email),
            approved_at: Some(now),
            now,
        },
    )
    .await?;
    append(
        &mut tx,
        actor,
        "compensation.run.approve",
        run_id,
        Some(&json!({"state": run.state})),
        Some(&json!({"state": "approved", "revision": newest.revision, "digest": newest.digest})),
    )
    .await?;
    tx.commit().await?;
    let mut approved = run;
    approved.state = RunState::Approved.as_str().to_string();
    approved.approved_revision = Some(newest.revision);
    approved.approved_by = Some(email.to_string());
    approved.approved_at = Some(now);
    approved.updated_at = now;
    Ok(approved)
}

/// `previewed → draft` by someone who could have approved it, with a reason.
pub async fn reject(
    store: &Store,
    actor: &Actor,
    run_id: &str,
    reason: &str,
) -> Result<(), RunError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RunError::Refused(
            "reason: say why the run is rejected, so its drafter can fix it".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(RunError::Refused(format!(
            "reason: at most {MAX_REASON_CHARS} characters"
        )));
    }
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    let state = state_of(&run)?;
    if state != RunState::Previewed {
        return Err(RunError::Refused(format!(
            "run {run_id} is {state}: only a previewed run can be rejected"
        )));
    }
    four_eyes(&mut tx, &run, actor, "reject").await?;
    let newest = current_revision(&mut tx, &run).await?;
    let now = now_ms();
    table::move_run(&mut tx, run_id, RunState::Draft.as_str(), now).await?;
    append(
        &mut tx,
        actor,
        "compensation.run.reject",
        run_id,
        Some(&json!({"state": run.state})),
        Some(
            &json!({"state": "draft", "revision": newest.revision, "digest": newest.digest,
                     "reason": reason}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A run with its newest revision, for `run show` and the pages.
pub async fn show(
    store: &Store,
    run_id: &str,
) -> Result<(RunRecord, Option<RevisionRecord>), RunError> {
    let mut conn = store.pool().acquire().await?;
    let run = table::run(&mut conn, run_id)
        .await?
        .ok_or_else(|| RunError::NotFound(run_id.to_string()))?;
    let newest = table::revisions(&mut conn, run_id)
        .await?
        .into_iter()
        .next();
    Ok((run, newest))
}

/// `approved → executing` (and again from `executed`, which posts nothing
/// new): queues the execution job in the same transaction. A run already
/// executing gives that execution's id, so a second click starts nothing.
pub async fn execute(store: &Store, actor: &Actor, run_id: &str) -> Result<String, RunError> {
    staff_id(actor)?;
    let mut tx = store.begin_write().await?;
    let run = locked_run(&mut tx, store, run_id).await?;
    let state = state_of(&run)?;
    if state == RunState::Executing {
        if let Some(active) = executions::of_run(store, run_id)
            .await?
            .into_iter()
            .find(|e| e.state == "queued" || e.state == "running")
        {
            return Ok(active.id);
        }
    }
    if !matches!(state, RunState::Approved | RunState::Executed) {
        return Err(RunError::Refused(format!(
            "run {run_id} is {state}: only an approved run can be executed"
        )));
    }
    let Some(revision) = run.approved_revision else {
        return Err(RunError::Refused(format!(
            "run {run_id} has no approved revision"
        )));
    };
    let lines = table::revisions(&mut tx, run_id)
        .await?
        .into_iter()
        .find(|r| r.revision == revision)
        .map_or(0, |r| r.lines);
    let now = now_ms();
    let cleared = executions::clear_open(&mut tx, run_id).await?;
    let id = new_id();
    let number =
        executions::insert(&mut tx, &id, run_id, revision, actor.label(), lines, now).await?;
    table::set_state(&mut tx, run_id, RunState::Executing.as_str(), now).await?;
    append(
        &mut tx,
        actor,
        "compensation.run.execute",
        run_id,
        Some(&json!({"state": run.state})),
        Some(
            &json!({"state": "executing", "execution": number, "revision": revision,
                     "lines": lines, "open_discrepancies_cleared": cleared}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
