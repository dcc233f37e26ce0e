//! What the customer's own page shows (`app::pages::me`), built for one
//! signed-in customer: each incident that touched them in their own
//! records, each line with its rule in plain words, where it stands, their
//! payouts and claims. Also everything held about them, as JSON.

use std::collections::HashMap;
use std::sync::Arc;

use app::dto::{
    Lang, MyClaim, MyCompensation, MyIncident, MyLine, MyPageView, MyPayout, MyRecord, MyStage,
};
use app::ports::{CustomerSource, PageFuture, StatusSource};
use chrono_tz::Tz;

use crate::claims::words as claim_words;
use crate::compensation::notices::line_words;
use crate::customers::evidence::{self, RunEvidence};
use crate::customers::sign_in::{self, CustomerSession, COOKIE};
use crate::kernel::money::{Currency, Money};
use crate::kernel::texts::lang_for_locale;
use crate::status::snapshot::SnapshotHolder;
use crate::status::view::format_time;
use crate::store::compensation::{self as runs_table, LineFilter, StoredLine};
use crate::store::customers::{self, CustomerRecord};
use crate::store::evidence::EvidenceRecord;
use crate::store::ledger::{self, PostedTx};
use crate::store::payouts::{self, Payout};
use crate::store::{claims, Store, StoreError};

/// The customer pages' view of the server.
#[derive(Clone)]
pub struct CustomerPages {
    pub store: Store,
    pub snapshot: Arc<SnapshotHolder>,
    /// Served over HTTPS: the session cookie is `__Host-` prefixed.
    pub secure_cookies: bool,
}

fn money(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        minor: i128::from(minor),
        currency: Currency::parse(currency)?,
    })
}

/// A record in the customer's words.
fn record_words(lang: Lang, r: &EvidenceRecord) -> (String, bool) {
    let via = if r.channel.is_empty() {
        String::new()
    } else {
        format!(" ({})", r.channel)
    };
    match (r.kind.as_str(), r.outcome.as_str()) {
        ("login", "failure") => (
            match lang {
                Lang::Sv => format!("Inloggningen misslyckades{via}"),
                Lang::Nb => format!("Innloggingen mislyktes{via}"),
                Lang::En => format!("Sign-in failed{via}"),
            },
            true,
        ),
        ("login", _) => (
            match lang {
                Lang::Sv => format!("Inloggad{via}"),
                Lang::Nb => format!("Logget inn{via}"),
                Lang::En => format!("Signed in{via}"),
            },
            false,
        ),
        ("stream", outcome) => {
            let what = if r.game.is_empty() {
                String::new()
            } else {
                format!(" {}", r.game)
            };
            let failed = outcome == "failure";
            (
                match (lang, failed) {
                    (Lang::Sv, true) => format!("Strömmen{what} gick inte att starta{via}"),
                    (Lang::Nb, true) => format!("Strømmen{what} kunne ikke startes{via}"),
                    (Lang::En, true) => format!("Stream{what} failed{via}"),
                    (Lang::Sv, false) => format!("Strömmen{what} startade{via}"),
                    (Lang::Nb, false) => format!("Strømmen{what} startet{via}"),
                    (Lang::En, false) => format!("Stream{what} started{via}"),
                },
                failed,
            )
        }
        (_, outcome) => {
            let stake = r
                .stake_minor
                .and_then(|s| money(s, &r.currency))
                .map(|m| crate::kernel::money::format(lang, m))
                .unwrap_or_default();
            let result = match (lang, outcome) {
                (Lang::Sv, "placed") => "registrerat",
                (Lang::Nb, "placed") => "registrert",
                (Lang::En, "placed") => "registered",
                (Lang::Sv, "rejected") => "avvisat",
                (Lang::Nb, "rejected") => "avvist",
                (Lang::En, "rejected") => "rejected",
                (Lang::Sv, _) => "pengarna drogs men spelet registrerades inte",
                (Lang::Nb, _) => "pengene ble trukket, men spillet ble ikke registrert",
                (Lang::En, _) => "money taken, bet not registered",
            };
            let bet = match lang {
                Lang::Sv => "Spel",
                Lang::Nb => "Spill",
                Lang::En => "Bet",
            };
            (
                format!("{bet} {} · {} · {stake}: {result}", r.bet_id, r.game),
                outcome != "placed",
            )
        }
    }
}

