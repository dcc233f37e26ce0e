//! How a claim reads to its customer, in their language.

use app::dto::Lang;

use crate::kernel::money::{self, Currency, Money};
use crate::store::claims::Claim;

/// The kinds a customer chooses from.
pub const KINDS: [&str; 3] = ["missed_bet", "sign_in", "streaming"];

pub fn kind(lang: Lang, kind: &str) -> &'static str {
    match (lang, kind) {
        (Lang::Sv, "missed_bet") => "Pengar drogs för ett spel som aldrig registrerades",
        (Lang::Nb, "missed_bet") => "Penger ble trukket for et spill som aldri ble registrert",
        (_, "missed_bet") => "Money taken for a bet that never registered",
        (Lang::Sv, "sign_in") => "Kunde inte logga in",
        (Lang::Nb, "sign_in") => "Kunne ikke logge inn",
        (_, "sign_in") => "Could not sign in",
        (Lang::Sv, _) => "Kunde inte titta",
        (Lang::Nb, _) => "Kunne ikke se",
        (_, _) => "Could not watch",
    }
}

pub fn state(lang: Lang, state: &str) -> &'static str {
    match (lang, state) {
        (Lang::Sv, "open") => "Mottaget, granskas",
        (Lang::Nb, "open") => "Mottatt, gjennomgås",
        (_, "open") => "Received, being checked",
        (Lang::Sv, "awaiting_finance") => "Godkänns",
        (Lang::Nb, "awaiting_finance") => "Godkjennes",
        (_, "awaiting_finance") => "Being approved",
        (Lang::Sv, "approved") => "Godkänt",
        (Lang::Nb, "approved") => "Godkjent",
        (_, "approved") => "Approved",
        (Lang::Sv, _) => "Inte godkänt",
        (Lang::Nb, _) => "Ikke godkjent",
        (_, _) => "Not approved",
    }
}

pub fn amount(lang: Lang, minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Some(currency) => money::format(
            lang,
            Money {
                minor: i128::from(minor),
                currency,
            },
        ),
        None => format!("{minor} {currency}"),
    }
}

/// The reasons support picks from when rejecting, in each language; free
/// text may follow.
pub const REJECT_REASONS: [&str; 3] = ["not_in_logs", "outside_incident", "other"];

pub fn reject_reason(lang: Lang, code: &str) -> &'static str {
    match (lang, code) {
        (Lang::Sv, "not_in_logs") => "Vi hittar inget i våra loggar som visar att du drabbades.",
        (Lang::Nb, "not_in_logs") => {
            "Vi finner ingenting i loggene våre som viser at du ble berørt."
        }
        (_, "not_in_logs") => "We find nothing in our logs showing that you were affected.",
        (Lang::Sv, "outside_incident") => "Det du beskriver hände utanför störningen.",
        (Lang::Nb, "outside_incident") => "Det du beskriver skjedde utenfor hendelsen.",
        (_, "outside_incident") => "What you describe happened outside the incident.",
        (Lang::Sv, _) => "Ärendet uppfyller inte villkoren för ersättning.",
        (Lang::Nb, _) => "Saken oppfyller ikke vilkårene for kompensasjon.",
        (_, _) => "The claim does not meet the conditions for compensation.",
    }
}

/// The day a transaction was posted, as an already paid claim keeps it.
pub fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// "already refunded on 2024-08-26, payout po_…", in `lang`.
pub fn already_paid(lang: Lang, on: &str, payout: &str) -> String {
    match lang {
        Lang::Sv => format!("redan ersatt den {on}, utbetalning {payout}"),
        Lang::Nb => format!("allerede kompensert {on}, utbetaling {payout}"),
        Lang::En => format!("already refunded on {on}, payout {payout}"),
    }
}

/// An already paid claim's answer: its `reason` holds the day.
fn already(lang: Lang, c: &Claim) -> String {
    already_paid(
        lang,
        c.reason.as_deref().unwrap_or_default(),
        c.payout_id.as_deref().unwrap_or("-"),
    )
}

/// What was paid: "100,00 kr (payout po_…)".
fn paid(lang: Lang, c: &Claim) -> String {
    let amount = amount(
        lang,
        c.amount_minor.unwrap_or(0),
        c.currency.as_deref().unwrap_or(""),
    );
    let payout = c.payout_id.as_deref().unwrap_or("-");
    match lang {
        Lang::Sv => format!("{amount} (utbetalning {payout})"),
        Lang::Nb => format!("{amount} (utbetaling {payout})"),
        Lang::En => format!("{amount} (payout {payout})"),
    }
}

/// The decision as its customer reads it on their page, once there is one.
pub fn decision(lang: Lang, c: &Claim) -> Option<String> {
    match (c.state.as_str(), c.decision.as_deref()) {
        ("approved", Some("already_paid")) => Some(capitalise(&already(lang, c))),
        ("rejected", _) => c.reason.as_deref().map(capitalise),
        ("approved", _) => Some(match lang {
            Lang::Sv => format!("Du får {}.", paid(lang, c)),
            Lang::Nb => format!("Du får {}.", paid(lang, c)),
            Lang::En => format!("You get {}.", paid(lang, c)),
        }),
        _ => None,
    }
}

/// The decision mail's verdict and detail: approved with what is paid, or
/// not with the reason (an already paid claim says when and how it was).
pub fn mail_detail(lang: Lang, c: &Claim) -> (bool, String) {
    match (c.state.as_str(), c.decision.as_deref()) {
        ("approved", Some("already_paid")) => (false, already(lang, c)),
        ("rejected", _) => (false, c.reason.clone().unwrap_or_default()),
        _ => (true, paid(lang, c)),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
