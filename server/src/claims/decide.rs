//! Deciding a claim. A remedy the run's plan defines (the bet's refund,
//! the run's goodwill) is posted under the very key that rule's line has
//! or would have (runs.md §2), so a bet the run already refunded is
//! answered "already refunded on <date>, payout <id>" and never paid
//! twice, and a run executed later finds the key taken. Goodwill of the
//! agent's own is keyed by the claim and capped per incident and currency
//! by finance. Deciding fails closed: a paying decision waits for a
//! finance approver who did not make it (four eyes) unless finance set
//! limits for the incident and currency and the payment is within all
//! three (per claim, per customer and incident, per agent per day); the
//! refund of a bet the logs do not have always waits.

use app::dto::Lang;
use plaster_engine::{Plan, Rule};
use serde_json::json;

use crate::claims::words;
use crate::compensation::execution_job::{line_transaction, payouts_of};
use crate::customers::evidence::{self, deciding_bet};
use crate::kernel::audit::Actor;
use crate::kernel::money::MAX_LINE_MINOR;
use crate::kernel::texts::lang_for_locale;
use crate::ledger::transaction::LineKey;
use crate::notify::email::{claim_notice, ClaimMail};
use crate::store::audit::append;
use crate::store::claims::{self as table, Claim, Decision};
use crate::store::compensation::{RunRecord, StoredLine};
use crate::store::customers::{self, CustomerRecord};
use crate::store::ledger;
use crate::store::outbox::{self, NewMessage};
use crate::store::{payouts, Store, StoreError};

pub const DECISION_KIND: &str = "claim_decision";

/// What support decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// The run's `refund_failed_debits` line for the claim's bet. The stake
    /// comes from the logs; `stake_minor` is needed only for a bet the logs
    /// do not have.
    RunRefund { stake_minor: Option<i64> },
    /// The run's `goodwill_credit` line for this customer.
    RunGoodwill,
    /// An amount of the agent's own, within finance's cap.
    OwnGoodwill { amount_minor: i64 },
    /// A reason code of [`words::REJECT_REASONS`] and optional free text.
    Reject { code: String, text: String },
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("claim {0:?} does not exist")]
    NotFound(String),
    /// The claim's state, the plan, the cap or the four-eyes rule forbids it.
    #[error("{0}")]
    Refused(String),
    #[error("rendering the decision mail: {0}")]
    Render(#[from] askama::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DecideError {
    fn from(e: sqlx::Error) -> Self {
        DecideError::Store(e.into())
    }
}

fn refused(m: impl Into<String>) -> DecideError {
    DecideError::Refused(m.into())
}

/// What a decision ended as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Posted and on its way as `payout`.
    Paid {
        transaction: String,
        payout: String,
    },
    /// The key was in the ledger already with this amount.
    AlreadyPaid {
        payout: String,
        on: i64,
    },
    /// Waits for a finance approver.
    AwaitingFinance,
    Rejected,
}

/// Where decision mail points and what it is signed with.
pub struct MailSettings<'a> {
    pub public_url: &'a str,
    pub mail_domain: &'a str,
    pub page_name: &'a str,
}

/// A line a decision would post: its key, rule and amount.
struct Payable {
    key: LineKey,
    /// The ledger id: the line's key, or `["claim", id]` for own goodwill.
    tx_id: String,
    rule: String,
    amount_minor: i64,
    currency: String,
    /// The agent typed the amount's basis (a stake the logs do not have).
    typed_stake: bool,
}

/// The incident's run whose plan has a rule of `kind`, newest first.
fn run_with_rule<'a>(
    runs: &'a [evidence::RunEvidence],
    kind: &str,
) -> Option<(&'a evidence::RunEvidence, usize)> {
    runs.iter().find_map(|r| {
        r.plan
            .rules
            .iter()
            .position(|rule| rule.kind() == kind)
            .map(|i| (r, i))
    })
}

fn goodwill_amount(plan: &Plan, position: usize, currency: &str) -> Option<i64> {
    match plan.rules.get(position) {
        Some(Rule::GoodwillCredit { amount_minor, .. }) => amount_minor
            .iter()
            .find(|(c, _)| c.as_str() == currency)
            .map(|(_, a)| *a),
        _ => None,
    }
}

