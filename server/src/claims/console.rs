//! The support queue and a claim's page: open claims oldest first with
//! filters; the claim with the customer's own records from the incident's
//! logs (each view is in the audit log), their lines and payouts, what the
//! engine found for them; decisions; finance's approvals and limits.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form};
use serde_json::json;

use crate::claims::decide::{approve, decide, DecideError, Decided, MailSettings, Remedy};
use crate::claims::words;
use crate::customers::evidence;
use crate::kernel::forms::field;
use crate::kernel::money::MAX_LINE_MINOR;
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::roles::{CLAIMS_APPROVE, CLAIMS_DECIDE, CLAIMS_VIEW};
use crate::staff::route::{route, StaffRoute};
use crate::staff::session::StaffSession;
use crate::state::MailDomain;
use crate::status::snapshot::SnapshotHolder;
use crate::store::audit::append;
use crate::store::claims::{self as table, Claim, Limit, QueueFilter};
use crate::store::compensation::{self as runs_table, LineFilter};
use crate::store::{customers, ledger, payouts, Store, StoreError};
use app::dto::Lang;
use app::ports::StatusSource;
use std::sync::Arc;

#[rustfmt::skip]
pub fn routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        route(M::GET, "/staff/claims", CLAIMS_VIEW, get(queue)).in_menu("Claims"),
        route(M::GET, "/staff/claims/limits", CLAIMS_VIEW, get(limits_page)),
        route(M::POST, "/staff/claims/limits", CLAIMS_APPROVE, post(set_limit)).step_up(),
        route(M::GET, "/staff/claims/{id}", CLAIMS_VIEW, get(claim_page)),
        route(M::GET, "/staff/claims/{id}/screenshot", CLAIMS_VIEW, get(screenshot)),
        route(M::POST, "/staff/claims/{id}/take", CLAIMS_DECIDE, post(take)),
        route(M::POST, "/staff/claims/{id}/decide", CLAIMS_DECIDE, post(decide_claim)),
        route(M::POST, "/staff/claims/{id}/approve", CLAIMS_APPROVE, post(approve_claim)).step_up(),
    ]
}

/// Claims a queue page lists.
const QUEUE_SHOWN: i64 = 200;

struct Row {
    id: String,
    age: String,
    incident: String,
    kind: &'static str,
    state: String,
    assigned: String,
}

#[derive(Template)]
#[template(path = "staff/claims.html")]
struct QueuePage {
    frame: Frame,
    rows: Vec<Row>,
    total: i64,
    filter: QueueFilter,
    incidents: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
}

fn age(now: i64, then: i64) -> String {
    let minutes = (now - then).max(0) / 60_000;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

fn title(snapshot: &SnapshotHolder, id: &str) -> String {
    snapshot
        .incident(Lang::En, id)
        .map_or_else(|| id.to_string(), |i| i.title.text.clone())
}

#[derive(serde::Deserialize, Default)]
struct QueueQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    incident: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    assigned: String,
}

async fn queue(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<QueueQuery>,
) -> Result<Response, StaffError> {
    let filter = QueueFilter {
        state: q.state,
        incident: q.incident,
        kind: q.kind,
        assigned: q.assigned,
    };
    let (claims, total) = table::queue(&store, &filter, &session.account.id, QUEUE_SHOWN).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut incidents: Vec<(String, String)> = claims
        .iter()
        .map(|c| (c.incident_id.clone(), title(&snapshot, &c.incident_id)))
        .collect();
    incidents.sort();
    incidents.dedup();
    Ok(form_page(
        &QueuePage {
            frame: Frame::new(&session, "/staff/claims"),
            rows: claims
                .iter()
                .map(|c| Row {
                    id: c.id.clone(),
                    age: age(now, c.created_at),
                    incident: title(&snapshot, &c.incident_id),
                    kind: words::kind(Lang::En, &c.kind),
                    state: c.state.replace('_', " "),
                    assigned: c.assigned_email.clone().unwrap_or_default(),
                })
                .collect(),
            total,
            filter,
            incidents,
            kinds: words::KINDS
                .into_iter()
                .map(|k| (k, words::kind(Lang::En, k)))
                .collect(),
        },
        false,
    ))
}

struct EvidenceRow {
    when: String,
    run: String,
    kind: String,
    outcome: String,
    detail: String,
    failed: bool,
    in_window: bool,
}

struct LineRow {
    run: String,
    rule: String,
    reference: String,
    amount: String,
    posted: String,
}