/// A payout in the customer's words.
fn payout_view(lang: Lang, p: &Payout, tz: Tz) -> MyPayout {
    let amount = claim_words::amount(lang, p.amount_minor, &p.currency);
    let paid = p.state == "settled";
    let state = match (lang, paid, p.settled_at) {
        (Lang::Sv, true, Some(t)) => format!("utbetald {}", format_time(t, tz)),
        (Lang::Nb, true, Some(t)) => format!("utbetalt {}", format_time(t, tz)),
        (Lang::En, true, Some(t)) => format!("paid {}", format_time(t, tz)),
        (Lang::Sv, _, _) if p.state == "rejected" => "försenad, vi tittar på det".into(),
        (Lang::Nb, _, _) if p.state == "rejected" => "forsinket, vi ser på det".into(),
        (Lang::En, _, _) if p.state == "rejected" => "delayed; we are looking into it".into(),
        (Lang::Sv, _, _) => "på väg".into(),
        (Lang::Nb, _, _) => "på vei".into(),
        (Lang::En, _, _) => "on its way".into(),
    };
    MyPayout {
        id: p.id.clone(),
        amount,
        state,
        paid,
    }
}

/// One incident's section, or `None` when the run knows nothing of them.
async fn incident_view(
    store: &Store,
    snapshot: &SnapshotHolder,
    lang: Lang,
    customer: &CustomerRecord,
    ev: &RunEvidence,
    posted: &[&PostedTx],
    payouts: &[&Payout],
) -> Result<Option<MyIncident>, StoreError> {
    let tz = snapshot.time_zone();
    let run = &ev.run;
    let mut conn = store.pool().acquire().await?;
    let revisions = runs_table::revisions(&mut conn, &run.id).await?;
    drop(conn);
    let newest = match revisions.first() {
        Some(r) => {
            runs_table::lines(
                store,
                &run.id,
                r.revision,
                LineFilter::Customer(&customer.customer_id),
            )
            .await?
        }
        None => Vec::new(),
    };
    let approved_rev = run
        .approved_revision
        .filter(|_| matches!(run.state.as_str(), "approved" | "executing" | "executed"));
    let approved = match approved_rev {
        Some(a) if Some(a) != revisions.first().map(|r| r.revision) => {
            runs_table::lines(
                store,
                &run.id,
                a,
                LineFilter::Customer(&customer.customer_id),
            )
            .await?
        }
        Some(_) => newest.clone(),
        None => Vec::new(),
    };
    let records: Vec<&EvidenceRecord> = ev.in_window().collect();
    if newest.is_empty() && posted.is_empty() && !records.iter().any(|r| record_words(lang, r).1) {
        return Ok(None);
    }
    let settled: HashMap<(&str, &str), &Payout> = payouts
        .iter()
        .filter(|p| p.state == "settled")
        .map(|p| ((p.execution_id.as_str(), p.currency.as_str()), *p))
        .collect();
    let fee = |l: &StoredLine| {
        customer
            .subscriptions
            .iter()
            .find(|s| s.plan == l.reference)
            .and_then(|s| money(s.monthly_fee_minor, &s.currency))
    };
    // What is in the ledger first, then what is found but not yet posted.
    let mut lines: Vec<MyLine> = Vec::new();
    let mut shown: Vec<(i64, String)> = Vec::new();
    let mut totals: Vec<(String, i64)> = Vec::new();
    let mut add_total =
        |currency: &str, minor: i64| match totals.iter_mut().find(|(c, _)| c == currency) {
            Some((_, t)) => *t += minor,
            None => totals.push((currency.to_string(), minor)),
        };
    for t in posted.iter().filter(|t| t.run_id == run.id) {
        let line = StoredLine {
            position: t.position,
            rule: t.rule.clone(),
            customer_id: customer.customer_id.clone(),
            reference: t.reference.clone(),
            amount_minor: t.amount_minor,
            currency: t.currency.clone(),
        };
        let paid = settled.contains_key(&(t.execution_id.as_str(), t.currency.as_str()));
        shown.push((t.position, t.reference.clone()));
        add_total(&t.currency, t.amount_minor);
        lines.push(MyLine {
            words: line_words(lang, &ev.plan, &line, fee(&line)),
            amount: claim_words::amount(lang, t.amount_minor, &t.currency),
            stage: if paid {
                MyStage::Paid
            } else {
                MyStage::Approved
            },
        });
    }
    let pending = if approved.is_empty() {
        &newest
    } else {
        &approved
    };
    for l in pending {
        if shown.contains(&(l.position, l.reference.clone())) {
            continue;
        }
        add_total(&l.currency, l.amount_minor);
        lines.push(MyLine {
            words: line_words(lang, &ev.plan, l, fee(l)),
            amount: claim_words::amount(lang, l.amount_minor, &l.currency),
            stage: if approved.is_empty() {
                MyStage::Found
            } else {
                MyStage::Approved
            },
        });
    }
    let stage = lines.iter().map(|l| l.stage).min();
    let (title, incident_id) = match snapshot.incident(lang, &run.incident_id) {
        Some(i) => (i.title.text.clone(), run.incident_id.clone()),
        None => (
            ev.plan
                .title
                .get(lang.code())
                .or_else(|| ev.plan.title.values().next())
                .cloned()
                .unwrap_or_else(|| run.incident_id.clone()),
            run.incident_id.clone(),
        ),
    };
    Ok(Some(MyIncident {
        incident_id,
        title,
        stage,
        records: records
            .iter()
            .map(|r| {
                let (what, failed) = record_words(lang, r);
                MyRecord {
                    ms: r.ts_ms,
                    display: format_time(r.ts_ms, tz),
                    what,
                    failed,
                }
            })
            .collect(),
        blocked: evidence::blocked_minutes(&ev.plan, &records)
            .map(|m| app::i18n::format_duration(lang, m)),
        lines,
        total: (!totals.is_empty()).then(|| {
            totals
                .iter()
                .map(|(c, m)| claim_words::amount(lang, *m, c))
                .collect::<Vec<_>>()
                .join(" + ")
        }),
        payouts: payouts
            .iter()
            .filter(|p| p.run_id == run.id)
            .map(|p| payout_view(lang, p, tz))
            .collect(),
    }))
}