async fn payable(
    store: &Store,
    claim: &Claim,
    customer: &CustomerRecord,
    remedy: &Remedy,
) -> Result<Option<Payable>, DecideError> {
    let runs = evidence::of_customer(store, &claim.customer_id, Some(&claim.incident_id)).await?;
    let key = |run: &RunRecord, position: usize, reference: &str| LineKey {
        run_id: run.id.clone(),
        position: position as i64,
        customer_id: claim.customer_id.clone(),
        reference: reference.to_string(),
    };
    let p = match remedy {
        Remedy::Reject { .. } => return Ok(None),
        Remedy::RunRefund { stake_minor } => {
            let (r, position) = run_with_rule(&runs, "refund_failed_debits").ok_or_else(|| {
                refused("no run of this incident refunds bets: choose goodwill or reject")
            })?;
            if claim.bet_id.is_empty() {
                return Err(refused(
                    "the claim names no bet: a refund is keyed by the bet id",
                ));
            }
            let mut typed_stake = false;
            let (amount_minor, currency) = match deciding_bet(&r.records, &claim.bet_id) {
                Some(b) if b.outcome == "placed" => {
                    return Err(refused(format!(
                        "the logs show bet {} placed at {}: there is nothing to refund",
                        claim.bet_id,
                        crate::staff::page::utc(b.ts_ms)
                    )))
                }
                Some(b) => (b.stake_minor.unwrap_or(0), b.currency.clone()),
                None => match stake_minor {
                    Some(s) if *s > 0 => {
                        typed_stake = true;
                        (*s, customer.currency.clone())
                    }
                    _ => {
                        return Err(refused(format!(
                            "bet {} is not in the run's logs: give its stake",
                            claim.bet_id
                        )))
                    }
                },
            };
            let k = key(&r.run, position, &claim.bet_id);
            Payable {
                tx_id: k.line_id(),
                key: k,
                rule: "refund_failed_debits".into(),
                amount_minor,
                currency,
                typed_stake,
            }
        }
        Remedy::RunGoodwill => {
            let (r, position) = run_with_rule(&runs, "goodwill_credit").ok_or_else(|| {
                refused("no run of this incident gives goodwill: give your own or reject")
            })?;
            let amount_minor =
                goodwill_amount(&r.plan, position, &customer.currency).ok_or_else(|| {
                    refused(format!(
                        "the run's goodwill has no amount in {}",
                        customer.currency
                    ))
                })?;
            let k = key(&r.run, position, "");
            Payable {
                tx_id: k.line_id(),
                key: k,
                rule: "goodwill_credit".into(),
                amount_minor,
                currency: customer.currency.clone(),
                typed_stake: false,
            }
        }
        Remedy::OwnGoodwill { amount_minor } => {
            if *amount_minor <= 0 {
                return Err(refused("amount: give a positive amount in minor units"));
            }
            // Not a run's line: no run, the claim's id as reference.
            let k = LineKey {
                run_id: String::new(),
                position: 0,
                customer_id: claim.customer_id.clone(),
                reference: claim.id.clone(),
            };
            Payable {
                key: k,
                tx_id: json!(["claim", claim.id]).to_string(),
                rule: "goodwill_credit".into(),
                amount_minor: *amount_minor,
                currency: customer.currency.clone(),
                typed_stake: false,
            }
        }
    };
    let policy = crate::compensation::markets::MarketPolicy::load(store).await?;
    if !customer.market.is_empty() && !policy.allows(&customer.market, &p.rule) {
        return Err(refused(format!(
            "the customer plays under the {} licence, where {} may not be paid (finance's Markets page): choose another remedy or reject",
            customer.market, p.rule
        )));
    }
    if p.amount_minor > MAX_LINE_MINOR {
        return Err(refused(format!(
            "amount: {} is more than one payment may carry ({})",
            words::amount(Lang::En, p.amount_minor, &p.currency),
            words::amount(Lang::En, MAX_LINE_MINOR, &p.currency)
        )));
    }
    Ok(Some(p))
}