#[derive(Template)]
#[template(path = "staff/claim.html")]
struct ClaimPage {
    frame: Frame,
    claim: Claim,
    state_label: String,
    kind_label: &'static str,
    incident: String,
    customer: String,
    filed: String,
    happened: String,
    evidence: Vec<EvidenceRow>,
    evidence_complete: bool,
    found: Vec<LineRow>,
    posted: Vec<LineRow>,
    payouts: Vec<(String, String, String)>,
    may_decide: bool,
    may_approve: bool,
    cap: Option<String>,
    reasons: Vec<(&'static str, &'static str)>,
    decision: Option<String>,
    error: Option<String>,
}

async fn render_claim(
    store: &Store,
    snapshot: &SnapshotHolder,
    session: &StaffSession,
    id: &str,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let claim = table::get(&mut conn, id)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("claim {id}")))?;
    drop(conn);
    let tz = snapshot.time_zone();
    let local = |ms: i64| crate::status::view::format_time(ms, tz);
    let customer = customers::by_id(store, &claim.customer_id).await?;
    let runs = evidence::of_customer(store, &claim.customer_id, Some(&claim.incident_id)).await?;
    let mut evidence_rows = Vec::new();
    let mut found = Vec::new();
    for ev in &runs {
        let (from, to) = evidence::window_ms(&ev.plan);
        for r in &ev.records {
            let detail = match r.kind.as_str() {
                "bet" => format!(
                    "{} · {} · {} · {}",
                    r.bet_id,
                    r.game,
                    r.round_id,
                    r.stake_minor
                        .map(|s| words::amount(Lang::En, s, &r.currency))
                        .unwrap_or_default()
                ),
                _ => [r.channel.as_str(), r.game.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
            };
            evidence_rows.push(EvidenceRow {
                when: local(r.ts_ms),
                run: ev.run.id.clone(),
                kind: r.kind.clone(),
                outcome: r.outcome.replace('_', " "),
                detail: if r.error.is_empty() {
                    detail
                } else {
                    format!("{detail} (error {})", r.error)
                },
                failed: r.outcome != "success" && r.outcome != "placed",
                in_window: from <= r.ts_ms && r.ts_ms < to,
            });
        }
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        let newest = runs_table::revisions(&mut conn, &ev.run.id).await?;
        drop(conn);
        if let Some(rev) = newest.first() {
            for l in runs_table::lines(
                store,
                &ev.run.id,
                rev.revision,
                LineFilter::Customer(&claim.customer_id),
            )
            .await?
            {
                found.push(LineRow {
                    run: format!("{} (revision {})", ev.run.id, rev.revision),
                    rule: l.rule,
                    reference: l.reference,
                    amount: words::amount(Lang::En, l.amount_minor, &l.currency),
                    posted: String::new(),
                });
            }
        }
    }
    let incident_runs: Vec<&str> = runs.iter().map(|r| r.run.id.as_str()).collect();
    let posted = ledger::of_customer(store, &claim.customer_id)
        .await?
        .into_iter()
        .filter(|t| incident_runs.contains(&t.run_id.as_str()) || t.reference == claim.id)
        .map(|t| LineRow {
            run: if t.run_id.is_empty() {
                "claim".into()
            } else {
                t.run_id
            },
            rule: t.rule,
            reference: t.reference,
            amount: words::amount(Lang::En, t.amount_minor, &t.currency),
            posted: utc(t.created_at),
        })
        .collect();
    let claim_execution = crate::claims::execution_id(&claim.id);
    let payouts = payouts::of_customer(store, &claim.customer_id)
        .await?
        .into_iter()
        .filter(|p| incident_runs.contains(&p.run_id.as_str()) || p.execution_id == claim_execution)
        .map(|p| {
            (
                p.id,
                words::amount(Lang::En, p.amount_minor, &p.currency),
                p.state,
            )
        })
        .collect();
    let currency = customer
        .as_ref()
        .map(|c| c.currency.clone())
        .unwrap_or_default();
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let limit = table::limit(&mut conn, &claim.incident_id, &currency).await?;
    drop(conn);
    // Every look at a customer's evidence is on record.
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    append(
        &mut tx,
        &session.actor(),
        "claim.evidence_viewed",
        &format!("customer:{}", claim.customer_id),
        None,
        Some(&json!({"claim": claim.id, "records": evidence_rows.len()})),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let refused = error.is_some();
    let page = ClaimPage {
        frame: Frame::new(session, "/staff/claims"),
        incident: title(snapshot, &claim.incident_id),
        customer: customer.map_or_else(
            || format!("{} (no longer known)", claim.customer_id),
            |c| {
                format!(
                    "{} · {} · {} · {}",
                    c.customer_id, c.name, c.email, c.currency
                )
            },
        ),
        filed: local(claim.created_at),
        happened: claim.happened_at.map(local).unwrap_or_default(),
        evidence_complete: runs.iter().all(|r| r.complete),
        evidence: evidence_rows,
        found,
        posted,
        payouts,
        may_decide: CLAIMS_DECIDE.allows(&session.roles) && claim.state == "open",
        may_approve: CLAIMS_APPROVE.allows(&session.roles)
            && claim.state == "awaiting_finance"
            && claim.decided_by.as_deref() != Some(session.account.id.as_str()),
        cap: Some(limit.map_or_else(
            || "no limits set for this incident: every paying decision waits for finance".to_string(),
            |l| {
                let m = |v| words::amount(Lang::En, v, &l.currency);
                format!(
                    "support may give up to {} of its own; it pays alone up to {} per claim, {} per customer for this incident and {} per agent in 24 hours; anything more, and any stake the logs do not have, waits for finance",
                    m(l.goodwill_cap_minor),
                    m(l.approval_above_minor),
                    m(l.customer_incident_max_minor),
                    m(l.agent_day_max_minor)
                )
            },
        )),
        reasons: words::REJECT_REASONS
            .into_iter()
            .map(|r| (r, words::reject_reason(Lang::En, r)))
            .collect(),
        decision: words::decision(Lang::En, &claim),
        state_label: claim.state.replace('_', " "),
        kind_label: words::kind(Lang::En, &claim.kind),
        claim,
        error,
    };
    Ok(form_page(&page, refused))
}

async fn claim_page(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    render_claim(&store, &snapshot, &session, &id, None).await
}

async fn screenshot(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let (kind, bytes) = table::screenshot(&store, &id)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("a screenshot of claim {id}")))?;
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    append(
        &mut tx,
        &session.actor(),
        "claim.screenshot_viewed",
        &format!("claim:{id}"),
        None,
        None,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    // Only the four image types a claim accepts were stored.
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&kind)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(r)
}

