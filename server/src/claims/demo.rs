//! Demo claims and the demo customers a newcomer signs in as: one of each
//! case (refunded, goodwill, subscription credit, not found) and a few
//! claims waiting in the support queue.

use crate::claims::file::{file, ClaimForm, ReceiptSettings};
use crate::kernel::texts::lang_for_locale;
use crate::store::{Store, StoreError};

/// The demo's incidents that claims are about.
const V75_2024: &str = "atg-2024-08-24-v75";
const V75_2023: &str = "atg-2023-09-16-v75";

async fn first(store: &Store, sql: &str) -> Result<Option<(String, String, String)>, StoreError> {
    Ok(sqlx::query_as::<_, (String, String, String)>(sql)
        .fetch_optional(store.pool())
        .await?)
}

/// `(case, e-mail)` of a demo customer for each case, for the start-up
/// message and the README.
pub async fn customers(store: &Store) -> Result<Vec<(&'static str, String)>, StoreError> {
    let mut out = Vec::new();
    for (case, rule) in [
        ("refunded", "refund_failed_debits"),
        ("goodwill", "goodwill_credit"),
        ("subscription credit", "subscription_credit"),
    ] {
        let sql = format!(
            "SELECT c.customer_id, c.email, c.locale FROM customers c
             WHERE c.customer_id = (SELECT MIN(l.customer_id) FROM compensation_lines l
                                    WHERE l.rule = '{rule}' AND l.customer_id <> '')"
        );
        if let Some((_, email, _)) = first(store, &sql).await? {
            out.push((case, email));
        }
    }
    if let Some((_, email, _)) = not_found(store).await? {
        out.push(("not found affected", email));
    }
    Ok(out)
}

async fn not_found(store: &Store) -> Result<Option<(String, String, String)>, StoreError> {
    first(
        store,
        "SELECT c.customer_id, c.email, c.locale FROM customers c
         WHERE NOT EXISTS (SELECT 1 FROM compensation_lines l WHERE l.customer_id = c.customer_id)
           AND NOT EXISTS (SELECT 1 FROM log_records r WHERE r.customer_id = c.customer_id)
         ORDER BY c.customer_id LIMIT 1",
    )
    .await
}

/// Files the demo's waiting claims.
pub async fn seed(
    store: &Store,
    tz: chrono_tz::Tz,
    settings: &ReceiptSettings<'_>,
) -> Result<(), String> {
    let goodwill = first(
        store,
        "SELECT c.customer_id, c.email, c.locale FROM customers c
         WHERE c.customer_id = (SELECT MAX(l.customer_id) FROM compensation_lines l
                                WHERE l.rule = 'goodwill_credit' AND l.customer_id <> '')",
    )
    .await
    .map_err(|e| e.to_string())?;
    let missed = not_found(store).await.map_err(|e| e.to_string())?;
    let claims = [
        (
            missed.clone(),
            V75_2024,
            "missed_bet",
            "b-demo-7501",
            "2024-08-24T16:12",
            "Pengarna för min V75-rad drogs från kontot men spelet syns inte i min historik.",
        ),
        (
            missed,
            V75_2023,
            "sign_in",
            "",
            "2023-09-16T15:40",
            "Jag kom inte in i appen alls före V75-stoppet.",
        ),
        (
            goodwill,
            V75_2024,
            "sign_in",
            "",
            "2024-08-24T16:09",
            "Appen sa bara 'försök igen senare' hela eftermiddagen.",
        ),
    ];
    // What support may pay alone in the demo: small goodwill, refunds up
    // to a few hundred, and a daily ceiling per agent; a typed stake and
    // anything above waits for finance.
    let mut tx = store.begin_write().await.map_err(|e| e.to_string())?;
    for incident in [V75_2024, V75_2023] {
        for currency in ["SEK", "NOK", "EUR"] {
            let major = if currency == "EUR" { 10 } else { 100 };
            crate::store::claims::set_limit(
                &mut tx,
                &crate::store::claims::Limit {
                    incident_id: incident.into(),
                    currency: currency.into(),
                    goodwill_cap_minor: 2 * major * 100,
                    approval_above_minor: 5 * major * 100,
                    customer_incident_max_minor: 10 * major * 100,
                    agent_day_max_minor: 50 * major * 100,
                    updated_by: "demo".into(),
                    updated_at: chrono::Utc::now().timestamp_millis(),
                },
            )
            .await
            .map_err(|e| format!("the demo's claim limits: {e}"))?;
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    for (customer, incident, kind, bet, when, text) in claims {
        let Some((customer_id, email, locale)) = customer else {
            continue;
        };
        file(
            store,
            &customer_id,
            &email,
            lang_for_locale(&locale),
            ClaimForm {
                incident_id: incident.into(),
                kind: kind.into(),
                bet_id: bet.into(),
                happened_at: when.into(),
                description: text.into(),
                screenshot: None,
            },
            tz,
            settings,
        )
        .await
        .map_err(|e| format!("a demo claim: {e}"))?;
    }
    Ok(())
}