/// Why a paying decision must wait for finance, or `None` when support may
/// pay it alone. Fails closed: no limits for the incident and currency
/// means every payment waits.
async fn waits_for_finance(
    tx: &mut sqlx::AnyConnection,
    claim: &Claim,
    p: &Payable,
    limit: Option<&table::Limit>,
    by: &str,
    now: i64,
) -> Result<Option<String>, DecideError> {
    let money = |minor: i64| words::amount(Lang::En, minor, &p.currency);
    if p.typed_stake {
        return Ok(Some(format!(
            "bet {} is not in the logs: a typed stake always waits for finance",
            claim.bet_id
        )));
    }
    let Some(l) = limit else {
        return Ok(Some(format!(
            "finance has set no limits for this incident in {}",
            p.currency
        )));
    };
    if p.amount_minor > l.approval_above_minor {
        return Ok(Some(format!(
            "{} is above the {} support may pay alone per claim",
            money(p.amount_minor),
            money(l.approval_above_minor)
        )));
    }
    let held =
        table::held_for_customer(tx, &claim.incident_id, &claim.customer_id, &p.currency).await?;
    if held.saturating_add(p.amount_minor) > l.customer_incident_max_minor {
        return Ok(Some(format!(
            "the customer's claims for this incident would hold {}, above the {} allowed without finance",
            money(held.saturating_add(p.amount_minor)),
            money(l.customer_incident_max_minor)
        )));
    }
    let day = table::paid_alone_since(tx, by, &p.currency, now - 24 * 3_600_000).await?;
    if day.saturating_add(p.amount_minor) > l.agent_day_max_minor {
        return Ok(Some(format!(
            "you would have paid {} alone in 24 hours, above the {} allowed",
            money(day.saturating_add(p.amount_minor)),
            money(l.agent_day_max_minor)
        )));
    }
    Ok(None)
}

/// Posts the line and its payout, unless its key is there already.
async fn post(
    tx: &mut sqlx::AnyConnection,
    claim: &Claim,
    p: &Payable,
    by: &str,
    now: i64,
) -> Result<Decided, DecideError> {
    if let Some(posted) = ledger::transaction(tx, &p.tx_id).await? {
        if posted.amount_minor != p.amount_minor || posted.currency != p.currency {
            return Err(refused(format!(
                "the ledger has this line already with {} {} (this decision: {} {}): \
                 finance settles differences as discrepancies",
                posted.amount_minor, posted.currency, p.amount_minor, p.currency
            )));
        }
        let payout = payouts::id_of(
            tx,
            &posted.execution_id,
            &claim.customer_id,
            &posted.currency,
        )
        .await?
        .unwrap_or_default();
        return Ok(Decided::AlreadyPaid {
            payout,
            on: posted.created_at,
        });
    }
    let execution = super::execution_id(&claim.id);
    let line = StoredLine {
        position: p.key.position,
        rule: p.rule.clone(),
        customer_id: p.key.customer_id.clone(),
        reference: p.key.reference.clone(),
        amount_minor: p.amount_minor,
        currency: p.currency.clone(),
    };
    let mut t = line_transaction(&p.key.run_id, 0, &execution, by, &line, now);
    t.id = p.tx_id.clone();
    if !ledger::insert(tx, &[t]).await? {
        return Err(refused(
            "the line was posted a moment ago by someone else; open the claim again",
        ));
    }
    let made = payouts_of(&p.key.run_id, &execution, &claim.customer_id, &[line], now);
    payouts::insert(tx, &made).await?;
    Ok(Decided::Paid {
        transaction: p.tx_id.clone(),
        payout: made.first().map(|m| m.id.clone()).unwrap_or_default(),
    })
}

async fn customer_of(store: &Store, claim: &Claim) -> Result<CustomerRecord, DecideError> {
    customers::by_id(store, &claim.customer_id)
        .await?
        .ok_or_else(|| refused(format!("customer {} is no longer known", claim.customer_id)))
}