async fn take(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let claim = table::get(&mut tx, &id)
        .await?
        .ok_or_else(|| StaffError::NotFound(format!("claim {id}")))?;
    table::assign(
        &mut tx,
        &id,
        &session.account.id,
        &session.account.email,
        now,
    )
    .await?;
    append(
        &mut tx,
        &session.actor(),
        "claim.take",
        &format!("claim:{id}"),
        Some(&json!({"assigned": claim.assigned_email})),
        Some(&json!({"assigned": session.account.email})),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(see_other(&format!("/staff/claims/{id}")))
}

fn mail_settings<'a>(
    snapshot: &'a SnapshotHolder,
    mail: &'a MailDomain,
    page_name: &'a str,
) -> MailSettings<'a> {
    MailSettings {
        public_url: snapshot.public_url(),
        mail_domain: &mail.0,
        page_name,
    }
}

fn minor(body: &[(String, String)], name: &str) -> Result<Option<i64>, StaffError> {
    let v = field(body, name).trim();
    if v.is_empty() {
        return Ok(None);
    }
    crate::kernel::money::parse_minor(v)
        .map(Some)
        .ok_or_else(|| {
            StaffError::BadInput(format!("{name}: {v:?} is not an amount like 150 or 150.50"))
        })
}

async fn decide_claim(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(mail): State<MailDomain>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let remedy = match field(&body, "remedy") {
        "run_refund" => Remedy::RunRefund {
            stake_minor: minor(&body, "stake")?,
        },
        "run_goodwill" => Remedy::RunGoodwill,
        "own_goodwill" => Remedy::OwnGoodwill {
            amount_minor: minor(&body, "amount")?
                .ok_or_else(|| StaffError::BadInput("amount: give the goodwill amount".into()))?,
        },
        "reject" => Remedy::Reject {
            code: field(&body, "reason").to_string(),
            text: field(&body, "text").to_string(),
        },
        other => {
            return Err(StaffError::BadInput(format!(
                "remedy: unknown choice {other:?}"
            )))
        }
    };
    let page_name = snapshot
        .status_page(Lang::En)
        .map_or_else(|| "Status".into(), |p| p.page_name.clone());
    match decide(
        &store,
        &session.actor(),
        &id,
        remedy,
        &mail_settings(&snapshot, &mail, &page_name),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/staff/claims/{id}"))),
        Err(DecideError::NotFound(_)) => Err(StaffError::NotFound(format!("claim {id}"))),
        Err(DecideError::Refused(why)) => {
            render_claim(&store, &snapshot, &session, &id, Some(why)).await
        }
        Err(DecideError::Store(e)) => Err(e.into()),
        Err(e) => Err(StaffError::Internal(e.to_string())),
    }
}