/// The signed-in customer's page in `lang`.
pub async fn compensation(
    store: &Store,
    snapshot: &SnapshotHolder,
    lang: Lang,
    customer: &CustomerRecord,
    csrf: &str,
) -> Result<MyCompensation, StoreError> {
    let tz = snapshot.time_zone();
    let runs = evidence::of_customer(store, &customer.customer_id, None).await?;
    let posted = ledger::of_customer(store, &customer.customer_id).await?;
    let paid = payouts::of_customer(store, &customer.customer_id).await?;
    let mut incidents = Vec::new();
    for ev in &runs {
        let p: Vec<&PostedTx> = posted.iter().filter(|t| t.run_id == ev.run.id).collect();
        let o: Vec<&Payout> = paid.iter().filter(|x| x.run_id == ev.run.id).collect();
        if let Some(i) = incident_view(store, snapshot, lang, customer, ev, &p, &o).await? {
            incidents.push(i);
        }
    }
    let claims = claims::of_customer(store, &customer.customer_id)
        .await?
        .into_iter()
        .map(|c| MyClaim {
            incident_title: snapshot
                .incident(lang, &c.incident_id)
                .map_or_else(|| c.incident_id.clone(), |i| i.title.text.clone()),
            kind: claim_words::kind(lang, &c.kind).to_string(),
            filed: format_time(c.created_at, tz),
            state_words: claim_words::state(lang, &c.state).to_string(),
            decision: claim_words::decision(lang, &c),
            state: c.state.clone(),
            id: c.id,
        })
        .collect();
    Ok(MyCompensation {
        name: customer.name.clone(),
        csrf: csrf.to_string(),
        incidents,
        claims,
    })
}

/// The session a request's cookie names, with its customer.
pub async fn signed_in(
    store: &Store,
    headers: &axum::http::HeaderMap,
    secure_cookies: bool,
) -> Result<Option<(CustomerSession, CustomerRecord)>, StoreError> {
    let Some(token) = crate::kernel::cookies::value(headers, COOKIE, secure_cookies) else {
        return Ok(None);
    };
    let Some(session) = sign_in::session(store, &token).await? else {
        return Ok(None);
    };
    Ok(customers::by_id(store, &session.customer_id)
        .await?
        .map(|c| (session, c)))
}