async fn mail(
    tx: &mut sqlx::AnyConnection,
    claim: &Claim,
    customer: &CustomerRecord,
    settings: &MailSettings<'_>,
    now: i64,
) -> Result<(), DecideError> {
    let lang: Lang = lang_for_locale(&customer.locale);
    let (approved, detail) = words::mail_detail(lang, claim);
    let m = claim_notice(&ClaimMail {
        lang,
        page_name: settings.page_name,
        reference: &claim.id,
        decision: Some((approved, &detail)),
        claim_url: &format!("{}/me", settings.public_url),
    })?;
    outbox::enqueue(
        tx,
        &NewMessage {
            id: format!("claim-decided-{}", claim.id),
            kind: DECISION_KIND.into(),
            recipient: customer.email.clone(),
            subject: m.subject,
            body_text: m.text,
            body_html: m.html,
            unsubscribe_url: None,
        },
        settings.mail_domain,
        now,
    )
    .await?;
    Ok(())
}

/// Decides an open claim.
pub async fn decide(
    store: &Store,
    actor: &Actor,
    claim_id: &str,
    remedy: Remedy,
    settings: &MailSettings<'_>,
) -> Result<Decided, DecideError> {
    let now = chrono::Utc::now().timestamp_millis();
    let by = actor.id().unwrap_or_default().to_string();
    let mut conn = store.pool().acquire().await?;
    let claim = table::get(&mut conn, claim_id)
        .await?
        .ok_or_else(|| DecideError::NotFound(claim_id.to_string()))?;
    drop(conn);
    let customer = customer_of(store, &claim).await?;
    // Read outside the transaction: the evidence is large and unchanging.
    let payable = payable(store, &claim, &customer, &remedy).await?;

    let mut tx = store.begin_write().await?;
    let current = table::for_update(&mut tx, store.backend(), claim_id)
        .await?
        .ok_or_else(|| DecideError::NotFound(claim_id.to_string()))?;
    if current.state != "open" {
        return Err(refused(format!(
            "claim {claim_id} is {} already",
            current.state
        )));
    }
    let lang = lang_for_locale(&customer.locale);
    let mut waits = None;
    let (outcome, decision) = match (&remedy, &payable) {
        (Remedy::Reject { code, text }, _) => {
            if !words::REJECT_REASONS.contains(&code.as_str()) {
                return Err(refused("reason: choose one of the reasons"));
            }
            let mut reason = words::reject_reason(lang, code).to_string();
            if !text.trim().is_empty() {
                reason = format!("{reason} {}", text.trim());
            }
            let d = Decision {
                state: "rejected",
                decision: "reject",
                amount_minor: None,
                currency: None,
                reason: Some(&reason),
                decided_by: &by,
                transaction_id: None,
                payout_id: None,
                now,
            };
            if !table::decide(&mut tx, claim_id, "open", &d).await? {
                return Err(refused("the claim was decided a moment ago"));
            }
            (Decided::Rejected, "reject")
        }
        (_, Some(p)) => {
            let name = match remedy {
                Remedy::RunRefund { .. } => "run_refund",
                Remedy::RunGoodwill => "run_goodwill",
                _ => "own_goodwill",
            };
            let limit = table::limit(&mut tx, &claim.incident_id, &p.currency).await?;
            if name == "own_goodwill" {
                let cap = limit.as_ref().map_or(0, |l| l.goodwill_cap_minor);
                if p.amount_minor > cap {
                    return Err(refused(format!(
                        "amount: support may give at most {} for this incident (finance sets the cap)",
                        words::amount(Lang::En, cap, &p.currency)
                    )));
                }
            }
            // A key in the ledger already moves no money: it is answered
            // (or refused as a discrepancy) without waiting for anyone.
            if ledger::transaction(&mut tx, &p.tx_id).await?.is_none() {
                waits = waits_for_finance(&mut tx, &claim, p, limit.as_ref(), &by, now).await?;
            }
            let outcome = if waits.is_some() {
                Decided::AwaitingFinance
            } else {
                post(&mut tx, &claim, p, &by, now).await?
            };
            let already = match &outcome {
                Decided::AlreadyPaid { on, .. } => Some(words::date(*on)),
                _ => None,
            };
            let (state, decision, tx_id, payout) = match &outcome {
                Decided::Paid {
                    transaction,
                    payout,
                } => (
                    "approved",
                    name,
                    Some(transaction.as_str()),
                    Some(payout.as_str()),
                ),
                Decided::AlreadyPaid { payout, .. } => (
                    "approved",
                    "already_paid",
                    Some(p.tx_id.as_str()),
                    Some(payout.as_str()),
                ),
                _ => ("awaiting_finance", name, None, None),
            };
            let d = Decision {
                state,
                decision,
                amount_minor: Some(p.amount_minor),
                currency: Some(&p.currency),
                reason: already.as_deref(),
                decided_by: &by,
                transaction_id: tx_id,
                payout_id: payout,
                now,
            };
            if !table::decide(&mut tx, claim_id, "open", &d).await? {
                return Err(refused("the claim was decided a moment ago"));
            }
            (outcome, decision)
        }
        (_, None) => return Err(refused("nothing to decide")),
    };
    append(
        &mut tx,
        actor,
        "claim.decide",
        &format!("claim:{claim_id}"),
        Some(&json!({"state": "open"})),
        Some(
            &json!({"decision": decision, "amount_minor": payable.as_ref().map(|p| p.amount_minor),
                     "currency": payable.as_ref().map(|p| p.currency.clone()),
                     "waits_for_finance": waits}),
        ),
    )
    .await?;
    if !matches!(outcome, Decided::AwaitingFinance) {
        let decided = table::get(&mut tx, claim_id)
            .await?
            .ok_or_else(|| DecideError::NotFound(claim_id.to_string()))?;
        mail(&mut tx, &decided, &customer, settings, now).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// A finance approver signs a decision that waited for one; not the agent
/// who made it.
pub async fn approve(
    store: &Store,
    actor: &Actor,
    claim_id: &str,
    settings: &MailSettings<'_>,
) -> Result<Decided, DecideError> {
    let now = chrono::Utc::now().timestamp_millis();
    let by = actor.id().unwrap_or_default().to_string();
    let mut conn = store.pool().acquire().await?;
    let claim = table::get(&mut conn, claim_id)
        .await?
        .ok_or_else(|| DecideError::NotFound(claim_id.to_string()))?;
    drop(conn);
    if claim.state != "awaiting_finance" {
        return Err(refused(format!(
            "claim {claim_id} is not waiting for approval"
        )));
    }
    if claim.decided_by.as_deref() == Some(by.as_str()) {
        return Err(refused(
            "you made this decision: another finance member approves it (four eyes)",
        ));
    }
    let customer = customer_of(store, &claim).await?;
    let remedy = match claim.decision.as_deref() {
        Some("run_refund") => Remedy::RunRefund {
            stake_minor: claim.amount_minor,
        },
        Some("run_goodwill") => Remedy::RunGoodwill,
        Some("own_goodwill") => Remedy::OwnGoodwill {
            amount_minor: claim.amount_minor.unwrap_or(0),
        },
        other => {
            return Err(DecideError::Store(StoreError::Corrupt(format!(
                "claim {claim_id} waits with decision {other:?}, which no remedy has"
            ))))
        }
    };
    let p = payable(store, &claim, &customer, &remedy)
        .await?
        .ok_or_else(|| refused("nothing to approve"))?;
    if p.amount_minor != claim.amount_minor.unwrap_or(0) {
        return Err(refused(
            "the amount differs from the decision's (new logs?): reject and decide again",
        ));
    }
    let mut tx = store.begin_write().await?;
    let outcome = post(&mut tx, &claim, &p, &by, now).await?;
    let (tx_id, payout) = match &outcome {
        Decided::Paid {
            transaction,
            payout,
        } => (transaction.clone(), payout.clone()),
        Decided::AlreadyPaid { payout, .. } => (p.tx_id.clone(), payout.clone()),
        _ => (String::new(), String::new()),
    };
    if !table::approve(&mut tx, claim_id, &by, Some(&tx_id), Some(&payout), now).await? {
        return Err(refused("the claim was approved a moment ago"));
    }
    append(
        &mut tx,
        actor,
        "claim.approve",
        &format!("claim:{claim_id}"),
        Some(&json!({"state": "awaiting_finance"})),
        Some(&json!({"state": "approved", "transaction": tx_id, "payout": payout})),
    )
    .await?;
    let decided = table::get(&mut tx, claim_id)
        .await?
        .ok_or_else(|| DecideError::NotFound(claim_id.to_string()))?;
    mail(&mut tx, &decided, &customer, settings, now).await?;
    tx.commit().await?;
    Ok(outcome)
}