async fn approve_claim(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(mail): State<MailDomain>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Result<Response, StaffError> {
    let page_name = snapshot
        .status_page(Lang::En)
        .map_or_else(|| "Status".into(), |p| p.page_name.clone());
    match approve(
        &store,
        &session.actor(),
        &id,
        &mail_settings(&snapshot, &mail, &page_name),
    )
    .await
    {
        Ok(Decided::Paid { .. } | Decided::AlreadyPaid { .. }) | Ok(_) => {
            Ok(see_other(&format!("/staff/claims/{id}")))
        }
        Err(DecideError::NotFound(_)) => Err(StaffError::NotFound(format!("claim {id}"))),
        Err(DecideError::Refused(why)) => {
            render_claim(&store, &snapshot, &session, &id, Some(why)).await
        }
        Err(DecideError::Store(e)) => Err(e.into()),
        Err(e) => Err(StaffError::Internal(e.to_string())),
    }
}

struct LimitRow {
    limit: Limit,
    title: String,
    cap: String,
    above: String,
    customer_max: String,
    agent_day: String,
}

#[derive(Template)]
#[template(path = "staff/claim_limits.html")]
struct LimitsPage {
    frame: Frame,
    limits: Vec<LimitRow>,
    may_set: bool,
    error: Option<String>,
}

async fn limits_view(
    store: &Store,
    snapshot: &SnapshotHolder,
    session: &StaffSession,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let limits = table::limits(store)
        .await?
        .into_iter()
        .map(|l| {
            let m = |v| words::amount(Lang::En, v, &l.currency);
            LimitRow {
                title: title(snapshot, &l.incident_id),
                cap: m(l.goodwill_cap_minor),
                above: m(l.approval_above_minor),
                customer_max: m(l.customer_incident_max_minor),
                agent_day: m(l.agent_day_max_minor),
                limit: l,
            }
        })
        .collect();
    let refused = error.is_some();
    Ok(form_page(
        &LimitsPage {
            frame: Frame::new(session, "/staff/claims"),
            limits,
            may_set: CLAIMS_APPROVE.allows(&session.roles),
            error,
        },
        refused,
    ))
}

async fn limits_page(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    limits_view(&store, &snapshot, &session, None).await
}

async fn set_limit(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let incident = field(&body, "incident").trim().to_string();
    let currency = field(&body, "currency").trim().to_ascii_uppercase();
    let refuse = |m: String| limits_view(&store, &snapshot, &session, Some(m));
    if snapshot.incident(Lang::En, &incident).is_none() {
        return refuse(format!(
            "incident: {incident:?} is not an incident of the status page"
        ))
        .await;
    }
    if crate::kernel::money::Currency::parse(&currency).is_none() {
        return refuse(format!(
            "currency: {currency:?} is not an ISO 4217 code like SEK"
        ))
        .await;
    }
    let mut amounts = [0i64; 4];
    for (slot, (name, label)) in amounts.iter_mut().zip([
        ("cap", "Support's cap"),
        ("above", "Per claim"),
        ("customer_max", "Per customer and incident"),
        ("agent_day", "Per agent in 24 hours"),
    ]) {
        match minor(&body, name) {
            Ok(Some(v)) if v <= MAX_LINE_MINOR => *slot = v,
            Ok(Some(_)) => {
                return refuse(format!(
                    "{label}: at most {} per limit",
                    words::amount(Lang::En, MAX_LINE_MINOR, &currency)
                ))
                .await
            }
            _ => {
                return refuse(format!(
                    "{label}: give an amount like 200 or 150.50 (0 sends every such decision to finance)"
                ))
                .await
            }
        }
    }
    let [cap, above, customer_max, agent_day] = amounts;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let before = table::limit(&mut tx, &incident, &currency).await?;
    let l = Limit {
        incident_id: incident.clone(),
        currency: currency.clone(),
        goodwill_cap_minor: cap,
        approval_above_minor: above,
        customer_incident_max_minor: customer_max,
        agent_day_max_minor: agent_day,
        updated_by: session.account.email.clone(),
        updated_at: now,
    };
    table::set_limit(&mut tx, &l).await?;
    append(
        &mut tx,
        &session.actor(),
        "claim.limits",
        &format!("incident:{incident}"),
        before.map(|b| json!({"currency": b.currency, "cap_minor": b.goodwill_cap_minor, "above_minor": b.approval_above_minor,
                              "customer_max_minor": b.customer_incident_max_minor, "agent_day_max_minor": b.agent_day_max_minor})).as_ref(),
        Some(&json!({"currency": currency, "cap_minor": cap, "above_minor": above,
                     "customer_max_minor": customer_max, "agent_day_max_minor": agent_day})),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(see_other("/staff/claims/limits"))
}
