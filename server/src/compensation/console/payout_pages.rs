//! Payouts as finance sees them: what is waiting, rejected (with the
//! receiver's reason, sendable again) and settled, Plaster's own payout
//! inbox, and the operator's endpoint (set by an admin; its secret is
//! shown once).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};

use crate::compensation::charts;
use crate::compensation::payouts as delivery;
use crate::compensation::runs::RunError;
use crate::kernel::outgoing::OutgoingPolicy;
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::roles::{ADMIN, RUNS_APPROVE};
use crate::staff::session::StaffSession;
use crate::store::payouts::{self as table, Endpoint};
use crate::store::Store;

pub(crate) struct Rejected {
    pub(crate) id: String,
    pub(crate) run_id: String,
    pub(crate) customer_id: String,
    pub(crate) amount: String,
    pub(crate) reason: String,
}

pub(crate) struct InboxRow {
    /// Where marking it paid by another channel stands, in words.
    pub(crate) paid: Option<String>,
    pub(crate) asked: bool,
    pub(crate) may_confirm: bool,
    pub(crate) batch_id: String,
    pub(crate) payouts: i64,
    pub(crate) received_at: String,
    pub(crate) body: String,
}

#[derive(Template)]
#[template(path = "staff/payouts.html")]
pub(crate) struct PayoutsPage {
    pub(crate) frame: Frame,
    /// (state, currency, count, total)
    pub(crate) counts: Vec<(String, String, i64, String)>,
    pub(crate) batches_waiting: i64,
    pub(crate) most_attempts: i64,
    pub(crate) last_error: Option<String>,
    pub(crate) rejected: Vec<Rejected>,
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) endpoint_at: String,
    pub(crate) inbox: Vec<InboxRow>,
    pub(crate) may_resend: bool,
    pub(crate) is_admin: bool,
    /// A secret just made, shown this once.
    pub(crate) new_secret: Option<String>,
    pub(crate) error: Option<String>,
}

const INBOX_SHOWN: i64 = 20;

async fn payouts_page(
    store: &Store,
    session: &StaffSession,
    new_secret: Option<String>,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let counts = table::counts(store, None)
        .await?
        .into_iter()
        .map(|(state, currency, n, sum)| {
            let total = charts::money(sum, &currency);
            (state, currency, n, total)
        })
        .collect();
    let rejected = table::rejected(store, 200)
        .await?
        .into_iter()
        .map(|p| Rejected {
            amount: charts::money(p.amount_minor, &p.currency),
            id: p.id,
            run_id: p.run_id,
            customer_id: p.customer_id,
            reason: p.reason.unwrap_or_default(),
        })
        .collect();
    let (batches_waiting, most_attempts, last_error) = table::pending_batches(store).await?;
    let endpoint = table::endpoint(store).await?;
    let refused = error.is_some();
    let template = PayoutsPage {
        frame: Frame::new(session, "/staff/payouts"),
        counts,
        batches_waiting,
        most_attempts,
        last_error,
        rejected,
        endpoint_at: endpoint
            .as_ref()
            .map(|e| utc(e.updated_at))
            .unwrap_or_default(),
        endpoint,
        inbox: table::inbox(store, INBOX_SHOWN)
            .await?
            .into_iter()
            .map(|b| InboxRow {
                may_confirm: b.paid_asked_by.as_ref().is_some_and(|by| *by != session.account.id)
                    && b.paid_confirmed_at.is_none(),
                paid: match (&b.paid_asked_email, b.paid_confirmed_at) {
                    (Some(by), Some(at)) => Some(format!(
                        "Paid by another channel ({}): marked by {by}, confirmed {}",
                        b.paid_note.clone().unwrap_or_default(),
                        utc(at)
                    )),
                    (Some(by), None) => Some(format!(
                        "Marked paid by another channel by {by} ({}); waits for another finance member to confirm",
                        b.paid_note.clone().unwrap_or_default()
                    )),
                    _ => None,
                },
                asked: b.paid_asked_by.is_some(),
                batch_id: b.batch_id,
                payouts: b.payouts,
                received_at: utc(b.received_at),
                body: serde_json::from_str::<serde_json::Value>(&b.body)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or(b.body),
            })
            .collect(),
        may_resend: RUNS_APPROVE.allows(&session.roles),
        is_admin: ADMIN.allows(&session.roles),
        new_secret,
        error,
    };
    Ok(form_page(&template, refused))
}

pub async fn show(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    payouts_page(&store, &session, None, None).await
}

async fn done_or_page(
    store: &Store,
    session: &StaffSession,
    result: Result<Option<String>, RunError>,
) -> Result<Response, StaffError> {
    match result {
        Ok(None) => Ok(see_other("/staff/payouts")),
        Ok(Some(secret)) => payouts_page(store, session, Some(secret), None).await,
        Err(e) if e.is_bad_input() => payouts_page(store, session, None, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn send_again(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let result = delivery::send_again(&store, &session.actor(), &id)
        .await
        .map(|()| None);
    done_or_page(&store, &session, result).await
}

#[derive(Debug, serde::Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    url: String,
}

pub async fn set_endpoint(
    State(store): State<Store>,
    State(policy): State<OutgoingPolicy>,
    Extension(session): Extension<StaffSession>,
    Form(form): Form<EndpointForm>,
) -> Result<Response, StaffError> {
    let result = delivery::set_endpoint(&store, &session.actor(), &policy, &form.url)
        .await
        .map(Some);
    done_or_page(&store, &session, result).await
}

pub async fn clear_endpoint(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    let result = delivery::clear_endpoint(&store, &session.actor())
        .await
        .map(|()| None);
    done_or_page(&store, &session, result).await
}

#[derive(Debug, serde::Deserialize)]
pub struct PaidForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
}

/// `action=ask` (with `note`: how it was paid) or `action=confirm` (another
/// finance member): an inbox batch paid by another channel (runs.md §3).
pub async fn inbox_paid(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(batch): Path<String>,
    Form(form): Form<PaidForm>,
) -> Result<Response, StaffError> {
    let actor = session.actor();
    let result = match form.action.as_str() {
        "ask" => {
            delivery::ask_inbox_paid(&store, &actor, &session.account.email, &batch, &form.note)
                .await
        }
        "confirm" => delivery::confirm_inbox_paid(&store, &actor, &batch).await,
        other => Err(RunError::Refused(format!(
            "action: {other:?} is not one of ask, confirm"
        ))),
    };
    done_or_page(&store, &session, result.map(|()| None)).await
}