impl CustomerPages {
    async fn page(
        &self,
        headers: axum::http::HeaderMap,
        lang: Option<Lang>,
    ) -> Result<MyPageView, String> {
        let me = signed_in(&self.store, &headers, self.secure_cookies)
            .await
            .map_err(|e| e.to_string())?;
        let negotiated = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(self.snapshot.default_lang(), |h| {
                app::i18n::negotiate(h, self.snapshot.default_lang())
            });
        let lang = lang.unwrap_or_else(|| {
            me.as_ref()
                .map_or(negotiated, |(_, c)| lang_for_locale(&c.locale))
        });
        let front = self.snapshot.status_page(lang);
        let me = match me {
            Some((session, customer)) => Some(
                compensation(
                    &self.store,
                    &self.snapshot,
                    lang,
                    &customer,
                    &session.csrf_token,
                )
                .await
                .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        Ok(MyPageView {
            lang,
            page_name: front
                .as_ref()
                .map_or_else(|| "Status".into(), |p| p.page_name.clone()),
            time_zone: self.snapshot.time_zone().to_string(),
            me,
        })
    }
}

impl CustomerSource for CustomerPages {
    fn my_page(
        &self,
        headers: axum::http::HeaderMap,
        lang: Option<Lang>,
    ) -> PageFuture<Result<MyPageView, String>> {
        let this = self.clone();
        Box::pin(async move { this.page(headers, lang).await })
    }
}

/// Everything Plaster holds about a customer, as JSON: their record, their
/// records in every run's logs, lines, ledger entries, payouts and claims
/// (without the screenshots' bytes). Staff stay out of it: no staff e-mail
/// or account id, only which side decided a claim ([`claim_for_customer`]).
pub async fn export(
    store: &Store,
    customer: &CustomerRecord,
) -> Result<serde_json::Value, StoreError> {
    let runs = evidence::of_customer(store, &customer.customer_id, None).await?;
    let mut per_run = Vec::new();
    for ev in &runs {
        let mut conn = store.pool().acquire().await?;
        let revisions = runs_table::revisions(&mut conn, &ev.run.id).await?;
        drop(conn);
        let lines = match revisions.first() {
            Some(r) => {
                runs_table::lines(
                    store,
                    &ev.run.id,
                    r.revision,
                    LineFilter::Customer(&customer.customer_id),
                )
                .await?
            }
            None => Vec::new(),
        };
        if ev.records.is_empty() && lines.is_empty() {
            continue;
        }
        per_run.push(serde_json::json!({
            "run": ev.run.id,
            "incident": ev.run.incident_id,
            "records": ev.records,
            "lines": lines.iter().map(|l| serde_json::json!({
                "rule": l.rule, "reference": l.reference,
                "amount_minor": l.amount_minor, "currency": l.currency})).collect::<Vec<_>>(),
        }));
    }
    let ledger: Vec<serde_json::Value> = ledger::of_customer(store, &customer.customer_id)
        .await?
        .into_iter()
        .map(|t| {
            serde_json::json!({"id": t.id, "run": t.run_id, "rule": t.rule,
            "reference": t.reference, "amount_minor": t.amount_minor, "currency": t.currency,
            "posted_at": t.created_at})
        })
        .collect();
    Ok(serde_json::json!({
        "customer": {
            "customer_id": customer.customer_id, "email": customer.email, "name": customer.name,
            "locale": customer.locale, "currency": customer.currency,
            "subscriptions": customer.subscriptions.iter().map(|s| serde_json::json!({
                "plan": s.plan, "monthly_fee_minor": s.monthly_fee_minor,
                "currency": s.currency, "status": s.status})).collect::<Vec<_>>(),
        },
        "incidents": per_run,
        "ledger": ledger,
        "payouts": payouts::of_customer(store, &customer.customer_id).await?,
        "claims": claims::of_customer(store, &customer.customer_id)
            .await?
            .iter()
            .map(claim_for_customer)
            .collect::<Vec<_>>(),
    }))
}

/// A claim as its customer downloads it: all of it but who on the staff
/// had it and decided it (`assigned_to`, `assigned_email`, `decided_by`,
/// `approved_by` hold staff account ids and e-mails). That a decision was
/// made, and that finance approved it, stay: `decided_by` says "support",
/// `approved_by` "finance".
fn claim_for_customer(c: &claims::Claim) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "customer_id": c.customer_id,
        "incident_id": c.incident_id,
        "kind": c.kind,
        "bet_id": c.bet_id,
        "happened_at": c.happened_at,
        "description": c.description,
        "screenshot_type": c.screenshot_type,
        "state": c.state,
        "decision": c.decision,
        "amount_minor": c.amount_minor,
        "currency": c.currency,
        "reason": c.reason,
        "decided_by": c.decided_by.as_ref().map(|_| "support"),
        "decided_at": c.decided_at,
        "approved_by": c.approved_by.as_ref().map(|_| "finance"),
        "approved_at": c.approved_at,
        "transaction_id": c.transaction_id,
        "payout_id": c.payout_id,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}
