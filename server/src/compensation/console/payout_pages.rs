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
use sqlx::Row;

pub(crate) struct Rejected {
    pub(crate) id: String,
    pub(crate) run_id: String,
    pub(crate) customer_id: String,
    pub(crate) amount: String,
    pub(crate) reason: String,
}

pub(crate) struct InboxRow {
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
    let counts = sqlx::query(
        "SELECT state, currency, COUNT(*), CAST(SUM(amount_minor) AS BIGINT) FROM payouts
         GROUP BY state, currency ORDER BY state, currency",
    )
    .fetch_all(store.pool())
    .await
    .map_err(crate::store::StoreError::from)?
    .iter()
    .map(|row| {
        let currency: String = row.try_get(1)?;
        Ok((
            row.try_get::<String, _>(0)?,
            currency.clone(),
            row.try_get::<i64, _>(2)?,
            charts::money(row.try_get::<i64, _>(3)?, &currency),
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map_err(crate::store::StoreError::from)?;
    let rejected = sqlx::query(
        "SELECT id, run_id, customer_id, amount_minor, currency, reason FROM payouts
         WHERE state = 'rejected' ORDER BY created_at, id LIMIT 200",
    )
    .fetch_all(store.pool())
    .await
    .map_err(crate::store::StoreError::from)?
    .iter()
    .map(|row| {
        let currency: String = row.try_get("currency")?;
        Ok(Rejected {
            id: row.try_get("id")?,
            run_id: row.try_get("run_id")?,
            customer_id: row.try_get("customer_id")?,
            amount: charts::money(row.try_get("amount_minor")?, &currency),
            reason: row
                .try_get::<Option<String>, _>("reason")?
                .unwrap_or_default(),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map_err(crate::store::StoreError::from)?;
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
            .map(|(batch_id, body, payouts, at)| InboxRow {
                batch_id,
                payouts,
                received_at: utc(at),
                body: serde_json::from_str::<serde_json::Value>(&body)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or(body),
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
