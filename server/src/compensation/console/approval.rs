//! Four-eyes approval: the page an approver decides on, approve and reject.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};

use super::revision_view::{revision_view, RevisionView};
use super::shared::connection;
use crate::compensation::runs::{self, RunError};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::session::StaffSession;
use crate::store::compensation::{self as table, RunRecord};
use crate::store::Store;

#[derive(Template)]
#[template(path = "staff/compensation/approve.html")]
pub(crate) struct ApprovalPage {
    pub(crate) frame: Frame,
    pub(crate) run: RunRecord,
    pub(crate) created_at: String,
    pub(crate) revision: RevisionView,
    /// Why this person may not approve, when they may not.
    pub(crate) barred: Option<String>,
    pub(crate) last_approved: Option<i64>,
    /// What this revision read of the customer and subscription tables,
    /// against the revision before it, and the imports in between.
    pub(crate) reads: String,
    pub(crate) imports: Vec<String>,
    pub(crate) error: Option<String>,
}

/// The customer and subscription rows a revision read, in words, against
/// the revision before it; and the imports made between the two.
async fn reads_since(
    store: &Store,
    run_id: &str,
    newest: &table::RevisionRecord,
) -> Result<(String, Vec<String>), StaffError> {
    let mut conn = connection(store).await?;
    let before = table::revisions(&mut conn, run_id)
        .await?
        .into_iter()
        .find(|r| r.revision < newest.revision);
    drop(conn);
    let short = |d: &str| d.chars().take(12).collect::<String>();
    let Some(before) = before else {
        return Ok((
            format!(
                "This revision read {} customer and subscription rows (SHA-256 {}…); it is the run's first.",
                newest.reference_rows,
                short(&newest.reference_digest)
            ),
            Vec::new(),
        ));
    };
    let imports = store
        .audit_for_target("customers", 200)
        .await?
        .into_iter()
        .filter(|e| {
            e.action == "customers.import" && e.at > before.created_at && e.at <= newest.created_at
        })
        .map(|e| {
            format!(
                "{} imported customers at {}: {}",
                e.actor,
                utc(e.at),
                e.after.unwrap_or_default()
            )
        })
        .collect();
    let words = if newest.reference_digest == before.reference_digest {
        format!(
            "The {} customer and subscription rows this revision read are the same as revision {}'s.",
            newest.reference_rows, before.revision
        )
    } else {
        format!(
            "The customer and subscription rows changed since revision {}: it read {} rows (SHA-256 {}…), this one {} (SHA-256 {}…). Whoever imported them may not approve this run.",
            before.revision,
            before.reference_rows,
            short(&before.reference_digest),
            newest.reference_rows,
            short(&newest.reference_digest)
        )
    };
    Ok((words, imports))
}

/// The revision last approved before, from the audit log (an approval a
/// later input change voided is cleared from the run, not from history).
pub(crate) async fn last_approved(store: &Store, run_id: &str) -> Result<Option<i64>, StaffError> {
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

pub(crate) async fn approval_page(
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
    let (reads, imports) = reads_since(store, run_id, &newest).await?;

    let previous = match last.filter(|l| *l != newest.revision) {
        Some(l) => {
            let mut conn = connection(store).await?;
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
        let mut conn = connection(store).await?;
        table::is_editor(&mut conn, run_id, &session.account.id)
            .await?
            .then(|| {
                "You changed this run's inputs (its plan, its logs, a preview you asked for, or the customers it reads), so another finance member must approve it."
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
            reads,
            imports,
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
    pub(crate) digest: String,
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
    pub(crate) reason: String,
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
