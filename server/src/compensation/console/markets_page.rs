//! `/staff/markets`: which remedies may be paid per market (finance sets
//! them, after step-up); the defaults under finance's choices are shown.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Form};
use serde_json::json;

use crate::compensation::markets::{allowed_by_default, MarketPolicy, REMEDIES};
use crate::kernel::forms::field;
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::roles::RUNS_APPROVE;
use crate::staff::session::StaffSession;
use crate::store::audit::append;
use crate::store::customers::{set_market_remedy, MarketRemedy};
use crate::store::{Store, StoreError};

struct Row {
    market: String,
    rule: &'static str,
    allowed: bool,
    by: String,
}

#[derive(Template)]
#[template(path = "staff/markets.html")]
struct MarketsPage {
    frame: Frame,
    rows: Vec<Row>,
    remedies: [&'static str; 3],
    may_set: bool,
    error: Option<String>,
}

async fn page(
    store: &Store,
    session: &StaffSession,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let policy = MarketPolicy::load(store).await?;
    let mut markets: Vec<String> = policy.choices().iter().map(|m| m.market.clone()).collect();
    markets.push("SE".into());
    markets.sort();
    markets.dedup();
    let rows = markets
        .iter()
        .flat_map(|market| {
            let policy = &policy;
            REMEDIES.into_iter().map(move |rule| {
                let set = policy
                    .choices()
                    .iter()
                    .find(|m| m.market == *market && m.rule == rule);
                Row {
                    market: market.clone(),
                    rule,
                    allowed: policy.allows(market, rule),
                    by: set.map_or_else(
                        || "the default".to_string(),
                        |m| format!("{}, {}", m.updated_by, utc(m.updated_at)),
                    ),
                }
            })
        })
        .collect();
    let refused = error.is_some();
    Ok(form_page(
        &MarketsPage {
            frame: Frame::new(session, "/staff/compensation"),
            rows,
            remedies: REMEDIES,
            may_set: RUNS_APPROVE.allows(&session.roles),
            error,
        },
        refused,
    ))
}

pub async fn show(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    page(&store, &session, None).await
}

pub async fn set(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let market = field(&body, "market").trim().to_ascii_uppercase();
    if market.len() != 2 || !market.bytes().all(|b| b.is_ascii_alphabetic()) {
        return page(
            &store,
            &session,
            Some(format!(
                "market: {market:?} is not an ISO 3166 country code like SE"
            )),
        )
        .await;
    }
    let Some(rule) = REMEDIES.into_iter().find(|r| *r == field(&body, "rule")) else {
        return page(
            &store,
            &session,
            Some(format!("rule: choose one of {}", REMEDIES.join(", "))),
        )
        .await;
    };
    let allowed = match field(&body, "allowed") {
        "yes" => true,
        "no" => false,
        other => {
            return page(
                &store,
                &session,
                Some(format!("allowed: {other:?} is neither yes nor no")),
            )
            .await
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    set_market_remedy(
        &mut tx,
        &MarketRemedy {
            market: market.clone(),
            rule: rule.to_string(),
            allowed,
            updated_by: session.account.email.clone(),
            updated_at: now,
        },
    )
    .await?;
    append(
        &mut tx,
        &session.actor(),
        "market.remedy",
        &format!("market:{market}"),
        Some(&json!({"rule": rule, "default": allowed_by_default(&market, rule)})),
        Some(&json!({"rule": rule, "allowed": allowed})),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(see_other("/staff/markets"))
}
